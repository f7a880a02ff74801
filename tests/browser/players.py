"""One player at a browser: a Playwright context and page, the console errors it saw, and the steps
every test takes through the client's screens (lobby, seats, tabs); and a whole game played by bots to review."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from game_rules.yaml12 import load as load_yaml
from server.bots.game import GameOutcome, play_game

SCENARIOS = Path(__file__).resolve().parents[2] / "game_rules" / "scenarios"

# Records every (phase, countdown) pair the header shows, so that a test can look back at the countdown.
RECORD_CLOCK = """() => {
  window.__clock = [];
  const note = () => {
    const phase = document.querySelector('[data-testid=phase]')?.textContent || '';
    const left = document.querySelector('[data-testid=countdown]')?.textContent || '';
    const last = window.__clock[window.__clock.length - 1];
    if (!last || last[0] !== phase || last[1] !== left) window.__clock.push([phase, left]);
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""


def objectives(scenario: str) -> dict[str, list[str]]:
    """Each member's secret objective texts, read from the scenario file."""
    data = load_yaml((SCENARIOS / f"{scenario}.yaml").read_text(encoding="utf-8"))
    return {m["code"]: [o["text"] for o in m.get("objectives", [])] for m in data["members"]}


def seminar(
    players: Callable[[str], Player], delegations: dict[str, str], scenario: str = "baltic-demo"
) -> tuple[Player, dict[str, Player]]:
    """A game the white cell creates, with a player seated at each member state named (its code: the player's
    name); the facilitator, and each delegation's player by member code."""
    white = players("facilitator")
    code = white.create_game(scenario)
    seated = {member: players(member) for member in delegations}
    for member, name in delegations.items():
        seated[member].join(code, "delegation", name, member=member)
    return white, seated


def briefing(scenario: str) -> tuple[str, dict[str, str]]:
    """The scenario file's situation and each brief (the adversary's under "adversary"), each as the opening of its
    first paragraph reads on a screen: enough to find it, whitespace as a browser lays it out."""

    def opening(text: str) -> str:
        return " ".join(text.strip().split("\n\n")[0].split())[:100]

    data = load_yaml((SCENARIOS / f"{scenario}.yaml").read_text(encoding="utf-8"))
    briefs = {m["code"]: opening(m["brief"]) for m in data["members"] if m.get("brief")}
    if brief := data["exercise"].get("adversary", {}).get("brief"):
        briefs["adversary"] = opening(brief)
    return opening(data.get("situation", "")), briefs


@dataclass
class Player:
    name: str
    context: Any
    page: Any
    base_url: str
    screenshots: Path
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", self._page_error)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _page_error(self, error: Any) -> None:
        self.errors.append(f"pageerror: {error}")

    # --- lobby -----------------------------------------------------------------------------------

    def create_game(self, scenario: str = "baltic-demo", facilitator: str = "White Cell") -> str:
        """Create a game as facilitator from the lobby; returns the join code shown."""
        page = self.page
        page.goto(f"{self.base_url}/#/")
        page.locator(f"input[name=scenario][value={scenario}]").check()
        page.get_by_label("Facilitator name").fill(facilitator)
        page.get_by_role("button", name="Create game as facilitator").click()
        code: str = page.get_by_test_id("join-code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{4,12}", code), code
        self.connected()
        return code

    def create_game_from_file(self, path: Path) -> str:
        """Create a game as facilitator from a scenario file of one's own; returns the join code shown."""
        page = self.page
        page.goto(f"{self.base_url}/#/")
        page.get_by_label("Scenario file", exact=True).set_input_files(str(path))
        page.get_by_role("button", name="Create game as facilitator").click()
        self.connected()
        return str(page.get_by_test_id("join-code").first.inner_text())

    def start(self) -> None:
        """The facilitator starts the exercise from the console."""
        self.page.get_by_role("button", name="Start the exercise").click()

    def find_game(self, code: str) -> None:
        self.page.goto(f"{self.base_url}/#/join/{code}")
        self.page.get_by_test_id("present").wait_for()

    def take_seat(self, role: str, player: str, member: str | None = None) -> None:
        page = self.page
        page.locator(f"input[name=role][value={role}]").check()
        if member:
            page.get_by_label("Member state").select_option(member)
        page.get_by_label("Your name").fill(player)
        page.get_by_role("button", name="Take this seat").click()
        self.connected()

    def join(self, code: str, role: str, player: str, member: str | None = None) -> None:
        self.find_game(code)
        self.take_seat(role, player, member)

    # --- play ------------------------------------------------------------------------------------

    def connected(self) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id("connection")).to_have_text("Connected")

    def tab(self, label: str) -> None:
        name = re.compile(rf"^{re.escape(label)}( \d+ [a-z ]+)?$")  # a tab may count what is new on it
        self.page.get_by_role("navigation", name="Screens").get_by_role("link", name=name).click()

    def write(self, channel: str, recipients: str, text: str) -> None:
        """Send `text` in the Messages channel named `channel`, once the recipients spelled out beside Send read
        `recipients`; returns when the conversation shows it."""
        from playwright.sync_api import expect

        self.tab("Messages")
        self.page.get_by_role("button", name=channel).click()
        expect(self.page.get_by_test_id("recipients")).to_have_text(recipients)
        self.page.get_by_label("Message").fill(text)
        self.page.get_by_role("button", name="Send").click()
        expect(self.page.get_by_test_id("thread")).to_contain_text(text)

    def phase(self) -> str:
        text: str = self.page.get_by_test_id("phase").inner_text()
        return text

    def wait_phase(self, text: str, timeout: float = 15_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id("phase")).to_contain_text(text, timeout=timeout)

    def seconds_left(self) -> int:
        minutes, seconds = self.page.get_by_test_id("countdown").inner_text().split(":")
        return int(minutes) * 60 + int(seconds)

    def record_clock(self) -> None:
        self.page.evaluate(RECORD_CLOCK)

    def clock_record(self) -> list[tuple[str, str]]:
        return [tuple(pair) for pair in self.page.evaluate("() => window.__clock")]

    def announcement(self, text: str) -> Any:
        """`text` among the white cell's announcements on this tab (the news line above every tab repeats the
        latest)."""
        return self.page.get_by_role("region", name="From the white cell").get_by_text(text)

    def proposal(self, pid: str) -> Any:
        return self.page.get_by_test_id(f"proposal-{pid}")

    def table_proposal(self, *, kind: str, procedure: str, text: str, forces: str | None = None) -> None:
        """Table a proposal from the council screen and wait until it is listed."""
        from playwright.sync_api import expect

        form = self.page.get_by_test_id("table-form")
        form.get_by_label("Kind").select_option(kind)
        form.get_by_label("Procedure").select_option(procedure)
        form.get_by_label("Text").fill(text)
        if forces is not None:
            form.get_by_label("Units").fill(forces)
        before = self.page.locator("article.proposal").count()
        form.get_by_role("button", name=re.compile(r"^Table P\d+$")).click()
        expect(self.page.locator("article.proposal")).to_have_count(before + 1)

    def hold_chair(self, outcome: GameOutcome) -> None:
        """Keep the credential of the facilitator's seat of a game bots played, as the client keeps a seat it took."""
        seat = {
            "token": outcome.facilitator_key,
            "role": "facilitator",
            "member": None,
            "player": "Chair (bot)",
            "title": outcome.title,
        }
        self.page.goto(f"{self.base_url}/#/")
        self.page.evaluate(
            "(seats) => localStorage.setItem('wargame.seats', seats)", json.dumps({outcome.game_id: seat})
        )

    def wait_for(self, condition: Callable[[], bool], seconds: float = 30) -> None:
        """Until `condition` holds, letting the page run (frames a test routes through Playwright are handled
        meanwhile)."""
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "the browser did not get there"
            self.page.wait_for_timeout(50)

    def shot(self, name: str, full_page: bool = True) -> None:
        self.page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=full_page)

    def text_on_every_tab(self) -> str:
        """The visible text of each of this player's screens, visited in turn."""
        texts = []
        for link in self.page.get_by_role("navigation", name="Screens").get_by_role("link").all():
            link.click()
            self.page.locator("main").wait_for()
            texts.append(self.page.locator("body").inner_text())
        return "\n".join(texts)


def played(base_url: str) -> GameOutcome:
    """Play in a thread of its own: Playwright's sync API holds an event loop on the main thread."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["outcome"] = asyncio.run(play_game(base_url, "baltic-demo", seed=3, phase_pause=0.0))
        except BaseException as error:
            result["error"] = error

    thread = threading.Thread(target=run, name="bots", daemon=True)
    thread.start()
    thread.join(90)
    if thread.is_alive():
        raise TimeoutError("the bots' game had not ended after 90 s")
    if "error" in result:
        raise result["error"]
    outcome: GameOutcome = result["outcome"]
    assert outcome.status == "ended", outcome.status
    return outcome
