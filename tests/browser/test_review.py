"""The after-action review page: bots play baltic-demo to the end on the live server, then the facilitator
opens `#/review/<game>` with the credential the client keeps in localStorage and reads the timeline
(filtered), scrubs back through the log, sees the metrics charts and downloads an export."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.browser.conftest import ThreadServer
from tests.browser.players import Player, played

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def canvas_drawn() -> str:
    return """() => [...document.querySelectorAll('[data-testid=review-charts] canvas')].map((c) => {
      const blank = document.createElement('canvas');
      blank.width = c.width; blank.height = c.height;
      return {w: c.width, h: c.height, drawn: c.toDataURL() !== blank.toDataURL()};
    })"""


def test_review_page(players: Callable[[str], Player], server: ThreadServer) -> None:
    from playwright.sync_api import expect

    outcome = played(server.url)
    white = players("facilitator")
    page = white.page
    white.hold_chair(outcome)

    # reachable from the facilitator's console
    page.goto(f"{server.url}/#/game/{outcome.game_id}")
    page.get_by_test_id("review-link").click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()

    # --- the timeline lists every event; a member filter narrows it -------------------------------
    rows = page.get_by_test_id("timeline-row")
    expect(rows).to_have_count(outcome.events)
    everything = rows.count()
    assert everything > 50
    page.get_by_test_id("filter-member").select_option("EST")
    expect(rows).not_to_have_count(everything)
    narrowed = rows.count()
    assert 0 < narrowed < everything
    for text in rows.locator("td:nth-child(5)").all_inner_texts():
        assert "EST" in text
    page.get_by_test_id("filter-type").select_option("position_taken")
    expect(rows.first).to_contain_text("position taken")
    assert rows.count() < narrowed
    page.get_by_test_id("filter-type").select_option("")
    page.get_by_test_id("filter-member").select_option("")
    expect(rows).to_have_count(everything)

    # --- the scrubber: the end, then back to a moment when the first proposal was still open ----------
    last = outcome.events
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(last))
    expect(page.get_by_test_id("state-status")).to_have_text("ended")
    expect(page.get_by_test_id("state-round")).to_have_text("3 of 3")
    summary = page.evaluate(
        """async ([id, token]) => (await fetch(`/api/games/${id}/review/summary`,
             {headers: {Authorization: `Bearer ${token}`}})).json()""",
        [outcome.game_id, outcome.facilitator_key],
    )
    first = summary["proposals"][0]
    assert first["closed_seq"] and first["tabled_seq"] < first["closed_seq"]
    expect(page.get_by_test_id(f"state-proposal-{first['id']}")).to_contain_text(first["outcome"])
    page.get_by_test_id("scrubber").fill(str(first["tabled_seq"] + 1))
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(first["tabled_seq"] + 1))
    expect(page.get_by_test_id("state-round")).to_have_text("1 of 3")
    expect(page.get_by_test_id("state-status")).to_have_text("running")
    expect(page.get_by_test_id(f"state-proposal-{first['id']}")).to_contain_text("pending")
    # keyboard: the range input and the step buttons
    page.get_by_test_id("scrubber").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(first["tabled_seq"]))
    page.get_by_role("button", name="Previous event").press("Enter")
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(first["tabled_seq"] - 1))
    expect(page.get_by_test_id("state-proposals")).not_to_contain_text(first["id"])
    # by command: to the moment after the tabling (and all it brought), and back to the one before it
    timeline = page.evaluate(
        """async ([id, token]) => (await fetch(`/api/games/${id}/review/timeline`,
             {headers: {Authorization: `Bearer ${token}`}})).json()""",
        [outcome.game_id, outcome.facilitator_key],
    )
    after_tabling = next(e["seq"] for e in timeline if e["starts_command"] and e["seq"] > first["tabled_seq"]) - 1
    page.get_by_role("button", name="Next command").click()
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(after_tabling))
    expect(page.get_by_test_id(f"state-proposal-{first['id']}")).to_contain_text("pending")
    page.get_by_role("button", name="Previous command").click()
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(first["tabled_seq"] - 1))
    # one delegation's view of the same moment
    page.get_by_test_id("viewer").select_option("EST")
    expect(page.get_by_test_id("state-round")).to_have_text("1 of 3")

    # --- proposals with every position; metrics charts ----------------------------------------------
    expect(page.get_by_test_id(f"review-proposal-{first['id']}")).to_contain_text("concurred")
    canvases = page.get_by_test_id("review-charts").locator("canvas")
    expect(canvases).to_have_count(3)
    charts = page.evaluate(canvas_drawn())
    assert all(c["w"] > 0 and c["h"] > 0 for c in charts), charts
    assert charts[0]["drawn"], charts

    # --- an export, fetched with the Bearer header and saved from a Blob URL -------------------------
    with page.expect_download() as info:
        page.get_by_role("button", name="Events (CSV)").click()
    download = info.value
    assert download.suggested_filename == f"wargame-{outcome.game_id}-events.csv"
    expect(page.get_by_test_id("export-note")).to_contain_text("Saved")
    with page.expect_download() as info:
        page.get_by_role("button", name="Every table (Excel workbook)").click()
    assert info.value.suggested_filename == f"wargame-{outcome.game_id}.xlsx"
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True)
    assert book.sheetnames[:2] == ["game", "events"]
    assert len(list(book["events"].iter_rows())) == outcome.events + 1  # the header and every event

    page.get_by_test_id("viewer").select_option("")
    white.shot("review")

    # --- what if: a new game from just before the first proposal was tabled, played on from there ------
    what_if = page.get_by_test_id("what-if")
    what_if.get_by_label("Draw new dice for what follows").check()
    what_if.get_by_role("button", name=f"Play on from event {first['tabled_seq'] - 1}").click()
    made = page.get_by_test_id("what-if-made")
    expect(made).to_contain_text(f"(what-if from event {first['tabled_seq'] - 1}): join code")
    made.get_by_role("link", name="Open its console").click()
    expect(page.get_by_test_id("status")).to_have_text("paused")  # a fork of a game in play starts paused
    expect(page.get_by_text(f"{outcome.title} (what-if from event {first['tabled_seq'] - 1})")).to_be_visible()
    page.goto(f"{server.url}/#/review/{outcome.game_id}")
    expect(page.get_by_test_id("scrub-seq")).to_have_text(str(last))  # the original is as it was
    expect(page.get_by_test_id("state-status")).to_have_text("ended")
    assert white.errors == []


def test_the_review_link_stays_where_it_was_when_the_game_arrives(
    players: Callable[[str], Player], server: ThreadServer
) -> None:
    """The screens' tabs grow a count of what is new once the seat's view arrives; the link to the review, which
    leaves the game's screens, keeps its place meanwhile, so a click aimed at it while the game loads lands on it."""
    from playwright.sync_api import WebSocketRoute, expect

    outcome = played(server.url)
    white = players("facilitator")
    page = white.page
    white.hold_chair(outcome)
    held: list[tuple[WebSocketRoute, str | bytes]] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if held or json.loads(message).get("type") == "view":  # the view, and all after it, wait here
                held.append((page_side, message))
            else:
                page_side.send(message)

        page_side.on_message(server_side.send)
        server_side.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/games/"), route)
    page.goto(f"{server.url}/#/game/{outcome.game_id}")
    link = page.get_by_test_id("review-link")
    expect(link).to_be_visible()
    white.wait_for(lambda: bool(held))
    before = link.bounding_box()
    for page_side, message in held:
        page_side.send(message)
    expect(page.get_by_test_id("phase")).to_have_text("Exercise ended after round 3")
    navigation = page.get_by_role("navigation", name="Screens")
    expect(navigation.locator(".unread").first).to_be_visible()  # the tabs did grow
    assert link.bounding_box() == before
    link.click()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert white.errors == []
