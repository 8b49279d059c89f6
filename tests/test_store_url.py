"""Database URLs: the forms people write become the async drivers; bad ones are explained."""

from __future__ import annotations

import pytest

from bot.store import default_database_url, normalize_database_url, redact_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/bot.sqlite3", "sqlite+aiosqlite:///data/bot.sqlite3"),
        ("sqlite:////var/lib/bot/bot.db", "sqlite+aiosqlite:////var/lib/bot/bot.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("SQLite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
        ("postgres://user:pw@host:5433/db", "postgresql+asyncpg://user:pw@host:5433/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
        (
            "postgresql://u@h/db?sslmode=verify-full&prepared_statement_cache_size=0",
            "postgresql+asyncpg://u@h/db?ssl=verify-full&prepared_statement_cache_size=0",
        ),
    ],
)
def test_accepted_forms(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize(
    "given",
    ["mysql://u:hunter2@h/db", "oracle+cx://u:hunter2@h/db", "http://u:hunter2@example.test/"],
)
def test_unknown_scheme_lists_what_is_accepted_without_the_password(given: str) -> None:
    with pytest.raises(ValueError) as caught:
        normalize_database_url(given)
    message = str(caught.value)
    assert "unsupported database URL scheme" in message
    assert given.split("://")[0] in message
    assert "postgresql://" in message and "sqlite:///" in message
    assert "hunter2" not in message


@pytest.mark.parametrize("given", ["", "u:hunter2@h/db", "data/bot.sqlite3"])
def test_not_a_url(given: str) -> None:
    with pytest.raises(ValueError, match="not a URL; accepted forms") as caught:
        normalize_database_url(given)
    assert "hunter2" not in str(caught.value)


def test_odd_scheme_is_not_echoed() -> None:
    with pytest.raises(ValueError) as caught:
        normalize_database_url("u:hunter2@h/x://y")
    assert "hunter2" not in str(caught.value)


def test_default_is_a_sqlite_file_under_data() -> None:
    assert default_database_url() == "sqlite+aiosqlite:///data/exports-bot.sqlite3"
    assert normalize_database_url(default_database_url()) == default_database_url()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql+asyncpg://u:hunter2@h:5432/db", "postgresql+asyncpg://u:***@h:5432/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql+asyncpg://u:p%40ss@h/db?ssl=require",
            "postgresql+asyncpg://u:***@h/db?ssl=require",
        ),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("nonsense", "<not a URL>"),
    ],
)
def test_redaction(given: str, expected: str) -> None:
    assert redact_database_url(given) == expected
