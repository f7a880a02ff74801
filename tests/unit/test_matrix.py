"""Matrix-game arguments: the white cell rates a free-form action's argument and a d6 on the recorded draws decides."""

from __future__ import annotations

from collections import Counter

from game_rules import replay, state_hash
from game_rules.matrix import TARGETS
from game_rules.narrative import describe
from game_rules.state import CHAIR, DiceRoll
from game_rules.views import Viewer, view
from tests.unit.test_content import Play, scenario

ARGUMENT = {
    "type": "propose_action",
    "text": "Estonia hosts a cyber rapid-response team from Finland",
    "result": "the power grid is back within a day",
    "reasons": "the team has restored grids before, and the attack hit a system it knows",
}


def argued(seed: int = 7) -> Play:
    play = Play(scenario(), seed=seed)
    play.to("deliberation")
    play.do("EST", **ARGUMENT)
    return play


def test_the_targets_are_the_matrix_game_ones() -> None:
    assert TARGETS == {"very_strong": 2, "strong": 3, "fair": 4, "weak": 5, "very_weak": 6}


def test_the_dice_decide_a_rated_argument_and_every_seat_concerned_sees_why() -> None:
    play = argued()
    (ruled,) = play.do(CHAIR, type="roll_for_action", action="A1", strength="fair", note="Finland's team is ready")
    action = play.state.actions["A1"]
    assert (action.result, action.reasons) == (ARGUMENT["result"], ARGUMENT["reasons"])
    roll = action.roll
    assert roll is not None and 1 <= roll.value <= 6 and roll.target == 4
    assert action.ruling == ("accepted" if roll.value >= 4 else "rejected")
    assert play.state.draws == 1, "the throw used one recorded draw"
    mine = view(play.state, Viewer(role="delegation", member="EST"))["actions"]
    assert [a["roll"] for a in mine] == [roll.model_dump()], "the delegation sees the throw that decided its argument"
    assert view(play.state, Viewer(role="delegation", member="DEU"))["actions"] == []
    sentence = describe(ruled, None)
    assert f"fair (4+ on a d6) and rolls {roll.value}" in sentence and "Finland's team is ready" in sentence


def test_success_is_the_target_or_more_for_every_strength_and_the_faces_are_all_thrown() -> None:
    faces: Counter[int] = Counter()
    for seed in range(60):
        for strength, target in TARGETS.items():
            play = argued(seed)
            play.do(CHAIR, type="roll_for_action", action="A1", strength=strength)
            action = play.state.actions["A1"]
            assert action.roll is not None
            faces[action.roll.value] += 1
            assert (action.ruling == "accepted") == (action.roll.value >= target), (seed, strength, action.roll)
    assert sorted(faces) == [1, 2, 3, 4, 5, 6]
    assert min(faces.values()) > 300 / 6 / 2, faces


def test_the_dice_are_thrown_once_even_across_a_ruling_by_hand_and_a_rewind() -> None:
    play = argued()
    before = play.state.seq
    play.do(CHAIR, type="roll_for_action", action="A1", strength="weak")
    thrown = play.state.actions["A1"].roll
    assert play.refused(CHAIR, type="roll_for_action", action="A1", strength="very_strong").code == "already_rolled"

    overruled = "rejected" if play.state.actions["A1"].ruling == "accepted" else "accepted"
    play.do(CHAIR, type="rule_on_action", action="A1", ruling=overruled, note="the umpire overrules the dice")
    assert play.state.actions["A1"].ruling == overruled and play.state.actions["A1"].roll == thrown
    assert play.refused(CHAIR, type="roll_for_action", action="A1", strength="very_strong").code == "already_rolled"

    play.do(CHAIR, type="rewind_game", to_seq=before, note="roll it again")
    assert play.state.actions["A1"].roll is None and play.state.draws == 0
    play.do(CHAIR, type="resume_game")
    play.do(CHAIR, type="roll_for_action", action="A1", strength="weak")
    assert play.state.actions["A1"].roll == thrown, "a rewind cannot be used to throw the dice again"


def test_a_replay_reads_the_throw_and_never_draws_again() -> None:
    play = argued(seed=3)
    play.do(CHAIR, type="roll_for_action", action="A1", strength="strong")
    assert state_hash(replay(play.log)) == state_hash(play.state)
    ruled = play.log[-1]
    assert getattr(ruled, "roll", None) == play.state.actions["A1"].roll
    forged = ruled.model_copy(update={"roll": DiceRoll(strength="strong", target=3, value=6, draw=0.99)})
    assert replay([*play.log[:-1], forged]).actions["A1"].roll == forged.roll, "the value comes from the log"


def test_only_the_white_cell_rolls_and_only_for_an_action_proposed() -> None:
    play = argued()
    assert play.refused("EST", type="roll_for_action", action="A1", strength="strong").code == "facilitator_only"
    assert play.refused(CHAIR, type="roll_for_action", action="A9", strength="strong").code == "unknown_action"
    assert play.state.actions["A1"].ruling is None
