"""Sharing the polling between replicas: project leases, a replica registry, and the
single-instance guard for SQLite (which can't be shared between hosts).

Each replica calls :meth:`LeaseStore.heartbeat` and then :meth:`LeaseStore.acquire_leases`
every cycle with ``max_projects = ceil(len(projects) / len(live_replicas()))``, and polls only
the projects it got back. A lease that isn't renewed expires and another replica takes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from bot.store._base import StoreBase, chunks, need_text
from bot.store._schema import project_leases, replicas, single_instance

__all__ = ["LeaseStore"]

_SLOT = 1  # the single row of single_instance


class LeaseStore(StoreBase):
    async def acquire_leases(
        self, holder: str, project_ids: Iterable[str], ttl: timedelta, max_projects: int
    ) -> list[str]:
        """Renew ``holder``'s leases and take free or expired ones, up to ``max_projects``.

        Leases beyond ``max_projects`` (the fair share shrank) and leases on projects no
        longer in ``project_ids`` are released. Returns the projects held now, sorted.
        On PostgreSQL rows another replica is busy with are skipped (FOR UPDATE SKIP
        LOCKED), so replicas never wait on each other here.
        """
        need_text(holder=holder)
        _positive(ttl)
        if max_projects < 0:
            raise ValueError(f"max_projects must be 0 or more, got {max_projects}")
        wanted = sorted(set(project_ids))
        for project_id in wanted:
            need_text(project_id=project_id)
        now = self._now()
        if wanted:
            # Rows first, in their own transaction: concurrent inserts of one new project
            # would otherwise wait on each other's uncommitted row until commit.
            async with self._write() as conn:
                for batch in chunks(wanted):
                    stmt = self._insert(project_leases).values(
                        [{"project_id": p, "holder": None, "expires_at": None} for p in batch]
                    )
                    await conn.execute(stmt.on_conflict_do_nothing())
        async with self._write() as conn:
            candidates = (
                select(project_leases.c.project_id, project_leases.c.holder)
                .where(
                    project_leases.c.project_id.in_(wanted),
                    or_(
                        project_leases.c.holder == holder,
                        project_leases.c.holder.is_(None),
                        project_leases.c.expires_at <= now,
                    ),
                )
                .order_by(project_leases.c.project_id)
            )
            if self.dialect == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            rows = (await conn.execute(candidates)).all()
            mine = [row.project_id for row in rows if row.holder == holder]
            free = [row.project_id for row in rows if row.holder != holder]
            keep = mine[:max_projects]
            held = sorted(keep + free[: max_projects - len(keep)])
            if held:
                await conn.execute(
                    update(project_leases)
                    .where(project_leases.c.project_id.in_(held))
                    .values(holder=holder, expires_at=now + ttl)
                )
            await conn.execute(
                update(project_leases)
                .where(
                    project_leases.c.holder == holder,
                    or_(
                        project_leases.c.project_id.in_(mine[max_projects:]),
                        project_leases.c.project_id.not_in(wanted),
                    ),
                )
                .values(holder=None, expires_at=None)
            )
        return held

    async def release_leases(self, holder: str) -> int:
        """Give up every lease of ``holder`` (on shutdown); returns how many."""
        stmt = (
            update(project_leases)
            .where(project_leases.c.holder == holder)
            .values(holder=None, expires_at=None)
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount

    async def lease_holders(self) -> dict[str, str]:
        """Projects with a live lease, and who holds each."""
        stmt = (
            select(project_leases.c.project_id, project_leases.c.holder)
            .where(project_leases.c.holder.is_not(None), project_leases.c.expires_at > self._now())
            .order_by(project_leases.c.project_id)
        )
        async with self._read() as conn:
            return {row.project_id: row.holder for row in await conn.execute(stmt)}

    async def heartbeat(self, replica_id: str, ttl: timedelta) -> None:
        """Say this replica is alive for ``ttl`` more; forgets replicas that stopped beating."""
        need_text(replica_id=replica_id)
        _positive(ttl)
        now = self._now()
        stmt = self._insert(replicas).values(
            replica_id=replica_id, expires_at=now + ttl, seen_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[replicas.c.replica_id],
            set_={"expires_at": stmt.excluded.expires_at, "seen_at": stmt.excluded.seen_at},
        )
        async with self._write() as conn:
            await conn.execute(stmt)
            await conn.execute(delete(replicas).where(replicas.c.expires_at <= now))

    async def live_replicas(self) -> list[str]:
        """Replicas whose heartbeat hasn't expired, sorted (this one included once it beat)."""
        stmt = (
            select(replicas.c.replica_id)
            .where(replicas.c.expires_at > self._now())
            .order_by(replicas.c.replica_id)
        )
        async with self._read() as conn:
            return list((await conn.scalars(stmt)).all())

    async def forget_replica(self, replica_id: str) -> None:
        """Remove the replica from the registry at once (clean shutdown)."""
        async with self._write() as conn:
            await conn.execute(delete(replicas).where(replicas.c.replica_id == replica_id))

    async def claim_single_replica(self, instance_id: str, ttl: timedelta) -> str | None:
        """Hold the database for ``instance_id`` for ``ttl`` (call again to renew).

        Returns None when this instance holds it now, or the id of the other live instance
        that does (a second bot on one SQLite file must refuse to start).
        """
        need_text(instance_id=instance_id)
        _positive(ttl)
        now = self._now()
        stmt = self._insert(single_instance).values(
            slot=_SLOT, instance_id=instance_id, expires_at=now + ttl
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[single_instance.c.slot],
            set_={"instance_id": stmt.excluded.instance_id, "expires_at": stmt.excluded.expires_at},
            where=or_(
                single_instance.c.instance_id == instance_id,
                single_instance.c.expires_at <= now,
            ),
        )
        async with self._write() as conn:
            if (await conn.execute(stmt)).rowcount == 1:
                return None
            other = await conn.scalar(
                select(single_instance.c.instance_id).where(single_instance.c.slot == _SLOT)
            )
        return str(other)

    async def release_single_replica(self, instance_id: str) -> bool:
        """Let go of the database (clean shutdown); True when this instance held it."""
        stmt = delete(single_instance).where(
            single_instance.c.slot == _SLOT, single_instance.c.instance_id == instance_id
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount > 0


def _positive(ttl: timedelta) -> None:
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise ValueError(f"ttl must be a positive timedelta, got {ttl!r}")
