"""A seminar plays a full round of baltic-demo in the browser: a facilitator, three delegations and an
observer, each in their own browser context.

Consultation, a proposal blocked by one objection, a deployment adopted under the silence procedure,
pledges against fair shares, a cyber inject for Estonia only, a private message, the briefing's countdown
running out on the server's deadline; no seat ever shows another member's secrets or others' private
messages, and no page logs an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.players import Player, objectives

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PRIVATE = "EST to POL only: we will ask for Article 4 consultations tomorrow."
PUBLIC = "DEU to all: Germany stands with its Baltic allies."
CYBER = "Estonian e-government services down after a cyber attack"
STATEMENT = "The Council condemns the violation of Allied airspace."
DEPLOYMENT = "Reinforce air defence on the eastern flank."
SECRET_TABS = ("Dashboard", "Council", "Messages")


def test_a_full_round_of_baltic_demo(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    secrets = objectives("baltic-demo")

    # --- lobby: the facilitator creates the game, delegations and an observer join by code ------------
    white = players("facilitator")
    white.page.goto(f"{white.base_url}/#/")
    expect(white.page.get_by_text("Baltic airspace: a demonstration round")).to_be_visible()
    # The scenario for a first game is the one offered, whatever the others are called.
    expect(white.page.locator("input[name=scenario]").first).to_have_attribute("value", "baltic-demo")
    expect(white.page.locator("input[name=scenario][value=baltic-demo]")).to_be_checked()
    white.shot("01-lobby")
    code = white.create_game("baltic-demo")
    est, pol, deu, obs = players("EST"), players("POL"), players("DEU"), players("observer")
    est.join(code, "delegation", "Kaja", member="EST")
    pol.join(code, "delegation", "Piotr", member="POL")
    deu.find_game(code)
    present = deu.page.get_by_test_id("present")
    expect(present).to_contain_text("Estonia: Kaja")
    expect(present).to_contain_text("Poland: Piotr")
    expect(present).to_contain_text("Germany: open")
    deu.page.get_by_label("Member state").select_option("DEU")
    deu.page.get_by_label("Your name").fill("Greta")
    deu.shot("02-join-choose-seat")
    deu.page.get_by_role("button", name="Take this seat").click()
    deu.connected()
    obs.join(code, "observer", "Olli")
    delegations = {"EST": est, "POL": pol, "DEU": deu}

    # --- start: the briefing's countdown runs on the server's deadline ----------------------------------
    white.page.get_by_role("button", name="Start the exercise").click()
    for p in (white, est, pol, deu, obs):
        p.wait_phase("Round 1 of 3 · briefing")
    est.record_clock()
    first = est.seconds_left()
    assert 50 <= first <= 60
    # A cost share is a weight: it is shown against the whole it is a part of (16+16+10+4+1+1 = 48).
    expect(est.page.get_by_test_id("cost-share")).to_have_text(re.compile(r"^\s*1 of 48\s*≈\s*\(2\.1%\)\s*$"))
    white.shot("03-facilitator-console")

    # --- a private message; the recipients are on screen before sending ---------------------------------
    est.write("Bilateral: Poland", "To: Poland only (private)", PRIVATE)
    # Poland, on its dashboard, sees that a message came, and where; its own message is no news to Estonia.
    expect(pol.page.get_by_test_id("news-messages")).to_have_text("1 new")
    expect(est.page.get_by_test_id("news-messages")).to_have_count(0)
    pol.tab("Messages")
    from_estonia = pol.page.get_by_role("button", name="Bilateral: Estonia")
    expect(from_estonia.get_by_test_id("unread")).to_have_text("1 new")
    pol.shot("04-delegation-messages-unread", full_page=False)
    from_estonia.click()
    expect(pol.page.get_by_test_id("thread")).to_contain_text(PRIVATE)
    expect(pol.page.get_by_test_id("news-messages")).to_have_count(0)
    expect(from_estonia.get_by_test_id("unread")).to_have_count(0)

    deu.tab("Messages")
    expect(deu.page.get_by_test_id("recipients")).to_contain_text("To: EVERYONE")
    deu.page.get_by_label("Message").fill(PUBLIC)
    deu.page.get_by_role("button", name="Send").click()
    expect(deu.page.get_by_test_id("thread")).to_contain_text(PUBLIC)
    expect(est.page.get_by_test_id("news-messages")).to_have_text("1 new")  # the Poland channel is open
    est.page.get_by_role("button", name=re.compile("Alliance")).click()
    expect(est.page.get_by_test_id("thread")).to_contain_text(PUBLIC)
    expect(est.page.get_by_test_id("news-messages")).to_have_count(0)
    pol.tab("Dashboard")
    pol.page.reload()  # what Poland has read is remembered: only the alliance message is new
    pol.connected()
    expect(pol.page.get_by_test_id("news-messages")).to_have_text("1 new")
    est.shot("04-delegation-messages")

    # --- a cyber inject for Estonia only -------------------------------------------------------------------
    form = white.page.get_by_test_id("free-inject")
    form.get_by_label("Title").fill(CYBER)
    form.get_by_label("Text").fill("Banking and tax portals unreachable; a ransom note in Russian.")
    form.get_by_label("Kind").select_option("cyber_attack")
    form.get_by_label("Estonia").check()
    expect(white.page.get_by_test_id("inject-recipients")).to_have_text("Visible to: Estonia only")
    form.get_by_role("button", name="Deliver inject").click()
    white.page.get_by_label("Announcement to every seat").fill("Capitals are consulting.")
    white.page.get_by_role("button", name="Broadcast to all").click()
    # Estonia, reading messages, sees that something arrived on its dashboard; Germany got nothing of it.
    expect(est.page.get_by_test_id("news-dashboard")).to_have_text("1 new")
    expect(deu.page.get_by_test_id("news-dashboard")).to_have_count(0)
    est.tab("Dashboard")
    expect(est.page.get_by_test_id("news-dashboard")).to_have_count(0)
    newest = est.page.get_by_test_id("inject").first
    expect(newest).to_contain_text(CYBER)
    expect(newest).to_contain_text("cyber attack")
    est.shot("05-delegation-dashboard")
    for p in (pol, deu, obs):  # the broadcast came after the inject: if they had it, it would show by now
        p.tab("Record" if p is obs else "Dashboard")
        expect(p.announcement("Capitals are consulting.")).to_be_visible()
        expect(p.page.get_by_text(CYBER)).to_have_count(0)
    obs.shot("06-observer-record")
    _no_leaks(delegations, secrets)

    # --- the countdown reaches 0:00 and the server moves play on -------------------------------------------
    est.wait_phase("deliberation", timeout=75_000)
    briefing = [left for phase, left in est.clock_record() if "briefing" in phase and ":" in left]
    seconds = [_seconds(x) for x in briefing]
    assert seconds == sorted(seconds, reverse=True), briefing
    assert seconds[0] >= first - 1 and seconds[-1] == 0, briefing
    for p in (white, pol, deu, obs):
        p.wait_phase("deliberation")

    # --- consultation, requested by Estonia with Poland -----------------------------------------------------
    est.tab("Council")
    est.page.get_by_role("group", name="Co-requesters (optional)").get_by_label("Poland").check()
    est.page.get_by_role("button", name="Request consultation with POL").click()
    for p in (est, pol, deu):
        p.tab("Council")
        consultations = p.page.get_by_test_id("consultations")
        expect(consultations).to_contain_text("Requested by Estonia in round 1, joined by Poland")
    # Joining is requesting: Poland has no request of its own left this round; Germany has.
    expect(pol.page.get_by_text("Poland has convened the council this round, with Estonia.")).to_be_visible()
    expect(pol.page.get_by_role("button", name="Request consultation")).to_have_count(0)
    expect(deu.page.get_by_role("button", name="Request consultation")).to_be_visible()

    # --- pause, extend by five minutes while paused, resume -------------------------------------------
    white.page.get_by_role("button", name="Pause").click()
    clock = est.page.get_by_test_id("countdown")
    expect(clock).to_contain_text("PAUSED")
    paused = _seconds(clock.inner_text())
    white.page.get_by_role("button", name="Extend +5 min").click()
    expect(clock).to_contain_text(f"PAUSED · {_clock(paused + 300)} left")
    white.page.get_by_role("button", name="Resume").click()
    expect(clock).not_to_contain_text("PAUSED")
    assert _seconds(clock.inner_text()) > 300

    white.page.get_by_role("button", name="End the deliberation phase now").click()
    for p in (est, pol, deu):
        p.wait_phase("council")

    # --- a statement blocked by one objection; a deployment under silence ------------------------------------
    est.table_proposal(kind="joint_statement", procedure="consensus", text=STATEMENT)
    expect(pol.proposal("P1")).to_be_visible()
    expect(pol.page.get_by_test_id("news-council")).to_have_text("1 to answer")
    expect(est.page.get_by_test_id("news-council")).to_have_count(0)  # tabling it, Estonia concurs
    pol.proposal("P1").get_by_role("button", name="Object").click()
    expect(pol.page.get_by_test_id("news-council")).to_have_count(0)
    deu.proposal("P1").get_by_role("button", name="Concur with reservation…").click()
    deu.proposal("P1").get_by_label("Reservation").fill("Subject to the Bundestag's scrutiny")
    deu.proposal("P1").get_by_role("button", name="Submit reservation").click()
    positions = est.proposal("P1")
    expect(positions.locator("tr[data-member=POL]")).to_contain_text("objects")
    expect(positions.locator("tr[data-member=DEU]")).to_contain_text("concurs with reservation")
    expect(positions.locator("tr[data-member=EST]")).to_contain_text("concurs")
    pol.table_proposal(kind="deploy_forces", procedure="silence", text=DEPLOYMENT, forces="12")
    expect(est.proposal("P2")).to_contain_text("silent")
    expect(deu.page.get_by_test_id("news-council")).to_have_count(0)  # under silence, saying nothing is a position
    est.shot("07-council-positions")
    white.page.get_by_role("button", name="End the council phase now").click()

    # --- outcomes, then pledges against fair shares -----------------------------------------------------
    for p in (est, pol, deu):
        p.wait_phase("commitments")
        expect(p.proposal("P1").get_by_test_id("outcome")).to_have_text("blocked")
        expect(p.proposal("P2").get_by_test_id("outcome")).to_have_text("adopted")
    # fair share = requirement x cost_share / sum of cost shares (16+16+10+4+1+1 = 48)
    for p, share in ((est, "0.25"), (pol, "1"), (deu, "4")):
        expect(p.page.get_by_test_id("fair-share-P2")).to_have_text(share)
    expect(est.page.get_by_test_id("shortfall-P2")).to_have_text("12")
    for p, forces in ((est, "1"), (pol, "2"), (deu, "4")):
        p.proposal("P2").get_by_label("Units to pledge").fill(forces)
        p.proposal("P2").get_by_role("button", name="Pledge").click()
    for p in (est, pol, deu):
        expect(p.page.get_by_test_id("shortfall-P2")).to_have_text("5")
    obs.tab("Council")
    expect(obs.page.get_by_test_id("shortfall-P2")).to_have_text("5")
    expect(obs.page.get_by_role("button", name="Object")).to_have_count(0)  # read-only
    est.shot("08-council-pledges")

    # --- through adjudication to round 2: the round is assessed, metrics charted ----------------------
    white.page.get_by_role("button", name="End the commitments phase now").click()
    white.wait_phase("adjudication")
    white.page.get_by_role("button", name="End the adjudication phase now").click()
    for p in (white, est, pol, deu, obs):
        p.wait_phase("Round 2 of 3 · briefing")
    # MSEL #2 (and whatever the scripted adversary's draw added) came while the observer watched the council.
    expect(obs.page.get_by_test_id("news-record")).to_have_text(re.compile(r"^[1-9] new$"))
    est.tab("Dashboard")
    expect(est.page.locator("figure.chart canvas")).to_have_count(3)
    expect(est.page.get_by_test_id("inject").first).to_contain_text("drones")  # MSEL #2, to everyone
    est.shot("09-delegation-dashboard-round-2")
    white.page.get_by_role("button", name="Projector mode").click()
    white.tab("Control")
    expect(white.page.locator("figure.chart canvas")).to_have_count(3)
    white.shot("10-facilitator-console-projector")
    white.page.get_by_role("button", name="Projector mode").click()
    white.tab("All seats")
    expect(white.page.get_by_text(CYBER)).to_be_visible()
    expect(white.page.get_by_text(PRIVATE)).to_be_visible()
    white.shot("11-facilitator-all-seats")
    obs.page.get_by_role("button", name="Projector mode").click()
    obs.tab("Record")
    expect(obs.page.get_by_test_id("news-record")).to_have_count(0)
    obs.shot("12-observer-projector")

    _no_leaks(delegations, secrets)
    for p in (white, est, pol, deu, obs):
        assert p.errors == [], (p.name, p.errors)


def _seconds(text: str) -> int:
    found = re.search(r"(\d+):(\d\d)", text)
    assert found, text
    return int(found[1]) * 60 + int(found[2])


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _no_leaks(delegations: dict[str, Player], secrets: dict[str, list[str]]) -> None:
    """No delegation's screens show another member's secret objectives or a private message between others."""
    for code, p in delegations.items():
        text = p.text_on_every_tab()
        for other, texts in secrets.items():
            for secret in texts if other != code else ():
                assert secret not in text, f"{code} sees {other}'s secret objective {secret!r}"
        if code not in ("EST", "POL"):
            assert PRIVATE not in text, f"{code} sees a private message between EST and POL"
        if code != "EST":
            assert CYBER not in text, f"{code} sees an inject meant for Estonia only"
