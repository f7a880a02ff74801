"""A game outlives its server: stop it cleanly or kill it mid-game, start another on the same database, and the
seats reconnect to exactly the game they left.

Runs on a SQLite file, or on PostgreSQL when DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
import pytest

import server.app as app_module
from server.replay import replay_game
from server.rooms import SNAPSHOT_EVERY
from server.store import EventStore
from tests.integration.live import (
    Frame,
    Game,
    LiveServer,
    ProcessServer,
    Seat,
    SeatKey,
    bearer,
    claim_seat,
    client,
    create_game,
    rest_view,
    ws_base,
)

pytestmark = pytest.mark.anyio

NAMES = ("fac", "EST", "POL", "USA", "obs")
BURST = 30
"""Commands still in flight when the server goes down."""


async def open_seats(
    url: str, game: Game, tokens: dict[str, str], since: dict[str, int] | None = None
) -> dict[str, Seat]:
    seats: dict[str, Seat] = {}
    try:
        for name, token in tokens.items():
            seat = Seat(ws_base(url), game.game_id, token, since=(since or {}).get(name), name=name)
            seats[name] = seat
            await seat.open()
            assert (await seat.welcome())["seat"]["role"] in ("facilitator", "delegation", "observer")
    except BaseException:
        await close_seats(seats)
        raise
    return seats


async def close_seats(seats: dict[str, Seat]) -> None:
    for seat in seats.values():
        await seat.close()


async def advance(seat: Seat, http: httpx.AsyncClient, game: Game) -> int:
    view = await rest_view(http, game, game.facilitator_key)
    return await seat.ack({"type": "advance_phase", "from_round": view["round"], "from_phase": view["phase"]})


def without(view: Frame, *keys: str) -> Frame:
    return {k: v for k, v in view.items() if k not in keys}


async def play_first_part(http: httpx.AsyncClient, game: Game, seats: dict[str, Seat]) -> int:
    """Seats, start, consultation, a private message, a free-form action and its ruling, a council with two
    proposals and positions, a targeted inject, and enough announcements to cross a snapshot."""
    fac, est, pol, usa = seats["fac"], seats["EST"], seats["POL"], seats["USA"]
    await fac.ack({"type": "start_game"})
    await advance(fac, http, game)
    await est.ack({"type": "request_consultation", "joined_by": ["LTU"]})
    await est.ack({"type": "send_message", "to": ["POL"], "text": "Private: our jets are ready"})
    await est.ack({"type": "propose_action", "text": "Close the border crossing at Narva"})
    await fac.ack({"type": "rule_on_action", "action": "A1", "ruling": "accepted"})
    await advance(fac, http, game)
    await est.ack({"type": "table_proposal", "proposal": "P1", "kind": "sanctions", "text": "Sanctions package"})
    await pol.ack({"type": "concur", "proposal": "P1"})
    await usa.ack({"type": "concur_with_reservation", "proposal": "P1", "reservation": "Subject to Congress"})
    await pol.ack(
        {
            "type": "table_proposal",
            "proposal": "P2",
            "kind": "deploy_forces",
            "procedure": "silence",
            "requirement": {"forces": 12},
        }
    )
    await usa.ack({"type": "break_silence", "proposal": "P2"})
    await fac.ack({"type": "inject", "title": "Eyes only", "text": "Drone debris found", "visible_to": ["EST"]})
    await fac.ack({"type": "extend_phase", "seconds": 45})
    # Enough events that the restarted server loads this game from a snapshot, not from the first event.
    refs = [await fac.send_command({"type": "broadcast", "text": f"bulletin {i}"}) for i in range(SNAPSHOT_EVERY)]
    answers = [await fac.answer(ref) for ref in refs]
    assert all(a["type"] == "ack" for a in answers)
    settled: int = answers[-1]["seq"]
    assert settled > SNAPSHOT_EVERY
    return settled


@pytest.mark.parametrize("how", ["clean_shutdown", "task_cancelled", "process_killed"])
async def test_a_game_survives_a_restart_of_its_server(database_url: str, how: str, anyio_backend: str) -> None:
    """clean_shutdown: as on SIGTERM.  task_cancelled: the server's task is cancelled and its connections cut.
    process_killed: the server runs in a child process that gets SIGKILL."""
    first: LiveServer | ProcessServer = (
        ProcessServer(database_url) if how == "process_killed" else LiveServer(database_url)
    )
    await first.start()
    seats: dict[str, Seat] = {}
    try:
        async with client(first.url) as http:
            game = await create_game(http, title="Restart drill")
            keys: dict[str, SeatKey] = {m: await claim_seat(http, game, "delegation", m, m) for m in NAMES[1:4]}
            keys["obs"] = await claim_seat(http, game, "observer", None, "Observer")
            tokens = {"fac": game.facilitator_key, **{n: k.token for n, k in keys.items()}}
            seats = await open_seats(first.url, game, tokens)
            settled = await play_first_part(http, game, seats)
            before = {name: await seat.view_at(settled) for name, seat in seats.items()}
            seen_by_fac = {f["seq"]: f["event"] for f in seats["fac"].events}

            # Commands in flight when the server goes: some are acknowledged, the rest may or may not be stored.
            fac = seats["fac"]
            refs = [await fac.send_command({"type": "broadcast", "text": f"late {i}"}) for i in range(BURST)]
            acked = [await fac.answer(ref) for ref in refs[:5]]
            assert [a["seq"] for a in acked] == list(range(settled + 1, settled + 6))
            if how == "clean_shutdown":
                await first.stop()
            else:
                await first.crash()
            for seat in seats.values():
                code = await seat.wait_closed()
                # The chair still had frames on the wire at the clean stop: it gets the 1012 all the same.
                assert code == (1012 if how == "clean_shutdown" else 1006), (seat.name, code)
            in_flight = set(refs)
            acked = [f for f in fac.frames if f.get("type") == "ack" and f["ref"] in in_flight]
            assert [a["ref"] for a in acked] == refs[: len(acked)], "acks came out of order"
            assert [a["seq"] for a in acked] == list(range(settled + 1, settled + 1 + len(acked)))
            assert not [f for f in fac.frames if f.get("type") == "refusal"]
            last_seen = {name: seat.last_seq for name, seat in seats.items()}
            await close_seats(seats)
    finally:
        await close_seats(seats)
        await first.crash()

    async with LiveServer(database_url) as second, client(second.url) as http:
        after = await rest_view(http, game, game.facilitator_key)
        stored = after["seq"]
        late = stored - settled
        assert len(acked) <= late <= BURST, "an acknowledged command was lost, or a command was stored twice"
        assert after["announcements"][-late:] == [f"late {i}" for i in range(late)]

        # The log: every event the facilitator saw, unchanged, and nothing missing in between.
        log = (await http.get(f"/api/games/{game.game_id}/events", headers=bearer(game.facilitator_key))).json()
        assert [e["seq"] for e in log] == list(range(1, stored + 1))
        assert {s: e for s, e in ((e["seq"], e["event"]) for e in log) if s in seen_by_fac} == seen_by_fac
        for answer in acked:
            assert log[answer["seq"] - 1]["event"]["type"] == "announced"

        seats = await open_seats(second.url, game, tokens, since=last_seen)
        try:
            for name, seat in seats.items():
                frames = await seat.until(lambda f: f["type"] == "view")
                assert [f["seq"] for f in frames[:-1]] == list(range(last_seen[name] + 1, stored + 1)), name
                view = frames[-1]["view"]
                assert frames[-1]["seq"] == view["seq"] == stored
                assert without(view, "seq", "announcements") == without(before[name], "seq", "announcements"), name
                assert view["announcements"] == before[name]["announcements"] + after["announcements"][-late:]
                assert before[name]["deadline"] is not None
                assert view["deadline"] == before[name]["deadline"]
                assert (view["status"], view["phase"]) == ("running", "council")
            p1 = next(p for p in after["proposals"] if p["id"] == "P1")
            assert p1["positions"] == {"EST": "concur", "POL": "concur", "USA": "reserve"}
            assert p1["reservations"] == {"USA": "Subject to Congress"}
            assert [m["text"] for m in before["EST"]["messages"]] == ["Private: our jets are ready"]
            assert before["USA"]["messages"] == []
            assert "Eyes only" not in [i["title"] for i in before["obs"]["injects"]]

            # Play goes on from the next seq.
            seq = await seats["USA"].ack({"type": "object", "proposal": "P1"})
            assert seq == stored + 1
            for seat in seats.values():
                await seat.view_at(seq)
                last = seat.events[-1]
                assert last["seq"] == seq, seat.name
                event = last["event"]
                assert (event["type"], event["proposal"], event["member"], event["stance"]) == (
                    "position_taken",
                    "P1",
                    "USA",
                    "object",
                ), seat.name
            seq = await advance(seats["fac"], http, game)
            closed = await seats["obs"].view_at(seq)
            outcomes = {p["id"]: p["outcome"] for p in closed["proposals"]}
            assert outcomes == {"P1": "blocked", "P2": "silence_broken"}
            assert closed["phase"] == "commitments"
        finally:
            await close_seats(seats)
        final = (await rest_view(http, game, game.facilitator_key))["seq"]

    report = await replay_game(database_url, game.game_id)
    assert report.consistent, report.text()
    assert report.events == final
    assert report.snapshots_checked >= 1


async def test_a_paused_game_stays_paused_across_a_restart(database_url: str, anyio_backend: str) -> None:
    async with LiveServer(database_url) as first, client(first.url) as http:
        game = await create_game(http)
        seats = await open_seats(first.url, game, {"fac": game.facilitator_key})
        try:
            await seats["fac"].ack({"type": "start_game"})
            seq = await seats["fac"].ack({"type": "pause_game"})
            paused = await seats["fac"].view_at(seq)
        finally:
            await close_seats(seats)
    assert paused["status"] == "paused" and paused["paused_remaining"] is not None

    async with LiveServer(database_url) as second, client(second.url) as http:
        await asyncio.sleep(0.6)  # two turns of the deadline loop: a paused game has no deadline to enforce
        view = await rest_view(http, game, game.facilitator_key)
        assert view == paused
        listed = {g["game_id"]: g["status"] for g in (await http.get("/api/games")).json()}
        assert listed[game.game_id] == "paused"
        response = await http.post(
            f"/api/games/{game.game_id}/commands", json={"type": "resume_game"}, headers=bearer(game.facilitator_key)
        )
        assert response.status_code == 200, response.text
        resumed = await rest_view(http, game, game.facilitator_key)
        assert resumed["status"] == "running" and resumed["seq"] == seq + 1
        assert resumed["deadline"] is not None and resumed["paused_remaining"] is None


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_deadline_that_passed_while_the_server_was_down_is_enforced_on_restart(
    database_url: str, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    clock = FrozenClock(1_900_000_000.0)
    monkeypatch.setattr(app_module, "time", SimpleNamespace(time=clock))
    async with LiveServer(database_url) as first, client(first.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST", "Kaja")
        response = await http.post(
            f"/api/games/{game.game_id}/commands", json={"type": "start_game"}, headers=bearer(game.facilitator_key)
        )
        assert response.status_code == 200, response.text
        started = response.json()["seq"]
        assert (await rest_view(http, game, est.token))["deadline"] == clock.now + 60

    clock.now += 3600  # the server was down for an hour
    async with LiveServer(database_url) as second:
        # Nobody asks for the game: the restarted server brings it back and enforces its deadline by itself.
        store = EventStore.from_url(database_url)
        try:
            async with asyncio.timeout(10):
                while (record := await store.get_game(game.game_id)) is None or record.last_seq == started:
                    await asyncio.sleep(0.05)
        finally:
            await store.dispose()
        seats = await open_seats(second.url, game, {"EST": est.token}, since={"EST": started})
        try:
            frames = await seats["EST"].until(lambda f: f["type"] == "view" and f["view"]["phase"] == "deliberation")
        finally:
            await close_seats(seats)
    events = [f for f in frames if f["type"] == "event"]
    assert [f["seq"] for f in events] == list(range(started + 1, record.last_seq + 1))
    began = events[0]["event"]
    assert (began["type"], began["round"], began["phase"]) == ("phase_began", 1, "deliberation")
    assert began["deadline"] == clock.now + 240
