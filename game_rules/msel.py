"""Import of a Master Scenario Events List from CSV with the standard columns.

Columns: number, scenario time, inject type, delivery method, from, to, description, expected action,
objective.  Optional: kind (a catalogue inject kind), severity, title.  `scenario time` names a round and
a phase ("R2 council", "2/council"); `to` is ALL or member codes separated by spaces, commas or semicolons.
Each row becomes a catalogue entry `msel-N` and an MSEL line that delivers it.
"""

from __future__ import annotations

import csv
import io
import re
import typing

from pydantic import ValidationError

from game_rules.exercise import InjectKind, InjectTemplate, MselEntry

REQUIRED = (
    "number",
    "scenario time",
    "inject type",
    "delivery method",
    "from",
    "to",
    "description",
    "expected action",
    "objective",
)
_TIME = re.compile(r"^\s*(?:r(?:ound)?\s*)?(\d+)\s*[/,:.\s-]\s*([a-z_]+)\s*$", re.IGNORECASE)
_KINDS = set(typing.get_args(InjectKind))


class MselError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_msel_csv(text: str, members: set[str], phases: set[str]) -> tuple[list[InjectTemplate], list[MselEntry]]:
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(h or "").strip().lower() for h in rows.fieldnames or ()}
    if missing := [c for c in REQUIRED if c not in header]:
        raise MselError([f"line 1: missing column(s): {', '.join(missing)}"])
    templates: list[InjectTemplate] = []
    entries: list[MselEntry] = []
    problems: list[str] = []
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            template, entry = _row(row, members, phases)
        except (ValueError, ValidationError) as error:
            problems.append(f"line {line}: {_message(error)}")
            continue
        templates.append(template)
        entries.append(entry)
    if problems:
        raise MselError(problems)
    return templates, entries


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
    return str(error)


def _row(row: dict[str, str], members: set[str], phases: set[str]) -> tuple[InjectTemplate, MselEntry]:
    if not row["number"].isdigit():
        raise ValueError(f"number: {row['number']!r} is not a whole number")
    time = _TIME.match(row["scenario time"])
    if not time or time.group(2).lower() not in phases:
        raise ValueError(
            f"scenario time: {row['scenario time']!r} should name a round and a phase ({', '.join(sorted(phases))})"
        )
    to = [t.upper() for t in re.split(r"[\s,;]+", row["to"]) if t]
    if to in ([], ["ALL"]):
        targets: tuple[str, ...] = ()
    else:
        if strangers := [t for t in to if t not in members]:
            raise ValueError(
                f"to: {', '.join(strangers)} {'is not a member' if len(strangers) == 1 else 'are not members'}"
            )
        targets = tuple(to)
    kind = row.get("kind") or "information"
    if kind not in _KINDS:
        raise ValueError(f"kind: {kind!r} is not an inject kind ({', '.join(sorted(_KINDS))})")
    number = int(row["number"])
    description = row["description"]
    template = InjectTemplate.model_validate(
        {
            "id": f"msel-{number}",
            "kind": kind,
            "title": row.get("title") or description[:120] or f"{row['inject type']} inject {number}",
            "text": description,
            "severity": int(row.get("severity") or 1),
            "targets": targets,
            "visibility": "targets" if targets else "public",
        }
    )
    entry = MselEntry(
        number=number,
        round=int(time.group(1)),
        phase=time.group(2).lower(),
        inject=template.id,
        delivery=f"{row['inject type']}: {row['delivery method']}".strip(": "),
        sender=row["from"] or "white cell",
        expected_action=row["expected action"],
        objective=row["objective"],
    )
    return template, entry
