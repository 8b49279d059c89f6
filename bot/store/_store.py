"""``Store``: opening the database (schema created/migrated at start), health, closing."""

from __future__ import annotations

import asyncio
import logging
import zlib
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store._alert_log import AlertLogStore
from bot.store._base import Clock, Dialect, system_clock
from bot.store._direct_messages import DirectMessageStore
from bot.store._engine import build_engine, enable_wal
from bot.store._errors import StoreConnectionError, StoreError
from bot.store._keys import LinkedKeyStore
from bot.store._leases import LeaseStore
from bot.store._migrations import migrate
from bot.store._poll_state import PollStateStore
from bot.store._subscriptions import SubscriptionStore
from bot.store._url import normalize_database_url, redact_database_url, sqlite_file_path

__all__ = ["Store"]

log = logging.getLogger(__name__)


class Store(
    SubscriptionStore,
    PollStateStore,
    AlertLogStore,
    LinkedKeyStore,
    DirectMessageStore,
    LeaseStore,
):
    """The bot's durable state on SQLite (one process) or PostgreSQL (any number of replicas).

    Open with ``await Store.open(url)``; every method is a coroutine that runs its own short
    transaction. Datetimes in and out are timezone-aware UTC (naive ones are refused).
    """

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        schema: str | None = None,
        clock: Clock | None = None,
        busy_timeout: float = 10.0,
    ) -> Store:
        """Connect, then create or migrate the schema.

        ``url``: any form :func:`normalize_database_url` accepts. ``schema`` (PostgreSQL
        only): keep the tables in this schema (created if missing) instead of the search
        path's first. ``clock``: "now" for timestamps, mutes and expiries (default: system UTC).
        ``busy_timeout``: seconds to wait for SQLite's write lock / a PostgreSQL connection.
        Raises ValueError for a bad URL, StoreConnectionError when the database can't be
        reached, SchemaVersionError when a newer bot migrated it.
        """
        normalized = normalize_database_url(url)
        dialect: Dialect = "sqlite" if normalized.startswith("sqlite") else "postgresql"
        shown = redact_database_url(normalized)
        path = sqlite_file_path(normalized) if dialect == "sqlite" else None
        if path is not None:
            _make_parent(path, shown)
        engine = build_engine(normalized, schema=schema, busy_timeout=busy_timeout)
        store = cls(engine, dialect, clock or system_clock, shown)
        try:
            if path is not None:
                await asyncio.to_thread(enable_wal, path, busy_timeout)
            await store._migrate(schema)
        except StoreError:
            await engine.dispose()
            raise
        except Exception as exc:
            await engine.dispose()
            raise StoreConnectionError(
                f"could not open the database at {shown}: {_reason(exc, normalized)}"
            ) from None
        return store

    async def _migrate(self, schema: str | None) -> None:
        async with self._write() as conn:
            if self.dialect == "postgresql":
                # Two replicas starting at once: the second waits here, then finds the schema.
                lock = zlib.crc32(f"peaka-exports-bot schema {schema or ''}".encode())
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
                if schema is not None:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.run_sync(migrate, self._now())

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine, for observing (events, pool status); not for writing."""
        return self._engine

    async def ping(self) -> bool:
        """True when the database answers a trivial query (for health checks)."""
        try:
            async with self._read() as conn:
                return bool(await conn.scalar(text("SELECT 1")) == 1)
        except Exception as exc:
            log.warning("database ping failed: %s", type(exc).__name__)
            return False

    async def close(self) -> None:
        """Close every pooled connection; the store can't be used afterwards."""
        await self._engine.dispose()

    aclose = close

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def _make_parent(path: Path, shown: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreConnectionError(
            f"cannot create the directory {str(path.parent)!r} for {shown}: {exc.strerror}"
        ) from None


def _reason(exc: BaseException, url: str) -> str:
    """A one-line cause without SQL text, parameters or the password."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    line = (str(cause).strip().splitlines() or [""])[0]
    password = _password(url)
    if password:
        for form in {password, unquote(password)}:
            line = line.replace(form, "***")
    return f"{type(cause).__name__}: {line}" if line else type(cause).__name__


def _password(url: str) -> str | None:
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" not in authority:
        return None
    userinfo = authority.rsplit("@", 1)[0]
    return userinfo.split(":", 1)[1] if ":" in userinfo else None
