"""Play with a round structure: the white cell's control, phases and deadlines, messages, and views."""

from __future__ import annotations

from pathlib import Path

import pytest

from game_rules import events as ev
from game_rules import replay, state_hash
from game_rules.narrative import describe
from game_rules.review import members_of
from game_rules.rulesets import RULESETS
from game_rules.scenario import ScenarioError, parse_scenario
from game_rules.state import CHAIR, SYSTEM
from game_rules.views import FACILITATOR, Viewer, may_see, view
from tests.unit.scripted import Table

SCENARIO = parse_scenario((Path(__file__).parents[2] / "game_rules/scenarios/baltic-demo.yaml").read_text())
NATO = RULESETS["nato"]
EST = Viewer(role="delegation", member="EST")
POL = Viewer(role="delegation", member="POL")
OBSERVER = Viewer(role="observer")


def Game() -> Table:
    return Table(SCENARIO)


@pytest.fixture
def game() -> Table:
    return Table.started(SCENARIO)


def test_nothing_is_played_before_the_start() -> None:
    g = Table(SCENARIO)
    assert g.state.status == "lobby"
    assert g.refused("EST", type="send_message", text="hello").code == "game_lobby"
    assert g.refused("EST", type="start_game").code == "facilitator_only"
    assert g.refused(CHAIR, type="claim_seat", seat="x", role="observer", player="P").code == "server_only"


def test_start_opens_round_one_with_a_deadline(game: Table) -> None:
    assert (game.state.status, game.state.round, game.state.phase) == ("running", 1, "briefing")
    assert game.state.deadline == 1000.0 + SCENARIO.opening().phases[0].seconds == 1060.0


def test_a_command_outside_its_phase_names_the_phase_it_belongs_to(game: Table) -> None:
    refusal = game.refused("EST", type="table_proposal", proposal="P1", kind="joint_statement")
    assert refusal.code == "wrong_phase"
    assert "briefing" in refusal.reason and "council" in refusal.reason


def test_pause_keeps_the_time_left_and_resume_restores_it(game: Table) -> None:
    game.do(CHAIR, type="pause_game", at=1020.0)
    assert game.state.paused_remaining == 40.0
    assert game.state.deadline is None
    assert game.refused("EST", type="send_message", text="hi").code == "game_paused"
    game.do(CHAIR, type="extend_phase", seconds=30)
    game.do(CHAIR, type="resume_game", at=5000.0)
    assert game.state.deadline == 5070.0
    game.do(CHAIR, type="extend_phase", seconds=10)
    assert game.state.deadline == 5080.0


def test_a_stale_advance_is_refused(game: Table) -> None:
    game.advance(at=1060.0)
    refusal = game.refused(CHAIR, type="advance_phase", from_round=1, from_phase="briefing", at=1061.0)
    assert refusal.code == "stale_phase"
    assert game.state.phase == "deliberation"


def test_leaving_the_council_decides_every_pending_proposal(game: Table) -> None:
    game.to("council")
    game.do("EST", type="table_proposal", proposal="P1", kind="joint_statement")
    game.do("POL", type="table_proposal", proposal="P2", kind="sanctions")
    game.do("FRA", type="object", proposal="P2")
    for member in ("USA", "DEU", "FRA", "POL", "LTU"):
        game.do(member, type="concur", proposal="P1")
    game.advance()
    assert game.state.phase == "commitments"
    assert game.state.proposals["P1"].outcome == "adopted"
    assert game.state.proposals["P2"].outcome == "blocked"


def test_the_last_phase_of_the_last_round_ends_the_game(game: Table) -> None:
    for _ in range(SCENARIO.rounds * len(SCENARIO.phases)):
        game.advance()
    assert game.state.status == "ended"
    assert isinstance(game.log[-1], ev.GameEnded)
    assert game.refused(CHAIR, type="broadcast", text="anyone?").code == "game_ended"


