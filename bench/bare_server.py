"""The baseline for bench/load.py: a bare Starlette/Uvicorn WebSocket broadcast server.

It speaks just enough of the game's socket protocol for the same load clients: a `hello` is answered by a
`welcome` and a `view` (empty), and each `command` becomes one event frame of the size the game's own
`message_sent` / `position_taken` event has, broadcast to every socket of the same game in seq order, then an
`ack` to the sender.  No rules, no store, no views: what is left is the JSON and WebSocket fan-out any server
of this shape pays, on the same Uvicorn (same event loop and options; its stock `websockets-sansio` protocol,
which the game server runs trimmed, see server/wire.py).

With `--durable FILE` it also commits each event to a SQLite file before broadcasting it, as the game server's
default store does (write-ahead log, the log flushed by every commit, the commit in the event loop; no
checkpoint while it runs, so none stalls a commit): the same fan-out with the same promise that nothing shown is
lost, for telling what that promise costs any server from what the game server's own work costs.

Run: `python -m bench.bare_server --port 8765 [--durable FILE]` (bench/load.py starts it itself).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
from collections import defaultdict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

QUEUE_LIMIT = 2000


def _dump(data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


class Hub:
    def __init__(self) -> None:
        self.games: dict[str, set[asyncio.Queue[str | None]]] = defaultdict(set)
        self.seqs: dict[str, int] = defaultdict(int)
        self.store: sqlite3.Connection | None = None

    def keep_in(self, path: str) -> None:
        """Commit every event to the SQLite file at `path` before it is broadcast (`--durable`)."""
        self.store = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "wal_autocheckpoint=0"):
            self.store.execute(f"PRAGMA {pragma}")
        self.store.execute("DROP TABLE IF EXISTS events")  # each start numbers every game's events from 1 again
        self.store.execute("CREATE TABLE events (game TEXT, seq INTEGER, frame TEXT, PRIMARY KEY (game, seq))")

    def stored(self, game_id: str, seq: int, frame: str) -> None:
        if self.store is not None:
            self.store.execute("BEGIN")
            self.store.execute("INSERT INTO events VALUES (?, ?, ?)", (game_id, seq, frame))
            self.store.execute("COMMIT")

    def event(self, game_id: str, command: dict[str, object]) -> tuple[int, str]:
        """The next seq of the game and its event frame, shaped like the game server's."""
        self.seqs[game_id] += 1
        seq = self.seqs[game_id]
        if command.get("type") == "send_message":
            event: dict[str, object] = {
                "type": "message_sent",
                "message": {
                    "id": f"M{seq}",
                    "sender": "EST",
                    "recipients": ["USA", "DEU", "FRA", "POL", "LTU"],
                    "text": command.get("text"),
                    "round": 1,
                },
            }
        else:
            event = {
                "type": "position_taken",
                "proposal": command.get("proposal"),
                "member": "EST",
                "stance": "reserve",
                "reservation": command.get("reservation"),
            }
        return seq, _dump({"type": "event", "seq": seq, "event": event})

    def broadcast(self, game_id: str, frame: str) -> None:
        for outbox in list(self.games[game_id]):
            with contextlib.suppress(asyncio.QueueFull):
                outbox.put_nowait(frame)


hub = Hub()


async def play(socket: WebSocket) -> None:
    await socket.accept()
    game_id = socket.path_params["game_id"]
    try:
        hello = json.loads(await asyncio.wait_for(socket.receive_text(), 10))
    except (TimeoutError, ValueError, WebSocketDisconnect):
        await socket.close(1008)
        return
    outbox: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
    outbox.put_nowait(_dump({"type": "welcome", "seat": {"seat_id": hello.get("token")}, "since": None}))
    outbox.put_nowait(_dump({"type": "view", "seq": hub.seqs[game_id], "view": {}}))
    hub.games[game_id].add(outbox)
    writer = asyncio.create_task(_write(socket, outbox))
    try:
        while True:
            frame = json.loads(await socket.receive_text())
            ref = frame.get("ref")
            if frame.get("type") == "command" and isinstance(frame.get("command"), dict):
                seq, event = hub.event(game_id, frame["command"])
                hub.stored(game_id, seq, event)
                hub.broadcast(game_id, event)
                outbox.put_nowait(_dump({"type": "ack", "ref": ref, "seq": seq}))
            else:
                outbox.put_nowait(_dump({"type": "pong", "ref": ref}))
    except (WebSocketDisconnect, ValueError, RuntimeError):
        pass
    finally:
        hub.games[game_id].discard(outbox)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _write(socket: WebSocket, outbox: asyncio.Queue[str | None]) -> None:
    while (frame := await outbox.get()) is not None:
        await socket.send_text(frame)


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/healthz", healthz), WebSocketRoute("/ws/games/{game_id}", play)])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--deflate", action="store_true", help="permessage-deflate, as WS_PER_MESSAGE_DEFLATE=1")
    parser.add_argument(
        "--durable", metavar="FILE", help="commit each event to this SQLite file before broadcasting it"
    )
    args = parser.parse_args()
    if args.durable:
        hub.keep_in(args.durable)
    # The same server options as `wargame serve`.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=65536,
        ws_per_message_deflate=args.deflate,
    )


if __name__ == "__main__":
    main()
