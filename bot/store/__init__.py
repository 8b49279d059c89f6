"""Durable state: subscriptions, poller state, the once-only alert log, linked keys, leases.

SQLAlchemy 2 async on SQLite (aiosqlite, the default) or PostgreSQL (asyncpg) with the
same code::

    store = await Store.open(normalize_database_url("sqlite:///data/exports-bot.sqlite3"))
    if await store.claim_alert(AlertKey(job_id, Status.FAILED, channel), project_id, me):
        ...post, then await store.confirm_alert(key, channel, ts)
    await store.close()
"""

from __future__ import annotations

from bot.store._crypto import KeyCipher, generate_fernet_key
from bot.store._dedup import AlertDeduplicator
from bot.store._errors import (
    AlertNotClaimedError,
    KeyDecryptionError,
    SchemaVersionError,
    StoreConnectionError,
    StoreError,
)
from bot.store._migrations import LATEST_VERSION
from bot.store._records import (
    AlertKey,
    AlertRecord,
    AlertState,
    JobState,
    LinkedKey,
    OwnerDmSettings,
    PollResult,
    PollSnapshot,
    ProjectState,
    Subscription,
)
from bot.store._store import Store
from bot.store._url import default_database_url, normalize_database_url, redact_database_url

__all__ = [
    "LATEST_VERSION",
    "AlertDeduplicator",
    "AlertKey",
    "AlertNotClaimedError",
    "AlertRecord",
    "AlertState",
    "JobState",
    "KeyCipher",
    "KeyDecryptionError",
    "LinkedKey",
    "OwnerDmSettings",
    "PollResult",
    "PollSnapshot",
    "ProjectState",
    "SchemaVersionError",
    "Store",
    "StoreConnectionError",
    "StoreError",
    "Subscription",
    "default_database_url",
    "generate_fernet_key",
    "normalize_database_url",
    "redact_database_url",
]
