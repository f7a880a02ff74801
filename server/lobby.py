"""Games and seats: creating a game from a scenario, joining by code, credentials for each seat."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from game_rules import EVENT_ADAPTER, Command, Refusal, decide
from game_rules.commands import ANY_TIME_COMMANDS, ClaimSeat, ReassignSeat, ReleaseSeat
from game_rules.scenario import Scenario, ScenarioError, parse_scenario
from game_rules.state import CHAIR, RED_CELL, SYSTEM, Role
from game_rules.views import Viewer
from server import auth, scenarios
from server.errors import ApiError
from server.rooms import DELETED, NEW_CREDENTIAL, Room, Rooms
from server.store import EventStore, GameRecord, JoinCodeTaken, SeatRecord

log = logging.getLogger("wargame.lobby")
T = TypeVar("T")


SCENARIO_PROBLEMS_SHOWN = 10
SCENARIO_PROBLEMS_LISTED = 200
"""Problems of a scenario file named in the refusal's message, and listed in its details (a file that is all
mistakes gets a readable answer, not a megabyte of them)."""


@dataclass(frozen=True)
class NewGame:
    game: GameRecord
    facilitator_key: str
    seat: SeatRecord


@dataclass(frozen=True)
class NewSeat:
    seat: SeatRecord
    token: str


def actor_for(seat: SeatRecord, command: Command) -> str | None:
    """Who a seat acts as in the rules for this command; None where the seat may not send it."""
    if seat.role == "facilitator":
        return CHAIR
    if seat.role == "delegation":
        return seat.member
    if seat.role == "red_cell":
        return RED_CELL
    if seat.role in ("observer", "umpire") and command.type in ANY_TIME_COMMANDS:
        return seat.role  # read-only seats may still record hotwash observations
    return None


READ_ONLY = Refusal(
    code="read_only",
    reason="Observers and umpires watch: they record hotwash notes, and umpires rate capabilities and plan corrective "
    "actions.",
)
BY_ENDPOINT = {
    "reassign_seat": Refusal(
        code="reassign_by_endpoint",
        reason="Reassigning a seat gives its new player a new credential: use POST "
        "/api/games/{game}/seats/{seat}/reassign, which returns it (the old one stops working).",
    ),
    "release_seat": Refusal(
        code="release_by_endpoint",
        reason="Releasing a seat revokes its credential: use DELETE /api/games/{game}/seats/{seat}.",
    ),
}
"""Commands that change who holds a credential, which the lobby's endpoints alone do."""


def acting(seat: SeatRecord, command: Command) -> str | Refusal:
    """Who the seat acts as for a command sent over a socket or POST /commands, or why it may not send it there."""
    actor = actor_for(seat, command)
    if actor is None:
        return READ_ONLY
    if actor == CHAIR and command.type in BY_ENDPOINT:
        return BY_ENDPOINT[command.type]  # a seat taken away whose credential still worked would not be taken away
    return actor


COMMAND_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")
BAD_KEY = Refusal(
    code="bad_key", reason="A command's key is 1 to 64 letters, digits, dots, colons, dashes or underscores."
)


def command_key(seat: SeatRecord, key: object) -> str | Refusal | None:
    """The store's key for a command the seat sent under `key` (None: sent without one).  Keys are the client's
    own, so they are kept per seat: no seat can answer for another's."""
    if key is None:
        return None
    if not isinstance(key, str) or COMMAND_KEY.fullmatch(key) is None:
        return BAD_KEY
    return f"{seat.id}/{key}"


def viewer_for(seat: SeatRecord) -> Viewer:
    return Viewer(role=seat.role, member=seat.member)


