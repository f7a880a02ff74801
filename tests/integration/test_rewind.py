"""The facilitator's undo over real sockets: every seat is brought back to the earlier moment at once, and the game
stays rewound across a restart, snapshots or not.

Runs on a SQLite file, or on PostgreSQL when DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy.exc import OperationalError

import server.rooms
from game_rules import EVENT_ADAPTER, replay, state_hash
from game_rules.review import review
from game_rules.state import CHAIR
from server.replay import replay_game
from server.report import GameInfo, markdown
from server.rooms import load_state
from server.store import EventStore
from tests.integration.live import LiveServer, Seat, claim_seat, client, create_game, rest_view, ws_base
from tests.integration.test_restart import advance
from tests.unit.scripted import Table
from tests.unit.test_play import SCENARIO


def a_slip_in_council() -> tuple[Table, int]:
    """A council where Poland objects to Estonia's statement by mistake; the moment just before the tabling."""
    table = Table(SCENARIO)
    table.do(CHAIR, type="start_game", at=1000.0)
    table.to("council")
    moment = table.state.seq
    table.do("EST", type="table_proposal", proposal="P1", kind="joint_statement")
    table.do("POL", type="object", proposal="P1")
    return table, moment


@pytest.mark.anyio
async def test_a_rewind_to_before_the_latest_snapshot_is_loaded_from_an_earlier_one(store: EventStore) -> None:
    table, moment = a_slip_in_council()
    snapshot = replay(table.log)  # the state a snapshot taken here holds: after the moment, before the rewind
    table.do(CHAIR, type="rewind_game", to_seq=moment, note="start the council again")
    game = await store.create_game(
        scenario="baltic-demo", ruleset="nato", title="t", join_code="REWIND", facilitator_key_hash="x", seed=0
    )
    await store.append(game.id, 0, [(e.type, EVENT_ADAPTER.dump_json(e).decode()) for e in table.log])
    await store.save_snapshot(game.id, snapshot.seq, snapshot.model_dump_json(), state_hash(snapshot))

    loaded = await load_state(store, game.id)

    assert state_hash(loaded) == state_hash(table.state)
    assert loaded.proposals == {}
    assert state_hash(await load_state(store, game.id, until_seq=snapshot.seq)) == state_hash(snapshot)


def test_the_report_names_each_rewind_with_its_reason() -> None:
    table, moment = a_slip_in_council()
    table.do(CHAIR, type="rewind_game", to_seq=moment, note="Poland meant to concur")

    md = markdown(GameInfo("g", "t", "baltic-demo", "now", []), review(enumerate(table.log, start=1)))

    rulings = md.split("## Rulings of the white cell")[1].split("##")[0].strip().splitlines()
    assert rulings == [
        f"- [round 1, council, event {moment + 3}] The facilitator turns play back to just after event {moment}: "
        "Poland meant to concur"
    ]
    assert "The white cell turned play back 1 time(s), undoing 2 event(s)" in md


