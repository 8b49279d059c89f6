"""Peaka keys linked by Slack users, stored encrypted (the caller encrypts with KeyCipher)."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.store._base import StoreBase, need_text
from bot.store._records import LinkedKey
from bot.store._schema import linked_keys

__all__ = ["LinkedKeyStore"]


class LinkedKeyStore(StoreBase):
    async def save_linked_key(self, slack_user_id: str, ciphertext: bytes, key_prefix: str) -> None:
        """Store (or replace) the user's encrypted key; ``key_prefix`` is what may be shown."""
        need_text(slack_user_id=slack_user_id)
        if not isinstance(ciphertext, bytes) or not ciphertext:
            raise ValueError("ciphertext must be the non-empty bytes KeyCipher.encrypt returned")
        stmt = self._insert(linked_keys).values(
            slack_user_id=slack_user_id,
            ciphertext=ciphertext,
            key_prefix=key_prefix,
            linked_at=self._now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[linked_keys.c.slack_user_id],
            set_={
                "ciphertext": stmt.excluded.ciphertext,
                "key_prefix": stmt.excluded.key_prefix,
                "linked_at": stmt.excluded.linked_at,
            },
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def linked_key(self, slack_user_id: str) -> LinkedKey | None:
        """The user's encrypted key, or None when they haven't linked one."""
        stmt = select(linked_keys).where(linked_keys.c.slack_user_id == slack_user_id)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            return None
        return LinkedKey(
            slack_user_id=row["slack_user_id"],
            ciphertext=bytes(row["ciphertext"]),
            key_prefix=row["key_prefix"],
            linked_at=row["linked_at"],
        )

    async def delete_linked_key(self, slack_user_id: str) -> bool:
        """Forget the user's key; True when there was one."""
        stmt = delete(linked_keys).where(linked_keys.c.slack_user_id == slack_user_id)
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount > 0
