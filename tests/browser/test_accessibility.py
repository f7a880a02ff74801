"""Every screen of every role passes axe-core's checks for WCAG 2.1 levels A and AA: the lobby, the join page,
the facilitator's console, a delegation's, the red cell's, an umpire's and an observer's screens in a live game
with a proposal, messages and an inject on them, the review page, and the after-action report's HTML.

Screens are found, not listed: each seat's every tab is visited, so a new screen is checked as soon as it has a
tab.  A seminar room includes people who use a screen reader, a keyboard only or a high-contrast display, and public
colleges and universities are held to WCAG 2.1 AA (EN 301 549 in Europe; in the US, Section 508 asks 2.0 AA).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ThreadServer
from tests.browser.players import Player, played

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it stands, one line each with the elements at fault."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    found = Axe().run(page, options=options).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:6])
        for v in found
    ]


class Audit:
    """What each screen violated, by screen, so that one failure reports every screen at once."""

    def __init__(self) -> None:
        self.screens: list[str] = []
        self.found: dict[str, list[str]] = {}

    def check(self, screen: str, page: Any) -> None:
        self.screens.append(screen)
        if problems := violations(page):
            self.found[screen] = problems

    def every_tab(self, who: str, player: Player) -> None:
        nav = player.page.get_by_role("navigation", name="Screens")
        for index in range(nav.get_by_role("link").count()):
            link = nav.get_by_role("link").nth(index)
            name = link.inner_text().splitlines()[0]
            link.click()
            player.page.locator("main").wait_for()
            if name != "Review":
                self.check(f"{who}: {name}", player.page)
                continue
            player.page.get_by_role("heading", name="Timeline").wait_for()  # its content comes over REST
            self.check(f"{who}: {name}", player.page)
            player.page.get_by_role("link", name="Back to the game").click()
            nav.wait_for()

    def report(self) -> str:
        return "\n".join(f"{screen}:\n  " + "\n  ".join(lines) for screen, lines in self.found.items())


def test_every_screen_meets_wcag_2_1_aa(players: Callable[[str], Player], server: ThreadServer) -> None:
    from playwright.sync_api import expect

    audit = Audit()
    white = players("facilitator")
    white.page.goto(f"{server.url}/#/")
    expect(white.page.get_by_role("button", name="Create game as facilitator")).to_be_visible()
    audit.check("lobby", white.page)
    code = white.create_game("baltic-demo")

    est, pol = players("EST"), players("POL")
    est.find_game(code)
    audit.check("join page", est.page)
    est.take_seat("delegation", "Kaja", member="EST")
    pol.join(code, "delegation", "Piotr", member="POL")
    red, umpire, observer = players("red"), players("umpire"), players("observer")
    red.join(code, "red_cell", "Rudolf")
    umpire.join(code, "umpire", "Uma")
    observer.join(code, "observer", "Olli")

    # Content on every screen: a running phase, a message, an inject, a proposal.
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    est.tab("Messages")
    est.page.get_by_label("Message").fill("Estonia asks for consultations.")
    est.page.get_by_role("button", name="Send").click()
    form = white.page.get_by_test_id("free-inject")
    form.get_by_label("Title").fill("Power grid outage in Narva")
    form.get_by_label("Text").fill("Substations offline; the cause is not yet known.")
    form.get_by_role("button", name="Deliver inject").click()
    for phase in ("briefing", "deliberation"):
        white.page.get_by_role("button", name=f"End the {phase} phase now").click()
    est.wait_phase("council")
    est.tab("Council")
    est.table_proposal(kind="joint_statement", procedure="consensus", text="The Council condemns the outage.")

    for who, player in (
        ("facilitator", white),
        ("delegation", est),
        ("red cell", red),
        ("umpire", umpire),
        ("observer", observer),
    ):
        player.connected()
        audit.every_tab(who, player)

    # The facilitator's disclosures: the undo, the console's link for another device.
    white.tab("Control")
    for opener in ("Undo: turn play back…", "Open this console on another device…", "Room screen for the projector…"):
        white.page.get_by_text(opener).click()
        expect(white.page.locator("details", has=white.page.get_by_text(opener))).to_have_attribute("open", "")
        audit.check(f"facilitator: {opener}", white.page)
    # The room's screen, with a proposal before the council.
    white.page.get_by_role("button", name="Make the room screen's link").click()
    wall = white.context.new_page()
    wall.goto(white.page.get_by_test_id("screen-link").input_value())
    expect(wall.get_by_test_id("screen-proposal")).to_contain_text("P1")
    audit.check("room screen", wall)
    wall.close()

    # A decided proposal and the commitments phase: outcomes, fair shares, pledges.
    white.page.get_by_role("button", name="End the council phase now").click()
    est.wait_phase("commitments")
    est.tab("Council")
    expect(est.proposal("P1").locator(".outcome")).to_be_visible()
    audit.every_tab("delegation, commitments", est)

    seats = json.loads(white.page.evaluate("() => localStorage.getItem('wargame.seats')"))
    game_id, seat = next(iter(seats.items()))
    answer = httpx.get(
        f"{server.url}/api/games/{game_id}/export",
        params={"format": "html"},
        headers={"Authorization": f"Bearer {seat['token']}"},
        trust_env=False,
    )
    assert answer.status_code == 200, answer.text
    white.page.set_content(answer.text)
    audit.check("after-action report (HTML)", white.page)

    assert len(audit.screens) >= 20, audit.screens
    assert not audit.found, f"{len(audit.found)} of {len(audit.screens)} screens fail WCAG 2.1 AA:\n{audit.report()}"


def tab_to(page: Any, target: Any, presses: int = 60) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would; fails if it never gets it, or if the
    focus it reached does not show."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            outline = target.evaluate("(el) => getComputedStyle(el).outlineStyle")
            assert outline != "none", f"{target} has the focus and shows no focus ring"
            return
    raise AssertionError(f"{target} was not reached in {presses} presses of Tab")


def test_a_delegation_joins_and_plays_with_the_keyboard_alone(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game("baltic-demo")
    est = players("EST")
    est.find_game(code)
    page, keys = est.page, est.page.keyboard

    tab_to(page, page.get_by_label("Member state"))
    keys.type("Estonia")  # a focused list picks the option its name starts with
    expect(page.get_by_label("Member state")).to_have_value("EST")
    tab_to(page, page.get_by_label("Your name"))
    keys.type("Kaja")
    tab_to(page, page.get_by_role("button", name="Take this seat"))
    keys.press("Enter")
    est.connected()

    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    page.reload()  # a screen as it first opens: Skip to content is the first stop
    est.connected()
    tab_to(page, page.get_by_role("link", name="Skip to content"), presses=1)
    keys.press("Enter")
    expect(page.locator("main")).to_be_focused()
    tab_to(page, page.get_by_role("navigation", name="Screens").get_by_role("link", name="Messages"))
    keys.press("Enter")
    tab_to(page, page.get_by_role("button", name="Bilateral: Poland"))
    keys.press("Space")
    expect(page.get_by_test_id("recipients")).to_have_text("To: Poland only (private)")
    tab_to(page, page.get_by_label("Message"))
    keys.type("Estonia to Poland: may we consult?")
    tab_to(page, page.get_by_role("button", name="Send"))
    keys.press("Enter")
    expect(page.get_by_test_id("thread")).to_contain_text("Estonia to Poland: may we consult?")


def test_the_review_of_a_whole_game_meets_wcag_2_1_aa(players: Callable[[str], Player], server: ThreadServer) -> None:
    """The review page full: every event of a game bots played to the end, its proposals, charts, the evaluators'
    forms, the scrubber on a delegation's view, and a filtered timeline."""
    from playwright.sync_api import expect

    outcome = played(server.url)
    white = players("facilitator")
    page = white.page
    white.hold_chair(outcome)
    page.goto(f"{server.url}/#/review/{outcome.game_id}")
    expect(page.get_by_test_id("timeline-row")).to_have_count(outcome.events)
    audit = Audit()
    audit.check("review, the whole game", page)
    page.get_by_test_id("viewer").select_option("EST")
    page.get_by_test_id("filter-member").select_option("EST")
    expect(page.get_by_test_id("timeline-row")).not_to_have_count(outcome.events)
    audit.check("review, Estonia's view and timeline", page)
    assert not audit.found, audit.report()
