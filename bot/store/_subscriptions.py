"""Channel subscriptions and channel mutes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from bot.peaka import Status
from bot.store._base import StoreBase, need_text
from bot.store._records import Subscription
from bot.store._schema import channel_mutes, subscriptions
from bot.store._types import decode_statuses, encode_statuses, utc

__all__ = ["SubscriptionStore"]


class SubscriptionStore(StoreBase):
    async def subscribe(
        self,
        channel_id: str,
        project_id: str,
        statuses: Iterable[Status | str],
        created_by: str,
    ) -> Subscription:
        """Create or replace the channel's subscription to ``project_id``.

        Re-subscribing replaces the statuses and clears ``broken_reason``.
        """
        need_text(channel_id=channel_id, project_id=project_id, created_by=created_by)
        wanted = frozenset(Status(s) for s in statuses)
        if not wanted:
            raise ValueError("a subscription needs at least one status")
        row = {
            "channel_id": channel_id,
            "project_id": project_id,
            "statuses": encode_statuses(wanted),
            "created_by": created_by,
            "created_at": self._now(),
            "broken_reason": None,
        }
        stmt = self._insert(subscriptions).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[subscriptions.c.channel_id, subscriptions.c.project_id],
            set_={
                "statuses": stmt.excluded.statuses,
                "created_by": stmt.excluded.created_by,
                "created_at": stmt.excluded.created_at,
                "broken_reason": None,
            },
        )
        async with self._write() as conn:
            await conn.execute(stmt)
        return _subscription(row)

    async def unsubscribe(self, channel_id: str, project_id: str | None) -> int:
        """Remove the channel's subscription to ``project_id`` (None: all); returns how many."""
        stmt = delete(subscriptions).where(subscriptions.c.channel_id == channel_id)
        if project_id is not None:
            stmt = stmt.where(subscriptions.c.project_id == project_id)
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount

    async def list_subscriptions(
        self, channel_id: str | None = None, project_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions, optionally of one channel and/or one project, broken ones included."""
        stmt = select(subscriptions).order_by(
            subscriptions.c.channel_id, subscriptions.c.project_id
        )
        if channel_id is not None:
            stmt = stmt.where(subscriptions.c.channel_id == channel_id)
        if project_id is not None:
            stmt = stmt.where(subscriptions.c.project_id == project_id)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_subscription(row) for row in rows]

    async def subscribed_projects(self) -> list[str]:
        """Projects with at least one subscription that isn't broken, sorted."""
        stmt = (
            select(subscriptions.c.project_id)
            .where(subscriptions.c.broken_reason.is_(None))
            .distinct()
            .order_by(subscriptions.c.project_id)
        )
        async with self._read() as conn:
            return list((await conn.scalars(stmt)).all())

    async def mark_subscription_broken(self, channel_id: str, reason: str) -> int:
        """Flag every subscription of the channel as broken; returns how many."""
        if not reason:
            raise ValueError("say why the subscription is broken (e.g. channel_not_found)")
        stmt = (
            update(subscriptions)
            .where(subscriptions.c.channel_id == channel_id)
            .values(broken_reason=reason)
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount

    async def set_mute(self, channel_id: str, until: datetime | None) -> None:
        """Mute the channel's alerts until ``until`` (None: unmute)."""
        need_text(channel_id=channel_id)
        async with self._write() as conn:
            if until is None:
                await conn.execute(
                    delete(channel_mutes).where(channel_mutes.c.channel_id == channel_id)
                )
                return
            stmt = self._insert(channel_mutes).values(
                channel_id=channel_id, muted_until=utc(until, "until")
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[channel_mutes.c.channel_id],
                set_={"muted_until": stmt.excluded.muted_until},
            )
            await conn.execute(stmt)

    async def muted_until(self, channel_id: str) -> datetime | None:
        """When the channel's mute ends, or None when it isn't muted (any more)."""
        stmt = select(channel_mutes.c.muted_until).where(channel_mutes.c.channel_id == channel_id)
        async with self._read() as conn:
            until: datetime | None = await conn.scalar(stmt)
        if until is None or until <= self._now():
            return None
        return until

    async def muted_channels(self) -> set[str]:
        """Every channel muted right now (``muted_until`` still ahead), in one read."""
        stmt = select(channel_mutes.c.channel_id).where(channel_mutes.c.muted_until > self._now())
        async with self._read() as conn:
            return set(await conn.scalars(stmt))


def _subscription(row: Any) -> Subscription:
    return Subscription(
        channel_id=row["channel_id"],
        project_id=row["project_id"],
        statuses=decode_statuses(row["statuses"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        broken_reason=row["broken_reason"],
    )
