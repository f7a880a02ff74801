from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """A value: commands, events and the parts of state that never change once made."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Record(BaseModel):
    """Part of the state that `evolve`, and only `evolve`, changes in place."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
