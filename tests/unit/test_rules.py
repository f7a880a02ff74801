"""Rules behaviour that vectors do not express: refusal wording, obligations in force, narration, hashing."""

from __future__ import annotations

import json
import typing

import pytest

from game_rules import (
    COMMAND_ADAPTER,
    EVENT_ADAPTER,
    GameOpened,
    Member,
    Refusal,
    State,
    canonical_json,
    decide,
    evolve,
    replay,
    state_hash,
    yaml12,
)
from game_rules import events as ev
from game_rules.collective_defence import obligation
from game_rules.narrative import describe
from game_rules.rulesets import RULESETS
from game_rules.state import CHAIR, SYSTEM


def opened(ruleset: str = "nato", *codes: str, **flags: dict[str, object]) -> State:
    members = tuple(Member(code=c, **flags.get(c, {})) for c in codes or ("USA", "GBR", "FRA"))
    return evolve(State(), GameOpened(ruleset=ruleset, members=members))  # type: ignore[arg-type]


def play(state: State, actor: str, **command: object) -> State:
    decision = decide(state, COMMAND_ADAPTER.validate_python(command), actor)
    assert not isinstance(decision, Refusal), decision.reason
    for event in decision:
        state = evolve(state, event)
    return state


def refusal(state: State, actor: str, **command: object) -> Refusal:
    decision = decide(state, COMMAND_ADAPTER.validate_python(command), actor)
    assert isinstance(decision, Refusal)
    return decision


def test_nothing_is_decided_before_the_game_opens() -> None:
    assert refusal(State(), "USA", type="request_consultation").code == "not_opened"


def test_a_co_requester_is_told_whose_request_it_joined() -> None:
    s = play(opened("nato", "POL", "LTU", "USA"), "POL", type="request_consultation", joined_by=["LTU"])
    assert (
        refusal(s, "POL", type="request_consultation").reason
        == "The North Atlantic Council is already convened at POL's request."
    )
    assert refusal(s, "LTU", type="request_consultation").reason == (
        "The North Atlantic Council is already convened at the request of POL, which LTU joined."
    )
    assert play(s, "USA", type="request_consultation", joined_by=["LTU"]).consultations["USA"].joined_by == ("LTU",)


def test_a_conditional_invocation_creates_no_obligation_until_attribution() -> None:
    s = opened()
    s = play(
        s,
        "GBR",
        type="table_proposal",
        proposal="P1",
        kind="invoke_collective_defence",
        victim="USA",
        attack={"kind": "armed", "attributed": False},
    )
    s = play(s, "USA", type="concur", proposal="P1")
    s = play(s, "FRA", type="concur", proposal="P1")
    s = play(s, CHAIR, type="close", proposal="P1")
    assert s.invocations["P1"].status == "conditional"
    assert obligation(s, "FRA", "P1") is None
    s = play(s, "USA", type="confirm_attribution", proposal="P1")
    assert obligation(s, "FRA", "P1") == "discretionary"
    assert obligation(s, "USA", "P1") is None, "the victim owes itself nothing"


@pytest.mark.parametrize(
    ("ruleset", "expected"),
    [
        ("nato", "discretionary"),
        ("rio", "binding_except_force"),
        ("csto", "binding"),
        ("eu-42-7", "binding"),
        ("anzus", "discretionary"),
    ],
)
def test_each_treaty_states_its_own_obligation(ruleset: str, expected: str) -> None:
    rules = RULESETS[ruleset]
    s = opened(ruleset, "AAA", "BBB", "CCC")
    if rules.defence == "unilateral":
        s = play(s, "AAA", type="invoke", attack={"kind": "armed"})
        key = "AAA"
    else:
        if rules.defence_needs_request:
            s = play(s, "AAA", type="request_assistance")
        s = play(
            s,
            "BBB",
            type="table_proposal",
            proposal="P1",
            kind="invoke_collective_defence",
            victim="AAA",
            attack={"kind": "armed"},
        )
        for m in ("AAA", "BBB", "CCC"):
            if rules.procedures[0] == "vote":
                s = play(s, m, type="vote", proposal="P1", choice="yes")
            elif m != "BBB":
                s = play(s, m, type="concur", proposal="P1")
        s = play(s, CHAIR, type="close", proposal="P1")
        key = "P1"
    assert obligation(s, "CCC", key) == expected


