"""Linked Peaka keys: stored only as Fernet ciphertext; wrong or bad keys fail clearly."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store import KeyCipher, KeyDecryptionError, Store, generate_fernet_key
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

PEAKA_KEY = "pk_live_SECRETSECRET0123456789abcdef"


async def test_save_read_replace_delete(state_store: Store, store_backend: Backend) -> None:
    cipher = KeyCipher(generate_fernet_key())
    assert await state_store.linked_key("U1") is None
    await state_store.save_linked_key("U1", cipher.encrypt(PEAKA_KEY), "pk_live_SE")
    linked = await state_store.linked_key("U1")
    assert linked is not None
    assert (linked.slack_user_id, linked.key_prefix) == ("U1", "pk_live_SE")
    assert linked.linked_at == store_backend.clock.now() and linked.linked_at.tzinfo is UTC
    assert cipher.decrypt(linked.ciphertext) == PEAKA_KEY
    assert PEAKA_KEY.encode() not in linked.ciphertext
    assert "ciphertext" not in repr(linked)

    store_backend.clock.advance(60)
    await state_store.save_linked_key("U1", cipher.encrypt("pk_other_key_42"), "pk_other")
    replaced = await state_store.linked_key("U1")
    assert replaced is not None and cipher.decrypt(replaced.ciphertext) == "pk_other_key_42"
    assert replaced.linked_at == store_backend.clock.now()

    assert await state_store.delete_linked_key("U1") is True
    assert await state_store.delete_linked_key("U1") is False
    assert await state_store.linked_key("U1") is None


async def test_the_sqlite_file_never_holds_the_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite3"
    cipher = KeyCipher(Fernet.generate_key().decode())
    async with await Store.open(f"sqlite:///{path}") as store:
        for user in ("U1", "U2", "U3"):
            await store.save_linked_key(user, cipher.encrypt(PEAKA_KEY), PEAKA_KEY[:8])
    raw = database_bytes(tmp_path, "keys")
    assert b"U2" in raw  # the rows are there...
    assert PEAKA_KEY.encode() not in raw  # ...the key is not
    assert PEAKA_KEY[8:].encode() not in raw


def database_bytes(folder: Path, prefix: str) -> bytes:
    """The database file and any -wal/-shm beside it, as raw bytes."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith(prefix))


async def test_empty_ciphertext_is_refused(state_store: Store) -> None:
    with pytest.raises(ValueError, match="ciphertext must be the non-empty bytes"):
        await state_store.save_linked_key("U1", b"", "pk")
    with pytest.raises(ValueError, match="slack_user_id"):
        await state_store.save_linked_key("", b"x", "pk")


def test_round_trip_and_fresh_tokens() -> None:
    cipher = KeyCipher(generate_fernet_key())
    one, two = cipher.encrypt(PEAKA_KEY), cipher.encrypt(PEAKA_KEY)
    assert one != two  # a new IV each time
    assert cipher.decrypt(one) == cipher.decrypt(two) == PEAKA_KEY


def test_a_different_key_is_a_clear_error() -> None:
    token = KeyCipher(generate_fernet_key()).encrypt(PEAKA_KEY)
    other_key = generate_fernet_key()
    with pytest.raises(KeyDecryptionError) as caught:
        KeyCipher(other_key).decrypt(token)
    message = str(caught.value)
    assert "encrypted with a different BOT_ENCRYPTION_KEY" in message
    assert other_key not in message and PEAKA_KEY not in message


def test_corrupt_ciphertext_is_the_same_clear_error() -> None:
    with pytest.raises(KeyDecryptionError, match="different BOT_ENCRYPTION_KEY"):
        KeyCipher(generate_fernet_key()).decrypt(b"not a token")


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("too-short-secret", "is not a valid Fernet key"),
        ("A" * 43 + "!", "is not a valid Fernet key"),
        ("c2hvcnQ=", "is not a valid Fernet key"),  # valid base64, 5 bytes
    ],
)
def test_invalid_key_strings(given: str | None, problem: str) -> None:
    with pytest.raises(ValueError) as caught:
        KeyCipher(given)
    message = str(caught.value)
    assert message.startswith(f"BOT_ENCRYPTION_KEY {problem}")
    assert "urlsafe base64 32-byte Fernet key" in message
    assert "Fernet.generate_key()" in message
    if given:
        assert given not in message


def test_the_key_is_never_shown() -> None:
    key = generate_fernet_key()
    cipher = KeyCipher(f"  {key}\n")  # pasted with whitespace: still fine
    assert key not in repr(cipher)
    assert cipher.decrypt(cipher.encrypt("x")) == "x"
