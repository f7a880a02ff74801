"""The participants' feedback form at the end of the exercise: each seat rates how useful it was and says what went
well and what should change; the white cell sees who has answered, and the review lists the answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, seminar

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_a_delegation_gives_feedback_at_the_end_and_the_review_lists_it(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white, seated = seminar(players, {"EST": "Kaja"})
    est, console = seated["EST"], white.page
    white.start()
    est.wait_phase("briefing")
    expect(est.page.get_by_test_id("feedback")).to_have_count(0)  # not before the end

    console.get_by_role("button", name="End the exercise…").click()
    console.get_by_role("button", name="Really end the exercise").click()
    expect(console.get_by_test_id("feedback-so-far")).to_have_text("0 of 2 participants have answered.")

    expect(est.page.get_by_test_id("news-dashboard")).to_have_text("1 feedback to give")
    est.tab("Dashboard")
    form = est.page.get_by_test_id("feedback")
    expect(form.get_by_role("button", name="Send feedback")).to_be_disabled()  # a rating first
    form.get_by_label("4").check()
    form.get_by_label("What went well?").fill("The council round under the silence procedure.")
    form.get_by_label("What should be done differently next time?").fill("Longer deliberation.")
    form.get_by_role("button", name="Send feedback").click()
    expect(form).to_contain_text("Thank you")
    expect(est.page.get_by_test_id("news-dashboard")).to_have_count(0)
    expect(form.get_by_role("button", name="Send again")).to_be_visible()
    est.shot("feedback-form", full_page=False)

    so_far = console.get_by_test_id("feedback-so-far")
    expect(so_far).to_have_text("1 of 2 participants have answered; usefulness 4 of 5 on average.")
    console.get_by_test_id("review-link").click()
    forms = console.get_by_test_id("feedback-forms")
    expect(forms).to_contain_text("Estonia delegation")
    expect(forms).to_contain_text("The council round under the silence procedure.")
    expect(console.get_by_test_id("feedback-mean")).to_contain_text("1 form;")
    for p in (white, est):
        assert p.errors == [], (p.name, p.errors)