def test_refusals_explain_the_procedure_to_use() -> None:
    s = play(opened(), "USA", type="table_proposal", proposal="P1", kind="sanctions", procedure="silence")
    r = refusal(s, "FRA", type="object", proposal="P1")
    assert r.code == "wrong_procedure"
    assert "break" in r.reason and "silence" in r.reason
    r = refusal(
        opened("eu-42-7", "FRA", "DEU"),
        "DEU",
        type="table_proposal",
        proposal="P1",
        kind="invoke_collective_defence",
        victim="FRA",
        attack={"kind": "armed"},
    )
    assert "invoke" in r.reason and "42(7)" in r.reason
    r = refusal(
        opened("rio", "USA", "BRA", "COL"),
        "USA",
        type="table_proposal",
        proposal="P1",
        kind="sanctions",
        parties=["COL", "VEN"],
    )
    assert "VEN" in r.reason and r.code == "not_a_member"


def test_the_tabling_member_concurs_by_tabling_under_consensus_only() -> None:
    s = play(opened(), "USA", type="table_proposal", proposal="P1", kind="joint_statement")
    assert s.proposals["P1"].positions == {"USA": "concur"}
    s = play(s, CHAIR, type="table_proposal", proposal="P2", kind="joint_statement", procedure="silence")
    assert s.proposals["P2"].positions == {}


def seated(state: State, *seats: tuple[str, str | None, str]) -> State:
    """Claim delegation seats (seat, member, player) as the lobby does; no member: an observer's seat."""
    for seat, member, player in seats:
        role = "delegation" if member else "observer"
        state = play(state, SYSTEM, type="claim_seat", seat=seat, role=role, member=member, player=player)
    return state


def from_seat(state: State, seat: str, **command: object) -> tuple[ev.Event, ...] | Refusal:
    """Decide a command as the server does for a seat: as the seat's member, naming the seat."""
    member = state.seats[seat].member
    assert member is not None
    return decide(state, COMMAND_ADAPTER.validate_python(command), member, seat)


def test_the_first_player_at_a_delegation_heads_it_and_alone_commits_its_member() -> None:
    s = seated(opened(), ("s1", "USA", "Ann"), ("s2", "USA", "Bob"), ("s3", "GBR", "Cat"), ("s4", None, "Olli"))
    assert {seat: s.seats[seat].head for seat in ("s1", "s2", "s3", "s4")} == {
        "s1": True,
        "s2": False,
        "s3": True,
        "s4": False,
    }
    table = {"type": "table_proposal", "proposal": "P1", "kind": "joint_statement"}
    refused = from_seat(s, "s2", **table)
    assert isinstance(refused, Refusal) and refused.code == "not_head_of_delegation"
    assert refused.reason.startswith("Ann heads the delegation of USA and alone speaks for it")
    # The rest of the delegation deliberates: messages (signed: several players write for one member) and national
    # actions are anyone's.
    within = from_seat(s, "s2", type="send_message", to=["USA"], text="Ann, table it now.")
    assert not isinstance(within, Refusal) and isinstance(within[0], ev.MessageSent)
    assert (within[0].message.author, within[0].message.recipients) == ("Bob", ("USA",))
    assert describe(within[0], None) == "Bob (USA) writes within the delegation: Ann, table it now."
    assert not isinstance(from_seat(s, "s2", type="propose_action", text="Close the airspace."), Refusal)
    tabled = from_seat(s, "s1", **table)
    assert not isinstance(tabled, Refusal)
    s = replay(tabled, s)

    s = play(s, CHAIR, type="appoint_head", seat="s2")
    assert (s.seats["s1"].head, s.seats["s2"].head, s.seats["s3"].head) == (False, True, True)
    objection = {"type": "object", "proposal": "P1"}
    refused = from_seat(s, "s1", **objection)
    assert isinstance(refused, Refusal) and refused.reason.startswith("Bob heads the delegation of USA")
    assert not isinstance(from_seat(s, "s2", **objection), Refusal)
    assert describe(ev.HeadAppointed(seat="s2", member="USA"), None) == (
        "Seat s2 now heads the USA delegation and speaks for it."
    )


def test_only_the_facilitator_appoints_a_head_and_only_of_a_delegation() -> None:
    s = seated(opened(), ("s1", "USA", "Ann"), ("s2", "USA", "Bob"), ("s4", None, "Olli"))
    assert refusal(s, "USA", type="appoint_head", seat="s2").code == "facilitator_only"
    assert refusal(s, CHAIR, type="appoint_head", seat="s1").reason == "Ann already heads the delegation of USA."
    assert refusal(s, CHAIR, type="appoint_head", seat="s4").code == "not_a_delegation"
    assert refusal(s, CHAIR, type="appoint_head", seat="s9").code == "unknown_seat"