def test_messages_reach_only_their_recipients(game: Table) -> None:
    (sent,) = game.do("EST", type="send_message", to=["POL"], text="Radar tracks attached.")
    assert may_see(POL, sent, game.state) and may_see(EST, sent, game.state)
    assert not may_see(Viewer(role="delegation", member="USA"), sent, game.state)
    assert not may_see(OBSERVER, sent, game.state)
    assert may_see(FACILITATOR, sent, game.state)
    assert [m["id"] for m in view(game.state, POL)["messages"]] == ["M1"]
    assert view(game.state, Viewer(role="delegation", member="DEU"))["messages"] == []
    (everyone,) = game.do("USA", type="send_message", text="Statement draft follows.")
    assert isinstance(everyone, ev.MessageSent)
    assert set(everyone.message.recipients) == {"DEU", "FRA", "POL", "EST", "LTU"}
    (within,) = game.do("EST", type="send_message", to=["EST"], text="Ask for Article 4 tomorrow?")
    assert isinstance(within, ev.MessageSent) and within.message.recipients == ("EST",) and within.message.internal
    assert may_see(EST, within, game.state) and may_see(FACILITATOR, within, game.state)
    assert not may_see(POL, within, game.state) and not may_see(OBSERVER, within, game.state)
    assert game.refused("EST", type="send_message", to=["UKR"], text="x").code == "not_a_member"


def test_injects_actions_and_rulings_reach_the_right_seats(game: Table) -> None:
    game.do(CHAIR, type="inject", title="Grid failure in Tallinn", kind="cyber_attack", visible_to=["EST"])
    game.do(CHAIR, type="inject", title="Drones over Rzeszów")

    def ad_hoc(viewer: Viewer) -> list[str]:
        return [i["title"] for i in view(game.state, viewer)["injects"] if i["source"] == "white cell"]

    assert ad_hoc(EST) == ["Grid failure in Tallinn", "Drones over Rzeszów"]
    assert ad_hoc(POL) == ["Drones over Rzeszów"]
    game.to("deliberation")
    (proposed,) = game.do("EST", type="propose_action", text="Close the border crossings")
    (ruled,) = game.do(CHAIR, type="rule_on_action", action="A1", ruling="modified", note="for 48 hours")
    assert may_see(EST, ruled, game.state) and not may_see(POL, ruled, game.state)
    assert not may_see(POL, proposed, game.state)
    assert view(game.state, POL)["actions"] == []
    assert view(game.state, EST)["actions"][0]["ruling"] == "modified"
    game.do(CHAIR, type="rule_on_action", action="A1", ruling="rejected")
    assert game.state.actions["A1"].ruling == "rejected"
    assert len(view(game.state, FACILITATOR)["actions"]) == 1


def test_views_never_hold_a_message_meant_for_others(game: Table) -> None:
    game.do("POL", type="send_message", to=["LTU"], text="secret-POL-LTU")
    assert "secret-POL-LTU" not in str(view(game.state, EST))
    assert "secret-POL-LTU" not in str(view(game.state, OBSERVER))
    assert "secret-POL-LTU" in str(view(game.state, Viewer(role="delegation", member="LTU")))


def test_the_whole_log_replays_to_the_same_hash(game: Table) -> None:
    game.to("council")
    game.do("EST", type="table_proposal", proposal="P1", kind="deploy_forces", requirement={"forces": 10})
    game.do(CHAIR, type="pause_game", at=2000.0)
    game.do(CHAIR, type="resume_game", at=2100.0)
    assert state_hash(replay(game.log)) == state_hash(game.state)


def test_a_broken_scenario_lists_every_problem_with_its_place() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("id: demo\ntitle: t\nruleset: warsaw-pact\nmembers:\n  - {code: usa}\n  - {code: POL}\n")
    problems = caught.value.problems
    assert any(p.startswith("ruleset:") for p in problems)
    assert any(p.startswith("members.0.code:") for p in problems)
    with pytest.raises(ScenarioError, match="not valid YAML"):
        parse_scenario("id: [")


