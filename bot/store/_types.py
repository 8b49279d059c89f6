"""Column types: timezone-aware UTC datetimes on every dialect, and status sets as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator

from bot.peaka import Status

__all__ = ["UtcDateTime", "decode_statuses", "encode_statuses", "utc"]


def utc(value: datetime, what: str = "datetime") -> datetime:
    """``value`` in UTC; a naive datetime is refused (it is ambiguous)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """TIMESTAMPTZ on PostgreSQL; on SQLite a fixed-width UTC string read back as aware UTC.

    SQLite compares the stored text, so everything is converted to UTC before it is written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = utc(value)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def encode_statuses(statuses: Iterable[Status | str]) -> str:
    """A set of statuses as sorted comma-separated text (``FAILED,SUCCEEDED``)."""
    return ",".join(sorted({Status(s).value for s in statuses}))


def decode_statuses(text: str) -> frozenset[Status]:
    """The inverse of :func:`encode_statuses`; unknown names survive as pseudo-members."""
    return frozenset(Status(part) for part in text.split(",") if part)
