"""REST: scenarios, the lobby, seats, and commands for clients that do not keep a socket open."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import AfterValidator, BaseModel, Field

from game_rules import EVENT_ADAPTER, Command, Refusal
from game_rules.commands import EndGame
from game_rules.state import CHAIR, MemberCode, Role
from game_rules.views import shown, view
from server.bots.tables import BotSeats
from server.errors import ApiError, ErrorResponse
from server.limits import seat_limits
from server.lobby import Lobby, acting, command_key, viewer_for
from server.network import own_address, reach
from server.rooms import Accepted
from server.store import SEQ_LIMIT, SeatRecord

# 503: the database refused (its disk full, its server out of reach), with its reason; nothing changed.
router = APIRouter(
    prefix="/api",
    responses={400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)


def lobby(request: Request) -> Lobby:
    found: Lobby = request.app.state.lobby
    return found


LobbyDep = Annotated[Lobby, Depends(lobby)]


async def seat(game_id: str, lobby: LobbyDep, authorization: Annotated[str | None, Header()] = None) -> SeatRecord:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "no_credential", "Send your seat's credential as 'Authorization: Bearer <token>'.")
    return await lobby.seat_for_token(game_id, token.strip())


SeatDep = Annotated[SeatRecord, Depends(seat)]


def facilitator(seat: SeatDep) -> SeatRecord:
    if seat.role != "facilitator":
        raise ApiError(403, "facilitator_only", "Only the facilitator may do this.")
    return seat


FacilitatorDep = Annotated[SeatRecord, Depends(facilitator)]


class PhaseLength(BaseModel):
    name: str
    minutes: float


class ScenarioSummary(BaseModel):
    id: str
    title: str
    description: str
    ruleset: str
    rounds: int
    members: list[dict[str, Any]]
    phases: list[PhaseLength]
    """Each round's phases, in order, with the minutes the scenario gives them."""


def _no_nul(text: str) -> str:
    # A NUL cannot be stored in a PostgreSQL text column, and no name needs one.
    if "\x00" in text:
        raise ValueError("must not contain a NUL character")
    return text


Name = Annotated[str, AfterValidator(_no_nul)]
"""A title or a person's name as typed: any text but NUL."""


class CreateGame(BaseModel):
    scenario: str | None = Field(default=None, examples=["baltic-demo"], description="A shipped scenario's id.")
    scenario_file: str | None = Field(
        default=None,
        max_length=1_000_000,
        description="Or a scenario of your own: the text of its YAML file (docs/scenarios.md).",
    )
    title: Name | None = Field(default=None, max_length=200)
    facilitator: Name = Field(default="Facilitator", min_length=1, max_length=80)
    seed: int | None = Field(
        default=None,
        ge=0,
        lt=2**48,
        description="The game's random seed; a fresh one if omitted. Same seed, same draws.",
    )
    phase_minutes: dict[Annotated[str, Field(max_length=40)], Annotated[float, Field(gt=0, le=1440)]] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"deliberation": 12, "council": 15}],
        description="Minutes for the named phases of every round, replacing the scenario's: a seminar's own pace.",
    )
    rounds: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="Rounds to play instead of the scenario's; MSEL lines of the rounds left out are not delivered.",
    )


class SeatOut(BaseModel):
    seat_id: str
    role: str
    member: str | None
    player: str
    is_bot: bool = False
    connected: bool = Field(
        default=False,
        description="Whether the seat has a socket open to any process of the deployment.",
    )


class GameCreated(BaseModel):
    game_id: str
    join_code: str
    facilitator_key: str = Field(description="The facilitator's credential; shown once.")
    seat: SeatOut


class GameSummary(BaseModel):
    game_id: str
    title: str
    scenario: str
    ruleset: str
    status: str
    last_seq: int


class JoinInfo(BaseModel):
    game_id: str
    title: str
    scenario: str
    status: str
    members: list[dict[str, Any]]
    seats: list[SeatOut]


class ClaimSeat(BaseModel):
    join_code: str = Field(min_length=4, max_length=12)
    role: Role
    member: MemberCode | None = None
    player: Name = Field(min_length=1, max_length=80)
    is_bot: bool = False


class SeatCredential(BaseModel):
    seat: SeatOut
    token: str = Field(description="This seat's credential; shown once.")


class Reassign(BaseModel):
    player: Name = Field(min_length=1, max_length=80)


class Bots(BaseModel):
    members: list[str] | None = Field(
        default=None,
        description="The member codes bots play; none: every member nobody plays, and every bot seat no bot plays.",
    )


class CommandAccepted(BaseModel):
    seq: int
    repeated: bool = False
    """True when the command had been played before under the same `Idempotency-Key`: `seq` is where."""


