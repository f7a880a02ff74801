"""Alembic migrations, run the way the server runs them: programmatically, from the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from server import cli
from server.config import Settings, normalise_database_url
from server.db import NewerSchema, downgrade, migrations_dir, sync_url, upgrade
from server.tables import Base

APP_TABLES = {"games", "seats", "events", "snapshots"}
HEAD = "0003"


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _app_tables(url: str) -> set[str]:
    with _connect(url) as connection:
        return set(inspect(connection).get_table_names()) & APP_TABLES


def _revision(url: str) -> str | None:
    with _connect(url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_head_creates_tables(database_url: str) -> None:
    assert _app_tables(database_url) == set()

    upgrade(database_url)

    assert _app_tables(database_url) == APP_TABLES
    assert _revision(database_url) == HEAD


def test_upgrade_creates_constraints(migrated_url: str) -> None:
    with _connect(migrated_url) as connection:
        schema = inspect(connection)
        unique = {
            table: {tuple(c["column_names"]) for c in schema.get_unique_constraints(table)}
            for table in ("games", "seats", "events")
        }
        foreign = {table: schema.get_foreign_keys(table) for table in ("seats", "events", "snapshots")}
        snapshot_pk = schema.get_pk_constraint("snapshots")["constrained_columns"]
        seat_indexes = {tuple(i["column_names"]) for i in schema.get_indexes("seats")}

    assert unique == {
        "games": {("join_code",)},
        "seats": {("credential_hash",)},
        "events": {("game_id", "seq")},
    }
    for table, keys in foreign.items():
        assert [(k["referred_table"], k["constrained_columns"]) for k in keys] == [("games", ["game_id"])], table
        assert keys[0]["options"].get("ondelete") == "CASCADE", table
    assert snapshot_pk == ["game_id", "seq"]
    assert ("game_id",) in seat_indexes


def test_migration_matches_models(migrated_url: str) -> None:
    with _connect(migrated_url) as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_downgrade_base_removes_tables_then_upgrade_again(migrated_url: str) -> None:
    downgrade(migrated_url, "base")

    assert _app_tables(migrated_url) == set()
    assert _revision(migrated_url) is None

    upgrade(migrated_url)

    assert _app_tables(migrated_url) == APP_TABLES
    assert _revision(migrated_url) == HEAD


def test_command_keys_and_ends_come_to_a_database_that_already_holds_games(database_url: str) -> None:
    upgrade(database_url, "0001")
    with _connect(database_url) as connection:
        connection.execute(
            text(
                "INSERT INTO games (id, scenario, ruleset, title, join_code, facilitator_key_hash, status, last_seq, "
                "seed, created_at) VALUES ('g1', 'baltic-demo', 'nato', 'T', 'ABCDEF', 'h', 'running', 1, 7, "
                "CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO events (game_id, seq, type, payload, recorded_at) "
                "VALUES ('g1', 1, 'broadcast_made', '{}', CURRENT_TIMESTAMP)"
            )
        )
        connection.commit()

    upgrade(database_url)
    with _connect(database_url) as connection:
        rows = connection.execute(text("SELECT seq, command_key, ends_command FROM events")).all()
        assert [(seq, key, bool(ends)) for seq, key, ends in rows] == [(1, None, True)], "an old event is a moment"
        indexes = {i["name"]: i for i in inspect(connection).get_indexes("events")}
    assert indexes["ix_events_game_id_command_key"]["unique"]

    downgrade(database_url, "0001")
    with _connect(database_url) as connection:
        assert not {"command_key", "ends_command"} & {c["name"] for c in inspect(connection).get_columns("events")}
        assert connection.execute(text("SELECT seq, type FROM events")).all() == [(1, "broadcast_made")]


def test_upgrade_twice_is_a_no_op(migrated_url: str) -> None:
    upgrade(migrated_url)

    assert _revision(migrated_url) == HEAD


def test_migrations_do_not_depend_on_working_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    upgrade(database_url)

    assert _app_tables(database_url) == APP_TABLES
    assert (migrations_dir() / "alembic.ini").is_file()
    assert not (migrations_dir() / "versions" / "__init__.py").exists()


# URLs that reach the engine and Alembic


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/wg", "postgresql+psycopg://u:p@db:5432/wg"),
        ("postgresql://u@db/wg?sslmode=require", "postgresql+psycopg://u@db/wg?sslmode=require"),
        ("postgresql+psycopg://u@db/wg", "postgresql+psycopg://u@db/wg"),
        ("sqlite:///./wargame.db", "sqlite+aiosqlite:///./wargame.db"),
        ("sqlite+aiosqlite:////abs/wargame.db", "sqlite+aiosqlite:////abs/wargame.db"),
    ],
)
def test_database_url_from_environment_uses_async_drivers(
    given: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)

    assert Settings().database_url == expected
    assert normalise_database_url(given) == expected


def test_default_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert Settings().database_url == "sqlite+aiosqlite:///./wargame.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite+aiosqlite:///./wargame.db", "sqlite:///./wargame.db"),
        ("sqlite:///./wargame.db", "sqlite:///./wargame.db"),
        ("postgresql+psycopg://u:p@db/wg", "postgresql+psycopg://u:p@db/wg"),
        ("postgres://u:p@db/wg", "postgresql+psycopg://u:p@db/wg"),
    ],
)
def test_sync_url_for_alembic(given: str, expected: str) -> None:
    assert sync_url(given) == expected


def test_a_database_a_newer_version_migrated_is_refused_in_a_sentence(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A facilitator going back to an older release on the same database: its schema is one this version cannot
    know, and neither migrating nor using it is safe."""
    with _connect(migrated_url) as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe1234'"))
        connection.commit()

    with pytest.raises(NewerSchema, match=r"a newer version of wargame migrated it \(schema f00dcafe1234"):
        upgrade(migrated_url)
    assert cli.main(["games", "--database-url", migrated_url]) == 1
    err = capsys.readouterr().err
    assert "wargame games: cannot use the database" in err and "schema f00dcafe1234" in err, err
    assert _revision(migrated_url) == "f00dcafe1234", "left as it was"


@pytest.mark.parametrize("command", [["replay", "no-such-game"], ["export", "no-such-game"], ["games"]])
def test_the_commands_on_stored_games_bring_an_earlier_releases_database_up_to_date(
    database_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A facilitator who upgraded the package exports last term's games before ever starting the new server."""
    upgrade(database_url, "0001")

    cli.main([*command, "--database-url", database_url])

    assert _revision(database_url) == HEAD
    assert "cannot use the database" not in capsys.readouterr().err
