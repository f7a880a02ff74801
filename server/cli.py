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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wargame", description="Alliance crisis wargame.")
    commands = parser.add_subparsers(dest="command", required=True)

    vectors = commands.add_parser("vectors", help="adjudication vectors").add_subparsers(dest="action", required=True)
    run = vectors.add_parser("run", help="run vector files or folders; exit 1 on any failure")
    run.add_argument("paths", nargs="+", metavar="PATH")

    commands.add_parser("demo", help="play a scripted council round and print the transcript")

    args = parser.parse_args(argv)
    if args.command == "vectors":
        return vectors_run(args.paths)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
