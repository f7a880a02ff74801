"""A stored game out and back in: JSON (re-importable, hash-checked), CSV tables, reports; import; fork."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from game_rules import EVENT_ADAPTER, Refusal, State, decide, replay, state_hash
from game_rules.commands import PauseGame
from game_rules.evaluation import plan
from game_rules.events import Event, GameEnded, GameOpened, GameStarted
from game_rules.review import Review, review
from game_rules.state import CHAIR, Message
from server import auth, report
from server.store import EventStore, GameRecord, StoredEvent

FORMAT = "alliance-wargame/game-1"
CHUNK = 500

T = TypeVar("T")
Progress = Callable[[Iterable[T], int, str], Iterable[T]]


def no_progress(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    return items


class ExportError(ValueError):
    """An export file that cannot be imported, with the reason."""


@dataclass(frozen=True)
class Loaded:
    game: GameRecord
    stored: list[StoredEvent]
    log: list[tuple[int, Event]]


async def load(store: EventStore, game_id: str, progress: Progress[Any] = no_progress) -> Loaded | None:
    game = await store.get_game(game_id)
    if game is None:
        return None
    stored = await store.read(game_id)
    log = [(s.seq, EVENT_ADAPTER.validate_json(s.payload)) for s in progress(stored, len(stored), "reading")]
    return Loaded(game, stored, log)


def to_json(loaded: Loaded, final: State) -> dict[str, Any]:
    g = loaded.game
    return {
        "format": FORMAT,
        "game": {
            "id": g.id,
            "title": g.title,
            "scenario": g.scenario,
            "ruleset": g.ruleset,
            "seed": g.seed,
            "created_at": g.created_at.isoformat(),
            "forked_from_game": g.forked_from_game,
            "forked_at_seq": g.forked_at_seq,
        },
        "events": [
            {
                "seq": s.seq,
                "recorded_at": s.recorded_at.isoformat(),
                "ends_command": s.ends_command,
                "event": json.loads(s.payload),
            }
            for s in loaded.stored
        ],
        "final_seq": final.seq,
        "final_hash": state_hash(final),
    }


def info(loaded: Loaded, r: Review) -> report.GameInfo:
    objectives = list(dict.fromkeys(e.objective for e in r.state.exercise.msel if e.objective))
    g = loaded.game
    return report.GameInfo(
        g.id, g.title, g.scenario, g.created_at.isoformat(timespec="minutes"), objectives, played(loaded, r.state)
    )


def played(loaded: Loaded, final: State) -> str:
    """When play ran: from the first start to the end (the last one, if the white cell turned play back past an
    earlier end), or to now if it has not ended, with how long that was."""
    at = {s.seq: s.recorded_at for s in loaded.stored}
    starts = [seq for seq, e in loaded.log if isinstance(e, GameStarted)]
    ends = [seq for seq, e in loaded.log if isinstance(e, GameEnded)]
    if not starts:
        return "not started"
    start = at[starts[0]]
    if final.status != "ended" or not ends:
        return f"from {_minute(start)}, still in play"
    end = at[ends[-1]]
    minutes = round((end - start).total_seconds() / 60)
    took = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"{_minute(start)} to {_minute(end)} ({took})"


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def commands(stored: Sequence[StoredEvent]) -> dict[int, int]:
    """Each event's command, named by the seq of the first of the events it brought."""
    of: dict[int, int] = {}
    first = 1
    for s in stored:
        of[s.seq] = first
        if s.ends_command:
            first = s.seq + 1
    return of


TableName = Literal[
    "events",
    "positions",
    "pledges",
    "metrics",
    "messages",
    "actions",
    "seats",
    "capabilities",
    "improvement_plan",
    "feedback",
]
"""The tables `tables` makes, in its order: the API offers each as a CSV file."""