def test_hotwash_observations_are_recorded_by_control_and_observers_at_any_time(game: Table) -> None:
    from game_rules.state import OBSERVER, UMPIRE

    latest = game.state.seq
    game.do(OBSERVER, type="record_observation", text="EST hesitated to request consultation", member="EST")
    game.do(UMPIRE, type="record_observation", text="Good chairing", about_seq=2)
    assert game.refused("EST", type="record_observation", text="I did well").code == "observers_only"
    assert game.refused(CHAIR, type="record_observation", text="x", about_seq=999).code == "future_seq"
    notes = game.state.observations
    assert [(o.by, o.member, o.about_seq) for o in notes] == [
        ("observer", "EST", latest),
        ("umpire", None, 2),
    ]
    assert view(game.state, EST)["observations"] == []
    assert len(view(game.state, OBSERVER_VIEWER)["observations"]) == 2
    for _ in range(SCENARIO.rounds * len(SCENARIO.phases)):
        game.advance()
    game.do(CHAIR, type="record_observation", text="Hotwash: consult earlier")
    assert game.state.observations[-1].text == "Hotwash: consult earlier"


OBSERVER_VIEWER = Viewer(role="observer")


def test_the_white_cell_adds_a_round_to_the_exercise(game: Table) -> None:
    rounds = SCENARIO.rounds
    assert game.refused("EST", type="set_rounds", rounds=rounds + 1).code == "facilitator_only"
    assert game.refused(CHAIR, type="set_rounds", rounds=rounds).code == "same_rounds"
    (added,) = game.do(CHAIR, type="set_rounds", rounds=rounds + 1)
    assert describe(added, None) == f"The facilitator sets the exercise to {rounds + 1} rounds (it was {rounds})."
    assert game.state.rounds == rounds + 1 and view(game.state, EST)["rounds"] == rounds + 1
    assert (
        view(game.state, EST)["announcements"][-1] == f"The exercise now runs {rounds + 1} rounds instead of {rounds}."
    )
    game.to("adjudication", rounds)
    game.advance()
    assert (game.state.status, game.state.round, game.state.phase) == ("running", rounds + 1, "briefing")
    refusal = game.refused(CHAIR, type="set_rounds", rounds=rounds)
    assert refusal.code == "round_under_way" and f"Play is in round {rounds + 1}" in refusal.reason
    game.to("adjudication")
    game.advance()
    assert game.state.status == "ended" and len(game.state.assessments) == rounds + 1
    assert game.log[-1] == ev.GameEnded(reason=f"round {rounds + 1} of {rounds + 1} complete")


def test_the_white_cell_cuts_the_exercise_short_and_the_msel_of_the_rounds_cut_is_not_played(game: Table) -> None:
    from game_rules.control import msel_status

    later = [e.number for e in SCENARIO.exercise.msel if e.round > 1]
    assert later and all(msel_status(game.state)[n] == "due" for n in later)
    game.do(CHAIR, type="set_rounds", rounds=1)
    assert all(msel_status(game.state)[n] == "passed" for n in later)
    game.to("adjudication")
    game.advance()
    assert game.state.status == "ended" and len(game.state.assessments) == 1
    assert not any(i.source.startswith("MSEL") and i.source != "MSEL #1" for i in game.state.injects)


def test_free_play_has_no_rounds_to_set() -> None:
    from game_rules import COMMAND_ADAPTER, GameOpened, Member, Refusal, decide

    state = replay([GameOpened(ruleset="nato", members=(Member(code="USA"), Member(code="DEU")))])
    decision = decide(state, COMMAND_ADAPTER.validate_python({"type": "set_rounds", "rounds": 3}), CHAIR)
    assert isinstance(decision, Refusal) and decision.code == "no_round_structure"


