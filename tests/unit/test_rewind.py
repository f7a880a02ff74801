"""The facilitator's undo: play goes back to just after an earlier event, by a ruling with its reason."""

from __future__ import annotations

import pytest

from game_rules import events as ev
from game_rules import replay, state_hash
from game_rules.review import review
from game_rules.state import CHAIR, State
from game_rules.views import Viewer, view
from tests.unit.scripted import Table
from tests.unit.test_play import SCENARIO


@pytest.fixture
def game() -> Table:
    g = Table.started(SCENARIO)
    g.to("council")
    g.do("EST", type="table_proposal", proposal="P1", kind="joint_statement")
    return g


def without_what_stays(state: State) -> State:
    """The state less what a rewind carries over (seats, messages, announcements, notes, ratings, the improvement
    plan, feedback) and its clock."""
    return state.model_copy(
        update={
            "seats": {},
            "messages": [],
            "announcements": [],
            "observations": [],
            "ratings": {},
            "improvement_plan": {},
            "feedback": {},
            "status": "-",
            "deadline": None,
            "paused_remaining": None,
            "seq": 0,
        }
    )


def test_a_mistaken_objection_is_undone_and_the_member_can_take_its_position_again(game: Table) -> None:
    tabled = game.state.seq
    for member in ("USA", "DEU", "FRA", "POL"):
        game.do(member, type="concur", proposal="P1")
    game.do("LTU", type="object", proposal="P1")  # meant to concur
    game.do("LTU", type="send_message", text="Sorry, wrong button.")
    assert game.state.proposals["P1"].positions["LTU"] == "object"
    before = game.state.seq

    (rewound,) = game.do(CHAIR, type="rewind_game", to_seq=before - 2, note="Lithuania meant to concur")

    assert isinstance(rewound, ev.GameRewound)
    assert game.state.seq == before + 1, "a rewind is an event of the log like any other"
    assert "LTU" not in game.state.proposals["P1"].positions
    assert state_hash(without_what_stays(game.state)) == state_hash(without_what_stays(replay(game.log[: before - 2])))
    assert [m.text for m in game.state.messages] == ["Sorry, wrong button."], "what was said stays said"
    assert "s-est" in game.state.seats
    assert game.state.announcements[-1] == "The facilitator turned play back: Lithuania meant to concur"
    assert game.state.status == "paused", "the room hears the ruling before play goes on"
    council = next(p for p in game.state.phases if p.name == "council")
    assert game.state.paused_remaining == council.seconds, "the phase's clock starts full"
    assert game.refused("LTU", type="concur", proposal="P1").code == "game_paused"
    game.do(CHAIR, type="resume_game", at=9000.0)
    game.do("LTU", type="concur", proposal="P1")
    game.advance()
    assert game.state.proposals["P1"].outcome == "adopted"
    assert game.state.seq > tabled


def test_a_rewind_undoes_an_inject_and_what_it_set_off(game: Table) -> None:
    moment = game.state.seq
    cohesion, support = game.state.cohesion, dict(game.state.public_support)
    game.do(CHAIR, type="inject", template=game.state.exercise.catalogue[0].id)
    assert len(game.state.injects) > len(replay(game.log[:moment]).injects)
    game.do(CHAIR, type="rewind_game", to_seq=moment, note="wrong inject")
    assert [i.id for i in game.state.injects] == [i.id for i in replay(game.log[:moment]).injects]
    assert (game.state.cohesion, game.state.public_support) == (cohesion, support)
    assert [i["id"] for i in view(game.state, Viewer(role="delegation", member="EST"))["injects"]] == [
        i.id for i in game.state.injects if i.visible_to is None or "EST" in i.visible_to
    ]


