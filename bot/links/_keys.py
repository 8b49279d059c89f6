"""Linking a person's own Peaka API key: check it, store it encrypted, read it back, delete it.

The key is encrypted with Fernet (``bot.store.KeyCipher``, from BOT_ENCRYPTION_KEY) before it
reaches the database, registered with the log redactor the moment the bot sees it, and only
ever shown as its public prefix (the first 8 characters, which Peaka itself shows as a job's
``apiKeyPrefix``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.links._rules import KEY_PREFIX_LENGTH, key_prefix
from bot.logging_setup import register_secret
from bot.peaka import (
    ForbiddenError,
    InvalidKeyError,
    NotFoundError,
    PeakaClient,
    PeakaError,
    RetryPolicy,
)
from bot.settings import Settings, SettingsError
from bot.store import KeyCipher, KeyDecryptionError

if TYPE_CHECKING:
    from bot.app import Services

__all__ = [
    "KeyCheck",
    "KeyUnreadableError",
    "UserKey",
    "check_linking_settings",
    "clean_key_text",
    "forget_key",
    "key_cipher",
    "remember_key",
    "user_key",
    "validate_key",
]

log = logging.getLogger(__name__)

# The check runs before the modal's ack, which Slack wants within 3 s.
VALIDATION_SECONDS = 2.0
MAX_KEY_LENGTH = 512

KeyProblem = Literal["blank", "malformed", "invalid", "forbidden", "unreachable"]


class KeyUnreadableError(Exception):
    """The user's stored key can't be decrypted with the configured BOT_ENCRYPTION_KEY."""


@dataclass(frozen=True, slots=True)
class UserKey:
    """A user's linked Peaka key, decrypted. ``value`` stays out of reprs."""

    value: str = field(repr=False)
    prefix: str


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The outcome of checking a pasted key: ``problem`` None means Peaka accepted it."""

    problem: KeyProblem | None
    project_labels: str = ""


def key_cipher(settings: Settings) -> KeyCipher:
    """The cipher for BOT_ENCRYPTION_KEY; ValueError (key not echoed) when unusable."""
    secret = settings.bot_encryption_key
    return KeyCipher(secret.get_secret_value() if secret is not None else None)


def check_linking_settings(settings: Settings) -> None:
    """Refuse to start with linking on and no usable BOT_ENCRYPTION_KEY.

    Raises ``SettingsError`` with one line naming the variable, what is wrong and how to
    fix it (the key's value is never shown).
    """
    if not settings.linking_enabled:
        return
    try:
        key_cipher(settings)
    except ValueError as exc:
        raise SettingsError(
            [f"{exc}; or set LINKING_ENABLED=false to run without personal key linking"]
        ) from None


def clean_key_text(raw: object) -> tuple[str, None] | tuple[None, KeyProblem]:
    """``(key, None)``: the key pasted into the modal, trimmed; ``(None, problem)`` if it
    can't be one (blank, or not a single printable word of 8 to 512 characters)."""
    if not isinstance(raw, str) or not raw.strip():
        return None, "blank"
    key = raw.strip().strip("`'\"")
    if len(key) < KEY_PREFIX_LENGTH or len(key) > MAX_KEY_LENGTH or key != "".join(key.split()):
        return None, "malformed"
    if not key.isprintable() or not key.isascii():
        return None, "malformed"
    return key, None


async def validate_key(services: Services, key: str) -> KeyCheck:
    """Ask Peaka whether ``key`` works: one List call (limit 1) on the default project.

    A 403 there (a project key for another project) tries the other configured projects, so
    a project key is accepted where it works. Only a 401, or a 403/404 everywhere, rejects it.
    """
    register_secret(key)
    projects = services.projects.all
    forbidden: list[str] = []
    client = PeakaClient(
        key,
        base_url=services.settings.peaka_api_url,
        timeout=VALIDATION_SECONDS,
        retry=RetryPolicy(max_attempts=1, total_timeout=VALIDATION_SECONDS),
    )
    try:
        async with asyncio.timeout(VALIDATION_SECONDS + 0.5):
            for project in projects:
                try:
                    await client.list_exports(project.id, limit=1)
                except InvalidKeyError:
                    return KeyCheck("invalid")
                except (ForbiddenError, NotFoundError):
                    forbidden.append(project.label)
                    continue
                return KeyCheck(None)
    except (PeakaError, TimeoutError) as exc:
        log.warning("could not check a pasted Peaka key: %s", type(exc).__name__)
        return KeyCheck("unreachable")
    finally:
        await client.aclose()
    return KeyCheck("forbidden", project_labels=", ".join(forbidden))


async def remember_key(services: Services, user_id: str, key: str) -> str:
    """Encrypt and store ``key`` as ``user_id``'s; returns its public prefix."""
    register_secret(key)
    prefix = key_prefix(key)
    ciphertext = key_cipher(services.settings).encrypt(key)
    await services.store.save_linked_key(user_id, ciphertext, prefix)
    log.info("user %s linked a Peaka key (prefix %s)", user_id, prefix)
    return prefix


async def forget_key(services: Services, user_id: str) -> str | None:
    """Delete ``user_id``'s key; its prefix, or None when there was none."""
    stored = await services.store.linked_key(user_id)
    if stored is None:
        return None
    await services.store.delete_linked_key(user_id)
    log.info("user %s unlinked their Peaka key (prefix %s)", user_id, stored.key_prefix)
    return str(stored.key_prefix)


async def user_key(services: Services, user_id: str) -> UserKey | None:
    """``user_id``'s linked key, decrypted; None when they have none (no store, linking off).

    Raises KeyUnreadableError when it was encrypted with another BOT_ENCRYPTION_KEY: the
    error is logged once per call with what to do, and the ciphertext is never used.
    """
    store = services.store
    if store is None or not user_id or not services.settings.linking_enabled:
        return None  # with linking off, stored keys are not used (nor decryptable)
    stored = await store.linked_key(user_id)
    if stored is None:
        return None
    try:
        value = key_cipher(services.settings).decrypt(stored.ciphertext)
    except (KeyDecryptionError, ValueError) as exc:
        log.error("the linked Peaka key of user %s can't be used: %s", user_id, exc)
        raise KeyUnreadableError(str(exc)) from None
    register_secret(value)
    return UserKey(value=value, prefix=str(stored.key_prefix))
