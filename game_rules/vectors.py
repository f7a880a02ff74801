"""Adjudication vectors: a treaty procedure played through the rules alone, with the outcome it must have.

The format is documented in docs/vectors.md.  Running a vector is pure: it takes the parsed document.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from game_rules import burden, collective_defence, council
from game_rules.checks import Decision
from game_rules.commands import COMMAND_ADAPTER
from game_rules.engine import decide, fold, replay
from game_rules.events import Event, GameOpened
from game_rules.refusal import Refusal
from game_rules.rulesets import RulesetId
from game_rules.state import CHAIR, Member, MemberCode, State

ANNOTATIONS = frozenset({"description", "source", "sources", "note", "notes", "comment", "reference", "references"})
"""Keys that describe a vector, a step or a member for its reader: set aside unread, where the command has no such
field of its own (`note` is one of a rewind's)."""


def _without_annotations(value: Any) -> Any:
    return {k: v for k, v in value.items() if k not in ANNOTATIONS} if isinstance(value, dict) else value


class _MemberAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    cost_share: float = Field(default=1.0, gt=0)
    neutral: bool = False

    _annotations = model_validator(mode="before")(_without_annotations)


class Vector(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    ruleset: RulesetId
    members: list[MemberCode] | dict[MemberCode, _MemberAttributes | None]
    steps: list[dict[str, Any]] = Field(default_factory=list)
    expect: list[dict[str, Any]] = Field(default_factory=list)

    _annotations = model_validator(mode="before")(_without_annotations)

    def opening(self) -> GameOpened:
        if isinstance(self.members, list):
            members = tuple(Member(code=code) for code in self.members)
        else:
            members = tuple(
                Member(code=code, **(attrs.model_dump() if attrs else {})) for code, attrs in self.members.items()
            )
        return GameOpened(ruleset=self.ruleset, members=members)


@dataclass
class VectorResult:
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def line(self) -> str:
        if self.passed:
            return f"PASS {self.name}"
        return f"FAIL {self.name}: " + "; ".join(self.failures)


def play_step(state: State, step: dict[str, Any], log: list[Event]) -> tuple[State, Decision]:
    """Apply one step; a step the rules (or the command schema) refuse leaves the state as it was.  `log` holds
    the events folded into `state`, the events the step causes are added to it."""
    fields = dict(step)
    actor = str(fields.pop("actor", CHAIR))
    fields["type"] = fields.pop("do", None)
    if isinstance(fields.get("choice"), bool):  # YAML 1.1 writers' `yes`/`no`
        fields["choice"] = "yes" if fields["choice"] else "no"
    try:
        command = COMMAND_ADAPTER.validate_python(fields)
    except ValidationError as error:
        extra = {str(e["loc"][-1]) for e in error.errors() if e["type"] == "extra_forbidden" and len(e["loc"]) == 2}
        if not extra & ANNOTATIONS:
            return state, Refusal(code="malformed_command", reason=_readable(error))
        return play_step(state, {k: v for k, v in step.items() if k not in extra & ANNOTATIONS}, log)
    decision = decide(state, command, actor)
    if not isinstance(decision, Refusal):
        for event in decision:
            state = fold(state, event, log)
            log.append(event)
    return state, decision


def _readable(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}" for e in error.errors())


def run_vector(document: Any) -> VectorResult:
    name = document.get("name", "?") if isinstance(document, dict) else "?"
    try:
        vector = Vector.model_validate(document)
    except ValidationError as error:
        return VectorResult(name, [f"not a valid vector: {_readable(error)}"])
    result = VectorResult(vector.name)
    log: list[Event] = [vector.opening()]
    state = replay(log)
    rejected_expected = _named_rejected(vector.expect)
    refused: dict[int, Refusal] = {}
    for number, step in enumerate(vector.steps, start=1):
        state, decision = play_step(state, step, log)
        if isinstance(decision, Refusal):
            refused[number] = refusal = decision
            if number not in rejected_expected:
                result.failures.append(f"step {number} ({step.get('do')}) was refused: {refusal.reason}")
    for expectation in vector.expect:
        failure = _check(state, expectation, refused)
        if failure:
            result.failures.append(failure)
    return result


def _check(state: State, expectation: dict[str, Any], refused: dict[int, Refusal]) -> str | None:
    for keys, check in _CHECKS:
        if keys <= expectation.keys():
            try:
                expected, found = check(state, expectation, refused)
                same = _same(expected, found)
            except KeyError as missing:
                return f"{expectation}: nothing found for {missing}"
            except (TypeError, ValueError) as wrong:  # the vector's fault, said as such
                return f"{expectation}: not a valid expectation, a field of the wrong shape ({wrong})"
            return None if same else f"expected {expectation}, found {_shown(found)}"
    return f"unknown expectation form {expectation}"


def _same(expected: Any, found: Any) -> bool:
    if isinstance(found, Fraction | int | float) and not isinstance(found, bool):
        number = isinstance(expected, int | float) and not isinstance(expected, bool)
        return number and abs(Fraction(str(expected)) - Fraction(found)) <= Fraction(1, 100)
    if isinstance(found, frozenset):
        return frozenset(expected or ()) == found
    return bool(expected == found)


def _shown(found: Any) -> Any:
    if isinstance(found, Fraction):
        return round(float(found), 4)
    if isinstance(found, frozenset):
        return sorted(found)
    return found


_Check = Callable[[State, dict[str, Any], dict[int, Refusal]], tuple[Any, Any]]


def _outcome(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["outcome"], s.proposals[e["proposal"]].outcome


def _reservations(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["reservations"], frozenset(council.reservations(s, e["proposal"]))


def _consultation(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    member = e["consultation"]
    status = next(
        (c.status for c in s.consultations.values() if member == c.requested_by or member in c.joined_by),
        "none",
    )
    return e["status"], status


def _invocation(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    invocation = s.invocations.get(str(e["invocation"]))
    return e["status"], invocation.status if invocation else "none"


def _obligation(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    o = e["obligation"]
    return e["kind"], collective_defence.obligation(s, o["member"], str(o["invocation"])) or "none"


def _step_numbers(value: Any) -> list[int]:
    """The steps a `rejected` expectation names: a number, or a list of them."""
    numbers = value if isinstance(value, list) else [value]
    if not numbers or any(isinstance(n, bool) or not isinstance(n, int | str) for n in numbers):
        raise ValueError("rejected names a step by its number, or a list of them")
    return [int(n) for n in numbers]


def _named_rejected(expect: list[dict[str, Any]]) -> set[int]:
    named: set[int] = set()
    for e in expect:
        if "rejected" in e:
            with contextlib.suppress(ValueError):  # the expectation's own check reports it
                named.update(_step_numbers(e["rejected"]))
    return named


def _rejected(_s: State, e: dict[str, Any], refused: dict[int, Refusal]) -> tuple[Any, Any]:
    accepted = [n for n in _step_numbers(e["rejected"]) if n not in refused]
    return True, (True if not accepted else f"step {', '.join(map(str, accepted))} accepted")


def _fair_share(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["value"], burden.fair_share(s, e["fair_share"]["proposal"], e["fair_share"]["member"])


def _shortfall(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["value"], burden.shortfall(s, e["shortfall"])


def _free_riders(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["members"], frozenset(burden.free_riders(s, e["free_riders"]))


def _assessed(s: State, e: dict[str, Any], _: dict[int, Refusal]) -> tuple[Any, Any]:
    return e["value"], burden.assessed(s, e["assessed"]["proposal"], e["assessed"]["member"])


_CHECKS: list[tuple[set[str], _Check]] = [
    ({"proposal", "outcome"}, _outcome),
    ({"proposal", "reservations"}, _reservations),
    ({"consultation", "status"}, _consultation),
    ({"invocation", "status"}, _invocation),
    ({"obligation", "kind"}, _obligation),
    ({"rejected"}, _rejected),
    ({"fair_share", "value"}, _fair_share),
    ({"shortfall", "value"}, _shortfall),
    ({"free_riders", "members"}, _free_riders),
    ({"assessed", "value"}, _assessed),
]
