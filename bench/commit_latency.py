"""What one durable commit costs on this machine's disk: the floor under the game server's command latency.

Every accepted command is committed (and, with SQLite's `synchronous=FULL`, flushed to the disk) before any seat
sees it.  This times that commit alone: a bare `sqlite3` connection in WAL mode, one transaction per "command"
(the compare-and-set on the game row and the insert of one event, as the store does), back to back and spaced
as commands arrive in a seminar, with `synchronous=FULL` (the server's setting) and `NORMAL` (no flush: for
comparison only).  docs/performance.md uses it to explain the ratio to the bare server.

Run: `python -m bench.commit_latency [--dir DIR] [--commits N]` (DIR: where the database would live; default
the current directory).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

PAYLOAD = '{"type":"message_sent","text":"' + "x" * 500 + '"}'


def commit_times(path: Path, synchronous: str, commits: int, gap: float) -> list[float]:
    """Milliseconds per commit, `gap` seconds apart."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("CREATE TABLE IF NOT EXISTS games (id TEXT PRIMARY KEY, last_seq INTEGER)")
        connection.execute("CREATE TABLE IF NOT EXISTS events (game_id TEXT, seq INTEGER, payload TEXT)")
        connection.execute("CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (game_id, seq)")
        connection.execute("INSERT OR IGNORE INTO games VALUES ('g', 0)")
        (seq,) = connection.execute("SELECT last_seq FROM games WHERE id = 'g'").fetchone()
        times = []
        for _ in range(commits):
            if gap:
                time.sleep(gap)
            start = time.perf_counter()
            connection.execute("BEGIN")
            connection.execute("UPDATE games SET last_seq = ? WHERE id = 'g' AND last_seq = ?", (seq + 1, seq))
            connection.execute("INSERT INTO events VALUES ('g', ?, ?)", (seq + 1, PAYLOAD))
            connection.execute("COMMIT")
            times.append((time.perf_counter() - start) * 1000)
            seq += 1
        return times
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=".", help="where to put the scratch database (the disk to measure)")
    parser.add_argument("--commits", type=int, default=500)
    args = parser.parse_args()
    print(f"{'synchronous':>11}  {'spacing':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'max ms':>7}")
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        for synchronous in ("FULL", "NORMAL"):
            for gap in (0.0, 0.01):
                times = sorted(commit_times(Path(scratch) / "commits.db", synchronous, args.commits, gap))
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                spacing = "10 ms" if gap else "none"
                print(f"{synchronous:>11}  {spacing:>9}  {statistics.median(times):7.3f}  {p99:7.3f}  {times[-1]:7.3f}")


if __name__ == "__main__":
    main()
