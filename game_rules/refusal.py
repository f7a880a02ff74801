from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Refusal(BaseModel):
    """A command the rules turned down, with a reason written for the player who sent it."""

    model_config = ConfigDict(frozen=True)

    code: str
    reason: str

    def __str__(self) -> str:
        return self.reason