def tables(loaded: Loaded, r: Review) -> dict[TableName, list[list[Any]]]:
    """The tables an analyst opens in a spreadsheet, each a header row and its rows: events (with the command each
    came of), positions, pledges, metrics, messages (who wrote to whom), actions (free-form, as argued and as ruled),
    seats (who played what), capabilities (as rated, and as the log suggested), the improvement plan and the
    participants' feedback.  Times are UTC without a zone, as spreadsheets hold them."""
    command = commands(loaded.stored)
    recorded = {s.seq: s.recorded_at.astimezone(UTC).replace(tzinfo=None, microsecond=0) for s in loaded.stored}
    sheets: dict[TableName, list[list[Any]]] = {
        "events": [["seq", "recorded_at_utc", "command", "round", "phase", "type", "members", "description", "undone"]]
        + [
            [
                e.seq,
                recorded[e.seq],
                command[e.seq],
                e.round,
                e.phase or "",
                e.type,
                " ".join(e.members),
                e.text,
                "yes" if e.undone else "",
            ]
            for e in r.entries
        ],
        "positions": [["proposal", "kind", "procedure", "member", "position", "reservation", "seq", "round", "outcome"]]
        + [
            [p.id, p.kind, p.procedure, x.member, x.position, x.reservation or "", x.seq, x.round, p.outcome]
            for p in r.proposals
            for x in p.positions
        ],
        "pledges": [["proposal", "member", "pledged", "fair_share", "below_fair_share", "deploys_from_round"]]
        + [
            [p.id, m, p.pledges.get(m, 0), share, m in p.free_riders, r.state.proposals[p.id].effective_from.get(m, "")]
            for p in r.proposals
            if p.fair_shares
            for m, share in p.fair_shares.items()
        ],
    }
    members = list(r.state.members)
    sheets["metrics"] = [
        [
            "round",
            "cohesion",
            "deterrence",
            "escalation",
            "pledge_fairness",
            "at_2_pct",
            "at_3_5_pct",
            "decision_latency",
            *[f"support_{m}" for m in members],
        ]
    ] + [
        [
            m.round,
            m.cohesion,
            m.deterrence,
            m.escalation,
            m.pledge_fairness,
            m.at_2_pct,
            m.at_3_5_pct,
            "" if m.decision_latency is None else m.decision_latency,
            *[m.public_support.get(c, "") for c in members],
        ]
        for m in r.rounds
    ]
    sheets["messages"] = [["message", "round", "sender", "author", "to", "channel", "text"]] + [
        [m.id, m.round, m.sender, m.author or "", " ".join(m.recipients), _channel(m, members), m.text]
        for m in r.state.messages
    ]
    argued = ["action", "round", "member", "action_text", "result", "reasons"]
    sheets["actions"] = [[*argued, "strength", "target", "roll", "ruling", "note"]] + [
        [
            a.id,
            a.round,
            a.member,
            a.text,
            a.result,
            a.reasons,
            *((a.roll.strength, a.roll.target, a.roll.value) if a.roll else ("", "", "")),
            a.ruling or "",
            a.note,
        ]
        for a in r.state.actions.values()
    ]
    sheets["seats"] = [["seat", "role", "member", "player", "head", "bot"]] + [
        [seat_id, s.role, s.member or "", s.player, s.head, s.bot] for seat_id, s in r.state.seats.items()
    ]
    sheets["capabilities"] = [["capability", "rating", "suggested", "rated_by", "reason", "evidence"]] + [
        [c.name, c.rating, c.suggested or "", c.rated_by or "", c.reason, "; ".join(c.evidence)] for c in r.capabilities
    ]
    sheets["improvement_plan"] = [
        ["item", "capability", "issue", "corrective_action", "responsible", "start", "completion", "planned_by"]
    ] + [
        [
            row.item,
            row.capability,
            row.issue,
            row.action,
            row.responsible,
            row.start or "",
            row.completion or "",
            row.by,
        ]
        for row in plan(r.state)
    ]
    sheets["feedback"] = [["seat", "role", "member", "rating", "went_well", "to_improve"]] + [
        [seat, f.role, f.member or "", f.rating, f.went_well, f.to_improve] for seat, f in r.state.feedback.items()
    ]
    return sheets


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV field as a formula: a player's text that begins so is written with a quote
first (OWASP's advice against CSV injection), so that opening the file runs nothing a player wrote."""


def _csv_field(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # the form spreadsheets read as a date and time
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_tables(loaded: Loaded, r: Review) -> dict[TableName, str]:
    """`tables` as CSV files (RFC 4180, CRLF)."""
    out = {}
    for name, rows in tables(loaded, r).items():
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([_csv_field(v) for v in row] for row in rows)
        out[name] = buffer.getvalue()
    return out


def _channel(m: Message, members: list[str]) -> str:
    if CHAIR in (m.sender, *m.recipients):
        return "white cell"
    if m.internal:
        return "within"
    if {m.sender, *m.recipients} >= set(members):
        return "alliance"
    return "bilateral" if len(m.recipients) == 1 else "group"


def reviewed(loaded: Loaded) -> Review:
    return review(loaded.log)


async def import_game(
    store: EventStore, document: Any, progress: Progress[Any] = no_progress
) -> tuple[GameRecord, str]:
    """Store an exported game as a new game; refuse unless its events replay to the recorded hash."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExportError(f"not an exported game (format should be {FORMAT!r})")
    try:
        rows = document["events"]
        events = [EVENT_ADAPTER.validate_python(row["event"]) for row in progress(rows, len(rows), "checking")]
        # A file from before the marks counts every event as a command; its last event ends one whatever it says.
        ends = [row.get("ends_command", True) is not False for row in rows[:-1]] + [True]
        game = document["game"]
    except (KeyError, TypeError, ValueError) as error:
        raise ExportError(f"the events cannot be read: {error}") from None
    if not events or not isinstance(events[0], GameOpened):
        raise ExportError("the first event must open the game")
    try:
        state = replay(events)
    except ValueError as error:  # a rewind to an event the file does not hold
        raise ExportError(f"the events cannot be replayed: {error}") from None
    if state_hash(state) != document.get("final_hash"):
        raise ExportError("the events do not replay to the recorded final hash: the file was altered")
    return await _store_copy(
        store,
        events,
        ends,
        title=str(game.get("title", "")),
        scenario=str(game.get("scenario", "")),
        ruleset=str(events[0].ruleset),
        seed=events[0].seed,
        progress=progress,
    )


async def _store_copy(
    store: EventStore,
    events: Sequence[Event],
    ends: Sequence[bool],
    *,
    title: str,
    scenario: str,
    ruleset: str,
    seed: int,
    forked_from: str | None = None,
    forked_at: int | None = None,
    progress: Progress[Any] = no_progress,
) -> tuple[GameRecord, str]:
    key = auth.new_token()
    for _ in range(10):
        try:
            game = await store.create_game(
                scenario=scenario,
                ruleset=ruleset,
                title=title,
                join_code=auth.new_join_code(),
                facilitator_key_hash=auth.token_hash(key),
                seed=seed,
                forked_from_game=forked_from,
                forked_at_seq=forked_at,
            )
            break
        except ValueError:
            continue
    else:
        raise ExportError("no free join code")
    chunks = range(0, len(events), CHUNK)
    for seq in progress(chunks, len(chunks), "storing"):
        chunk = events[seq : seq + CHUNK]
        rows = [(e.type, EVENT_ADAPTER.dump_json(e).decode()) for e in chunk]
        await store.append(game.id, seq, rows, ends=ends[seq : seq + CHUNK])
    state = replay(events)
    await store.set_status(game.id, state.status)
    await store.add_seat(
        game.id, role="facilitator", member=None, player_name="Facilitator", credential_hash=auth.token_hash(key)
    )
    return (await store.get_game(game.id)) or game, key


async def fork(
    store: EventStore, loaded: Loaded, at_seq: int, seed: int | None = None, clock: Callable[[], float] = time.time
) -> tuple[GameRecord, str]:
    """A new game that starts from the original's state at `at_seq`: same events up to there, then its own.

    A fork of a game in play starts paused, so that its deadlines (long past) do not fire at once.  Its opening
    carries its own seed and title, so that its console, review and report name it as the what-if it is.
    """
    if not 1 <= at_seq <= len(loaded.log):
        raise ExportError(f"seq must be between 1 and {len(loaded.log)}")
    first, last = await store.command_of(loaded.game.id, at_seq) or (at_seq, at_seq)
    if last != at_seq:
        raise ExportError(
            f"event {at_seq} is one of the events {first} to {last}, which one command brought: a game can be forked "
            f"after the command (at {last}) or before it (at {first - 1}), never amid what it brought"
        )
    events: list[Event] = [e for s, e in loaded.log if s <= at_seq]
    ends = [s.ends_command for s in loaded.stored if s.seq <= at_seq]
    opening = events[0]
    assert isinstance(opening, GameOpened)
    new_seed = opening.seed if seed is None else seed
    g = loaded.game
    title = f"{g.title} (what-if from event {at_seq})"
    events[0] = opening.model_copy(update={"seed": new_seed, "title": title})
    state = replay(events)
    if state.status == "running":
        pause = decide(state, PauseGame(at=clock()), CHAIR)
        assert not isinstance(pause, Refusal)
        events.extend(pause)
        ends.extend([False] * (len(pause) - 1) + [True])
    return await _store_copy(
        store,
        events,
        ends,
        title=title,
        scenario=g.scenario,
        ruleset=g.ruleset,
        seed=new_seed,
        forked_from=g.id,
        forked_at=at_seq,
    )