def test_delegations_say_they_are_done_with_a_phase_and_every_seat_sees_who(game: Table) -> None:
    game.do(SYSTEM, type="claim_seat", seat="s-pol", role="delegation", member="POL", player="Ola")
    game.do(SYSTEM, type="claim_seat", seat="s-ltu", role="delegation", member="LTU", player="Bot", bot=True)
    game.do("EST", type="declare_done", round=1, phase="briefing", at=1010.0)
    assert game.state.done == ["EST"] and game.state.phase == "briefing"  # the white cell did not choose an early end
    shown = view(game.state, EST)
    assert (shown["done"], shown["in_the_room"], shown["end_when_done"]) == (["EST"], ["EST", "POL"], False)
    again = game.refused("EST", type="declare_done", round=1, phase="briefing")
    assert again.code == "already_said" and "Estonia has already said it is done" in again.reason
    assert game.refused("POL", type="declare_done", round=1, phase="briefing", done=False).code == "already_said"
    game.do("POL", type="declare_done", round=1, phase="briefing")
    game.do("EST", type="declare_done", round=1, phase="briefing", done=False)  # taken back
    assert game.state.done == ["POL"]
    assert [describe(e, NATO) for e in game.log[-2:]] == ["POL is done with the phase.", "EST is not done after all."]
    assert [members_of(e) for e in game.log[-2:]] == [("POL",), ("EST",)]
    game.advance(at=1060.0)
    assert game.state.done == []  # a new phase: nobody is done with it yet
    refusal = game.refused("EST", type="declare_done", round=1, phase="briefing")
    assert refusal.code == "stale_phase" and "deliberation" in refusal.reason
    assert game.refused(CHAIR, type="declare_done", round=1, phase="deliberation").code == "not_a_member"
    assert game.refused("EST", type="end_when_done", on=True).code == "facilitator_only"
    game.do(CHAIR, type="pause_game", at=1070.0)
    assert game.refused("EST", type="declare_done", round=1, phase="deliberation").code == "game_paused"


def test_the_phase_ends_once_every_delegation_a_person_plays_is_done_when_the_white_cell_chose_so(game: Table) -> None:
    game.do(SYSTEM, type="claim_seat", seat="s-pol", role="delegation", member="POL", player="Ola")
    game.do(SYSTEM, type="claim_seat", seat="s-ltu", role="delegation", member="LTU", player="Bot", bot=True)
    game.to("council")
    game.do("EST", type="table_proposal", proposal="P1", kind="joint_statement")
    game.do(CHAIR, type="end_when_done", on=True, at=1100.0)
    assert game.refused(CHAIR, type="end_when_done", on=True).code == "already_set"
    game.do("EST", type="declare_done", round=1, phase="council", at=1110.0)
    assert game.state.phase == "council"  # Poland has not said so yet; Lithuania's bot does not hold the room up
    ended = game.do("POL", type="declare_done", round=1, phase="council", at=1120.0)
    assert [type(e) for e in ended[:3]] == [ev.DelegationDone, ev.EveryoneDone, ev.ProposalClosed]
    seconds = {p.name: p.seconds for p in game.state.phases}
    assert (game.state.phase, game.state.deadline, game.state.done) == (
        "commitments",
        1120 + seconds["commitments"],
        [],
    )
    assert game.state.proposals["P1"].outcome != "pending"  # decided as the council's end decides it
    assert game.state.announcements[-1] == "Every delegation was done with the council phase, which ended early."
    assert describe(ended[1], NATO) == ("Every delegation is done with the council phase of round 1: it ends early.")

    # Chosen once the room is done already, the phase ends at once; turned off, phases run to their deadline.
    game.do(CHAIR, type="end_when_done", on=False, at=1130.0)
    for member in ("EST", "POL"):
        game.do(member, type="declare_done", round=1, phase="commitments", at=1140.0)
    assert game.state.phase == "commitments"
    game.do(CHAIR, type="end_when_done", on=True, at=1150.0)
    assert (game.state.phase, game.state.deadline) == ("adjudication", 1150 + seconds["adjudication"])

    # After the last phase of the last round, the exercise ends.
    game.do(CHAIR, type="set_rounds", rounds=1)
    for member in ("EST", "POL"):
        game.do(member, type="declare_done", round=1, phase="adjudication", at=1160.0)
    assert game.state.status == "ended"
    assert replay(game.log) == game.state


