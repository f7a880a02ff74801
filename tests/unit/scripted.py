"""A deterministic scripted player for whole games on the rules core (no server): golden-hash games."""

from __future__ import annotations

from typing import Any

from game_rules import COMMAND_ADAPTER, Refusal, State, burden, decide, evolve, fold, state_hash
from game_rules.events import Event
from game_rules.scenario import Scenario
from game_rules.state import CHAIR, SYSTEM
from game_rules.views import FACILITATOR, Viewer


def every_viewer(state: State) -> list[Viewer]:
    """One viewer of each kind a game has: the white cell, an umpire, an observer, the red cell, each delegation."""
    everyone = [FACILITATOR, Viewer(role="umpire"), Viewer(role="observer"), Viewer(role="red_cell")]
    return everyone + [Viewer(role="delegation", member=code) for code in state.members]


class Table:
    """A game on the rules core driven command by command, keeping its log; refusals fail the test."""

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        opening = scenario.opening(seed=seed)
        self.log: list[Event] = [opening]
        self.state = evolve(State(), opening)

    @classmethod
    def started(cls, scenario: Scenario) -> Table:
        """Started at t=1000 with one seat taken, Estonia's delegation: the first phase of round 1 is open."""
        table = cls(scenario)
        table.do(SYSTEM, type="claim_seat", seat="s-est", role="delegation", member="EST", player="Kaja")
        table.do(CHAIR, type="start_game", at=1000.0)
        return table

    def do(self, actor: str, from_seat: str | None = None, **command: object) -> tuple[Event, ...]:
        decision = decide(self.state, COMMAND_ADAPTER.validate_python(command), actor, from_seat)
        assert not isinstance(decision, Refusal), decision.reason
        for event in decision:
            self.state = fold(self.state, event, self.log)
            self.log.append(event)
        return decision

    def refused(self, actor: str, from_seat: str | None = None, **command: object) -> Refusal:
        before = state_hash(self.state)
        decision = decide(self.state, COMMAND_ADAPTER.validate_python(command), actor, from_seat)
        assert isinstance(decision, Refusal), f"{command} was accepted"
        assert state_hash(self.state) == before, "a refusal changes nothing"
        return decision

    def advance(self, at: float = 0) -> None:
        self.do(CHAIR, type="advance_phase", from_round=self.state.round, from_phase=self.state.phase, at=at)

    def to(self, phase: str, round_: int | None = None) -> None:
        while self.state.phase != phase or (round_ is not None and self.state.round != round_):
            self.advance(at=float(self.state.phase_count))


class ScriptedGame:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        opening = scenario.opening(seed=seed)
        self.state = evolve(State(), opening)
        self.log: list[Event] = [opening]
        self.refusals: list[tuple[str, dict[str, Any], str]] = []
        self.clock = 1_000.0

    def do(self, actor: str, command: dict[str, Any]) -> bool:
        decision = decide(self.state, COMMAND_ADAPTER.validate_python(command), actor)
        if isinstance(decision, Refusal):
            self.refusals.append((actor, command, decision.reason))
            return False
        for event in decision:
            self.state = evolve(self.state, event)
        self.log.extend(decision)
        return True

    def advance(self) -> None:
        self.clock += 60
        s = self.state
        assert self.do(CHAIR, {"type": "advance_phase", "from_round": s.round, "from_phase": s.phase, "at": self.clock})

    def play(self) -> State:
        codes = list(self.state.members)
        for i, code in enumerate(codes):
            self.do(
                SYSTEM,
                {
                    "type": "claim_seat",
                    "seat": f"s{i}",
                    "role": "delegation",
                    "member": code,
                    "player": f"player {code}",
                },
            )
        assert self.do(CHAIR, {"type": "start_game", "at": self.clock})
        while self.state.status != "ended":
            getattr(self, f"_{self.state.phase}", lambda: None)()
            self.advance()
        return self.state

    def _hit(self) -> list[str]:
        """Members hit by this round's serious injects, most hit first."""
        s = self.state
        hits = [t for i in s.injects if i.round == s.round and i.severity >= 2 for t in i.targets]
        return sorted(dict.fromkeys(hits), key=lambda m: -hits.count(m))

    def _deliberation(self) -> None:
        s = self.state
        codes = list(s.members)
        for victim in self._hit()[:1]:
            others = [c for c in codes if c != victim][:2]
            self.do(victim, {"type": "request_consultation", "joined_by": others})
        if s.round == 1 and len(codes) >= 2:
            self.do(codes[0], {"type": "offer_sharing", "partner": codes[1]})
            self.do(codes[1], {"type": "offer_sharing", "partner": codes[0]})
        mine = [r for r in self.state.reports.values() if r.owner == codes[-1] and not r.shared_with]
        if mine:
            self.do(codes[-1], {"type": "share_intelligence", "report": mine[0].id, "to": codes[:2]})

    def _council(self) -> None:
        s = self.state
        codes = list(s.members)
        r = s.round
        proposer = codes[r % len(codes)]
        self.do(proposer, {"type": "table_proposal", "proposal": f"S{r}", "kind": "joint_statement"})
        self.do(
            proposer,
            {
                "type": "table_proposal",
                "proposal": f"F{r}",
                "kind": "deploy_forces",
                "requirement": {"forces": 4 + 2 * r},
            },
        )
        self.do(codes[(r + 1) % len(codes)], {"type": "table_proposal", "proposal": f"X{r}", "kind": "sanctions"})
        if r == 2:
            self.do(codes[1], {"type": "table_proposal", "proposal": "C2", "kind": "common_funding", "amount": 300})
        hit = self._hit()
        if s.ruleset != "eu-42-7" and hit and r == s.rounds:
            if s.ruleset == "csto":  # the council acts only at the victim's request
                self.do(hit[0], {"type": "request_assistance"})
            self.do(
                codes[0],
                {
                    "type": "table_proposal",
                    "proposal": "A5",
                    "kind": "invoke_collective_defence",
                    "victim": hit[0],
                    "attack": {"kind": "hybrid", "attributed": False},
                },
            )
        for p in list(self.state.proposals.values()):
            if p.outcome != "pending":
                continue
            for i, code in enumerate(codes):
                if p.kind == "sanctions" and i == (r + 2) % len(codes):
                    position: dict[str, Any] = {"type": "object"}
                elif p.kind == "deploy_forces" and i == 3:
                    position = {"type": "concur_with_reservation", "reservation": "no combat"}
                else:
                    position = {"type": "concur"}
                if p.procedure == "vote":  # the same minds, voting: yes, no, or an abstention for a reservation
                    choice = {"concur": "yes", "object": "no"}.get(position["type"], "abstain")
                    position = {"type": "vote", "choice": choice}
                self.do(code, {**position, "proposal": p.id})
        if s.ruleset == "eu-42-7" and hit:
            self.do(hit[0], {"type": "invoke", "attack": {"kind": "armed"}})

    def _commitments(self) -> None:
        s = self.state
        for p in list(s.proposals.values()):
            if p.kind != "deploy_forces" or p.outcome != "adopted":
                continue
            for i, code in enumerate(s.members):
                share = float(burden.fair_share(self.state, p.id, code))
                forces = max(0, round(share * (1.5 if i % 3 == 0 else 0.5 if i % 3 == 1 else 1.0)))
                if not self.do(code, {"type": "pledge", "proposal": p.id, "forces": forces}):
                    self.do(code, {"type": "pledge", "proposal": p.id, "forces": 0})

    def _adjudication(self) -> None:
        s = self.state
        if s.round == 1:
            self.do(next(iter(s.members)), {"type": "send_message", "text": "Round one summary for capitals."})