def _seat_out(s: SeatRecord, present: frozenset[str] = frozenset()) -> SeatOut:
    return SeatOut(
        seat_id=s.id, role=s.role, member=s.member, player=s.player_name, is_bot=s.is_bot, connected=s.id in present
    )


class Network(BaseModel):
    urls: list[str] = Field(description="Where players on other computers open the server.")
    advice: str = Field(description="When there is no such address, what the facilitator can do about it.")


@router.get("/network", response_model=Network)
def network(request: Request) -> Network:
    """Where the players in the room reach the server, for a facilitator who opened it on its own computer.  (Not
    async: finding the addresses may ask the resolver.)"""
    settings = request.app.state.settings
    urls, advice = reach(settings.host, request.url.port or settings.port, settings.public_url)
    return Network(urls=urls, advice=advice)


@router.get("/scenarios", response_model=list[ScenarioSummary])
async def list_scenarios(lobby: LobbyDep) -> list[ScenarioSummary]:
    return [
        ScenarioSummary(
            id=s.id,
            title=s.title,
            description=s.description,
            ruleset=s.ruleset,
            rounds=s.rounds,
            members=[{"code": m.code, "name": m.name} for m in s.members],
            phases=[PhaseLength(name=p.name, minutes=p.seconds / 60) for p in s.timed_phases()],
        )
        for s in lobby.library.all().values()
    ]


@router.post("/games", status_code=201, response_model=GameCreated)
async def create_game(body: CreateGame, lobby: LobbyDep) -> GameCreated:
    if (body.scenario is None) == (body.scenario_file is None):
        raise ApiError(
            422, "one_scenario", "Name a shipped scenario (scenario) or send your own file (scenario_file), not both."
        )
    scenario = body.scenario if body.scenario is not None else lobby.scenario_of_file(body.scenario_file or "")
    created = await lobby.create_game(
        scenario,
        body.title,
        body.facilitator,
        body.seed,
        {name: m * 60 for name, m in body.phase_minutes.items()},
        body.rounds,
    )
    return GameCreated(
        game_id=created.game.id,
        join_code=created.game.join_code,
        facilitator_key=created.facilitator_key,
        seat=_seat_out(created.seat),
    )


@router.get("/games", response_model=list[GameSummary])
async def list_games(lobby: LobbyDep) -> list[GameSummary]:
    return [
        GameSummary(
            game_id=g.id, title=g.title, scenario=g.scenario, ruleset=g.ruleset, status=g.status, last_seq=g.last_seq
        )
        for g in await lobby.store.list_games()
    ]


@router.get("/join/{join_code}", response_model=JoinInfo)
async def join_info(join_code: str, lobby: LobbyDep) -> JoinInfo:
    game = await lobby.game_by_code(join_code)
    room = await lobby.room(game.id)
    seats = [s for s in await lobby.store.seats(game.id) if not s.revoked]
    present = lobby.rooms.present(game.id)
    return JoinInfo(
        game_id=game.id,
        title=game.title,
        scenario=game.scenario,
        status=room.state.status,
        members=[{"code": m.code, "name": m.name} for m in room.state.members.values()],
        seats=[_seat_out(s, present) for s in seats],
    )


@router.post("/games/{game_id}/seats", status_code=201, response_model=SeatCredential)
async def claim_seat(game_id: str, body: ClaimSeat, lobby: LobbyDep) -> SeatCredential:
    new = await lobby.claim_seat(game_id, body.join_code, body.role, body.member, body.player, body.is_bot)
    return SeatCredential(seat=_seat_out(new.seat), token=new.token)


@router.get("/games/{game_id}/seats", response_model=list[SeatOut])
async def list_seats(game_id: str, lobby: LobbyDep, you: SeatDep) -> list[SeatOut]:
    """Every seat of the game, with whether it is connected now (to any server process)."""
    await lobby.room(game_id)  # an unknown game is a 404, not an empty list
    present = lobby.rooms.present(game_id)
    return [_seat_out(s, present) for s in await lobby.store.seats(game_id) if not s.revoked]


class MySeat(SeatOut):
    title: str
    join_code: str | None = Field(
        default=None, description="The game's join code, for the facilitator's seat (the console shows it)."
    )


@router.get("/games/{game_id}/me", response_model=MySeat)
async def my_seat(game_id: str, lobby: LobbyDep, you: SeatDep) -> MySeat:
    """The seat the bearer's credential opens: what a browser handed a credential needs to take the seat."""
    game = await lobby.store.get_game(game_id)
    if game is None:
        raise ApiError(404, "unknown_game", f"There is no game {game_id}.")
    join_code = game.join_code if you.role == "facilitator" else None
    return MySeat(**_seat_out(you).model_dump(), title=game.title, join_code=join_code)


