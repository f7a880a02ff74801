"""A refused command's reason appears in plain words next to the control that sent it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from server.store import EventStore
from tests.browser.conftest import ThreadServer
from tests.browser.players import Player
from tests.integration.live import sqlite_refuses

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def _started(players: Callable[[str], Player]) -> tuple[Player, Player]:
    """The white cell and Estonia's delegation, in the briefing of a game just started."""
    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    return white, est


def test_refusal_appears_next_to_its_control(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white, est = _started(players)

    # Consultation belongs to deliberation and council: asked during the briefing, the server refuses.
    est.tab("Council")
    button = est.page.get_by_role("button", name="Request consultation")
    control = est.page.locator(".act", has=button)
    button.focus()  # from the keyboard, as a player without a mouse would
    est.page.keyboard.press("Enter")
    refusal = control.get_by_role("alert")
    expect(refusal).to_contain_text("not open during the briefing phase")
    expect(refusal).to_contain_text("deliberation")
    # Only that control carries it.
    expect(est.page.get_by_role("alert")).to_have_count(1)
    est.shot("refusal-next-to-control")

    # Once the phase opens it, the same button succeeds and the refusal goes away.
    white.page.get_by_role("button", name="End the briefing phase now").click()
    est.wait_phase("deliberation")
    button.click()
    expect(est.page.get_by_test_id("consultations")).to_contain_text("Requested by Estonia")
    expect(est.page.get_by_role("alert")).to_have_count(0)

    expect(est.page.get_by_text("Estonia has convened the council this round.")).to_be_visible()

    # In council, a deployment tabled without its force requirement: the reason sits beside "Table P1".
    white.page.get_by_role("button", name="End the deliberation phase now").click()
    est.wait_phase("council")
    form = est.page.get_by_test_id("table-form")
    form.get_by_label("Kind").select_option("deploy_forces")
    table = form.get_by_role("button", name="Table P1")
    table.click()
    beside = est.page.locator(".act", has=est.page.get_by_role("button", name="Table P1"))
    expect(beside.get_by_role("alert")).to_have_text("A deploy_forces proposal needs a force requirement.")
    form.get_by_label("Units").fill("6")
    table.click()
    expect(est.proposal("P1")).to_be_visible()
    expect(est.page.get_by_role("alert")).to_have_count(0)

    # The white cell delivers from the scenario's catalogue, chosen from a list (no id to mistype).
    white.page.get_by_label("Catalogue entry").select_option("drones-poland")
    white.page.get_by_role("button", name="Deliver catalogue inject").click()
    est.tab("Dashboard")
    expect(est.page.get_by_test_id("inject").first).to_contain_text("drones")

    assert est.errors == [] and white.errors == []


def test_a_command_the_server_fails_on_is_said_beside_its_control_and_sent_again_plays_once(
    players: Callable[[str], Player], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server failing on a command (its database gone for a moment) leaves the button's player told so, not
    waiting on an answer that never comes; pressed again, the command plays, once."""
    from playwright.sync_api import expect

    white, est = _started(players)
    white.page.get_by_role("button", name="End the briefing phase now").click()
    est.wait_phase("deliberation")

    appended = EventStore.append
    failed: list[object] = []

    async def fails_once(self: EventStore, *args: Any, **kwargs: Any) -> Any:
        if not failed:
            failed.append(args)
            raise RuntimeError("the database went away")
        return await appended(self, *args, **kwargs)

    monkeypatch.setattr(EventStore, "append", fails_once)
    est.tab("Council")
    button = est.page.get_by_role("button", name="Request consultation")
    button.click()
    control = est.page.locator(".act", has=button)
    expect(control.get_by_role("alert")).to_have_text("The server failed on this frame; send it again.")
    assert failed, "the command reached the store"
    button.click()
    expect(est.page.get_by_test_id("consultations")).to_contain_text("Requested by Estonia")
    expect(est.page.get_by_role("alert")).to_have_count(0)
    expect(est.page.get_by_test_id("consultations").get_by_text("Requested by Estonia")).to_have_count(1)
    assert est.errors == [] and white.errors == []


def test_a_database_that_refuses_the_game_is_said_on_every_screen_until_it_writes_again(
    players: Callable[[str], Player], server: ThreadServer
) -> None:
    """Its disk read-only, the server's database refuses the facilitator's advance: the control says so, and every
    seat's screen says so at its top, the facilitator's with what to do; once it writes, the same button plays and
    the notice goes from every screen."""
    from playwright.sync_api import expect

    white, est = _started(players)
    store = server.app.state.store
    said: list[str] = []
    server.call(lambda: said.append(sqlite_refuses(store, "read-only")))
    advance = white.page.get_by_role("button", name="End the briefing phase now")
    advance.click()
    expect(white.page.locator(".act", has=advance).get_by_role("alert")).to_contain_text("nothing changed")
    for player in (white, est):
        notice = player.page.get_by_test_id("storage")
        expect(notice).to_contain_text(f"refusing to record this game ({said[0]})")
        expect(notice).to_be_in_viewport()
    expect(white.page.get_by_test_id("storage")).to_contain_text("free space on its disk")
    expect(est.page.get_by_test_id("storage")).to_contain_text("The white cell sees this too.")
    white.shot("database-refuses")
    assert est.page.get_by_test_id("phase").inner_text().endswith("briefing"), "nothing changed"

    server.call(lambda: sqlite_refuses(store, None))
    advance.click()
    est.wait_phase("deliberation")
    for player in (white, est):
        expect(player.page.get_by_test_id("storage")).to_have_count(0)
    assert est.errors == [] and white.errors == []
