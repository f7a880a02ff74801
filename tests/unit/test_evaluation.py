"""The evaluators' part of the after-action report: ratings that stand in place of the log's, and the improvement
plan, written by the white cell and umpires at any time, kept through rewinds, and carried into the report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from game_rules import replay, state_hash
from game_rules.evaluation import CAPABILITIES, plan
from game_rules.review import review
from game_rules.scenario import parse_scenario
from game_rules.state import CHAIR, OBSERVER, UMPIRE
from game_rules.views import Viewer, may_see
from server.report import GameInfo, markdown
from tests.unit.scripted import Table

SCENARIO = parse_scenario((Path(__file__).parents[2] / "game_rules/scenarios/baltic-demo.yaml").read_text())


@pytest.fixture
def game() -> Table:
    return Table.started(SCENARIO)


def rate(g: Table, actor: str, capability: str, rating: str, reason: str = "seen in the room") -> None:
    g.do(actor, type="rate_capability", capability=capability, rating=rating, reason=reason)


def test_the_evaluators_rating_stands_in_place_of_the_logs_with_the_logs_beside_it(game: Table) -> None:
    suggested = {c.name: c.rating for c in review(enumerate(game.log, start=1)).capabilities}
    # No proposal closed, and none of the briefing's six intelligence reports shared yet.
    assert suggested == {"Council decision-making": "U", "Intelligence sharing": "U"}
    rate(game, UMPIRE, "Council decision-making", "S", "  the chair kept the council to time  ")
    rate(game, CHAIR, "Collective defence", "N/A")
    rated = {c.name: c for c in review(enumerate(game.log, start=1)).capabilities}
    council = rated["Council decision-making"]
    assert (council.rating, council.suggested, council.rated_by, council.reason) == (
        "S",
        "U",
        UMPIRE,
        "the chair kept the council to time",
    )
    defence = rated["Collective defence"]
    assert (defence.rating, defence.suggested, defence.rated_by) == ("N/A", None, CHAIR)
    assert (rated["Intelligence sharing"].rating, rated["Intelligence sharing"].rated_by) == ("U", None)
    assert list(rated) == ["Council decision-making", "Intelligence sharing", "Collective defence"]
    rate(game, CHAIR, "Council decision-making", "M", "two objections came as surprises")
    again = {c.name: c for c in review(enumerate(game.log, start=1)).capabilities}["Council decision-making"]
    assert (again.rating, again.rated_by, again.reason) == ("M", CHAIR, "two objections came as surprises")


def test_only_the_white_cell_and_umpires_rate_and_plan_and_only_what_the_report_rates(game: Table) -> None:
    for actor in ("EST", OBSERVER, "red_cell"):
        assert game.refused(
            actor, type="rate_capability", capability="Burden-sharing", rating="P", reason="x"
        ).code == ("evaluators_only")
        refusal = game.refused(
            actor, type="plan_corrective_action", capability="Burden-sharing", action="a", responsible="b"
        )
        assert refusal.code == "evaluators_only"
    unknown = game.refused(CHAIR, type="rate_capability", capability="Logistics", rating="P", reason="x")
    assert unknown.code == "unknown_capability" and all(name in unknown.reason for name in CAPABILITIES)
    assert game.refused(CHAIR, type="rate_capability", capability="Burden-sharing", rating="P", reason="  ").code == (
        "blank_text"
    )
    blank = game.refused(
        UMPIRE, type="plan_corrective_action", capability="Burden-sharing", action="Publish shares", responsible=" "
    )
    assert blank.code == "blank_text" and "responsible" in blank.reason


def test_the_plan_names_its_rows_and_revises_and_drops_them_by_name(game: Table) -> None:
    planned = {"capability": "Burden-sharing", "action": "Publish fair shares", "responsible": "Defence Planning"}
    game.do(CHAIR, type="plan_corrective_action", **planned, start="2027-01-15", completion="2027-03-01")
    game.do(UMPIRE, type="plan_corrective_action", capability="Council decision-making", action="Draft texts early",
            responsible="Political Committee", issue="texts tabled cold")  # fmt: skip
    assert [(r.item, r.capability, r.by) for r in plan(game.state)] == [
        ("CA1", "Burden-sharing", CHAIR),
        ("CA2", "Council decision-making", UMPIRE),
    ]
    game.do(UMPIRE, type="plan_corrective_action", item="CA1", **planned, completion="2027-06-30")
    first = game.state.improvement_plan["CA1"]
    assert (first.start, first.completion, first.by) == (None, date(2027, 6, 30), UMPIRE)
    assert [r.item for r in plan(game.state)] == ["CA1", "CA2"], "a revised row keeps its place"

    late = game.refused(CHAIR, type="plan_corrective_action", **planned, start="2027-05-01", completion="2027-04-30")
    assert late.code == "dates_out_of_order" and "2027-04-30" in late.reason
    assert game.refused(CHAIR, type="plan_corrective_action", item="CA7", **planned).code == "unknown_corrective_action"

    game.do(CHAIR, type="drop_corrective_action", item="CA1")
    assert [r.item for r in plan(game.state)] == ["CA2"]
    dropped = game.refused(CHAIR, type="drop_corrective_action", item="CA1")
    assert dropped.code == "unknown_corrective_action" and "dropped" in dropped.reason
    assert game.refused(CHAIR, type="plan_corrective_action", item="CA1", **planned).code == "unknown_corrective_action"
    game.do(CHAIR, type="plan_corrective_action", **planned)
    assert [r.item for r in plan(game.state)] == ["CA2", "CA3"], "a dropped row's name is not given again"
    assert state_hash(replay(game.log)) == state_hash(game.state)


def test_the_hotwash_goes_on_after_the_end_and_no_rewind_takes_it_back(game: Table) -> None:
    before_the_end = game.state.seq
    game.do(CHAIR, type="end_game", reason="time")
    the_end = range(before_the_end + 1, game.state.seq + 1)
    rate(game, UMPIRE, "Council decision-making", "S")
    game.do(CHAIR, type="plan_corrective_action", capability="Council decision-making", action="a", responsible="b")
    game.do(CHAIR, type="rewind_game", to_seq=before_the_end, note="the end was a slip")
    assert game.state.status == "paused" and game.state.ratings["Council decision-making"].rating == "S"
    assert [r.item for r in plan(game.state)] == ["CA1"]
    assert state_hash(replay(game.log)) == state_hash(game.state)
    undone = {e.seq for e in review(enumerate(game.log, start=1)).entries if e.undone}
    assert undone == set(the_end), "the end is undone; the rating and the plan stand"


def test_delegations_do_not_see_the_evaluators_work_while_the_game_runs(game: Table) -> None:
    (rated,) = game.do(CHAIR, type="rate_capability", capability="Burden-sharing", rating="M", reason="late")
    (planned,) = game.do(CHAIR, type="plan_corrective_action", capability="Burden-sharing", action="a", responsible="b")
    for event in (rated, planned):
        assert not may_see(Viewer(role="delegation", member="EST"), event, game.state)
        assert not may_see(Viewer(role="red_cell"), event, game.state)
        assert may_see(Viewer(role="observer"), event, game.state)
        assert may_see(Viewer(role="umpire"), event, game.state)


def test_the_report_and_the_tables_carry_the_ratings_and_the_plan(game: Table) -> None:
    rate(game, UMPIRE, "Council decision-making", "S", "kept to time | mostly")
    rate(game, CHAIR, "Collective defence", "N/A", "not played")
    rate(game, CHAIR, "Intelligence sharing", "P", "shared by voice in the room")
    game.do(CHAIR, type="plan_corrective_action", capability="Burden-sharing", issue="shares unknown",
            action="Publish fair shares", responsible="Defence Planning", start="2027-01-15",
            completion="2027-03-01")  # fmt: skip
    r = review(enumerate(game.log, start=1))
    md = markdown(GameInfo("g", "t", "s", "now", []), r)
    capabilities = md.split("## Analysis of capabilities")[1].split("##")[0]
    assert (
        "| Council decision-making | S (performed with some challenges) | 0 of 0 proposals adopted | rated by the "
        "umpire (the log suggested U): kept to time / mostly |" in capabilities
    )
    assert (
        "| Collective defence | N/A (not exercised) | no evidence in the log | rated by the white cell (the log "
        in (capabilities)
    )
    improvement = md.split("## Improvement plan")[1].split("##")[0]
    rows = [line for line in improvement.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| CA1 | Burden-sharing | shares unknown | Publish fair shares | Defence Planning | 2027-01-15 | 2027-03-01 |",
        "| - | Council decision-making (S) | 0 of 0 proposals adopted | "
        f"{CAPABILITIES['Council decision-making']} (suggested) | to be assigned at the hotwash | | |",
    ]
    game.do(UMPIRE, type="plan_corrective_action", capability="Council decision-making", action="Draft early",
            responsible="PolCom")  # fmt: skip
    md = markdown(GameInfo("g", "t", "s", "now", []), review(enumerate(game.log, start=1)))
    assert "(suggested)" not in md.split("## Improvement plan")[1], "a planned capability needs no suggestion"
    strengths = md.split("## Strengths")[1].split("##")[0]
    assert (
        "- Intelligence sharing: 0 of 6 reports shared; 0 standing agreement(s); white cell: shared by voice in the "
        in (strengths)
    ), "rated P by the white cell, a strength whatever the log suggests, with the white cell's reason"
