"""The store's exception hierarchy: every message says what went wrong, never a password."""

from __future__ import annotations

__all__ = [
    "AlertNotClaimedError",
    "KeyDecryptionError",
    "SchemaVersionError",
    "StoreConnectionError",
    "StoreError",
]


class StoreError(Exception):
    """Base class for everything ``bot.store`` raises on purpose."""


class StoreConnectionError(StoreError):
    """The database could not be reached or opened."""


class SchemaVersionError(StoreError):
    """The database was migrated by a newer bot than this one."""


class AlertNotClaimedError(StoreError, LookupError):
    """Confirming or failing an alert that was never claimed (a caller bug)."""


class KeyDecryptionError(StoreError):
    """A stored Peaka key can't be decrypted with the configured BOT_ENCRYPTION_KEY."""
