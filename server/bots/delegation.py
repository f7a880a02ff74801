"""What a delegation's bot thinks: whether it is exposed, what it tables, which position it takes, what it pledges.

Every choice comes from a generator seeded with the game seed, the member and what is being decided, so a bot
decides the same way whatever order the news reaches it in: with the same seed, the same game."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from game_rules.rulesets import RULESETS
from server.bots.seat import Frame, Readiness, SeatBot, View

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


ASKS = 0.6
"""How likely a front-line member's bot is to ask for consultation in a round, when it is its turn."""


def publicly_hit(view: View) -> list[str]:
    """The members targeted by injects every delegation has seen: where the alliance has no front line the bots
    know, who is under attack in plain sight."""
    members = set(view["members"])
    return sorted({t for i in view.get("injects", []) if i.get("visible_to") is None for t in i["targets"]} & members)


def consultation_lead(view: View, seed: int) -> str | None:
    """Who asks for consultation this round (joined by two other members it thinks exposed), or nobody: the first
    front-line member (else the first member attacked in plain sight, else any), in an order drawn for the round,
    whose own draw says it would ask.  Both draws read only
    what every delegation's view holds alike (injects reach some members and not others), so every bot works out
    the same one and no two ask at once: a co-requester asking as well would be refused."""
    round_ = view["round"]
    order = sorted(set(view["members"]) & FRONT_LINE) or publicly_hit(view) or sorted(view["members"])
    random.Random(f"{seed}:consulting:{round_}").shuffle(order)
    return next((m for m in order if random.Random(f"{seed}:{m}:consult:{round_}").random() < ASKS), None)


ATTRIBUTED = 0.6
"""The confidence in who attacked at which a victim's bot holds the attacker established."""


def attack_on(view: View, member: str) -> dict[str, Any] | None:
    """The attack `member` would invoke collective defence on, as its own view shows it: an armed attack on it, or
    hostile acts whose cumulative effects the rules say have reached the armed-attack threshold; None if neither."""
    armed = [i for i in view.get("injects", []) if i["kind"] == "armed_attack" and member in i["targets"]]
    if not armed and member not in view.get("threshold_crossed", []):
        return None
    hits = armed or [i for i in view.get("injects", []) if member in i["targets"]]
    readings = [
        r["confidence"] if r["owner"] == member else r["shared_with"].get(member, 0.0)
        for r in view.get("reports", [])
        if r["inject"] in {i["id"] for i in hits} and r["attributed_to"] != "unknown"
    ]
    return {
        "kind": "armed" if armed else "hybrid",
        "in_treaty_area": True,
        "attributed": max(readings, default=0.0) >= ATTRIBUTED,
    }


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
        plan: Plan = self._defence(view, allows)
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

    def _defence(self, view: View, allows: tuple[str, ...]) -> Plan:
        """Collective defence for the bot's own member once it is attacked: the treaty's own way (the council's
        decision, after a formal request where the treaty wants one, or the victim's invocation), and, where the
        council invoked before the attacker was known, the attribution once the member's evidence is firm."""
        rules = RULESETS.get(str(view.get("ruleset")))
        attack = attack_on(view, self.member)
        if rules is None or attack is None:
            return []
        mine = [i for i in view.get("invocations", []) if i["victim"] == self.member]
        if mine:
            return [
                (f"confirm:{i['key']}", {"type": "confirm_attribution", "proposal": i["key"]})
                for i in mine
                if i["status"] == "conditional" and attack["attributed"] and "confirm_attribution" in allows
            ]
        if rules.defence == "unilateral":
            return [("invoke", {"type": "invoke", "attack": attack})] if "invoke" in allows else []
        if rules.defence_needs_request and self.member not in view.get("assistance_requested_by", []):
            return [("request_assistance", {"type": "request_assistance"})] if "request_assistance" in allows else []
        tabled = any(
            p["kind"] == "invoke_collective_defence" and p.get("victim") == self.member and p["outcome"] == "pending"
            for p in view.get("proposals", [])
        )
        if tabled or "table_proposal" not in allows:
            return []
        name = view["members"][self.member].get("name") or self.member
        proposal = {
            "type": "table_proposal",
            "proposal": f"D{view['round']}-{self.member}",
            "kind": "invoke_collective_defence",
            "victim": self.member,
            "attack": attack,
            "text": f"The attack on {name} is an attack on all: {rules.defence_clause} applies.",
        }
        return [(f"invocation:{view['round']}", proposal)]

    def _deliberation(self, view: View, allows: tuple[str, ...]) -> Plan:
        round_ = view["round"]
        defence, share, exposed = self._profile(view)
        plan: Plan = []
        key = f"consult:{round_}"
        asked = any(c["round"] == round_ for c in view.get("consultations", []))
        if "request_consultation" in allows and not asked and consultation_lead(view, self.seed) == self.member:
            partners = [m for m in exposed_members(view) if m != self.member][:2]
            plan.append((key, {"type": "request_consultation", "joined_by": partners}))
        if "send_message" in allows:
            name = view["members"][self.member].get("name") or self.member
            if exposed:
                text = f"{name} sees the threat to its territory growing and asks allies for visible reassurance."
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
                "text": f"{name} moves its border and coastal forces and reservists to a higher state of readiness",
                "result": "the next intrusion, by land or sea, is met within the hour",
                "reasons": f"{name} rehearsed it this year, and the intrusions keep to the same routes",
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