def test_a_rewind_can_itself_be_undone(game: Table) -> None:
    game.do("USA", type="concur", proposal="P1")
    played = game.state.seq
    kept = state_hash(without_what_stays(game.state))
    game.do(CHAIR, type="rewind_game", to_seq=played - 1, note="undo the concurrence")
    assert "USA" not in game.state.proposals["P1"].positions
    game.do(CHAIR, type="rewind_game", to_seq=played, note="it stands after all")
    assert game.state.proposals["P1"].positions["USA"] == "concur"
    assert state_hash(without_what_stays(game.state)) == kept
    assert state_hash(replay(game.log)) == state_hash(game.state), "the log replays to the same state"


def test_back_to_the_lobby_before_the_start(game: Table) -> None:
    started = next(i for i, e in enumerate(game.log, start=1) if isinstance(e, ev.GameStarted))
    game.do(CHAIR, type="rewind_game", to_seq=started - 1, note="start again")
    assert game.state.status == "lobby" and game.state.phase is None
    assert game.state.proposals == {}
    assert "s-est" in game.state.seats
    game.do(CHAIR, type="start_game", at=2000.0)
    assert (game.state.status, game.state.round, game.state.phase) == ("running", 1, "briefing")


def test_only_the_facilitator_rewinds_and_only_into_the_past(game: Table) -> None:
    assert game.refused("EST", type="rewind_game", to_seq=1, note="no").code == "facilitator_only"
    refusal = game.refused(CHAIR, type="rewind_game", to_seq=game.state.seq, note="now")
    assert refusal.code == "no_earlier_moment" and str(game.state.seq) in refusal.reason


def test_an_end_by_mistake_is_undone_and_play_goes_on(game: Table) -> None:
    before_the_end = game.state.seq
    game.do(CHAIR, type="end_game")
    assert game.refused(CHAIR, type="broadcast", text="anyone?").code == "game_ended"
    assert game.refused("EST", type="rewind_game", to_seq=before_the_end, note="no").code == "facilitator_only"
    game.do(CHAIR, type="rewind_game", to_seq=before_the_end, note="The exercise was ended by mistake")
    assert game.state.status == "paused" and game.state.phase == "council"
    assert "P1" in game.state.proposals
    game.do(CHAIR, type="resume_game", at=5000.0)
    game.do("USA", type="concur", proposal="P1")


@pytest.mark.parametrize("phased", [True, False])
def test_a_rewind_to_a_moment_after_the_end_brings_play_back(game: Table, phased: bool) -> None:
    """Even to just after the end (a hotwash note written after it, say): phased play comes back paused, free
    play (no phases, as in the adjudication vectors) running."""
    table = game if phased else Table(SCENARIO.model_copy(update={"phases": ()}))
    table.do(CHAIR, type="end_game")
    the_end = table.state.seq
    table.do(CHAIR, type="record_observation", text="The end came early")
    table.do(CHAIR, type="rewind_game", to_seq=the_end, note="Play on")
    assert table.state.status == ("paused" if phased else "running")
    assert state_hash(replay(table.log)) == state_hash(table.state)


def test_the_review_marks_what_was_undone_and_keeps_the_proposals_that_stand(game: Table) -> None:
    game.do("USA", type="concur", proposal="P1")
    moment = game.state.seq
    game.do("POL", type="table_proposal", proposal="P2", kind="sanctions")
    game.do("FRA", type="object", proposal="P2")
    game.do("EST", type="send_message", text="Noted.")
    game.do(CHAIR, type="rewind_game", to_seq=moment, note="P2 was tabled by mistake")
    game.do(CHAIR, type="resume_game", at=5000.0)
    game.do("POL", type="table_proposal", proposal="P2", kind="joint_statement")

    r = review(enumerate(game.log, start=1))

    undone = {e.seq: e.type for e in r.entries if e.undone}
    assert undone == {moment + 1: "proposal_tabled", moment + 2: "position_taken"}
    records = {p.id: p for p in r.proposals}
    assert records["P2"].kind == "joint_statement" and records["P2"].positions == []
    assert [p.member for p in records["P1"].positions] == ["USA"]