def test_a_released_seat_leaves_the_game_and_its_delegation_keeps_a_head() -> None:
    s = seated(opened(), ("s1", "USA", "Ann"), ("s2", "USA", "Bob"), ("s3", "USA", "Cy"), ("s4", None, "Olli"))
    s = play(s, SYSTEM, type="claim_seat", seat="f", role="facilitator", player="White Cell")
    s = play(s, CHAIR, type="release_seat", seat="s1")
    assert list(s.seats) == ["s2", "s3", "s4", "f"] and s.seats["s2"].head and not s.seats["s3"].head
    s = play(s, CHAIR, type="release_seat", seat="s3")
    assert s.seats["s2"].head, "a player who did not head the delegation hands nothing on"
    s = play(s, CHAIR, type="release_seat", seat="s2")
    s = seated(s, ("s5", "USA", "Dee"))
    assert s.seats["s5"].head, "the next to sit down at an empty table heads it"
    assert refusal(s, CHAIR, type="release_seat", seat="s1").code == "unknown_seat"
    assert refusal(s, CHAIR, type="release_seat", seat="f").code == "facilitator_seat"
    assert refusal(s, "USA", type="release_seat", seat="s5").code == "facilitator_only"
    assert describe(ev.SeatReleased(seat="s1", head="s2"), None) == (
        "The facilitator releases seat s1; seat s2 now heads its delegation."
    )


def test_in_a_game_logged_before_delegations_had_heads_every_player_speaks() -> None:
    s = opened()
    for seat, player in (("s1", "Ann"), ("s2", "Bob")):
        s = evolve(s, ev.SeatClaimed(seat=seat, role="delegation", member="USA", player=player))
    assert not isinstance(from_seat(s, "s2", type="table_proposal", proposal="P1", kind="sanctions"), Refusal)


def test_replay_of_the_log_reproduces_the_state_and_its_hash() -> None:
    s = opened()
    log: list[ev.Event] = [GameOpened(ruleset="nato", members=tuple(s.members.values()))]
    for actor, command in [
        ("USA", {"type": "request_consultation", "joined_by": ["GBR"]}),
        ("USA", {"type": "table_proposal", "proposal": "P1", "kind": "deploy_forces", "requirement": {"forces": 9}}),
        ("GBR", {"type": "concur", "proposal": "P1"}),
        ("FRA", {"type": "concur_with_reservation", "proposal": "P1", "reservation": "caveat"}),
        (CHAIR, {"type": "close", "proposal": "P1"}),
        ("FRA", {"type": "pledge", "proposal": "P1", "forces": 3}),
    ]:
        decision = decide(s, COMMAND_ADAPTER.validate_python(command), actor)
        assert not isinstance(decision, Refusal)
        log.extend(decision)
        for e in decision:
            s = evolve(s, e)
    replayed = replay(EVENT_ADAPTER.validate_json(EVENT_ADAPTER.dump_json(e)) for e in log)
    assert state_hash(replayed) == state_hash(s)
    assert replayed.seq == len(log) == 7
    changed = evolve(replayed, ev.ForcesPledged(proposal="P1", member="GBR", forces=1))
    assert state_hash(changed) != state_hash(s)


def test_the_hash_leaves_out_what_is_at_its_default_so_an_added_field_keeps_old_hashes() -> None:
    claimed = ev.SeatClaimed(seat="s1", role="delegation", member="USA", player="Ann", head=True)
    person = evolve(opened(), claimed)
    bot = evolve(opened(), claimed.model_copy(update={"bot": True}))
    assert '"bot"' not in canonical_json(person) and '"bot":true' in canonical_json(bot)
    assert state_hash(person) != state_hash(bot)
    # A state that never set the field hashes as it did before the field existed.
    without = json.loads(canonical_json(bot))
    del without["seats"]["s1"]["bot"]
    assert json.dumps(without, sort_keys=True, separators=(",", ":")) == canonical_json(person)


