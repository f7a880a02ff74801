"""Bots that play a seat over the same WebSocket protocol as people, and a whole game of them.

A `DelegationBot` holds one delegation seat: it keeps the latest `view` the server pushes and, on each new
one, does what the phase invites (deliberation: consult and talk; council: table and take positions;
commitments: pledge).  A `FacilitatorBot` holds the facilitator's seat: it starts the game and moves on
from each phase once every bot has acted on the latest view and a short pause has passed (or after a
fixed number of seconds), so a bot game runs in seconds instead of the scenario's minutes.

Every choice a bot makes comes from a generator seeded with the game seed, the member and what is being
decided, so a bot decides the same way whatever order the news reaches it in: with the same seed, the
same game.  A refusal is logged and recorded, never raised: the bot carries on with the next thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import itertools
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from game_rules.rulesets import RULESETS
from server.frames import updated

log = logging.getLogger("wargame.bots")

View = dict[str, Any]
Frame = dict[str, Any]
Plan = list[tuple[str, dict[str, Any]]]
"""What a bot will send now: (decision key, command) pairs; a key is decided once per game."""

FRONT_LINE = frozenset({"EST", "LVA", "LTU", "POL", "FIN", "NOR"})
"""Members bordering Russia or Belarus: the bots' rough idea of who is exposed."""
HIGH_DEFENCE_PCT = 3.0
LOW_DEFENCE_PCT = 2.5
LARGE_SHARE = 0.2
"""A member paying at least this part of the alliance's common costs counts as a large contributor."""
TABLERS_PER_ROUND = 2
KINDS = ("joint_statement", "sanctions", "deploy_forces", "common_funding")
FORCE_REQUIREMENTS = (24, 36, 48, 60)
FUNDING_AMOUNTS = (40.0, 80.0, 150.0, 300.0)

HELLO_TIMEOUT = 10.0
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
ANSWER_TIMEOUT = 10.0
REST_TIMEOUT = 15.0
RECONNECTS = 3


class BotError(RuntimeError):
    """A bot (or a bot game) could not go on: bad credentials, a server gone quiet, a timeout."""


class _Disconnected(Exception):
    """The socket closed under the bot; it reconnects."""


@dataclass(frozen=True)
class RefusalNote:
    seat: str
    command: str
    code: str
    reason: str


# --- coordination between the bots of one process ----------------------------------------------------


class Readiness:
    """Which bots are connected and which view each has finished acting on.

    The facilitator bot advances a phase only when every delegation bot has acted on the latest view:
    no command of theirs is still in flight and none is about to be sent.
    """

    def __init__(self, members: Iterable[str]) -> None:
        self._members = tuple(members)
        self._joined: set[str] = set()
        self._idle: dict[str, int] = dict.fromkeys(self._members, -1)
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def joined(self, member: str) -> None:
        self._joined.add(member)
        self._notify()

    def busy(self, member: str) -> None:
        """The bot is about to send commands: whatever it last reported no longer holds."""
        self._idle[member] = -1

    def idle(self, member: str, seq: int) -> None:
        """The bot has acted on the view at `seq`: every command it sent for it has been answered."""
        self._idle[member] = seq
        self._notify()

    def all_joined(self) -> bool:
        return all(m in self._joined for m in self._members)

    def all_idle_at(self, seq: int) -> bool:
        """Every bot has acted on exactly this view: none is behind it, none has seen news beyond it."""
        return all(self._idle[m] == seq for m in self._members)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()


# --- one seat on one socket ---------------------------------------------------------------------------


