"""Bots at the tables nobody in the room plays.  The facilitator seats them; each plays its delegation over this
server's own WebSocket, as the bots of `wargame demo` do (`server.bots.game`), until the game ends.

A bot runs in the process that seated it.  After a restart its seat is still there: seating bots again finds the
seat, gives it a new credential and puts a bot back at it.  Each process does so by itself as soon as it learns
where it is reached, from the first request or socket it serves (browsers reconnect on their own after a restart),
at the bot seats where no bot plays anywhere in the deployment.  With several processes it first waits until each
of the others has said which seats are connected to it (`Rooms.everyone_announced_after`); of two processes putting
a bot back at one seat at once, the one whose new credential the store takes first does
(`Lobby.new_bot_credential`), and a bot whose credential was replaced all the same is shown out and leaves: one bot
per seat either way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from game_rules.checks import member_name
from server.bots.delegation import DelegationBot
from server.bots.game import websocket_url
from server.bots.seat import BotError
from server.errors import ApiError
from server.lobby import Lobby
from server.store import SeatRecord

log = logging.getLogger("wargame.bots")

PATIENCE = 7 * 24 * 3600.0
"""A bot waits this long for news: people may take their time, and any event wakes it."""


class BotSeats:
    def __init__(self, lobby: Lobby) -> None:
        self._lobby = lobby
        self._playing: dict[str, asyncio.Task[None]] = {}
        """Seat id -> the bot playing it from this process."""
        self._put_back = True
        """Bots go back to their seats at the first contact."""
        self._putting_back: asyncio.Task[None] | None = None

    @property
    def awaiting_contact(self) -> bool:
        """Bots are to go back at the first request or socket (`contact`)."""
        return self._put_back

    def contact(self, base_url: str) -> None:
        """A request or socket came in on `base_url`: the first after the start puts the bots back."""
        if self._put_back:
            self._put_back = False
            self._putting_back = asyncio.create_task(self._put_back_everywhere(base_url), name="bots:put-back")

    async def _put_back_everywhere(self, base_url: str) -> None:
        await asyncio.sleep(self._lobby.rooms.everyone_announced_after)
        store = self._lobby.store
        for game in await store.list_games():
            if game.status == "ended":
                continue
            seats = await store.seats(game.id)
            members = sorted({s.member for s in seats if s.is_bot and s.member and not s.revoked})
            if members:
                try:
                    await self.seat(game.id, members, base_url)
                except Exception:  # one game's trouble leaves the others' bots to go back
                    log.exception("bots could not be put back", extra={"game_id": game.id})

    def playing(self, seat_id: str) -> bool:
        return seat_id in self._playing

    async def seat(self, game_id: str, members: Sequence[str] | None, base_url: str) -> list[SeatRecord]:
        """A bot for each member named, or (None) for every member nobody plays, and at every bot seat no bot plays
        (here or at another process); reaching the server at `base_url`.  Returns the seats bots now play."""
        state = (await self._lobby.room(game_id)).state
        if state.status == "ended":
            raise ApiError(409, "game_ended", "The exercise has ended: there is nothing left for bots to play.")
        if members is not None and (strangers := [m for m in members if m not in state.members]):
            raise ApiError(422, "not_a_member", f"{', '.join(strangers)}: not members of this game.")
        tables = [s for s in await self._lobby.store.seats(game_id) if s.role == "delegation" and not s.revoked]
        # A bot plays here, or in another process of the deployment (its seat is connected there).
        busy = self._lobby.rooms.present(game_id) | self._playing.keys()
        if members is None:  # the open tables, and those whose bot left (a restart)
            idle = [s for s in tables if s.is_bot and s.id not in busy]
            members = [m for m in state.members if all(s in idle for s in tables if s.member == m)]
        seated: list[SeatRecord] = []
        for code in members:
            found = next((s for s in tables if s.member == code and s.is_bot), None)
            if found is not None and found.id in busy:
                continue
            new = (
                await self._lobby.seat_bot(game_id, code, f"{member_name(state, code)} (bot)")
                if found is None
                else await self._lobby.new_bot_credential(game_id, found)
            )
            if new is None:  # another process has just put a bot back there
                continue
            bot = DelegationBot(code, new.token, websocket_url(base_url, game_id), state.seed, patience=PATIENCE)
            self._playing[new.seat.id] = asyncio.create_task(self._play(bot, new.seat.id), name=f"bot:{game_id}:{code}")
            seated.append(new.seat)
        return seated

    async def _play(self, bot: DelegationBot, seat_id: str) -> None:
        try:
            await bot.run()
        except BotError as gave_up:
            log.warning("a bot left its seat: %s", gave_up)
        finally:
            self._playing.pop(seat_id, None)

    async def stop(self) -> None:
        self._put_back = False
        if self._putting_back is not None:
            self._putting_back.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._putting_back
        tasks, self._playing = list(self._playing.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