def test_every_event_type_has_a_sentence() -> None:
    event_types = set(typing.get_args(typing.get_args(ev.Event)[0]))
    samples: list[ev.Event] = [
        GameOpened(ruleset="nato", members=(Member(code="USA"),)),
        ev.ConsultationRequested(requested_by="POL", joined_by=("LTU",)),
        ev.ProposalTabled(proposal="P1", kind="sanctions", procedure="consensus", tabled_by="POL"),
        ev.PositionTaken(proposal="P1", member="DEU", stance="reserve", reservation="text"),
        ev.SilenceBroken(proposal="P1", member="FRA"),
        ev.VoteCast(proposal="P1", member="BRA", choice="yes"),
        ev.ProposalClosed(proposal="P1", outcome="silence_broken"),
        ev.CollectiveDefenceInvoked.model_validate(
            {"key": "P1", "victim": "USA", "attack": {"kind": "armed"}, "status": "conditional", "proposal": "P1"}
        ),
        ev.AttributionConfirmed(invocation="P1", by=CHAIR),
        ev.AssistanceRequested(member="KAZ"),
        ev.ForcesPledged(proposal="P1", member="USA", forces=1),
        ev.SeatClaimed(seat="s1", role="delegation", member="USA", player="Ann"),
        ev.SeatReassigned(seat="s1", player="Bob"),
        ev.HeadAppointed(seat="s1", member="USA"),
        ev.SeatReleased(seat="s1", head="s2"),
        ev.GameStarted(),
        ev.PhaseBegan(round=1, phase="council", deadline=100.0),
        ev.GamePaused(remaining=30.0),
        ev.GameResumed(deadline=130.0),
        ev.DeadlineExtended(seconds=60),
        ev.RoundsSet(rounds=4, was=3),
        ev.DelegationDone(member="EST"),
        ev.DelegationDone(member="EST", done=False),
        ev.EveryoneDone(round=1, phase="council"),
        ev.EndWhenDoneSet(on=True),
        ev.EndWhenDoneSet(on=False),
        ev.GameEnded(reason="done"),
        ev.InjectDelivered.model_validate(
            {"inject": {"id": "I1", "title": "Grid down", "text": "", "visible_to": ["EST"], "round": 1}}
        ),
        ev.Announced(text="Coffee"),
        ev.MessageSent.model_validate(
            {"message": {"id": "M1", "sender": "USA", "recipients": ["POL"], "text": "hi", "round": 1}}
        ),
        ev.ActionProposed(action="A1", member="POL", text="Close the border", round=1),
        ev.ActionRuled(action="A1", ruling="modified", note="partly"),
        ev.MselLineHeld(number=2),
        ev.MselLineHeld(number=2, held=False),
        ev.ThresholdCrossed(member="EST", total=11),
        ev.IntelligenceReported(
            report="R1", inject="I1", owner="EST", attributed_to="adversary", confidence=0.7, draw=0.5
        ),
        ev.IntelligenceShared(report="R1", member="LVA", confidence=0.63),
        ev.SharingOffered(by="EST", to="LVA"),
        ev.SharingAgreed(members=("EST", "LVA")),
        ev.AdversaryMoved(round=1, from_level=1, to_level=2, by="script", draws=(0.1, 0.2), reason="weak"),
        ev.ObservationRecorded(by="umpire", text="Slow to consult", member="EST", about_seq=4),
        ev.CapabilityRated(capability="Burden-sharing", rating="S", reason="pledges came late", by=CHAIR),
        ev.FeedbackGiven.model_validate({"seat": "s1", "form": {"role": "delegation", "member": "EST", "rating": 4}}),
        ev.FeedbackGiven.model_validate({"seat": "s2", "form": {"role": "observer", "rating": 2, "to_improve": "x"}}),
        ev.CorrectiveActionPlanned.model_validate(
            {
                "row": {
                    "item": "CA1",
                    "capability": "Burden-sharing",
                    "action": "Publish fair shares",
                    "responsible": "Defence Planning",
                    "start": "2027-01-15",
                    "completion": "2027-03-01",
                    "by": "umpire",
                }
            }
        ),
        ev.CorrectiveActionDropped(item="CA1", by=CHAIR),
        ev.GameRewound(to_seq=3, note="Estonia meant to concur"),
        ev.RoundAssessed.model_validate(
            {
                "metrics": {
                    "round": 1,
                    "cohesion": 66,
                    "deterrence": 48,
                    "public_support": {},
                    "pledge_fairness": 1,
                    "at_2_pct": 1,
                    "at_3_5_pct": 0.5,
                    "decision_latency": None,
                    "escalation": 2,
                }
            }
        ),
    ]
    assert {type(e) for e in samples} == event_types
    sentences = {describe(e, RULESETS["nato"]) for e in samples}
    assert len(sentences) == len(samples)
    assert "DEU joins P1 with a reservation: text" in sentences
    assert "P1 is closed: silence broken." in sentences
    assert "The chair confirms attribution: invocation P1 is confirmed." in sentences
    assert "Inject I1 (information, to EST): Grid down" in sentences
    assert "The adversary escalates: level 1 to 2 (weak)." in sentences
    assert "The white cell rates Burden-sharing S: pledges came late" in sentences
    assert (
        "The umpire plans CA1 for Burden-sharing: Publish fair shares (responsible: Defence Planning, 2027-01-15 to "
        "2027-03-01)." in sentences
    )
    assert "EST's services report on I1: adversary, confidence 70%." in sentences


def test_yaml_keeps_yes_and_no_as_words() -> None:
    assert yaml12.load("{choice: yes, member: NO, flag: true}") == {"choice": "yes", "member": "NO", "flag": True}


def test_member_codes_must_be_iso_alpha_3() -> None:
    with pytest.raises(ValueError, match="ISO 3166 alpha-3"):
        Member(code="usa")
