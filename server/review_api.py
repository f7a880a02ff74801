"""The after-action review over REST: timeline, state at any seq, proposals and metrics, exports, forks.

The white cell, umpires and observers may review a game at any time; delegations once it has ended.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from game_rules.evaluation import CAPABILITIES, plan
from game_rules.feedback import QUESTIONS
from game_rules.review import RATING_MEANING, Review, state_at
from game_rules.views import Viewer, view
from server import documents, export, workbook
from server.api import GameCreated, LobbyDep, SeatDep, SeatOut
from server.errors import ApiError
from server.lobby import Lobby
from server.store import SEQ_LIMIT, SeatRecord

router = APIRouter(prefix="/api/games/{game_id}")


async def _loaded(game_id: str, lobby: Lobby, you: SeatRecord) -> export.Loaded:
    room = await lobby.room(game_id)
    if you.role not in ("facilitator", "umpire", "observer") and room.state.status != "ended":
        raise ApiError(403, "review_after_the_end", "Delegations see the review once the game has ended.")
    loaded = await export.load(lobby.store, game_id)
    if loaded is None:
        raise ApiError(404, "unknown_game", f"There is no game {game_id}.")
    return loaded


async def _review(game_id: str, lobby: LobbyDep, you: SeatDep) -> tuple[export.Loaded, Review]:
    loaded = await _loaded(game_id, lobby, you)
    return loaded, export.reviewed(loaded)


ReviewDep = Annotated[tuple[export.Loaded, Review], Depends(_review)]


@router.get("/review/timeline")
async def timeline(
    reviewed: ReviewDep,
    round: int | None = None,
    member: str | None = None,
    type: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """The events with what they did; `starts_command` marks the first of those one command brought, the events
    play can be turned back to just before (a rewind's `to_seq` is one less)."""
    loaded, r = reviewed
    command = export.commands(loaded.stored)
    return [
        {**asdict(e), "starts_command": command[e.seq] == e.seq}
        for e in r.timeline(round, member, set(type) if type else None)
    ]


@router.get("/review/summary")
async def summary(reviewed: ReviewDep) -> dict[str, Any]:
    """Proposals with every position and when, pledges against fair shares, metrics, ratings, notes, feedback."""
    loaded, r = reviewed
    return {
        "game": export.to_json(loaded, r.state)["game"],
        "proposals": [asdict(p) | {"latency": p.latency} for p in r.proposals],
        "rounds": [m.model_dump() for m in r.rounds],
        "capabilities": [asdict(c) for c in r.capabilities],
        "observations": [o.model_dump() for o in r.state.observations],
        "improvement_plan": [row.model_dump(mode="json", exclude={"dropped"}) for row in plan(r.state)],
        "feedback": [{"seat": seat, **f.model_dump()} for seat, f in r.state.feedback.items()],
        "feedback_questions": QUESTIONS,
        "capability_names": list(CAPABILITIES),
        "rating_meanings": RATING_MEANING,
        "seq": r.state.seq,
    }


@router.get("/review/state")
async def state(
    game_id: str,
    lobby: LobbyDep,
    you: SeatDep,
    seq: Annotated[int, Query(ge=1, lt=SEQ_LIMIT)],
    member: str | None = None,
) -> dict[str, Any]:
    """The game as it stood just after event `seq`: the all-seeing view, or one delegation's."""
    loaded = await _loaded(game_id, lobby, you)
    at = state_at(loaded.log, seq)
    if member is not None and member not in at.members:
        raise ApiError(404, "unknown_member", f"{member} is not a member of this game.")
    viewer = Viewer(role="delegation", member=member) if member else Viewer(role="umpire")
    return view(at, viewer)


EXPORT_TYPES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The game in the asked format: JSON (re-importable), one CSV table, every table in one workbook, "
            "or the report."
        ),
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            workbook.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}


@router.get("/export", response_model=None, responses=EXPORT_TYPES)
async def export_game(
    reviewed: ReviewDep,
    format: documents.ExportFormat = "json",
    table: export.TableName = "events",
) -> Response:
    # Off the event loop: a long game's workbook takes a second or two to write, and live games share the loop.
    return await asyncio.to_thread(_rendered, *reviewed, format, table)


def _rendered(loaded: export.Loaded, r: Review, format: documents.ExportFormat, table: export.TableName) -> Response:
    name = f"wargame-{loaded.game.id}"
    if format == "csv":
        return PlainTextResponse(
            "\ufeff" + export.csv_tables(loaded, r)[table],
            media_type="text/csv; charset=utf-8",
            headers=_attachment(f"{name}-{table}.csv"),
        )
    made = documents.document(loaded, r, format)
    if format in ("md", "html"):  # the report opens in the browser; the others are files to keep
        return Response(made.body, media_type=made.media_type)
    return Response(made.body, media_type=made.media_type, headers=_attachment(f"{name}.{made.suffix}"))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


class Fork(BaseModel):
    at_seq: int = Field(ge=1, lt=SEQ_LIMIT, description="The last event the fork shares with the original.")
    seed: int | None = Field(
        default=None, ge=0, lt=2**48, description="A new seed for what follows; the same if omitted."
    )


@router.post("/fork", status_code=201, response_model=GameCreated)
async def fork(game_id: str, body: Fork, lobby: LobbyDep, you: SeatDep) -> GameCreated:
    if you.role != "facilitator":
        raise ApiError(403, "facilitator_only", "Only the facilitator forks a game.")
    loaded = await _loaded(game_id, lobby, you)
    try:
        game, key = await export.fork(lobby.store, loaded, body.at_seq, body.seed)
    except export.ExportError as error:
        raise ApiError(422, "bad_fork", str(error)) from None
    return await _created(lobby, game.id, key)


async def _created(lobby: Lobby, game_id: str, key: str) -> GameCreated:
    game = await lobby.store.get_game(game_id)
    seat = next(s for s in await lobby.store.seats(game_id) if s.role == "facilitator")
    assert game is not None
    return GameCreated(
        game_id=game.id,
        join_code=game.join_code,
        facilitator_key=key,
        seat=SeatOut(seat_id=seat.id, role=seat.role, member=None, player=seat.player_name),
    )


imports = APIRouter(prefix="/api")


@imports.post("/games/import", status_code=201, response_model=GameCreated)
async def import_game(document: dict[str, Any], lobby: LobbyDep) -> GameCreated:
    """Store an exported game (JSON) as a new game; it must replay to its recorded hash."""
    try:
        game, key = await export.import_game(lobby.store, document)
    except export.ExportError as error:
        raise ApiError(422, "bad_export", str(error)) from None
    return await _created(lobby, game.id, key)
