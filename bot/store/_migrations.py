"""Schema creation and the ordered list of migrations, run once at start.

A fresh database gets ``create_all`` and is stamped with every migration's version. An
existing one gets the migrations newer than its highest ``schema_version`` row, then
``create_all`` for tables added since; one that is up to date costs two queries.
To change a table: edit ``_schema.py`` and append a :class:`Migration` that brings an
existing database to the same shape (e.g. ADD COLUMN).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, text

from bot.store._errors import SchemaVersionError
from bot.store._schema import METADATA, schema_version

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "migrate"]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    METADATA.create_all(conn, checkfirst=True)


def _project_revision(conn: Connection) -> None:
    # Existing rows keep NULL: no poller holds a copy that matches it, so all are read anew.
    conn.execute(text("ALTER TABLE project_states ADD COLUMN revision VARCHAR"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial tables", _initial),
    Migration(2, "project_states.revision", _project_revision),
)
LATEST_VERSION = MIGRATIONS[-1].version


def migrate(conn: Connection, now: datetime, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the schema up to date inside the caller's transaction; returns the version.

    The caller serializes this between processes (advisory lock / BEGIN IMMEDIATE).
    ``migrations``: ordered by version; tests pass their own list.
    """
    latest = migrations[-1].version
    schema_version.create(conn, checkfirst=True)
    applied = set(conn.scalars(select(schema_version.c.version)))
    current = max(applied, default=0)
    if current > latest:
        raise SchemaVersionError(
            f"the database schema is at version {current}, newer than this bot knows "
            f"({latest}); upgrade the bot or point DATABASE_URL at another database"
        )
    if not applied:
        METADATA.create_all(conn, checkfirst=True)
        pending = list(migrations)
    else:
        pending = [m for m in migrations if m.version > current]
        for migration in pending:
            migration.apply(conn)
        if pending:
            METADATA.create_all(conn, checkfirst=True)
    if pending:
        conn.execute(
            insert(schema_version),
            [{"version": m.version, "applied_at": now} for m in pending],
        )
    return latest
