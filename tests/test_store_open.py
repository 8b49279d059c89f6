"""Opening a store: schema created once (even by two processes at once), versioned, health."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select, text

from bot.peaka import Status
from bot.store import (
    LATEST_VERSION,
    AlertKey,
    SchemaVersionError,
    Store,
    StoreConnectionError,
    default_database_url,
)
from bot.store._migrations import MIGRATIONS, Migration, migrate
from bot.store._schema import schema_version
from tests.store_fixtures import Backend, run_on_postgres

pytest_plugins = ["tests.store_fixtures"]


async def test_schema_is_stamped_and_reopening_changes_nothing(store_backend: Backend) -> None:
    first = await store_backend.open()
    async with first.engine.connect() as conn:
        versions = list(await conn.scalars(select(schema_version.c.version)))
    assert versions == list(range(1, LATEST_VERSION + 1))
    await first.subscribe("C1", "p1", ["FAILED"], "U1")
    second = await store_backend.open()
    async with second.engine.connect() as conn:
        again = list(await conn.scalars(select(schema_version.c.version)))
    assert again == versions
    assert [s.project_id for s in await second.list_subscriptions()] == ["p1"]
    assert first.dialect == second.dialect == store_backend.name


async def test_a_later_migration_is_applied_once(store_backend: Backend) -> None:
    store = await store_backend.open()
    await store.subscribe("C1", "p1", ["FAILED"], "U1")

    def add_note_column(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE subscriptions ADD COLUMN note TEXT"))

    later = (*MIGRATIONS, Migration(LATEST_VERSION + 1, "subscription notes", add_note_column))
    for _ in range(2):  # the second run finds nothing to do
        async with store.engine.begin() as conn:
            version = await conn.run_sync(migrate, store_backend.clock.now(), later)
        assert version == LATEST_VERSION + 1
    async with store.engine.connect() as conn:
        notes = list(await conn.scalars(text("SELECT note FROM subscriptions")))
        versions = list(await conn.scalars(select(schema_version.c.version)))
    assert notes == [None]  # the column exists, the row survived
    assert versions == list(range(1, LATEST_VERSION + 2))


async def test_a_newer_schema_is_refused(store_backend: Backend) -> None:
    store = await store_backend.open()
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(schema_version).values(
                version=LATEST_VERSION + 1, applied_at=store_backend.clock.now()
            )
        )
    with pytest.raises(SchemaVersionError, match=rf"version {LATEST_VERSION + 1}, newer"):
        await store_backend.open()


async def test_concurrent_first_opens_create_the_schema_once(store_backend: Backend) -> None:
    # On PostgreSQL the schema is new and empty: both race to create the tables.
    stores = await asyncio.gather(*(store_backend.open() for _ in range(4)))
    key = AlertKey("job-1", Status.FAILED, "C1")
    claims = await asyncio.gather(*(s.claim_alert(key, "p1", "r") for s in stores))
    assert sorted(claims) == [False, False, False, True]
    async with stores[0].engine.connect() as conn:
        rows = list(await conn.scalars(select(schema_version.c.version)))
    assert rows == list(range(1, LATEST_VERSION + 1))


async def test_bots_opening_a_new_sqlite_file_together_all_get_it_in_wal_mode(
    tmp_path: Path,
) -> None:
    # Switching a file to WAL answers "database is locked" at once (no busy wait) while
    # another connection is mid-transaction; before Store.open retried it, about one round
    # in seven failed here.
    for round_ in range(25):
        path = tmp_path / f"new-{round_}.sqlite3"
        stores = await asyncio.gather(*(Store.open(f"sqlite:///{path}") for _ in range(4)))
        for store in stores:
            await store.aclose()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_default_url_creates_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with await Store.open(default_database_url()) as store:
        await store.subscribe("C1", "p1", ["FAILED"], "U1")
    assert (tmp_path / "data" / "exports-bot.sqlite3").is_file()


async def test_ping(state_store: Store) -> None:
    assert await state_store.ping() is True


async def test_ping_reports_a_dead_database_as_false(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "x.sqlite3"
    store = await Store.open(f"sqlite:///{path}")
    try:
        assert await store.ping() is True
        await store.close()
        for leftover in path.parent.iterdir():
            leftover.unlink()
        path.parent.rmdir()
        assert await store.ping() is False
        path.parent.mkdir()
        assert await store.ping() is True  # the next ping after it's back recovers
    finally:
        await store.close()
    # Closed means closed: no SQLite worker thread is left behind (the failed connection's
    # included, which would otherwise report to an event loop that is gone).
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=10)
            assert not thread.is_alive()


async def test_sqlite_creates_the_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.sqlite3"
    async with await Store.open(f"sqlite:///{path}") as store:
        assert path.exists()
        async with store.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 10_000
        assert "bot.sqlite3" in repr(store)


async def test_in_memory_sqlite_is_one_database_shared_by_concurrent_tasks() -> None:
    async with await Store.open("sqlite://") as store:
        await asyncio.gather(*(store.subscribe(f"C{i}", "p1", ["FAILED"], "U1") for i in range(20)))
        assert len(await store.list_subscriptions()) == 20


async def test_unreachable_postgres_says_so_without_the_password() -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    with pytest.raises(StoreConnectionError) as caught:
        await Store.open("postgresql://bot:hunter2@127.0.0.1:1/db", busy_timeout=5)
    message = str(caught.value)
    assert message.startswith("could not open the database at postgresql+asyncpg://bot:***@")
    assert "hunter2" not in message


async def test_sqlite_directory_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreConnectionError, match="cannot create the directory"):
        await Store.open(f"sqlite:///{blocker / 'sub' / 'x.sqlite3'}")


async def test_bad_url_and_bad_schema_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme 'mysql'"):
        await Store.open("mysql://u@h/db")
    with pytest.raises(ValueError, match="only be chosen on PostgreSQL"):
        await Store.open(f"sqlite:///{tmp_path / 'x.db'}", schema="s")
    with pytest.raises(ValueError, match="not a plain identifier"):
        await Store.open("postgresql://root@127.0.0.1/test", schema='x"; DROP TABLE y; --')


async def test_postgres_schema_is_created_when_missing(pg_backend: Backend) -> None:
    pg_backend.schema = f"{pg_backend.schema}_new"
    try:
        store = await pg_backend.open()
        async with store.engine.connect() as conn:
            where = (await conn.execute(text("SELECT current_schema()"))).scalar()
        assert where == pg_backend.schema
    finally:
        await pg_backend.close_all()
        pg_backend.opened.clear()
        await run_on_postgres(f'DROP SCHEMA IF EXISTS "{pg_backend.schema}" CASCADE')
