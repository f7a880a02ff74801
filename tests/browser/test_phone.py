"""Every screen of every role fits a phone's width: the lobby where a game is created, the facilitator's console, the
umpire's, the observer's and the red cell's screens, and the after-action review.  A screen wider than the phone
makes it zoom out until nothing is readable (the delegations' screens: test_room.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import ACTION_TIMEOUT, SCREENSHOTS, ThreadServer
from tests.browser.players import Player
from tests.browser.test_room import PHONE

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# What reaches past the phone's right edge while its parent does not: the element to fix, named in a failure.
WIDER_THAN_ITS_PARENT = """(width) => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > width && e.parentElement.getBoundingClientRect().right <= width)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} "${(e.textContent || '').slice(0, 40)}"`)"""


WHO = {"facilitator": "Facilitator · White Cell", "umpire": "Umpire · Ana", "observer": "Observer · Ben"}
"""Who the review's header says is reading it."""


@pytest.fixture
def phones(browser: Browser, server: ThreadServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_phone(name: str) -> Player:
        context = browser.new_context(**PHONE)
        context.set_default_timeout(ACTION_TIMEOUT)
        contexts.append(context)
        return Player(name, context, context.new_page(), server.url, SCREENSHOTS)

    try:
        yield open_phone
    finally:
        for context in contexts:
            context.close()


def assert_fits(player: Player, where: str) -> None:
    player.page.locator("main").wait_for()
    # (Not window.innerWidth: a phone zooms out to whatever is wider than its screen.)
    width: Any = player.page.evaluate("document.scrollingElement.scrollWidth")
    limit = PHONE["viewport"]["width"]
    assert width <= limit, (where, width, player.page.evaluate(WIDER_THAN_ITS_PARENT, limit))


def test_every_role_plays_and_reviews_on_a_phone(phones: Any) -> None:
    from playwright.sync_api import expect

    white = phones("facilitator")
    white.page.goto(f"{white.base_url}/#/")
    white.page.get_by_role("heading", name="Create a game").wait_for()
    assert_fits(white, "lobby")
    code = white.create_game()
    cells = {"facilitator": white}
    reviewed = []
    for role, name in (("umpire", "Ana"), ("observer", "Ben"), ("red_cell", "Cem")):
        cells[role] = phones(role)
        cells[role].join(code, role, name)
    white.page.get_by_role("button", name="Start the exercise").click()
    for role, player in cells.items():
        player.wait_phase("briefing")
        screens = player.page.get_by_role("navigation", name="Screens").get_by_role("link")
        names = [name.split("\n")[0] for name in screens.all_inner_texts()]
        assert names, role
        for name in names:
            screens.filter(has_text=name).first.click()
            assert_fits(player, f"{role}: {name}")
            if name == "Review":
                player.page.get_by_test_id("timeline").wait_for()
                expect(player.page.locator("header .who")).to_have_text(WHO[role])
                assert_fits(player, f"{role}: {name}")
                reviewed.append(role)
                player.page.go_back()
        assert player.errors == [], (role, player.errors)
    assert reviewed == ["facilitator", "umpire", "observer"]  # the roles that may review a game under way