def test_a_delegation_asks_the_white_cell_in_a_channel_only_they_read(game: Table) -> None:
    game.do(SYSTEM, type="claim_seat", seat="s-pol", role="delegation", member="POL", player="Ola")
    game.do("EST", type="send_message", to=["chair"], text="May we assume the airspace is closed?")
    game.do(CHAIR, type="send_message", to=["EST"], text="Yes, from 18:00.")
    asked, answered = game.state.messages[-2:]
    assert (asked.sender, asked.recipients, answered.sender, answered.recipients) == ("EST", (CHAIR,), CHAIR, ("EST",))
    assert [m["text"] for m in view(game.state, EST)["messages"]][-2:] == [asked.text, answered.text]
    assert [m["text"] for m in view(game.state, FACILITATOR)["messages"]][-2:] == [asked.text, answered.text]
    for outsider in (POL, OBSERVER):
        assert view(game.state, outsider)["messages"] == []
    assert [describe(e, NATO) for e in game.log[-2:]] == [
        "EST writes to the white cell: May we assume the airspace is closed?",
        "The white cell writes to EST: Yes, from 18:00.",
    ]
    assert [members_of(e) for e in game.log[-2:]] == [("EST",), ("EST",)]  # the review's filter by member
    # The white cell's channel is its own: not mixed with delegations; the white cell names whom it writes to.
    assert game.refused("EST", type="send_message", to=["chair", "POL"], text="x").code == "white_cell_alone"
    assert game.refused(CHAIR, type="send_message", text="to everyone").code == "no_recipient"
    assert game.refused(CHAIR, type="send_message", to=["chair"], text="x").code == "no_recipient"
    assert game.refused(CHAIR, type="send_message", to=["UKR"], text="x").code == "not_a_member"
    assert game.refused("red_cell", type="send_message", to=["chair"], text="x").code == "not_a_member"


def test_each_participant_gives_feedback_once_the_exercise_has_ended(game: Table) -> None:
    game.do(SYSTEM, type="claim_seat", seat="s-kaja", role="delegation", member="EST", player="Kaja")
    game.do(SYSTEM, type="claim_seat", seat="s-obs", role="observer", player="Olli")
    game.do(SYSTEM, type="claim_seat", seat="s-ltu", role="delegation", member="LTU", player="Bot", bot=True)
    form = {"type": "give_feedback", "rating": 4, "went_well": "  The council round  ", "to_improve": "More time"}
    assert game.refused("EST", "s-kaja", **form).code == "not_ended"
    game.do(CHAIR, type="end_game")
    assert game.refused("EST", None, **form).code == "no_seat"
    assert game.refused("LTU", "s-ltu", **form).code == "bot_seat"
    game.do("EST", "s-kaja", **form)
    game.do("observer", "s-obs", type="give_feedback", rating=2)
    game.do("EST", "s-kaja", **{**form, "rating": 5})  # sent again: the seat's latest answer stands
    est = game.state.feedback["s-kaja"]
    assert (est.role, est.member, est.rating, est.went_well) == ("delegation", "EST", 5, "The council round")
    assert sorted(game.state.feedback) == ["s-kaja", "s-obs"]
    assert describe(game.log[-1], NATO) == "Feedback from the EST delegation: 5 of 5."
    assert describe(game.log[-2], NATO) == "Feedback from an observer: 2 of 5."
    assert view(game.state, EST)["feedback_from"] == ["s-kaja", "s-obs"] and view(game.state, EST)["feedback"] == {}
    assert view(game.state, FACILITATOR)["feedback"]["s-kaja"]["rating"] == 5
    assert not may_see(EST, game.log[-1], game.state) and not may_see(OBSERVER, game.log[-1], game.state)
    moment = next(i for i, e in enumerate(game.log, 1) if isinstance(e, ev.GameEnded)) - 1
    game.do(CHAIR, type="rewind_game", to_seq=moment, note="one more round")
    assert sorted(game.state.feedback) == ["s-kaja", "s-obs"], "no rewind takes the feedback back"
    assert state_hash(replay(game.log)) == state_hash(game.state)
