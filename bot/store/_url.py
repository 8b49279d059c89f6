"""Database URLs: the plain forms people write, turned into the async drivers the store uses."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "default_database_url",
    "normalize_database_url",
    "redact_database_url",
    "sqlite_file_path",
]

DEFAULT_SQLITE_PATH = Path("data") / "exports-bot.sqlite3"

_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"})
_POSTGRES_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "postgresql+asyncpg",
        "postgresql+psycopg2",
        "postgresql+psycopg",
        "postgresql+pg8000",
    }
)
_ACCEPTED = (
    "sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3, sqlite:// (in memory), "
    "sqlite+aiosqlite:///..., postgresql://user@host:5432/db, postgres://..., "
    "postgresql+psycopg2://... or postgresql+asyncpg://..."
)


def normalize_database_url(url: str) -> str:
    """Return ``url`` with the async driver the store runs on.

    SQLite URLs become ``sqlite+aiosqlite://...`` and PostgreSQL ones (``postgres://``,
    ``postgresql://``, ``postgresql+psycopg2://``, ...) ``postgresql+asyncpg://...``; the rest
    of the URL is kept (libpq's ``sslmode=`` is renamed to asyncpg's ``ssl=``).
    Raises ValueError naming the accepted forms; the message never contains the password.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"the database URL is not a URL; accepted forms: {_ACCEPTED}")
    scheme, rest = url.strip().split("://", 1)
    scheme = scheme.lower()
    if scheme in _SQLITE_SCHEMES:
        return "sqlite+aiosqlite://" + rest
    if scheme in _POSTGRES_SCHEMES:
        return "postgresql+asyncpg://" + _asyncpg_query(rest)
    shown = scheme if scheme.replace("+", "").replace("-", "").isalnum() else "?"
    raise ValueError(f"unsupported database URL scheme {shown!r}; accepted forms: {_ACCEPTED}")


def default_database_url() -> str:
    """The SQLite file ``./data/exports-bot.sqlite3`` (its directory is created on open)."""
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


def sqlite_file_path(normalized_url: str) -> Path | None:
    """The file behind a normalized SQLite URL, or None for an in-memory database."""
    rest = normalized_url.split("://", 1)[1]
    path = rest[1:] if rest.startswith("/") else rest
    path = path.split("?", 1)[0]
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        return None
    return Path(path)


def redact_database_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for logs and messages)."""
    if "://" not in url:
        return "<not a URL>"
    scheme, rest = url.split("://", 1)
    authority, sep, tail = rest.partition("/")
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        authority = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return f"{scheme}://{authority}{sep}{tail}"


def _asyncpg_query(rest: str) -> str:
    # SQLAlchemy hands query parameters to asyncpg.connect() as keywords: asyncpg calls
    # libpq's sslmode "ssl".
    base, sep, query = rest.partition("?")
    if not sep:
        return rest
    pairs = [
        ("ssl" if k == "sslmode" else k, v) for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{base}?{urlencode(pairs)}"