class SeatBot:
    """A seat's connection: hello, a reader that keeps the latest view, commands matched to answers."""

    def __init__(self, name: str, token: str, url: str, *, patience: float = 900.0) -> None:
        self.name = name
        self.token = token
        self.url = url
        self.patience = patience
        """Longest wait for news from the server before the bot gives up."""
        self.view: View | None = None
        self.refusals: list[RefusalNote] = []
        self.acks = 0
        self._views = 0
        self._news = asyncio.Event()
        self._closed = False
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._refs = itertools.count(1)

    @property
    def ended(self) -> bool:
        return self.view is not None and self.view.get("status") == "ended"

    async def run(self) -> None:
        """Play until the game ends; reconnect a few times if the socket drops."""
        failures = 0
        while True:
            try:
                async with connect(
                    self.url,
                    open_timeout=OPEN_TIMEOUT,
                    close_timeout=CLOSE_TIMEOUT,
                    max_size=16 * 2**20,
                    proxy=None,
                ) as ws:
                    await self._session(ws)
                return
            except (ConnectionClosed, InvalidHandshake, OSError, _Disconnected) as problem:
                if self.ended:
                    return
                failures += 1
                if failures > RECONNECTS:
                    raise BotError(f"{self.name}: lost the connection {failures} times: {problem!r}") from problem
                log.warning("%s: connection lost (%r); reconnecting", self.name, problem)
                await asyncio.sleep(0.2 * failures)

    async def _session(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "hello", "token": self.token}))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
        except TimeoutError:
            raise _Disconnected("no welcome") from None
        if first.get("type") != "welcome":
            raise BotError(f"{self.name}: the server refused the hello: {first.get('reason', first)}")
        self._closed = False
        self._ws = ws
        self.on_welcome(first)
        reader = asyncio.create_task(self._read(ws), name=f"{self.name}-reader")
        try:
            await self.play()
        finally:
            self._ws = None
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("%s: ignoring a frame that is not JSON", self.name)
                    continue
                if isinstance(frame, dict):
                    self._on_frame(frame)
        except ConnectionClosed:
            pass
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(_Disconnected("closed while waiting for an answer"))
            self._news.set()

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "view":
            self._see(frame["view"])
        elif kind == "update" and self.view is not None:  # (a socket's whole view always comes first)
            self._see(updated(self.view, frame))
        elif kind in ("ack", "refusal"):
            future = self._pending.get(str(frame.get("ref")))
            if future is not None and not future.done():
                future.set_result(frame)
        elif kind == "error":
            log.warning("%s: the server says %s: %s", self.name, frame.get("code"), frame.get("reason"))

    def _see(self, view: View) -> None:
        self.view = view
        self._views += 1
        self.on_view(view)
        self._news.set()

    def on_welcome(self, frame: Frame) -> None:
        """Called once per connection, when the seat is in the room."""

    def on_view(self, view: View) -> None:
        """Called on every view frame, before the bot is woken."""

    async def play(self) -> None:
        raise NotImplementedError

    async def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait for news until `ready()`; a socket that closes first makes the bot reconnect."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._news.clear()
            if ready():
                return
            if self._closed:
                raise _Disconnected(f"closed while waiting for {what}")
            left = deadline - loop.time()
            if left <= 0:
                raise BotError(f"{self.name}: gave up waiting for {what} after {timeout:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)

    async def command(self, command: dict[str, Any], intent: str | None = None) -> bool:
        """Send one command and wait for its answer; True when acknowledged.  Refusals are logged.

        `intent` names what the command is for (one per seat and game): it becomes the command's key, so the
        same intent sent again after a lost connection is answered, not played twice."""
        ws = self._ws
        if ws is None:
            raise _Disconnected("not connected")
        ref = f"{self.name}-{next(self._refs)}"
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        frame: Frame = {"type": "command", "ref": ref, "command": command}
        if intent is not None:  # the key's alphabet is narrow (docs/protocol.md); intents hold proposal ids
            frame["key"] = hashlib.blake2b(intent.encode(), digest_size=12).hexdigest()
        try:
            await ws.send(json.dumps(frame))
            answer = await asyncio.wait_for(future, ANSWER_TIMEOUT)
        except TimeoutError:
            answer = {"type": "refusal", "code": "no_answer", "reason": f"no answer in {ANSWER_TIMEOUT:g} s"}
        finally:
            self._pending.pop(ref, None)
        if answer.get("type") == "ack":
            self.acks += 1
            return True
        note = RefusalNote(self.name, str(command.get("type")), str(answer.get("code")), str(answer.get("reason")))
        self.refusals.append(note)
        log.info("%s: %s refused (%s): %s", note.seat, note.command, note.code, note.reason)
        return False


# --- what a delegation thinks ------------------------------------------------------------------------


def _allows(view: View) -> tuple[str, ...]:
    for phase in view.get("phases", []):
        if phase["name"] == view.get("phase"):
            return tuple(phase["allows"])
    return ()


def _weights(view: View) -> dict[str, Fraction]:
    return {code: Fraction(str(m["cost_share"])) for code, m in view["members"].items()}


def fair_shares(view: View, forces: int) -> dict[str, Fraction]:
    """Each member's fair share of a force requirement, by cost share (as `game_rules.burden` has it)."""
    weights = _weights(view)
    total = sum(weights.values(), Fraction(0))
    return {code: Fraction(forces) * w / total for code, w in weights.items()}


def named_in(view: View, inject: dict[str, Any]) -> set[str]:
    """The members an inject targets, or names by code or name (`Estonia` in `Estonian airspace`)."""
    found = {m for m in inject.get("targets") or () if m in view["members"]}
    text = f"{inject.get('title', '')} {inject.get('text', '')}"
    for code, member in view["members"].items():
        if code in text or (member.get("name") and member["name"] in text):
            found.add(code)
    return found


def exposed_members(view: View) -> list[str]:
    """Front-line members, and any member an inject targets or names: who the bots think is under threat."""
    found = set(view["members"]) & FRONT_LINE
    for inject in view.get("injects", []):
        found |= named_in(view, inject)
    return sorted(found)


def tablers(view: View, seed: int, round_: int) -> list[str]:
    """Whose turn it is to table a proposal this round: a seeded draw every bot makes alike."""
    order = sorted(view["members"])
    random.Random(f"{seed}:tablers:{round_}").shuffle(order)
    return order[:TABLERS_PER_ROUND]


def _names(view: View, codes: Iterable[str]) -> str:
    names = [view["members"][c].get("name") or c for c in codes]
    if not names:
        return "the members under pressure"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


ARGUES = 0.5
"""How likely an exposed member's bot is to argue a national action in a round's deliberation."""

RESERVATIONS = {
    "joint_statement": "{name} reads the statement as no commitment to new deployments.",
    "sanctions": "{name} asks for an exemption for energy contracts already signed.",
    "deploy_forces": "{name} concurs on the understanding that deployments stay rotational.",
    "common_funding": "{name} concurs on the understanding that this does not set a precedent for the budget.",
    "invoke_collective_defence": "{name} reserves its national decision on the means of assistance.",
}


class DelegationBot(SeatBot):
    """Plays one delegation seat: consults, talks, tables, takes positions and pledges by its interests."""

    def __init__(
        self,
        member: str,
        token: str,
        url: str,
        seed: int,
        *,
        readiness: Readiness | None = None,
        patience: float = 900.0,
    ) -> None:
        super().__init__(member, token, url, patience=patience)
        self.member = member
        self.seed = seed
        self.readiness = readiness
        self._decided: set[str] = set()

    def _draw(self, key: str) -> random.Random:
        """The generator for one decision, seeded `{seed}:{member}:{key}`: the same seed, member and question
        give the same answer, whichever order the bot hears of things in."""
        return random.Random(f"{self.seed}:{self.member}:{key}")

    def on_welcome(self, frame: Frame) -> None:
        if self.readiness is not None:
            self.readiness.joined(self.member)

    async def play(self) -> None:
        handled = 0
        while True:
            await self.wait_until(functools.partial(self._views_since, handled), self.patience, "news")
            handled = self._views
            view = self.view
            assert view is not None
            if view["status"] == "ended":
                return
            plan = self.plan(view)
            if plan and self.readiness is not None:
                self.readiness.busy(self.member)
            for key, command in plan:
                await self.command(command, key)  # a lost connection leaves it undecided: sent again after it
                self._decided.add(key)
            if self._views == handled and self.readiness is not None:
                self.readiness.idle(self.member, view["seq"])

    def _views_since(self, count: int) -> bool:
        return self._views > count

    # -- deciding ---------------------------------------------------------------------------------------

    def plan(self, view: View) -> Plan:
        """The commands this view calls for that the bot has not yet sent (each decided once)."""
        if view.get("status") != "running" or self.member not in view.get("members", {}):
            return []
        allows = _allows(view)
        plan: Plan = []
        if "table_proposal" in allows:
            plan += self._council(view, allows)
        elif "request_consultation" in allows:
            plan += self._deliberation(view, allows)
        if "pledge" in allows:
            plan += self._commitments(view)
        return [(key, command) for key, command in plan if key not in self._decided]

    def _profile(self, view: View) -> tuple[float, float, bool]:
        """(defence % of GDP, share of common costs, exposed?) for this bot's member."""
        me = view["members"][self.member]
        weights = _weights(view)
        share = float(weights[self.member] / sum(weights.values(), Fraction(0)))
        return float(me.get("defence_pct_gdp") or 2.0), share, self.member in exposed_members(view)

    def _deliberation(self, view: View, allows: tuple[str, ...]) -> Plan:
        round_ = view["round"]
        defence, share, exposed = self._profile(view)
        plan: Plan = []
        # A consultation that records its round is convened for that round only; one that does not, for good.
        convened = {c["requested_by"] for c in view.get("consultations", []) if c.get("round") in (None, round_)}
        key = f"consult:{round_}"
        if "request_consultation" in allows and exposed and self.member not in convened:
            named = any(i.get("round") == round_ and self.member in named_in(view, i) for i in view.get("injects", []))
            if self._draw(key).random() < (0.9 if named else 0.4):
                partners = [m for m in exposed_members(view) if m != self.member and m not in convened][:2]
                plan.append((key, {"type": "request_consultation", "joined_by": partners}))
        if "send_message" in allows:
            name = view["members"][self.member].get("name") or self.member
            if exposed:
                text = f"{name} sees the threat on its border growing and asks allies for visible reassurance."
            elif defence >= HIGH_DEFENCE_PCT:
                text = f"{name} stands ready to contribute forces to reassure {_names(view, exposed_members(view))}."
            elif share >= LARGE_SHARE:
                text = f"{name} favours a measured response and a fair division of the costs."
            else:
                text = f"{name} will support a united alliance position."
            plan.append((f"message:{round_}", {"type": "send_message", "text": text}))
        key = f"action:{round_}"
        if "propose_action" in allows and exposed and self._draw(key).random() < ARGUES:
            name = view["members"][self.member].get("name") or self.member
            argument = {
                "type": "propose_action",
                "text": f"{name} moves its border guard and reservists to a higher state of readiness",
                "result": "the next incursion is met at the border within the hour",
                "reasons": f"{name} rehearsed it this year, and the incursions keep to the same corridors",
            }
            plan.append((key, argument))
        return plan

    def _council(self, view: View, allows: tuple[str, ...]) -> Plan:
        round_ = view["round"]
        plan: Plan = []
        key = f"table:{round_}"
        if self.member in tablers(view, self.seed, round_) and (proposal := self._proposal(view, key)):
            plan.append((key, proposal))
        for p in view.get("proposals", []):
            if p["outcome"] == "pending" and (position := self._position(view, p, allows)):
                plan.append((f"position:{p['id']}", position))
        return plan

    def _proposal(self, view: View, key: str) -> dict[str, Any] | None:
        ruleset = RULESETS.get(str(view.get("ruleset")))
        kinds = [k for k in KINDS if ruleset is None or k in ruleset.proposal_kinds]
        if not kinds:
            return None
        defence, share, exposed = self._profile(view)
        weights = {"joint_statement": 2.0, "sanctions": 1.5, "deploy_forces": 1.5, "common_funding": 1.0}
        if exposed:
            weights["deploy_forces"] += 2.0
            weights["sanctions"] += 1.0
        if defence >= HIGH_DEFENCE_PCT:
            weights["deploy_forces"] += 1.5
        if share >= LARGE_SHARE:
            weights["common_funding"] = 0.5
            weights["joint_statement"] += 1.0
        else:
            weights["common_funding"] += 1.0
        draw = self._draw(key)
        kind = draw.choices(kinds, weights=[weights[k] for k in kinds])[0]
        threatened = _names(view, exposed_members(view))
        command: dict[str, Any] = {"type": "table_proposal", "proposal": f"R{view['round']}-{self.member}"}
        command["kind"] = kind
        if kind == "deploy_forces":
            forces = draw.choice(FORCE_REQUIREMENTS)
            ready = sum(filter(None, (available(view, m) for m in view.get("members", {}))))
            if ready:  # ask for what the alliance could field, not more
                forces = max(4, min(forces, ready * 2 // 5))
            command["requirement"] = {"forces": forces}
            command["text"] = f"Deploy {forces} force units to reinforce {threatened}."
        elif kind == "common_funding":
            amount = draw.choice(FUNDING_AMOUNTS)
            command["amount"] = amount
            command["text"] = f"Fund {amount:g} million in common air defence for {threatened}, by cost share."
        elif kind == "sanctions":
            command["text"] = "Targeted sanctions on the aggressor's military-industrial sector."
        else:
            command["text"] = f"Allies condemn the hostile acts against {threatened} and stand together."
        return command

    def _stance(self, view: View, p: dict[str, Any]) -> str:
        """concur, reserve or object: the member's interests, then a seeded draw."""
        defence, share, exposed = self._profile(view)
        kind = p["kind"]
        object_p, reserve_p = 0.03, 0.12
        if kind == "joint_statement":
            object_p = 0.01
        elif kind == "deploy_forces":
            if defence >= HIGH_DEFENCE_PCT or exposed:
                object_p, reserve_p = 0.0, 0.05
            elif defence < LOW_DEFENCE_PCT:
                object_p, reserve_p = 0.08, 0.30
        elif kind == "common_funding":
            object_p += 0.6 * share
            reserve_p += share
        elif kind == "sanctions":
            if share >= LARGE_SHARE:
                object_p, reserve_p = object_p + 0.05, reserve_p + 0.15
            if exposed:
                object_p = 0.0
        roll = self._draw(f"position:{p['id']}").random()
        if roll < object_p:
            return "object"
        return "reserve" if roll < object_p + reserve_p else "concur"

    def _position(self, view: View, p: dict[str, Any], allows: tuple[str, ...]) -> dict[str, Any] | None:
        mine = p["tabled_by"] == self.member
        stance = "concur" if mine else self._stance(view, p)
        if p["procedure"] == "consensus":
            if self.member in p.get("positions", {}):
                return None
            if stance == "reserve":
                name = view["members"][self.member].get("name") or self.member
                reservation = RESERVATIONS.get(p["kind"], "{name} enters a reservation.").format(name=name)
                return {"type": "concur_with_reservation", "proposal": p["id"], "reservation": reservation}
            return {"type": "object" if stance == "object" else "concur", "proposal": p["id"]}
        if p["procedure"] == "silence":
            if stance != "object" or "break_silence" not in allows:
                return None
            return {"type": "break_silence", "proposal": p["id"]}
        if p["procedure"] == "vote":
            if self.member in p.get("votes", {}) or self.member in p.get("parties", []):
                return None
            choice = {"concur": "yes", "reserve": "abstain", "object": "no"}[stance]
            return {"type": "vote", "proposal": p["id"], "choice": choice}
        return None

    def _commitments(self, view: View) -> Plan:
        defence, _, exposed = self._profile(view)
        plan: Plan = []
        planned = 0
        for p in view.get("proposals", []):
            if p["kind"] != "deploy_forces" or p["outcome"] != "adopted" or not p.get("forces_required"):
                continue
            if self.member in p.get("pledges", {}):
                continue
            key = f"pledge:{p['id']}"
            fair = fair_shares(view, int(p["forces_required"]))[self.member]
            draw = self._draw(key)
            under = 0.55 if defence < LOW_DEFENCE_PCT else 0.1 if (defence >= HIGH_DEFENCE_PCT or exposed) else 0.25
            factor = draw.uniform(0.4, 0.9) if draw.random() < under else draw.uniform(1.0, 1.3)
            forces = max(0, round(float(fair) * factor))
            room = available(view, self.member, but=p["id"])
            if room is not None:
                forces = min(forces, room - planned)
                planned += forces
            cap = next(
                (
                    c.get("limit")
                    for c in view["members"][self.member].get("caveats", [])
                    if c.get("kind") == "pledge_cap"
                ),
                None,
            )
            if cap is not None:
                forces = min(forces, int(cap))
            plan.append((key, {"type": "pledge", "proposal": p["id"], "forces": forces}))
        return plan


def available(view: View, member: str, domain: str = "land", but: str = "") -> int | None:
    """Ready units a member has left in a domain, as the rules count them; None without force figures."""
    forces = view.get("members", {}).get(member, {}).get("forces") or {}
    if not forces:
        return None
    force = forces.get(domain) or {"units": 0, "readiness": 0}
    ready = int(force["units"] * force["readiness"])
    committed = sum(
        int(p.get("pledges", {}).get(member, 0))
        for p in view.get("proposals", [])
        if p["id"] != but and (p.get("requirement") or {}).get("domain", "land") == domain
    )
    return max(0, ready - committed)


# --- the white cell ------------------------------------------------------------------------------------


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
                raise _Disconnected("closed while waiting for the bots")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)
        log.warning("%s: the bots did not settle in %g s; advancing anyway", self.name, self.phase_timeout)


# --- a whole game -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalResult:
    id: str
    round: int
    kind: str
    procedure: str
    tabled_by: str
    text: str
    outcome: str
    positions: dict[str, str]
    reservations: dict[str, str]
    silence_broken_by: list[str]
    votes: dict[str, str]
    forces_required: int | None
    amount: float | None
    pledges: dict[str, int]
    fair_shares: dict[str, float]
    """Each member's fair share of the force requirement (deploy_forces only)."""
    below_fair_share: list[str]

    @property
    def adopted(self) -> bool:
        return self.outcome == "adopted"

    @property
    def shortfall(self) -> int | None:
        if self.forces_required is None:
            return None
        return max(0, self.forces_required - sum(self.pledges.values()))


@dataclass(frozen=True)
class GameOutcome:
    game_id: str
    scenario: str
    title: str
    ruleset: str
    seed: int
    status: str
    rounds: int
    """Rounds in the scenario."""
    rounds_reached: int
    phases_played: list[tuple[int, str]]
    events: int
    proposals: list[ProposalResult]
    consultations: list[tuple[int, str]]
    """(round, member) for each request for consultation."""
    messages: int
    refusals: list[RefusalNote]
    elapsed_seconds: float
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    """The free-form actions as the facilitator saw them at the end: argued, rated, rolled for and ruled."""
    facilitator_key: str = field(default="", repr=False)
    """The game's facilitator credential, for reviewing or forking the game afterwards."""

    @property
    def adopted(self) -> list[ProposalResult]:
        return [p for p in self.proposals if p.adopted]

    @property
    def not_adopted(self) -> list[ProposalResult]:
        return [p for p in self.proposals if not p.adopted]

    @property
    def pledges(self) -> dict[str, dict[str, int]]:
        return {p.id: dict(p.pledges) for p in self.proposals if p.pledges}

    @property
    def shortfalls(self) -> dict[str, int]:
        return {p.id: p.shortfall for p in self.adopted if p.shortfall is not None and p.kind == "deploy_forces"}


def _proposal_result(view: View, p: dict[str, Any], round_: int) -> ProposalResult:
    required = p.get("forces_required")
    shares = fair_shares(view, int(required)) if p["kind"] == "deploy_forces" and required else {}
    pledges = {m: int(f) for m, f in p.get("pledges", {}).items()}
    return ProposalResult(
        id=p["id"],
        round=round_,
        kind=p["kind"],
        procedure=p["procedure"],
        tabled_by=p["tabled_by"],
        text=p.get("text", ""),
        outcome=p["outcome"],
        positions={m: p["positions"][m] for m in view["members"] if m in p.get("positions", {})},
        reservations={m: p["reservations"][m] for m in view["members"] if m in p.get("reservations", {})},
        silence_broken_by=list(p.get("silence_broken_by", [])),
        votes={m: p["votes"][m] for m in view["members"] if m in p.get("votes", {})},
        forces_required=required,
        amount=p.get("amount"),
        pledges=pledges,
        fair_shares={m: float(s) for m, s in shares.items()},
        below_fair_share=[m for m, s in shares.items() if pledges.get(m, 0) < s],
    )


def _http_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        with opener.open(request, timeout=REST_TIMEOUT) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read().decode(errors="replace")
        raise BotError(f"{method} {url}: HTTP {error.code}: {detail[:300]}") from None
    except (urllib.error.URLError, OSError) as error:
        raise BotError(f"{method} {url}: {error}") from None


async def rest(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    """One JSON request to the server's REST API (standard library only, in a worker thread)."""
    return await asyncio.to_thread(_http_json, method, url, body, token)


def websocket_url(base_url: str, game_id: str) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"{parts.path.rstrip('/')}/ws/games/{quote(game_id)}", "", ""))


async def play_game(
    base_url: str,
    scenario_id: str,
    seed: int,
    phase_pause: float,
    *,
    phase_timeout: float = 20.0,
    timeout: float = 180.0,
) -> GameOutcome:
    """Create a game over REST, seat a bot in every delegation, and play it to the end with a bot chair."""
    began = time.monotonic()
    base = base_url.rstrip("/")
    try:
        async with asyncio.timeout(timeout):
            created = await rest(
                "POST", f"{base}/api/games", {"scenario": scenario_id, "facilitator": "Chair (bot)", "seed": seed}
            )
            game_id, join_code = str(created["game_id"]), str(created["join_code"])
            info = await rest("GET", f"{base}/api/join/{quote(join_code)}")
            members = [str(m["code"]) for m in info["members"]]
            tokens: dict[str, str] = {}
            for code in members:
                seat = {"join_code": join_code, "role": "delegation", "member": code, "player": f"{code} bot"}
                claimed = await rest("POST", f"{base}/api/games/{game_id}/seats", {**seat, "is_bot": True})
                tokens[code] = str(claimed["token"])
            url = websocket_url(base, game_id)
            readiness = Readiness(members)
            patience = phase_timeout + 30.0
            bots = [DelegationBot(m, tokens[m], url, seed, readiness=readiness, patience=patience) for m in members]
            chair = FacilitatorBot(
                str(created["facilitator_key"]),
                url,
                phase_pause=phase_pause,
                phase_timeout=phase_timeout,
                readiness=readiness,
                patience=patience,
            )
            try:
                async with asyncio.TaskGroup() as group:
                    for bot in (*bots, chair):
                        group.create_task(bot.run(), name=f"bot-{bot.name}")
            except ExceptionGroup as failed:
                raise BotError(f"the bot game {game_id} failed: {failed.exceptions[0]!r}") from failed
    except TimeoutError:
        raise BotError(f"the bot game did not finish in {timeout:g} s") from None
    final = chair.view
    assert final is not None
    return GameOutcome(
        game_id=game_id,
        scenario=scenario_id,
        title=str(final.get("title", "")),
        ruleset=str(final.get("ruleset", "")),
        seed=seed,
        status=str(final["status"]),
        rounds=int(final["rounds"]),
        rounds_reached=max((r for r, _ in chair.phases_played), default=0),
        phases_played=list(chair.phases_played),
        events=int(final["seq"]),
        proposals=sorted(
            (_proposal_result(final, p, chair.tabled_in.get(p["id"], 0)) for p in final["proposals"]),
            key=lambda p: (p.round, p.id),
        ),
        consultations=sorted(chair.consultations),
        messages=len(final.get("messages", [])),
        refusals=[note for bot in (*bots, chair) for note in bot.refusals],
        elapsed_seconds=time.monotonic() - began,
        members=dict(final["members"]),
        actions=list(final.get("actions", [])),
        facilitator_key=str(created["facilitator_key"]),
    )
