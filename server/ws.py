"""One WebSocket per seat: `hello` with the seat's credential, then commands in; events, views and
answers out, in the order the game produced them.  The wire format is in docs/protocol.md.

Every frame a client sends gets exactly one answer (ack, refusal, pong or error) unless the socket is closed:
1009 for a frame over `max_frame_bytes`; 1008 for a bad hello, a flood far beyond the seat's rate limit
(server/limits.py), or a client that sends without reading its answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocketDisconnected

from game_rules import COMMAND_ADAPTER, Refusal
from server.config import Settings
from server.errors import ApiError, readable_errors
from server.limits import SeatLimits, TokenBucket, seat_limits
from server.lobby import Lobby, acting, command_key, viewer_for
from server.rooms import Connection, Room
from server.store import SEQ_LIMIT, SeatRecord, not_stored, refusal
from server.wire import EXTENSION, POLICY_VIOLATION, TOO_BIG, AsgiWire, Wire, drop_unread

log = logging.getLogger("wargame.ws")

HELLO_TIMEOUT = 10.0
MAX_REF = 64
"""Longest `ref` echoed back; a longer one is answered without it."""


class Hello(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^hello$")
    token: str = Field(min_length=1, max_length=200)
    since: int | None = Field(default=None, ge=0, lt=SEQ_LIMIT)


class _Closed(Exception):
    """The socket is done with: closed by the client, or by us with a close code already sent."""


def _frame(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"))


async def play(socket: WebSocket) -> None:
    wire = _wire(socket)
    if wire is not None:
        await _play(socket, wire)
        return
    # Served without server/wire.py's protocol: the same frames, through a writer task of the socket's own.
    asgi = AsgiWire(socket.send_text, socket.close)
    try:
        await _play(socket, asgi)
    finally:
        await asgi.finish()


async def _play(socket: WebSocket, wire: Wire) -> None:
    game_id: str = socket.path_params["game_id"]
    await socket.accept()
    lobby: Lobby = socket.app.state.lobby
    settings: Settings = socket.app.state.settings
    try:
        hello = await _hello(socket, wire, settings.max_frame_bytes)
        seat = await lobby.seat_for_token(game_id, hello.token)
        room = await lobby.room(game_id)
    except _Closed:
        return
    except (TimeoutError, ValidationError, ApiError, KeyError, ValueError, RecursionError) as problem:
        reason = problem.message if isinstance(problem, ApiError) else "first frame must be a valid hello"
        log.info("bad hello: %s", reason, extra={"game_id": game_id, "code": "bad_hello"})
        wire.write(_frame(type="error", code="bad_hello", reason=reason))
        wire.close(POLICY_VIOLATION, reason[:120])
        return
    conn = Connection(seat_id=seat.id, viewer=viewer_for(seat), wire=wire, credential=seat.credential_hash)
    wire.write(
        _frame(
            type="welcome",
            seat={"seat_id": seat.id, "role": seat.role, "member": seat.member, "player": seat.player_name},
            since=hello.since,
            now=room.now(),
        )
    )
    await room.join(conn, hello.since)
    log.debug("seat joined", extra={"game_id": game_id, "seat_id": seat.id, "role": seat.role})
    try:
        await _read(socket, room, seat, wire, settings, seat_limits(socket.app))
    except (WebSocketDisconnect, WebSocketDisconnected, _Closed):
        pass  # the client left; its seat's events stay in the log for when it comes back
    finally:
        room.leave(conn)


def _wire(socket: WebSocket) -> Wire | None:
    found = socket.scope.get("extensions", {}).get(EXTENSION)
    return found["wire"] if isinstance(found, dict) else None


PATH = re.compile(r"/ws/games/(?P<game_id>[^/]+)")
"""Where a seat's socket connects (server/app.py routes it here directly)."""


async def _hello(socket: WebSocket, wire: Wire, limit: int) -> Hello:
    message = await asyncio.wait_for(socket.receive(), HELLO_TIMEOUT)
    if message["type"] == "websocket.disconnect":
        raise _Closed
    text: str | None = message.get("text")
    if text is None:
        raise ValueError("binary hello")
    if _size(message) > limit:
        wire.close(TOO_BIG, f"frames are limited to {limit} bytes")
        raise _Closed
    return Hello.model_validate_json(text)


