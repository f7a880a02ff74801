"""A room of players on other computers: the facilitator's console, opened on the server's own computer, shows
the address the others open and its QR code; a player's phone opens what the code holds, takes a seat, and every
screen of a delegation fits its width, with
what it reads before the forms and the clock in sight however far it scrolls.

The server listens on every interface; in a container (this machine may be one) it cannot tell which address is
the one players open, so there, as in a deployment, `PUBLIC_URL` names it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from server.network import in_a_container, network_addresses
from tests.browser.conftest import ACTION_TIMEOUT, SCREENSHOTS, ThreadServer
from tests.browser.players import Player

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadServer]:
    """The server listening on every interface, as `wargame serve --host 0.0.0.0` does."""
    if not network_addresses():
        pytest.skip("this computer has no network address that other computers could open")
    public = network_addresses()[0] if in_a_container() else ""
    database = f"sqlite+aiosqlite:///{tmp_path / 'wargame.db'}"
    with ThreadServer(database, host="0.0.0.0", public_address=public) as running:
        yield running


def test_a_player_opens_the_link_in_the_consoles_qr_code_on_a_phone_and_plays(
    players: Callable[[str], Player], server: ThreadServer, browser: Browser
) -> None:
    from PIL import Image
    from playwright.sync_api import expect
    from zxingcpp import read_barcodes

    white = players("facilitator")
    code = white.create_game()  # at http://127.0.0.1:PORT: this computer's own address
    link = f"http://{network_addresses()[0]}:{server.port}/#/join/{code}"
    expect(white.page.get_by_test_id("join-address")).to_contain_text(link)
    qr = white.page.get_by_role("img", name=f"QR code of {link}")
    decoded = [found.text for found in read_barcodes(Image.open(io.BytesIO(qr.screenshot())))]
    assert decoded == [link]
    white.shot("room-join-code")

    context = browser.new_context(**PHONE)
    try:
        context.set_default_timeout(ACTION_TIMEOUT)
        phone = Player("phone", context, context.new_page(), decoded[0].split("/#/")[0], SCREENSHOTS)
        phone.page.goto(decoded[0])  # over the network address, not loopback
        phone.page.get_by_test_id("present").wait_for()
        phone.take_seat("delegation", "Kaja", member="EST")
        phone.connected()
        expect(white.page.get_by_test_id("seats").locator("tr", has_text="Kaja")).to_contain_text("online")

        white.page.get_by_role("button", name="Start the exercise").click()
        phone.wait_phase("briefing")
        # On one column, what a delegation reads and answers comes before the forms it fills in.
        read_first = (("Dashboard", "Injects", "National actions"), ("Council", "Proposals", "Table a proposal"))
        for tab, first, then in read_first:
            phone.tab(tab)
            top = [phone.page.get_by_role("heading", name=name, exact=True).bounding_box() for name in (first, then)]
            assert top[0] and top[1] and top[0]["y"] < top[1]["y"], (tab, top)
        for tab in ("Dashboard", "Council", "Messages"):  # each screen fits the phone's width
            phone.tab(tab)
            phone.page.locator("main").wait_for()
            # (Not window.innerWidth: a phone zooms out to whatever is wider than its screen.)
            width: Any = phone.page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= PHONE["viewport"]["width"], (tab, width)
        # Below the channels on one column, a conversation chosen comes up: its latest messages and the box to
        # answer in.
        poland = phone.page.get_by_role("button", name=re.compile(r"^Bilateral: Poland"))
        poland.click()
        for n in range(1, 7):
            phone.page.get_by_label("Message").fill(f"Tallinn to Warsaw, note {n}: the radar picture is shared.")
            phone.page.get_by_role("button", name="Send").click()
            expect(phone.page.get_by_test_id("message")).to_have_count(n)
        phone.page.get_by_role("button", name="Alliance (everyone)").click()
        phone.page.evaluate("window.scrollTo(0, 0)")
        poland.click()
        expect(phone.page.get_by_text("note 6:")).to_be_in_viewport()
        expect(phone.page.get_by_role("button", name="Send")).to_be_in_viewport()
        phone.shot("room-phone-messages")
        # Scrolled to the end of its longest screen, the phone still shows the clock and the tabs, in two lines
        # of header that leave the screen to the game (Projector mode is for the room's screen, not a phone's).
        phone.tab("Dashboard")
        phone.page.get_by_role("heading", name="Metrics").wait_for()  # the dashboard drawn, not the screen before it
        phone.page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        expect(phone.page.get_by_role("heading", name="Metrics")).to_be_in_viewport()
        for part in (phone.page.get_by_test_id("countdown"), phone.page.get_by_role("link", name="Council")):
            expect(part).to_be_in_viewport()
        top: Any = phone.page.evaluate("document.querySelector('.top').getBoundingClientRect().height")
        assert top <= 150, top
        expect(phone.page.get_by_role("button", name="Projector mode")).to_be_hidden()
        expect(white.page.get_by_role("button", name="Projector mode")).to_be_visible()
        assert white.errors == [] and phone.errors == []
    finally:
        context.close()
