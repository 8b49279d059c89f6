"""Store fixtures, run on both backends: load with ``pytest_plugins = ["tests.store_fixtures"]``.

- ``store_backend``: parametrized "sqlite" (a file under tmp_path) and "postgresql"
  (DATABASE_TEST_POSTGRES_URL, default postgresql://root@127.0.0.1:5432/test). Each
  PostgreSQL test gets its own schema (``store_test_<random>``, through the connections'
  search_path), dropped afterwards, so tests and other files can share the server at once.
  ``await store_backend.open()`` opens another Store on the same database (a restart, a
  second replica); ``.clock`` is the ManualClock every opened store reads.
- ``pg_backend``: the same, PostgreSQL only.
- ``state_store``: a Store opened on ``store_backend``, closed afterwards.

PostgreSQL is never skipped: when it can't be reached the test fails saying so.

PYTEST_DONT_REWRITE: no asserts here, and test modules import it before pytest_plugins
loads it (which would otherwise warn that it can't be rewritten).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.simulator import ManualClock
from bot.store import Store, normalize_database_url, redact_database_url

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("DATABASE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@dataclass
class Backend:
    name: str  # "sqlite" | "postgresql"
    url: str
    schema: str | None = None
    clock: ManualClock = field(default_factory=ManualClock)
    opened: list[Store] = field(default_factory=list)

    async def open(self, clock: ManualClock | None = None) -> Store:
        """A new Store on this database (closed with the fixture)."""
        store = await Store.open(self.url, schema=self.schema, clock=(clock or self.clock).now)
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        for store in self.opened:
            await store.close()


async def run_on_postgres(sql: str) -> None:
    """Run one statement on the test server, failing the test clearly when it's down."""
    url = normalize_database_url(postgres_url())
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is needed for this test and is not usable at "
            f"{redact_database_url(url)} ({type(exc).__name__}: {exc}); start it "
            "or set DATABASE_TEST_POSTGRES_URL",
            pytrace=False,
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_backend() -> AsyncIterator[Backend]:
    """A Backend in a fresh schema of the test server, dropped on exit."""
    schema = f"store_test_{uuid.uuid4().hex[:16]}"
    await run_on_postgres(f'CREATE SCHEMA "{schema}"')
    backend = Backend("postgresql", postgres_url(), schema)
    try:
        yield backend
    finally:
        await backend.close_all()
        await run_on_postgres(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        backend = Backend("sqlite", f"sqlite:///{tmp_path / 'store.sqlite3'}")
        try:
            yield backend
        finally:
            await backend.close_all()
        return
    async with postgres_backend() as backend:
        yield backend


@pytest.fixture
async def pg_backend() -> AsyncIterator[Backend]:
    async with postgres_backend() as backend:
        yield backend


@pytest.fixture
async def state_store(store_backend: Backend) -> Store:
    return await store_backend.open()
