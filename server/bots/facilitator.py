"""The white cell's bot: starts the game, rolls for the actions argued, and moves on from each phase once the
delegations' bots have acted and a short pause has passed, so a bot game runs in seconds instead of the scenario's
minutes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from server.bots.seat import Disconnected, Readiness, SeatBot, View

log = logging.getLogger("wargame.bots")


class FacilitatorBot(SeatBot):
    """Starts the game and moves on from each phase once the bots have acted and a pause has passed; before it does,
    it rates every argued action not yet ruled on (strong if it gives its reasons, fair if not) and rolls for it."""

    def __init__(
        self,
        token: str,
        url: str,
        *,
        phase_pause: float = 0.25,
        phase_timeout: float = 20.0,
        readiness: Readiness | None = None,
        patience: float = 900.0,
    ) -> None:
        super().__init__("chair", token, url, patience=patience)
        self.phase_pause = phase_pause
        self.phase_timeout = phase_timeout
        """Longest the bot waits for the delegations in one phase before it advances anyway."""
        self.readiness = readiness
        self.phases_played: list[tuple[int, str]] = []
        self.tabled_in: dict[str, int] = {}
        self.consultations: set[tuple[int, str]] = set()
        self._start_sent = False
        if readiness is not None:
            readiness.subscribe(self._news.set)

    def on_view(self, view: View) -> None:
        for p in view.get("proposals", []):
            self.tabled_in.setdefault(p["id"], view["round"])
        for c in view.get("consultations", []):
            self.consultations.add((int(c.get("round") or view["round"]), str(c["requested_by"])))
        if view.get("status") == "running" and view.get("phase") is not None:
            key = (int(view["round"]), str(view["phase"]))
            if key not in self.phases_played:
                self.phases_played.append(key)

    def _current(self) -> View:
        assert self.view is not None
        return self.view

    async def play(self) -> None:
        await self.wait_until(lambda: self.view is not None, self.patience, "the first view")
        while (view := self._current())["status"] != "ended":
            if view["status"] == "lobby":
                if not self._start_sent:
                    if self.readiness is not None:
                        await self.wait_until(self.readiness.all_joined, self.phase_timeout, "every bot to join")
                    await self.command({"type": "start_game"}, "start")
                    self._start_sent = True
                await self.wait_until(lambda: self._current()["status"] != "lobby", self.patience, "the start")
                continue
            if view["status"] == "paused":
                await self.wait_until(lambda: self._current()["status"] != "paused", self.patience, "a resume")
                continue
            key = (view["round"], view["phase"])
            await self._settle()
            for action in self._current().get("actions", []):
                if action.get("ruling") is None and action.get("roll") is None:
                    strength = "strong" if action.get("reasons") else "fair"
                    roll = {"type": "roll_for_action", "action": action["id"], "strength": strength}
                    await self.command(roll, f"roll:{action['id']}")
            now = self._current()
            if now["status"] == "running" and (now["round"], now["phase"]) == key:
                advance = {"type": "advance_phase", "from_round": key[0], "from_phase": key[1]}
                await self.command(advance, f"advance:{key[0]}:{key[1]}")
            await self.wait_until(
                functools.partial(self._moved_on, key),
                self.patience,
                f"the end of the {key[1]} phase of round {key[0]}",
            )

    def _moved_on(self, key: tuple[int, str]) -> bool:
        now = self._current()
        return now["status"] != "running" or (now["round"], now["phase"]) != key

    def _quiet(self, seq: int) -> bool:
        return self.readiness is None or self.readiness.all_idle_at(seq)

    async def _settle(self) -> None:
        """Wait until every bot has acted on the latest view and nothing has happened for the pause."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.phase_timeout
        while (left := deadline - loop.time()) > 0:
            self._news.clear()
            seq = int(self._current()["seq"])
            if self._quiet(seq):
                await asyncio.sleep(min(self.phase_pause, left))
                if int(self._current()["seq"]) == seq and self._quiet(seq):
                    return
                continue
            if self._closed:
                raise Disconnected("closed while waiting for the bots")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)
        log.warning("%s: the bots did not settle in %g s; advancing anyway", self.name, self.phase_timeout)
