"""What every part of the store shares: the engine, the clock and transaction helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["Clock", "Dialect", "StoreBase", "chunks", "need_text", "system_clock"]

Clock = Callable[[], datetime]
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

# Rows per multi-row statement / ids per IN list: far below SQLite's 32,766 and asyncpg's
# 32,767 bind parameters.
CHUNK = 1000


def system_clock() -> datetime:
    return datetime.now(UTC)


def need_text(**values: object) -> None:
    """ValueError naming the first argument that isn't a non-empty string."""
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoreBase:
    """Holds the engine; the feature mixins build on ``_read``, ``_write`` and ``_insert``."""

    _engine: AsyncEngine
    _clock: Clock
    dialect: Dialect
    url: str  # normalized, password masked

    def __init__(self, engine: AsyncEngine, dialect: Dialect, clock: Clock, url: str) -> None:
        self._engine = engine
        self.dialect = dialect
        self._clock = clock
        self.url = url
        # SQLite has one writer at a time: writers of this process queue here instead of
        # polling the file lock (the busy timeout is left for other processes).
        self._sqlite_writer = asyncio.Lock() if dialect == "sqlite" else None
        self._statements: dict[str, Any] = {}

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction, committed on success.

        On SQLite it starts with BEGIN IMMEDIATE: the write lock is taken (waiting up to the
        busy timeout) before the first read, so a read-then-write can't fail half-way when
        another connection wrote in between.
        """
        if self._sqlite_writer is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._sqlite_writer, self._engine.begin() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    def _statement(self, name: str, build: Callable[[], T]) -> T:
        """The statement ``build`` makes, built once per store under ``name``.

        For the statements the poller runs every batch: building one is a good part of its
        Python cost, and a reused statement also keeps SQLAlchemy's cache key (computed once
        per statement object). Values go in as bind parameters (expanding ones for lists).
        """
        found = self._statements.get(name)
        if found is None:
            found = self._statements[name] = build()
        return found

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has ``on_conflict_do_nothing/do_update``."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
