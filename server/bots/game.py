"""A whole game of bots: created over REST, a bot in every delegation and in the chair, played to the end, and
what came of it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from server.bots.delegation import DelegationBot, fair_shares
from server.bots.facilitator import FacilitatorBot
from server.bots.seat import BotError, Readiness, RefusalNote, View

REST_TIMEOUT = 15.0


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
    invocations: list[dict[str, Any]] = field(default_factory=list)
    """Collective defence as it stood at the end: key, victim, attack, status (conditional, confirmed, active)."""
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
        invocations=list(final.get("invocations", [])),
        facilitator_key=str(created["facilitator_key"]),
    )
