"""The evaluators' part of the review page: an umpire rates a capability and writes the improvement plan (a refusal
shown where dates are out of order, a row changed and one dropped), the facilitator reads it and downloads it as a
spreadsheet, and an observer reads it without the forms."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_umpire_rates_and_plans_in_the_review(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    umpire = players("umpire")
    umpire.join(code, "umpire", "Uma")
    observer = players("observer")
    observer.join(code, "observer", "Otto")

    # --- the umpire opens the review from the game, while it is still in the lobby --------------------------
    page = umpire.page
    page.get_by_test_id("review-link").click()
    evaluation = page.get_by_test_id("evaluation")
    council = evaluation.get_by_test_id("capability").filter(has_text="Council decision-making")
    expect(council).to_contain_text("as the log suggests")
    suggested = council.locator("td:nth-child(2) b").inner_text()
    rating = "S" if suggested != "S" else "M"

    rate = evaluation.get_by_test_id("rate-form")
    rate.get_by_label("Capability").select_option("Council decision-making")
    rate.get_by_label("Rating").select_option(rating)
    rate.get_by_label("Reason").fill("The chair kept the council to time")
    rate.get_by_role("button", name="Record the rating").click()
    expect(council.locator("td:nth-child(2) b")).to_have_text(rating)
    expect(council).to_contain_text(f"The chair kept the council to time (umpire; the log suggested {suggested})")

    # --- the plan: out of order dates refused with the reason; a row added, changed; another added, dropped ----
    form = evaluation.get_by_test_id("plan-form")
    form.get_by_label("Capability").select_option("Burden-sharing")
    form.get_by_label("Issue").fill("Fair shares were not known before the council")
    form.get_by_label("Corrective action").fill("Publish fair shares with each requirement")
    form.get_by_label("Responsible").fill("Defence Planning")
    form.get_by_label("Start").fill("2027-05-01")
    form.get_by_label("Completion").fill("2027-04-01")
    form.get_by_role("button", name="Add to the plan").click()
    expect(evaluation.get_by_test_id("evaluation-refusal")).to_have_text(
        "The completion date (2027-04-01) is before the start (2027-05-01)."
    )
    expect(form.get_by_label("Corrective action")).to_have_value("Publish fair shares with each requirement")
    form.get_by_label("Completion").fill("2027-06-30")
    form.get_by_role("button", name="Add to the plan").click()
    row = evaluation.get_by_test_id("plan-CA1")
    expect(row).to_contain_text("Publish fair shares with each requirement")
    expect(evaluation.get_by_test_id("evaluation-refusal")).to_have_count(0)
    expect(form.get_by_label("Corrective action")).to_have_value("")

    row.get_by_role("button", name="Edit CA1").click()
    expect(form.get_by_label("Responsible")).to_have_value("Defence Planning")
    form.get_by_label("Responsible").fill("J5 Defence Planning")
    form.get_by_role("button", name="Save CA1").click()
    expect(row).to_contain_text("J5 Defence Planning")
    expect(row).to_contain_text("2027-06-30")

    form.get_by_label("Capability").select_option("Council decision-making")
    form.get_by_label("Corrective action").fill("A draft text circulated before every council")
    form.get_by_label("Responsible").fill("Political Committee")
    form.get_by_role("button", name="Add to the plan").click()
    expect(evaluation.get_by_test_id("plan-CA2")).to_contain_text("Political Committee")
    evaluation.get_by_test_id("plan-CA2").get_by_role("button", name="Drop CA2").click()
    expect(evaluation.get_by_test_id("plan-CA2")).to_have_count(0)
    expect(page.get_by_test_id("timeline-row").filter(has_text="drops CA2 from the improvement plan")).to_have_count(1)
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(page.get_by_test_id("timeline-row").count()))
    umpire.shot("evaluation")

    # --- the facilitator reads it, and takes the plan away as a spreadsheet ------------------------------------
    white.page.get_by_test_id("review-link").click()
    white_evaluation = white.page.get_by_test_id("evaluation")
    expect(white_evaluation.get_by_test_id("plan-CA1")).to_contain_text("J5 Defence Planning")
    with white.page.expect_download() as info:
        white.page.get_by_role("button", name="Improvement plan (CSV)").click()
    path = info.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [(r["item"], r["responsible"], r["start"], r["completion"], r["planned_by"]) for r in rows] == [
        ("CA1", "J5 Defence Planning", "2027-05-01", "2027-06-30", "umpire")
    ]

    # --- an observer reads the ratings and the plan, with no form to change them --------------------------------
    observer.page.get_by_test_id("review-link").click()
    seen = observer.page.get_by_test_id("evaluation")
    expect(seen.get_by_test_id("plan-CA1")).to_contain_text("Publish fair shares with each requirement")
    expect(seen.get_by_test_id("capability").filter(has_text="Council decision-making")).to_contain_text(
        "The chair kept the council to time"
    )
    expect(seen.get_by_test_id("rate-form")).to_have_count(0)
    expect(seen.get_by_test_id("plan-form")).to_have_count(0)
    expect(seen.get_by_role("button", name="Edit CA1")).to_have_count(0)
    assert white.errors == [] and observer.errors == []
    # The browser logs the refused command's answer (409) itself; nothing else went wrong on the umpire's page.
    assert umpire.errors == ["console: Failed to load resource: the server responded with a status of 409 (Conflict)"]
