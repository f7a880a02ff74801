"""One WebSocket per seat: `hello` with the seat's credential, then commands in; events, views and
answers out, in the order the game produced them.  The wire format is in docs/protocol.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocketDisconnected

from game_rules import COMMAND_ADAPTER, Refusal
from server.errors import ApiError, readable_errors
from server.lobby import Lobby, actor_for, viewer_for
from server.rooms import Connection, Room
from server.store import SeatRecord

router = APIRouter()

HELLO_TIMEOUT = 10.0
POLICY_VIOLATION = 1008
TOO_BIG = 1009


class Hello(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^hello$")
    token: str = Field(min_length=1, max_length=200)
    since: int | None = Field(default=None, ge=0)


def _frame(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"))


@router.websocket("/ws/games/{game_id}")
async def play(socket: WebSocket, game_id: str) -> None:
    await socket.accept()
    lobby: Lobby = socket.app.state.lobby
    limit: int = socket.app.state.settings.max_frame_bytes
    try:
        hello = Hello.model_validate_json(await asyncio.wait_for(socket.receive_text(), HELLO_TIMEOUT))
        seat = await lobby.seat_for_token(game_id, hello.token)
        room = await lobby.room(game_id)
    except (TimeoutError, ValidationError, ApiError, WebSocketDisconnect, KeyError) as problem:
        reason = problem.message if isinstance(problem, ApiError) else "first frame must be a valid hello"
        with contextlib.suppress(Exception):
            await socket.send_text(_frame(type="error", code="bad_hello", reason=reason))
            await socket.close(POLICY_VIOLATION, reason[:120])
        return
    conn = Connection(seat_id=seat.id, viewer=viewer_for(seat))
    conn.push(
        _frame(
            type="welcome",
            seat={"seat_id": seat.id, "role": seat.role, "member": seat.member, "player": seat.player_name},
            since=hello.since,
        )
    )
    await room.join(conn, hello.since)
    writer = asyncio.create_task(_write(socket, conn))
    try:
        await _read(socket, room, seat, conn, limit)
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass  # the client left; its seat's events stay in the log for when it comes back
    finally:
        room.leave(conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _write(socket: WebSocket, conn: Connection) -> None:
    while (frame := await conn.outbox.get()) is not None:
        await socket.send_text(frame)
    with contextlib.suppress(Exception):
        await socket.close()


async def _read(socket: WebSocket, room: Room, seat: SeatRecord, conn: Connection, limit: int) -> None:
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
        if size > limit:
            await socket.close(TOO_BIG, f"frames are limited to {limit} bytes")
            return
        if text is None:
            conn.push(_frame(type="error", code="bad_frame", reason="Frames are JSON text, not binary."))
            continue
        conn.push(await _answer(text, room, seat))


async def _answer(text: str, room: Room, seat: SeatRecord) -> str:
    try:
        frame = json.loads(text)
    except ValueError:
        return _frame(type="error", code="bad_json", reason="The frame is not valid JSON.")
    if not isinstance(frame, dict):
        return _frame(type="error", code="bad_frame", reason="A frame is a JSON object with a 'type'.")
    ref = frame.get("ref")
    ref = ref if isinstance(ref, str | int) and len(str(ref)) <= 64 else None
    if frame.get("type") == "ping":
        return _frame(type="pong", ref=ref)
    if frame.get("type") != "command":
        return _frame(type="error", ref=ref, code="unknown_frame", reason="Frames are 'command' or 'ping'.")
    try:
        command = COMMAND_ADAPTER.validate_python(frame.get("command"))
    except ValidationError as error:
        details = readable_errors(list(error.errors()))
        reason = "; ".join(f"{d['at'] or 'command'}: {d['problem']}" for d in details)
        return _frame(type="refusal", ref=ref, code="malformed_command", reason=reason)
    actor = actor_for(seat, command)
    if actor is None:
        return _frame(
            type="refusal",
            ref=ref,
            code="read_only",
            reason="Observers and umpires watch; they only record observations.",
        )
    result = await room.submit(command, actor)
    if isinstance(result, Refusal):
        return _frame(type="refusal", ref=ref, code=result.code, reason=result.reason)
    return _frame(type="ack", ref=ref, seq=result.seq)
