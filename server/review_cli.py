"""`wargame games | export | import | fork | delete | console`: the stored games listed, one out to files, back in,
forked for a what-if, deleted, or its console opened again with a new link."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from server import documents, export
from server.progress import bar
from server.store import EventStore


def export_game(database_url: str, game_id: str, fmt: documents.ExportFormat, out: str | None) -> int:
    return asyncio.run(_export(database_url, game_id, fmt, out))


async def _export(database_url: str, game_id: str, fmt: documents.ExportFormat, out: str | None) -> int:
    store = EventStore.from_url(database_url)
    try:
        loaded = await export.load(store, game_id, bar)
    finally:
        await store.dispose()
    if loaded is None:
        print(f"no game {game_id}")
        return 1
    r = export.reviewed(loaded)
    if fmt == "csv":
        folder = Path(out or f"wargame-{game_id}-csv")
        folder.mkdir(parents=True, exist_ok=True)
        tables = export.csv_tables(loaded, r)
        for name, text in tables.items():
            (folder / f"{name}.csv").write_text(text, encoding="utf-8-sig", newline="")
        print(f"wrote {', '.join(f'{n}.csv' for n in tables)} to {folder}/")
        return 0
    made = documents.document(loaded, r, fmt)
    path = Path(out or f"wargame-{game_id}.{made.suffix}")
    path.write_bytes(made.body)
    print(f"wrote {path} ({len(loaded.stored)} events)")
    return 0


def import_game(database_url: str, file: str) -> int:
    return asyncio.run(_import(database_url, file))


async def _import(database_url: str, file: str) -> int:
    try:
        document = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"{file}: cannot read an exported game: {error}")
        return 1
    store = EventStore.from_url(database_url)
    try:
        game, key = await export.import_game(store, document, bar)
    except export.ExportError as error:
        print(f"{file}: {error}")
        return 1
    finally:
        await store.dispose()
    print(f"imported as game {game.id} (join code {game.join_code}); facilitator key: {key}")
    return 0


def fork_game(database_url: str, game_id: str, at_seq: int, seed: int | None) -> int:
    return asyncio.run(_fork(database_url, game_id, at_seq, seed))


async def _fork(database_url: str, game_id: str, at_seq: int, seed: int | None) -> int:
    store = EventStore.from_url(database_url)
    try:
        loaded = await export.load(store, game_id, bar)
        if loaded is None:
            print(f"no game {game_id}")
            return 1
        game, key = await export.fork(store, loaded, at_seq, seed)
    except export.ExportError as error:
        print(f"cannot fork: {error}")
        return 1
    finally:
        await store.dispose()
    print(f"forked {game_id} at event {at_seq} as game {game.id} (join code {game.join_code}); facilitator key: {key}")
    return 0


def list_games(database_url: str) -> int:
    return asyncio.run(_list(database_url))


async def _list(database_url: str) -> int:
    store = EventStore.from_url(database_url)
    try:
        games = await store.list_games()
    finally:
        await store.dispose()
    print(f"{'game':32}  {'code':8}  {'status':7}  {'events':>6}  {'created (UTC)':16}  title")
    for g in games:
        created = g.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{g.id:32}  {g.join_code:8}  {g.status:7}  {g.last_seq:>6}  {created:16}  {g.title}")
    print(f"{len(games)} game(s)")
    return 0


def delete_game(database_url: str, game_id: str) -> int:
    return asyncio.run(_delete(database_url, game_id))


async def _delete(database_url: str, game_id: str) -> int:
    """The console's *Delete this game*, on the same terms (server.lobby).  A server holding the game shows its
    sockets out at its next periodic catch-up."""
    from server.errors import ApiError
    from server.lobby import Lobby
    from server.rooms import Rooms

    store = EventStore.from_url(database_url)
    try:
        game = await store.get_game(game_id)
        await Lobby(store, Rooms(store)).delete_game(game_id)
    except ApiError as refused:
        print(f"game {game_id}: {refused.message}")
        return 1
    finally:
        await store.dispose()
    assert game is not None  # the lobby refuses an unknown game
    print(f"deleted game {game_id} ({game.title}, {game.last_seq} events, its seats and snapshots)")
    return 0


def console_link(database_url: str, game_id: str, base_url: str) -> int:
    return asyncio.run(_console_link(database_url, game_id, base_url))


async def _console_link(database_url: str, game_id: str, base_url: str) -> int:
    """A new credential for the facilitator's seat, for a console whose browser was lost: the old one stops
    working, and a server holding a socket of it shows that socket out at its next periodic check."""
    from server.lobby import Lobby
    from server.rooms import Rooms

    store = EventStore.from_url(database_url)
    try:
        game = await store.get_game(game_id)
        facilitator = next((s for s in await store.seats(game_id) if s.role == "facilitator"), None)
        if game is None or facilitator is None:
            print(f"no game {game_id}")
            return 1
        new = await Lobby(store, Rooms(store)).new_credential(game_id, facilitator)
    finally:
        await store.dispose()
    print(f"the console of {game.title} (join code {game.join_code}); the earlier console link no longer works:")
    print(f"{base_url.rstrip('/')}/#/seat/{game_id}/{new.token}")
    return 0
