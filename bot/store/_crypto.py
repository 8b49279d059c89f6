"""Encrypting linked Peaka keys at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The store only ever sees the ciphertext; the caller holds a :class:`KeyCipher` built from
BOT_ENCRYPTION_KEY.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from bot.store._errors import KeyDecryptionError

__all__ = ["KeyCipher", "KeyDecryptionError", "generate_fernet_key"]

_GENERATE = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def generate_fernet_key() -> str:
    """A new random key for BOT_ENCRYPTION_KEY."""
    return Fernet.generate_key().decode("ascii")


class KeyCipher:
    """Encrypts and decrypts Peaka keys with one Fernet key; never shows the key."""

    __slots__ = ("_fernet",)

    def __init__(self, fernet_key: str | bytes | None) -> None:
        """Raise ValueError (without echoing the key) when ``fernet_key`` isn't a Fernet key."""
        problem = "is not set" if not fernet_key else "is not a valid Fernet key"
        fernet: Fernet | None = None
        if fernet_key:
            try:
                fernet = Fernet(fernet_key.strip())
            except (ValueError, TypeError):
                fernet = None
        if fernet is None:
            raise ValueError(
                f"BOT_ENCRYPTION_KEY {problem}: it must be a urlsafe base64 32-byte Fernet key "
                f"(44 characters), generate one with {_GENERATE}"
            )
        self._fernet = fernet

    def encrypt(self, plaintext: str) -> bytes:
        """The Fernet token for ``plaintext`` (a fresh IV each time)."""
        if not isinstance(plaintext, str) or not plaintext:
            raise ValueError("only a non-empty key can be encrypted")
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        """The plaintext; KeyDecryptionError when the token was made with another key."""
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except (InvalidToken, TypeError, UnicodeDecodeError):
            raise KeyDecryptionError(
                "stored keys were encrypted with a different BOT_ENCRYPTION_KEY (or are "
                "corrupt); restore the previous BOT_ENCRYPTION_KEY, or ask users to link "
                "their Peaka keys again"
            ) from None

    def __repr__(self) -> str:
        return "KeyCipher(<key hidden>)"