class Lobby:
    def __init__(self, store: EventStore, rooms: Rooms, library: scenarios.Library | None = None) -> None:
        self.store = store
        self.rooms = rooms
        self.library = library if library is not None else scenarios.Library()

    def scenario(self, scenario_id: str) -> Scenario:
        found = self.library.get(scenario_id)
        if found is None:
            raise ApiError(404, "unknown_scenario", f"There is no scenario {scenario_id!r}.")
        return found

    @staticmethod
    def scenario_of_file(text: str) -> Scenario:
        """A facilitator's own scenario, from the text of its YAML file; every problem with its place, if any."""
        try:
            return parse_scenario(text)
        except ScenarioError as error:
            shown = error.problems[:SCENARIO_PROBLEMS_SHOWN]
            more = len(error.problems) - len(shown)
            raise ApiError(
                422,
                "bad_scenario",
                "This scenario file cannot be played: " + "; ".join(shown) + (f"; and {more} more" if more else ""),
                details=[
                    {"at": p.split(": ", 1)[0], "problem": p.split(": ", 1)[-1]}
                    for p in error.problems[:SCENARIO_PROBLEMS_LISTED]
                ],
            ) from None

    async def create_game(
        self,
        scenario: str | Scenario,
        title: str | None,
        facilitator: str,
        seed: int | None = None,
        phase_seconds: Mapping[str, float] | None = None,
        rounds: int | None = None,
    ) -> NewGame:
        """A new game of a shipped scenario (by id) or of one the facilitator brought; `phase_seconds` retimes the
        named phases of every round and `rounds` replaces the number of rounds (the seminar's own pace: the MSEL
        lines of rounds left out are dropped)."""
        if isinstance(scenario, str):
            scenario = self.scenario(scenario)
        names = [p.name for p in scenario.phases]
        if unknown := sorted(set(phase_seconds or {}) - set(names)):
            raise ApiError(
                422,
                "unknown_phase",
                f"{', '.join(unknown)}: no such phase in {scenario.title}; its phases are {', '.join(names)}.",
            )
        scenario = scenario.paced(phase_seconds or {}, rounds)
        key = auth.new_token()
        for _ in range(10):
            try:
                game = await self.store.create_game(
                    scenario=scenario.id,
                    ruleset=scenario.ruleset,
                    title=title or scenario.title,
                    join_code=auth.new_join_code(),
                    facilitator_key_hash=auth.token_hash(key),
                    seed=secrets.randbits(48) if seed is None else seed,
                )
                break
            except JoinCodeTaken:
                continue
        else:
            raise ApiError(503, "no_join_code", "Could not find a free join code; try again.")
        opening = scenario.opening(seed=game.seed).model_copy(update={"title": game.title})
        await self.store.append(game.id, 0, [(opening.type, EVENT_ADAPTER.dump_json(opening).decode())])
        seat = await self._seat(game.id, "facilitator", None, facilitator, auth.token_hash(key), is_bot=False)
        return NewGame(game=game, facilitator_key=key, seat=seat)

    async def room(self, game_id: str) -> Room:
        room = await self.rooms.get(game_id)
        if room is None:
            raise ApiError(404, "unknown_game", f"There is no game {game_id}.")
        return room

    async def game_by_code(self, join_code: str) -> GameRecord:
        game = await self.store.game_by_join_code(join_code.strip().upper())
        if game is None:
            raise ApiError(404, "unknown_join_code", "No game has that join code; check it with your facilitator.")
        return game

    async def claim_seat(
        self, game_id: str, join_code: str, role: Role, member: str | None, player: str, is_bot: bool = False
    ) -> NewSeat:
        game = await self.store.get_game(game_id)
        if game is None or not hmac.compare_digest(game.join_code.encode(), join_code.strip().upper().encode()):
            raise ApiError(403, "wrong_join_code", "That join code does not open this game.")
        if role == "facilitator":
            raise ApiError(403, "facilitator_seat", "The facilitator's seat comes with the game's facilitator key.")
        token = auth.new_token()
        seat = await self._seat(game_id, role, member, player, auth.token_hash(token), is_bot=is_bot)
        if role == "delegation" and not is_bot:
            await self._take_over_from_bots(game_id, member)
        return NewSeat(seat=seat, token=token)

    async def seat_bot(self, game_id: str, member: str, player: str) -> NewSeat:
        """A delegation seat for a bot the facilitator puts at a table: no join code, the facilitator's say."""
        token = auth.new_token()
        seat = await self._seat(game_id, "delegation", member, player, auth.token_hash(token), is_bot=True)
        return NewSeat(seat=seat, token=token)

    async def _take_over_from_bots(self, game_id: str, member: str | None) -> None:
        """A player who comes to a table a bot plays takes over from it: the bot leaves, and the player heads the
        delegation.  Not once the game has ended: the record stays as it was played.  The player's seat stands
        whatever becomes of the bot's."""
        if (await self.room(game_id)).state.status == "ended":
            return
        for bot in await self.store.seats(game_id):
            if bot.is_bot and bot.member == member and not bot.revoked:
                try:
                    await self.release(game_id, bot.id)
                except ApiError as kept:  # the game ended meanwhile, say
                    log.warning("a bot kept its seat: %s", kept.message)

    async def _seat(
        self, game_id: str, role: Role, member: str | None, player: str, credential_hash: str, *, is_bot: bool
    ) -> SeatRecord:
        room = await self.room(game_id)
        trial = ClaimSeat(seat="pending", role=role, member=member, player=player, bot=is_bot)
        if isinstance(refusal := decide(room.state, trial, SYSTEM), Refusal):
            raise ApiError(409, refusal.code, refusal.reason)
        seat = await self.store.add_seat(
            game_id, role=role, member=member, player_name=player, credential_hash=credential_hash, is_bot=is_bot
        )
        claimed = await room.submit(trial.model_copy(update={"seat": seat.id}), SYSTEM)
        if isinstance(claimed, Refusal):
            await self.store.revoke_seat(seat.id)
            raise ApiError(409, claimed.code, claimed.reason)
        return seat

    async def seat_for_token(self, game_id: str, token: str) -> SeatRecord:
        seat = await self.store.seat_by_credential_hash(auth.token_hash(token))
        # The indexed lookup finds the row; the constant-time comparison is what accepts the credential.
        if seat is None or not auth.same_secret(token, seat.credential_hash) or seat.revoked or seat.game_id != game_id:
            if await self.store.get_game(game_id) is None:  # deleted since the link was handed out, or never was
                raise ApiError(404, "unknown_game", "There is no such game: its facilitator may have deleted it.")
            raise ApiError(401, "bad_credential", "This credential does not open a seat in this game.")
        return seat

    async def reassign(self, game_id: str, seat_id: str, player: str) -> NewSeat:
        """Give a seat to someone else: a new credential, the old one stops working."""
        seat = await self._player_seat(game_id, seat_id)
        command = ReassignSeat(seat=seat_id, player=player)
        new = await self._credential_first(game_id, seat, command, lambda: self._issue(seat, player))
        assert new is not None, "without `replacing`, the seat always takes the new credential"
        return new

    async def new_credential(self, game_id: str, seat: SeatRecord, player: str | None = None) -> NewSeat:
        """The seat with a new credential (and `player`, for a reassignment, which gives a bot's seat to a person; a
        bot put back at its seat after a restart keeps its own): the old credential stops working and its sockets
        are shown out, here at once, in other processes at their next periodic check (`Rooms.keep_up`)."""
        new = await self._issue(seat, player)
        assert new is not None, "without `replacing`, the seat always takes the new credential"
        (await self.room(game_id)).show_out(NEW_CREDENTIAL, seat.id)
        return new

    async def new_bot_credential(self, game_id: str, seat: SeatRecord) -> NewSeat | None:
        """A bot's seat with a new credential for a bot put back at it, unless its credential changed since `seat`
        was read (None): another process put a bot back there first."""
        new = await self._issue(seat, None, replacing=seat.credential_hash)
        if new is not None:
            (await self.room(game_id)).show_out(NEW_CREDENTIAL, seat.id)
        return new

    async def _issue(self, seat: SeatRecord, player: str | None, replacing: str | None = None) -> NewSeat | None:
        """A new credential stored for the seat, or None when `replacing` is given and the seat no longer holds it."""
        token = auth.new_token()
        held, name, is_bot = auth.token_hash(token), player or seat.player_name, seat.is_bot and player is None
        if not await self.store.reassign_seat(seat.id, name, held, is_bot=is_bot, replacing=replacing):
            return None
        return NewSeat(seat=(await self.store.seat_by_credential_hash(held)) or seat, token=token)

    async def release(self, game_id: str, seat_id: str) -> None:
        """Take a seat out of the game: its credential stops working, and its browsers are shown out."""
        seat = await self._player_seat(game_id, seat_id)
        await self._credential_first(game_id, seat, ReleaseSeat(seat=seat_id), lambda: self.store.revoke_seat(seat_id))

    async def delete_game(self, game_id: str) -> None:
        """Everything stored of a game that has ended (or never started), gone; its sockets are shown out."""
        room = await self.room(game_id)
        status = room.state.status
        if status in ("running", "paused"):
            raise ApiError(
                409,
                "game_in_play",
                f"The exercise is under way ({status}): end it before deleting it (and export its record).",
            )
        await self.store.delete_game(game_id)
        await self.rooms.forget(game_id, DELETED)
        # A seq past the log's end, which the store no longer holds: the other processes forget the game at once.
        self.rooms.bus.publish(game_id, room.state.seq + 1)

    async def _credential_first(
        self, game_id: str, seat: SeatRecord, command: Command, change: Callable[[], Awaitable[T]]
    ) -> T:
        """Play the lobby's own change of a player's seat as the chair, its credential changed (`change`) before the
        event is played: every process shows out the seat's sockets as it folds the event, and no browser can open
        the seat with the old credential in between.  The rules' refusal is a 409; one that comes only after the
        change gives the seat back what it held."""
        room = await self.room(game_id)
        if isinstance(refusal := decide(room.state, command, CHAIR), Refusal):
            raise ApiError(409, refusal.code, refusal.reason)
        changed = await change()
        done = await room.submit(command, CHAIR)
        if isinstance(done, Refusal):
            await self.store.reassign_seat(seat.id, seat.player_name, seat.credential_hash, is_bot=seat.is_bot)
            raise ApiError(409, done.code, done.reason)
        return changed

    async def _player_seat(self, game_id: str, seat_id: str) -> SeatRecord:
        found = {s.id: s for s in await self.store.seats(game_id)}.get(seat_id)
        if found is None or found.role == "facilitator" or found.revoked:
            raise ApiError(404, "unknown_seat", f"There is no player seat {seat_id} in this game.")
        return found
