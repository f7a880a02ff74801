"""Process settings, read from the environment."""

from __future__ import annotations

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Hosting platforms hand out plain URLs; SQLAlchemy would pick sync drivers for them.
_ASYNC_SCHEMES = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "sqlite": "sqlite+aiosqlite",
}


def normalise_database_url(url: str) -> str:
    """Rewrite a plain postgres/sqlite URL to the async driver the server uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_ASYNC_SCHEMES.get(scheme, scheme)}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./wargame.db"
    host: str = "127.0.0.1"
    port: int = 8000
    max_frame_bytes: int = 64 * 1024
    """Largest WebSocket frame accepted from a client; larger ones close the socket with 1009."""

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
