"""The `wargame` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from game_rules import yaml12
from game_rules.vectors import VectorResult, run_vector


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


def demo() -> int:
    from server import council_demo

    council_demo.run(sys.stdout)
    return 0


def serve(host: str | None, port: int | None, database_url: str | None) -> int:
    import uvicorn

    from server.app import create_app
    from server.config import Settings

    overrides = {k: v for k, v in {"host": host, "port": port, "database_url": database_url}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    print(f"Alliance crisis wargame on http://{settings.host}:{settings.port}  (store: {settings.database_url})")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", ws="websockets")
    return 0


def replay(game_id: str, verify: bool, database_url: str | None) -> int:
    import asyncio

    from server.config import Settings
    from server.replay import replay_game

    settings = Settings(**({"database_url": database_url} if database_url else {}))  # type: ignore[arg-type]
    report = asyncio.run(replay_game(settings.database_url, game_id))
    print(report.text())
    return 1 if verify and not report.consistent else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wargame", description="Alliance crisis wargame.")
    commands = parser.add_subparsers(dest="command", required=True)

    vectors = commands.add_parser("vectors", help="adjudication vectors").add_subparsers(dest="action", required=True)
    run = vectors.add_parser("run", help="run vector files or folders; exit 1 on any failure")
    run.add_argument("paths", nargs="+", metavar="PATH")

    commands.add_parser("demo", help="play a scripted council round and print the transcript")

    serve_cmd = commands.add_parser("serve", help="start the server (SQLite file and the demo scenario by default)")
    serve_cmd.add_argument("--host")
    serve_cmd.add_argument("--port", type=int)
    serve_cmd.add_argument("--database-url", help="default: $DATABASE_URL or sqlite file ./wargame.db")

    replay_cmd = commands.add_parser("replay", help="rebuild a stored game from its events")
    replay_cmd.add_argument("game")
    replay_cmd.add_argument("--verify", action="store_true", help="exit 1 unless every snapshot hash matches")
    replay_cmd.add_argument("--database-url")

    args = parser.parse_args(argv)
    if args.command == "vectors":
        return vectors_run(args.paths)
    if args.command == "serve":
        return serve(args.host, args.port, args.database_url)
    if args.command == "replay":
        return replay(args.game, args.verify, args.database_url)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
