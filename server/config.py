"""Process settings, read from the environment."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, field_validator, model_validator
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
    scheme = _ASYNC_SCHEMES.get(scheme, scheme)
    if scheme not in _ASYNC_SCHEMES.values():
        raise ValueError(f"the store is SQLite (sqlite:///FILE) or PostgreSQL (postgresql://USER@HOST/DB), not {url!r}")
    return f"{scheme}://{rest}"


MANY_WORKERS_NEED_A_BUS = (
    "several workers need a shared bus: set BUS_URL (or --bus-url) to redis://HOST:6379/0; the in-process "
    "bus only reaches sockets in its own process, so players on other workers would miss events"
)


class LogFormat(BaseSettings):
    """The setting read on its own first: how to say what is wrong with the others."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    json_logs: bool = False
    """One JSON object per log line (server/logs.py); `wargame serve --json-logs` sets it too."""


class Settings(LogFormat):
    database_url: str = "sqlite+aiosqlite:///./wargame.db"
    host: str = "127.0.0.1"
    port: int = 8000
    max_frame_bytes: int = 64 * 1024
    """Largest WebSocket frame accepted from a client; larger ones close the socket with 1009."""
    commands_per_second: float = Field(default=30.0, ge=0)
    """Frames a seat may send a second on average, over all its sockets (0: no limit); see server/limits.py."""
    burst: int = Field(default=300, ge=1)
    """Frames a seat may send back to back before `commands_per_second` applies."""
    flood_limit: int = Field(default=200, ge=1)
    """Frames over the rate a socket may send at once (refilled at the rate) before it is closed with 1008."""
    sqlite_flush_interval: float = Field(default=0.0, ge=0, le=1.0)
    """SQLite: 0 = every commit is flushed to the disk before any seat is shown its events, so a power cut loses
    nothing anyone saw.  A number of seconds (0.05): commits are flushed together at most that long after they were
    made (server/flush.py), so a command costs less under heavy load (docs/performance.md) but a power cut or a crash
    of the machine loses the commands of the last interval, which the room may have seen; a crash of the server
    process still loses nothing.  PostgreSQL decides this with its own `synchronous_commit`."""
    log_level: str = Field(default="info", pattern="(?i)^(critical|error|warning|info|debug)$")
    shutdown_grace: int = Field(default=10, ge=1, le=600)
    """Seconds a SIGTERM waits for requests and commands in flight before cancelling them."""
    ready_timeout: float = Field(default=2.0, gt=0, le=60)
    """Seconds /readyz waits for the database before answering 503."""
    bus_url: str = ""
    """How server processes tell each other about new events: "" = in-process (one process only);
    `redis://127.0.0.1:6379/0` = Redis pub/sub, or `postgresql://USER@HOST/DB` = PostgreSQL LISTEN/NOTIFY (no
    Redis needed), for several processes sharing a PostgreSQL store."""
    bus_channel: str = Field(default="wargame:events", min_length=1)
    """The bus's channel; one per deployment (processes on one channel must share one database)."""
    bus_resync_seconds: float = Field(default=5.0, gt=0, le=3600)
    """Seconds between safety catch-ups of games with sockets (pub/sub delivers at most once)."""
    scenarios: str = ""
    """A folder of scenario files the lobby offers besides the shipped ones (an institution's library); read again
    whenever a file in it changes, a file that cannot be played left out with its problems in the log."""
    workers: int = Field(default=1, ge=1, le=64)
    """Server processes `wargame serve` starts; more than one needs `bus_url`."""
    public_url: str = ""
    """The address players on other computers open (`http://192.168.1.20:8000`), where the server cannot tell it
    itself: in a container, or behind a proxy.  Empty: the addresses of the computer it listens on."""
    ws_per_message_deflate: bool = False
    """Compress WebSocket frames (permessage-deflate) when the client offers it.  Off by default: per socket it
    costs a zlib context (~50 KiB of RSS) and a compression of every frame (a fifth more of the server's CPU under
    load, see docs/performance.md, "Compression"); frames are small and sent once per change."""

    @model_validator(mode="after")
    def _workers_need_a_bus(self) -> Settings:
        if self.workers > 1 and not self.bus_url:
            raise ValueError(MANY_WORKERS_NEED_A_BUS)
        return self

    @field_validator("public_url")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and re.fullmatch(r"https?://[^/\s?#]+", value) is None:
            raise ValueError(f"PUBLIC_URL is an address such as http://192.168.1.20:8000, not {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
