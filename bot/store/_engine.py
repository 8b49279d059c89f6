"""Engines: SQLite in WAL mode with a busy timeout, PostgreSQL with an optional search path."""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.store._url import sqlite_file_path

__all__ = ["build_engine", "check_schema_name", "enable_wal"]

# Connections kept open: the poller polls 16 projects at once and handlers run beside it.
# SQLAlchemy's default (5, plus 10 opened and closed again on demand) reopened connections
# all cycle long: a new aiosqlite thread and PRAGMAs, or a PostgreSQL login, each time.
POOL_SIZE = 20
MAX_OVERFLOW = 10
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain PostgreSQL identifier, else ValueError."""
    if not _IDENTIFIER.match(schema):
        raise ValueError(
            f"schema {schema!r} is not a plain identifier (letters, digits and _, "
            "not starting with a digit, at most 63 characters)"
        )
    return schema


def build_engine(url: str, *, schema: str | None, busy_timeout: float) -> AsyncEngine:
    """An engine for a normalized URL (``sqlite+aiosqlite`` or ``postgresql+asyncpg``)."""
    if url.startswith("sqlite"):
        if schema is not None:
            raise ValueError("a schema can only be chosen on PostgreSQL, not SQLite")
        return _sqlite_engine(url, busy_timeout)
    server_settings = {"application_name": "peaka-exports-bot"}
    if schema is not None:
        server_settings["search_path"] = check_schema_name(schema)
    return create_async_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings, "timeout": busy_timeout},
    )


def _sqlite_engine(url: str, busy_timeout: float) -> AsyncEngine:
    memory = sqlite_file_path(url) is None
    options: dict[str, Any] = {
        "connect_args": {"timeout": busy_timeout},
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": POOL_SIZE,
        "max_overflow": MAX_OVERFLOW,
    }
    if memory:
        # Every connection to ":memory:" is a new, empty database: keep exactly one, and
        # let concurrent tasks take turns with it (a shared one would interleave transactions).
        options.update(poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0)
    engine = create_async_engine(url, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                # The file is in WAL mode (``enable_wal``); NORMAL is durable in WAL.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


def enable_wal(path: Path, busy_timeout: float) -> None:
    """Put the SQLite file at ``path`` in WAL mode (readers don't block the writer and vice
    versa); the mode is kept in the file. Blocking: run it in a thread.

    Switching needs a moment when no other connection is in a transaction, and SQLite says
    "database is locked" at once rather than waiting on the busy timeout (several bots or
    stores opening a new file together), so it tries again until ``busy_timeout`` is spent.
    """
    deadline = time.monotonic() + busy_timeout
    with closing(sqlite3.connect(path, timeout=busy_timeout)) as conn:
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)