@pytest.mark.anyio
@pytest.mark.parametrize("snapshot_every", [server.rooms.SNAPSHOT_EVERY, 3])
async def test_a_rewind_reaches_every_seat_and_outlives_the_server(
    database_url: str, snapshot_every: int, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    # Snapshots every 3 events put one after the moment the rewind goes back to: the state after a restart is then
    # loaded from an earlier snapshot.
    monkeypatch.setattr(server.rooms, "SNAPSHOT_EVERY", snapshot_every)
    async with LiveServer(database_url) as first, client(first.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, member="EST", player="Kaja")
        pol = await claim_seat(http, game, member="POL", player="Marek")
        url = ws_base(first.url)
        async with (
            Seat(url, game.game_id, game.facilitator_key, name="fac") as fac,
            Seat(url, game.game_id, est.token, name="EST") as est_seat,
            Seat(url, game.game_id, pol.token, name="POL") as pol_seat,
        ):
            await fac.ack({"type": "start_game"})
            while (await rest_view(http, game, game.facilitator_key))["phase"] != "council":
                await advance(fac, http, game)
            moment = await est_seat.ack({"type": "table_proposal", "proposal": "P1", "kind": "joint_statement"})
            await pol_seat.ack({"type": "object", "proposal": "P1"})  # meant to concur
            await pol_seat.ack({"type": "send_message", "text": "That objection was a slip."})
            timeline = (
                await http.get(
                    f"/api/games/{game.game_id}/review/timeline",
                    headers={"Authorization": f"Bearer {game.facilitator_key}"},
                )
            ).json()
            assert [e["type"] for e in timeline if e["seq"] > moment] == ["position_taken", "message_sent"]

            refused = await pol_seat.refused({"type": "rewind_game", "to_seq": moment, "note": "mine"})
            assert refused["code"] == "facilitator_only"
            seq = await fac.ack({"type": "rewind_game", "to_seq": moment, "note": "Poland meant to concur"})

            for seat in (est_seat, pol_seat, fac):
                whole = (await seat.until(lambda f: f.get("type") == "view" and f["seq"] >= seq))[-1]
                assert "update" not in whole, "after a rewind each seat gets its whole view: logs may be shorter"
                view = whole["view"]
                (p1,) = view["proposals"]
                assert p1["positions"] == {"EST": "concur"}, seat.name
                assert view["status"] == "paused"
                assert view["announcements"][-1].endswith("Poland meant to concur")
                assert [m["text"] for m in view["messages"]] == ["That objection was a slip."]
            rewound = await rest_view(http, game, game.facilitator_key)
            await fac.ack({"type": "resume_game"})
            await pol_seat.ack({"type": "concur", "proposal": "P1"})
            after = await rest_view(http, game, game.facilitator_key)

    async with LiveServer(database_url) as second, client(second.url) as http:
        assert await rest_view(http, game, game.facilitator_key) == after
        exported = await http.get(
            f"/api/games/{game.game_id}/export",
            params={"format": "csv", "table": "events"},
            headers={"Authorization": f"Bearer {game.facilitator_key}"},
        )
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert {int(r["seq"]): r["type"] for r in rows if r["undone"] == "yes"} == {moment + 1: "position_taken"}
    assert rewound["seq"] == seq
    report = await replay_game(database_url, game.game_id)
    assert report.consistent and report.events == after["seq"], report.text()
    store = EventStore.from_url(database_url)
    try:
        taken = [s.seq for s in await store.snapshots(game.game_id)]
    finally:
        await store.dispose()
    if snapshot_every == 3:
        assert any(moment < at < seq for at in taken), f"no snapshot between the moment and the rewind: {taken}"


@pytest.mark.anyio
async def test_a_rewind_takes_a_command_back_whole_never_half_of_it(database_url: str, anyio_backend: str) -> None:
    async with LiveServer(database_url) as server, client(server.url) as http:
        game = await create_game(http)
        await claim_seat(http, game, member="EST", player="Kaja")
        auth = {"Authorization": f"Bearer {game.facilitator_key}"}
        async with Seat(ws_base(server.url), game.game_id, game.facilitator_key, name="fac") as fac:
            before = (await rest_view(http, game, game.facilitator_key))["seq"]
            started = await fac.ack({"type": "start_game"})  # the start, its phase and its first injects
            assert started - before > 2
            timeline = (await http.get(f"/api/games/{game.game_id}/review/timeline", headers=auth)).json()
            starts = [e["seq"] for e in timeline if e["starts_command"] and e["seq"] > before]
            assert starts == [before + 1], "the start's consequences are not commands of their own"

            for inside in (before + 1, started - 1):
                refused = await fac.refused({"type": "rewind_game", "to_seq": inside, "note": "half a start"})
                assert refused["code"] == "mid_command"
                assert f"events {before + 1} to {started}" in refused["reason"]
            assert (await rest_view(http, game, game.facilitator_key))["seq"] == started, "a refusal changes nothing"

            await fac.ack({"type": "rewind_game", "to_seq": before, "note": "not yet: one more delegation"})
            view = await rest_view(http, game, game.facilitator_key)
            assert view["status"] == "lobby" and view["injects"] == []


@pytest.mark.anyio
async def test_a_rewind_stored_while_the_database_goes_away_is_not_said_to_be_refused_and_reaches_every_seat(
    database_url: str, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    """The rewind's events are stored; then reading the moment it goes back to fails as a connection lost at that
    instant would.  Its sender is told the server failed (not that the database refused and nothing changed), the
    room reads the rewind back from the store and shows it to every seat, and sent again under its key it is
    answered with the seq it was played at."""
    async with LiveServer(database_url) as live, client(live.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, member="EST", player="Kaja")
        url = ws_base(live.url)
        async with (
            Seat(url, game.game_id, game.facilitator_key, name="fac") as fac,
            Seat(url, game.game_id, est.token, name="EST") as est_seat,
        ):
            moment = await fac.ack({"type": "start_game"})
            await advance(fac, http, game)
            before = await rest_view(http, game, est.token)
            assert before["phase"] != "briefing"

            read = server.rooms.load_state
            lost: list[int | None] = []

            async def connection_lost_once(store: EventStore, game_id: str, until_seq: int | None = None) -> object:
                if not lost:
                    lost.append(until_seq)
                    raise OperationalError("SELECT", {}, ConnectionError("server closed the connection unexpectedly"))
                return await read(store, game_id, until_seq)

            monkeypatch.setattr(server.rooms, "load_state", connection_lost_once)
            rewind = {"type": "rewind_game", "to_seq": moment, "note": "back to the briefing"}
            frame = {"type": "command", "ref": "r1", "key": "rewind-1", "command": rewind}
            await fac.send_raw(json.dumps(frame))
            answer = await fac.answer("r1")
            assert (answer["type"], answer["code"]) == ("error", "internal_error"), answer
            assert lost == [moment]

            for seat in (est_seat, fac):
                whole = (await seat.until(lambda f: f.get("type") == "view" and f["seq"] > before["seq"]))[-1]
                assert (whole["view"]["phase"], whole["view"]["status"]) == ("briefing", "paused"), seat.name
            await fac.send_raw(json.dumps({**frame, "ref": "r2"}))
            again = await fac.answer("r2")
            assert (again["type"], again.get("repeated")) == ("ack", True), again
            assert again["seq"] == (await rest_view(http, game, est.token))["seq"]