async def _read(
    socket: WebSocket,
    room: Room,
    seat: SeatRecord,
    wire: Wire,
    settings: Settings,
    limits: SeatLimits,
) -> None:
    context = {"game_id": room.game_id, "seat_id": seat.id}
    limit = settings.max_frame_bytes
    # Refused frames drain this socket's own allowance, refilled at the seat's rate: more than `flood_limit`
    # frames over the limit at once, or sending at over twice the rate for long, closes the socket.
    flood = TokenBucket(settings.commands_per_second, settings.flood_limit)
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect" or wire.closed:
            # Gone, or nothing can be sent any more (the server shutting down closed the transport): frames still
            # queued are not played, since nobody would hear their answers.
            return
        text: str | None = message.get("text")
        size = _size(message)
        if size > limit:
            log.info("frame too big (%d bytes); closing", size, extra={**context, "close_code": TOO_BIG})
            wire.close(TOO_BIG, f"frames are limited to {limit} bytes")
            return
        if limits.allow(seat.id):
            answer = await _guarded(text, room, seat) if text is not None else _binary()
        else:
            if not flood.take():
                log.warning("flood beyond the rate limit; closing", extra={**context, "close_code": POLICY_VIOLATION})
                wire.close(POLICY_VIOLATION, "rate limit exceeded")
                return
            answer = _rate_limited(text, *limits.refusal(seat.id))
        if not wire.write(answer):
            log.warning("socket not reading its answers; closing", extra={**context, "close_code": POLICY_VIOLATION})
            drop_unread(wire)
            return


def _binary() -> str:
    return _frame(type="error", code="bad_frame", reason="Frames are JSON text, not binary.")


def _ref(frame: dict[str, Any]) -> str | int | None:
    ref = frame.get("ref")
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        return None
    return ref if len(str(ref)) <= MAX_REF else None


_NOT_JSON = object()


def _parse(text: str) -> Any:
    """The frame's JSON, or `_NOT_JSON` when it is not JSON (or nested deeper than the parser will go)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _size(message: Any) -> int:
    """A received frame's size in bytes, text or binary: what `max_frame_bytes` limits."""
    text: str | None = message.get("text")
    return len(text.encode()) if text is not None else len(message.get("bytes") or b"")


def _rate_limited(text: str | None, retry_after: float, reason: str) -> str:
    frame = _parse(text) if text is not None else None
    ref = _ref(frame) if isinstance(frame, dict) else None
    kind = "refusal" if isinstance(frame, dict) and frame.get("type") == "command" else "error"
    return _frame(type=kind, ref=ref, code="rate_limited", reason=reason, retry_after=round(retry_after, 3))


async def _guarded(text: str, room: Room, seat: SeatRecord) -> str:
    """The answer to one frame; a failure of ours is an `internal_error` answer, never a dead socket.  It carries the
    frame's ref, so that the client settles the command that met it and its player can send it again: under its
    key, a command the failure came after is not played twice."""
    frame = _parse(text)
    try:
        return await _answer(frame, room, seat)
    except Exception:
        log.exception("answering a frame failed", extra={"game_id": room.game_id, "seat_id": seat.id})
        ref = _ref(frame) if isinstance(frame, dict) else None
        reason = "The server failed on this frame; send it again."
        return _frame(type="error", code="internal_error", reason=reason, **({"ref": ref} if ref is not None else {}))


async def _answer(frame: object, room: Room, seat: SeatRecord) -> str:
    if frame is _NOT_JSON:
        return _frame(type="error", code="bad_json", reason="The frame is not valid JSON.")
    if not isinstance(frame, dict):
        return _frame(type="error", code="bad_frame", reason="A frame is a JSON object with a 'type'.")
    ref = _ref(frame)
    if frame.get("type") == "ping":
        return _frame(type="pong", ref=ref, now=room.now())
    if frame.get("type") != "command":
        return _frame(type="error", ref=ref, code="unknown_frame", reason="Frames are 'command' or 'ping'.")
    try:
        command = COMMAND_ADAPTER.validate_python(frame.get("command"))
    except ValidationError as error:
        details = readable_errors(list(error.errors()))
        reason = "; ".join(f"{d['at'] or 'command'}: {d['problem']}" for d in details)
        return _frame(type="refusal", ref=ref, code="malformed_command", reason=reason[:2000])
    actor = acting(seat, command)
    if isinstance(actor, Refusal):
        return _frame(type="refusal", ref=ref, code=actor.code, reason=actor.reason)
    key = command_key(seat, frame.get("key"))
    if isinstance(key, Refusal):
        return _frame(type="refusal", ref=ref, code=key.code, reason=key.reason)
    try:
        result = await room.submit(command, actor, key=key, seat=seat.id)
    except Exception as failed:
        if (refused := refusal(failed)) is None:
            raise
        log.error("a command was not stored: %s", refused, extra={"game_id": room.game_id, "seat_id": seat.id})
        return _frame(type="error", ref=ref, code="store_unavailable", reason=not_stored(refused))
    if isinstance(result, Refusal):
        return _frame(type="refusal", ref=ref, code=result.code, reason=result.reason)
    return _frame(type="ack", ref=ref, seq=result.seq, **({"repeated": True} if result.repeated else {}))
