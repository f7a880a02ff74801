"""The `wargame` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from game_rules import yaml12
from game_rules.vectors import VectorResult, run_vector

if TYPE_CHECKING:
    from server.config import Settings


def _vector_files(paths: Sequence[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        else:
            yield path


def _run_vector_file(path: Path) -> list[VectorResult]:
    try:
        document = yaml12.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return [VectorResult(path.name, [f"cannot read {path}: {error}"])]
    except yaml12.YAMLError as error:
        return [VectorResult(path.name, [f"{path} is not valid YAML: {error}"])]
    documents = document if isinstance(document, list) else [document]
    return [run_vector(d) for d in documents]


def vectors_run(paths: Sequence[str]) -> int:
    results = [r for path in _vector_files(paths) for r in _run_vector_file(path)]
    for result in results:
        print(result.line())
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


def demo(script: bool, scenario: str | None = None, seed: int | None = None, pause: float | None = None) -> int:
    if script:
        from server import council_demo

        council_demo.run(sys.stdout)
        return 0
    from server import live_demo
    from server.scenarios import FIRST_GAME

    return live_demo.main(
        sys.stdout,
        scenario=scenario or FIRST_GAME,
        seed=live_demo.DEFAULT_SEED if seed is None else seed,
        pause=live_demo.DEFAULT_PAUSE if pause is None else pause,
    )


T = TypeVar("T")


def frozen(app: T) -> T:
    """Hand everything made so far (modules, classes, the app) to the garbage collector's permanent generation:
    later full collections walk only the live games and sockets.  Only for `wargame serve`: a test process must
    keep collecting its own garbage."""
    import gc

    gc.collect()
    gc.freeze()
    return app


def serving_app() -> Any:
    """The app factory each worker of `wargame serve --workers N` runs (settings come from the environment)."""
    from server.app import create_app

    return frozen(create_app())


def serve(
    host: str | None,
    port: int | None,
    database_url: str | None,
    workers: int | None = None,
    bus_url: str | None = None,
    json_logs: bool | None = None,
    scenarios: str | None = None,
    sqlite_flush_interval: float | None = None,
) -> int:
    import os

    import uvicorn

    from server.app import create_app

    given: dict[str, object] = {
        "host": host,
        "port": port,
        "database_url": database_url,
        "workers": workers,
        "bus_url": bus_url,
        "json_logs": json_logs,
        "scenarios": scenarios,
        "sqlite_flush_interval": sqlite_flush_interval,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    settings = _settings("serve", overrides, _json_lines(json_logs))
    if settings is None:
        return 2
    from server import db, logs, wire
    from server.network import WILDCARDS, port_taken, reach

    # Structured (or plain) lines for our loggers and Uvicorn's; SIGTERM waits for what is in flight.
    log_config = logs.log_config(settings.json_logs, settings.log_level)
    bus = logs.hide_password(settings.bus_url) if settings.bus_url else "in-process"
    here = "127.0.0.1" if settings.host in WILDCARDS else settings.host
    flush = ""
    if settings.sqlite_flush_interval:
        flush = (
            f"; flushed every {settings.sqlite_flush_interval:g} s"
            if db.is_sqlite(settings.database_url)
            else "; SQLITE_FLUSH_INTERVAL ignored: PostgreSQL's synchronous_commit decides"
        )
    banner = (
        f"Alliance crisis wargame on http://{here}:{settings.port}  "
        f"(store: {logs.hide_password(settings.database_url)}{flush}; workers: {settings.workers}; bus: {bus})"
    )
    print(logs.line(banner) if settings.json_logs else banner, flush=True)
    urls, advice = reach(settings.host, settings.port, settings.public_url)
    where = f"Players on other computers open {' or '.join(urls)}" if urls else advice
    print(logs.line(where) if settings.json_logs else where, flush=True)
    if port_taken(settings.host, settings.port):
        return _refuse(
            "serve",
            f"port {settings.port} is taken by another program (another wargame serve?): stop it, or start this "
            f"one with --port {settings.port + 1}",
            settings.json_logs,
        )
    try:  # once, before any worker starts: workers must not race on migrations
        db.upgrade(settings.database_url)
    except db.UNUSABLE as problem:
        return _refuse("serve", db.unusable(settings.database_url, problem), settings.json_logs)
    # The same server options for one process and for several.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "ws": wire.PROTOCOL,
        "ws_max_size": settings.max_frame_bytes,
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        "log_config": log_config,
        "timeout_graceful_shutdown": settings.shutdown_grace,
    }
    if settings.workers > 1:
        # Each worker builds its own app from the environment (the factory), so pass the settings there.
        for name, value in overrides.items():
            os.environ[name.upper()] = str(value)
        uvicorn.run("server.cli:serving_app", factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(frozen(create_app(settings)), **options)
    return 0


def _refuse(command: str, problem: str, json_lines: bool = False) -> int:
    """Why a command does not run, on stderr (with `json_lines` a log line of level error, where a log collector
    may be reading); its exit code, 1."""
    from server import logs

    text = f"wargame {command}: {problem}"
    print(logs.line(text, level=logging.ERROR) if json_lines else text, file=sys.stderr)
    return 1


def _settings(command: str, overrides: dict[str, object], json_lines: bool = False) -> Settings | None:
    """The settings, or None once what is wrong with them is said (several workers on the in-process bus, a
    database URL that is not one)."""
    from pydantic import ValidationError

    from server.config import Settings

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            ": ".join([*(str(part).upper() for part in e["loc"]), str(e["msg"]).removeprefix("Value error, ")])
            for e in error.errors()
        )
        _refuse(command, problems, json_lines)
        return None


def _json_lines(flag: bool | None) -> bool:
    """Whether the log is JSON lines, known before the rest of the settings are (they may be what is wrong):
    `--json-logs`, or JSON_LOGS read as the settings read it."""
    from pydantic import ValidationError

    from server.config import LogFormat

    if flag is not None:
        return flag
    try:
        return LogFormat().json_logs
    except ValidationError:
        return False


def stored_games(args: argparse.Namespace) -> int:
    """The commands on the stored games, on a database migrated first, as `wargame serve` does.  A database they
    cannot use is refused in a sentence: a SQLite file that is not there (a typo would otherwise leave an empty
    database behind it, and report no games), a server that does not answer, a file that is not a database, one a
    newer release migrated."""
    import asyncio

    from server import db, review_cli
    from server.replay import replay_game

    settings = _settings(args.command, {"database_url": args.database_url} if args.database_url else {})
    if settings is None:
        return 2
    url = settings.database_url
    file = db.sqlite_file(url)
    if file is not None and not file.exists() and args.command != "import":  # importing may start a new file
        return _refuse(
            args.command,
            f"no database at {file.resolve()} (`wargame serve` makes one there; --database-url or DATABASE_URL "
            "names another)",
        )
    try:
        db.upgrade(url)  # as `wargame serve` does: a database an earlier release made is brought up to date
        if args.command == "replay":
            report = asyncio.run(replay_game(url, args.game))
            print(report.text())
            return 1 if args.verify and not report.consistent else 0
        if args.command == "export":
            return review_cli.export_game(url, args.game, args.format, args.out)
        if args.command == "import":
            return review_cli.import_game(url, args.file)
        if args.command == "games":
            return review_cli.list_games(url)
        if args.command == "delete":
            return review_cli.delete_game(url, args.game)
        if args.command == "console":
            return review_cli.console_link(url, args.game, args.url)
        return review_cli.fork_game(url, args.game, args.at, args.seed)
    except db.UNUSABLE as problem:
        return _refuse(args.command, db.unusable(url, problem))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wargame", description="Alliance crisis wargame.")
    commands = parser.add_subparsers(dest="command", required=True)

    vectors = commands.add_parser("vectors", help="adjudication vectors").add_subparsers(dest="action", required=True)
    run = vectors.add_parser("run", help="run vector files or folders; exit 1 on any failure")
    run.add_argument("paths", nargs="+", metavar="PATH")

    demo_cmd = commands.add_parser(
        "demo", help="start the server in-process and let bots play a whole game over WebSockets"
    )
    demo_cmd.add_argument("--script", action="store_true", help="print the scripted council transcript instead")
    demo_cmd.add_argument("--scenario", help="scenario to play (default: baltic-demo)")
    demo_cmd.add_argument("--seed", type=int, help="the bots' seed (default: 3)")
    demo_cmd.add_argument("--pause", type=float, help="seconds the facilitator bot waits before each advance")

    serve_cmd = commands.add_parser("serve", help="start the server (SQLite file and the demo scenario by default)")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument("--database-url", help="default: $DATABASE_URL or sqlite file ./wargame.db")
    serve_cmd.add_argument("--workers", type=int, help="server processes (default: $WORKERS or 1); >1 needs a bus")
    serve_cmd.add_argument(
        "--bus-url", help="default: $BUS_URL, else in-process; redis://127.0.0.1:6379/0 or postgresql://USER@HOST/DB"
    )
    serve_cmd.add_argument(
        "--json-logs", action="store_true", default=None, help="one JSON object per log line (default: $JSON_LOGS)"
    )
    serve_cmd.add_argument("--scenarios", metavar="DIR", help="a folder of scenario files to offer besides the shipped")
    serve_cmd.add_argument(
        "--sqlite-flush-interval",
        type=float,
        metavar="SECONDS",
        help="flush SQLite's log every SECONDS instead of at every commit: faster under load, but a power cut loses "
        "the last SECONDS of play (default: $SQLITE_FLUSH_INTERVAL or 0, every commit)",
    )

    replay_cmd = commands.add_parser("replay", help="rebuild a stored game from its events")
    replay_cmd.add_argument("game")
    replay_cmd.add_argument("--verify", action="store_true", help="exit 1 unless every snapshot hash matches")
    replay_cmd.add_argument("--database-url")

    scenario_cmd = commands.add_parser("scenario", help="scenario files").add_subparsers(dest="action", required=True)
    validate_cmd = scenario_cmd.add_parser("validate", help="check scenario files; print every problem with its place")
    validate_cmd.add_argument("files", nargs="+", metavar="FILE")
    scenario_cmd.add_parser("schema", help="print the scenario format's JSON Schema")
    msel_cmd = scenario_cmd.add_parser("msel", help="turn an MSEL in CSV into catalogue and MSEL entries (YAML)")
    msel_cmd.add_argument("csv", metavar="MSEL.csv")
    msel_cmd.add_argument("--scenario", default="baltic-hybrid", help="shipped scenario id or file to check against")

    export_cmd = commands.add_parser(
        "export", help="write a stored game as json, csv tables, a workbook of every table (xlsx), or a report"
    )
    export_cmd.add_argument("game")
    export_cmd.add_argument("--format", choices=["json", "csv", "xlsx", "html", "md"], default="json")
    export_cmd.add_argument("--out", help="file (json, xlsx, html, md) or folder (csv)")
    export_cmd.add_argument("--database-url")
    import_cmd = commands.add_parser("import", help="store an exported game (json) as a new game")
    import_cmd.add_argument("file")
    import_cmd.add_argument("--database-url")
    fork_cmd = commands.add_parser("fork", help="start a new game from any event of a stored one (what-if)")
    fork_cmd.add_argument("game")
    fork_cmd.add_argument("--at", type=int, required=True, metavar="SEQ")
    fork_cmd.add_argument("--seed", type=int, help="a new seed for what follows (default: the original's)")
    fork_cmd.add_argument("--database-url")
    games_cmd = commands.add_parser("games", help="list the stored games")
    games_cmd.add_argument("--database-url")
    delete_cmd = commands.add_parser("delete", help="delete a game that has ended (or never started) for good")
    delete_cmd.add_argument("game")
    delete_cmd.add_argument("--database-url")
    console_cmd = commands.add_parser(
        "console", help="a new link to a game's facilitator console (the browser that held it was lost)"
    )
    console_cmd.add_argument("game")
    console_cmd.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the address the server is opened at (default: %(default)s)"
    )
    console_cmd.add_argument("--database-url")

    args = parser.parse_args(argv)
    if args.command in ("replay", "games", "export", "import", "fork", "delete", "console"):
        return stored_games(args)
    if args.command == "scenario":
        from server import scenario_cli

        if args.action == "validate":
            return scenario_cli.validate(args.files)
        if args.action == "schema":
            return scenario_cli.schema()
        return scenario_cli.import_msel(args.csv, args.scenario)
    if args.command == "vectors":
        return vectors_run(args.paths)
    if args.command == "serve":
        return serve(
            args.host,
            args.port,
            args.database_url,
            args.workers,
            args.bus_url,
            args.json_logs,
            args.scenarios,
            args.sqlite_flush_interval,
        )
    return demo(args.script, args.scenario, args.seed, args.pause)


if __name__ == "__main__":
    sys.exit(main())