@router.post("/games/{game_id}/seats/{seat_id}/reassign", response_model=SeatCredential)
async def reassign_seat(
    game_id: str, seat_id: str, body: Reassign, lobby: LobbyDep, _: FacilitatorDep
) -> SeatCredential:
    new = await lobby.reassign(game_id, seat_id, body.player)
    return SeatCredential(seat=_seat_out(new.seat), token=new.token)


@router.post("/games/{game_id}/bots", response_model=list[SeatOut])
async def seat_bots(game_id: str, body: Bots, request: Request, _: FacilitatorDep) -> list[SeatOut]:
    """Bots play the delegations nobody in the room plays (or those named), from this server process, over its own
    sockets, until the game ends.  Returns the seats bots now play."""
    bots: BotSeats = request.app.state.bots
    seated = await bots.seat(game_id, body.members, _own_address(request))
    return [_seat_out(s) for s in seated]


def _own_address(request: Request) -> str:
    settings = request.app.state.settings
    return own_address(request.scope.get("server"), settings.host, settings.port)


@router.delete("/games/{game_id}", status_code=204)
async def delete_game(game_id: str, lobby: LobbyDep, _: FacilitatorDep) -> None:
    """Delete a game that has ended, or never started, and everything stored of it: its log, seats and snapshots
    (the players' names with them).  Export it first to keep its record (docs/review.md); a game under way is 409."""
    await lobby.delete_game(game_id)


@router.delete("/games/{game_id}/seats/{seat_id}", status_code=204)
async def release_seat(game_id: str, seat_id: str, lobby: LobbyDep, _: FacilitatorDep) -> None:
    """Take a player's seat out of the game (a player who left, or who took the wrong member state): its credential
    stops working at once and its browsers are shown out; a delegation's head hands over to its next player."""
    await lobby.release(game_id, seat_id)


@router.get("/games/{game_id}/view")
async def get_view(game_id: str, lobby: LobbyDep, you: SeatDep) -> dict[str, Any]:
    room = await lobby.room(game_id)
    return view(room.state, viewer_for(you))


@router.get("/games/{game_id}/events")
async def get_events(
    game_id: str, lobby: LobbyDep, you: SeatDep, after: Annotated[int, Query(ge=0, lt=SEQ_LIMIT)] = 0
) -> list[dict[str, Any]]:
    """The log as this seat may see it: events it may not see appear with `event: null`."""
    room = await lobby.room(game_id)
    viewer = viewer_for(you)
    out = []
    for stored in await lobby.store.read(game_id, after_seq=after):
        seen = shown(viewer, EVENT_ADAPTER.validate_json(stored.payload), room.state)
        out.append({"seq": stored.seq, "event": seen.model_dump(mode="json") if seen is not None else None})
    return out


@router.post(
    "/games/{game_id}/commands",
    response_model=CommandAccepted,
    responses={
        400: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        409: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    },
)
async def post_command(
    game_id: str,
    command: Command,
    lobby: LobbyDep,
    you: SeatDep,
    request: Request,
    idempotency_key: Annotated[str | None, Header(description="the client's name for the command")] = None,
) -> CommandAccepted:
    """Play a command as the seat.  Sent again with the same `Idempotency-Key`, it is answered with the seq it was
    played at (`repeated`), never played twice."""
    # One allowance per seat, whether its commands come over its sockets or here.
    limits = seat_limits(request.app)
    if not limits.allow(you.id):
        wait, reason = limits.refusal(you.id)
        raise ApiError(429, "rate_limited", reason, headers={"Retry-After": str(max(1, math.ceil(wait)))})
    key = command_key(you, idempotency_key)
    if isinstance(key, Refusal):
        raise ApiError(400, key.code, key.reason)
    actor = acting(you, command)
    if isinstance(actor, Refusal):
        raise ApiError(403, actor.code, actor.reason)
    room = await lobby.room(game_id)
    return _accepted(await room.submit(command, actor, key=key, seat=you.id))


@router.post("/games/{game_id}/end", response_model=CommandAccepted)
async def end_game(game_id: str, lobby: LobbyDep, _: FacilitatorDep) -> CommandAccepted:
    room = await lobby.room(game_id)
    return _accepted(await room.submit(EndGame(), CHAIR))


def _accepted(result: Accepted | Refusal) -> CommandAccepted:
    if isinstance(result, Refusal):
        raise ApiError(409, result.code, result.reason)
    return CommandAccepted(seq=result.seq, repeated=result.repeated)
