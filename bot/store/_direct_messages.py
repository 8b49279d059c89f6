"""Per-user DM state: opt-out, the one-time "connect your key" invite, "tell me when done"."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, delete, select

from bot.store._base import StoreBase, chunks, need_text
from bot.store._records import OwnerDmSettings
from bot.store._schema import connect_invites, dm_preferences, done_requests, linked_keys

__all__ = ["DirectMessageStore"]


class DirectMessageStore(StoreBase):
    async def set_dm_enabled(self, user_id: str, enabled: bool) -> None:
        """Turn the user's DMs on or off."""
        need_text(user_id=user_id)
        stmt = self._insert(dm_preferences).values(
            user_id=user_id, dm_enabled=bool(enabled), updated_at=self._now()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[dm_preferences.c.user_id],
            set_={"dm_enabled": stmt.excluded.dm_enabled, "updated_at": stmt.excluded.updated_at},
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def dm_enabled(self, user_id: str) -> bool:
        """Whether the bot may DM the user (True unless they turned DMs off)."""
        stmt = select(dm_preferences.c.dm_enabled).where(dm_preferences.c.user_id == user_id)
        async with self._read() as conn:
            enabled = await conn.scalar(stmt)
        return True if enabled is None else bool(enabled)

    async def owner_dm_settings(self, user_ids: Collection[str]) -> dict[str, OwnerDmSettings]:
        """DM opt-out, linked key and invitation of each user, in one read (by user id).

        What ``dm_enabled``, ``linked_key`` and the invitation mark would say one by one;
        every user asked for is in the answer (defaults for users the store never saw).
        """
        wanted = sorted(set(user_ids))
        enabled: dict[str, bool] = {}
        linked: set[str] = set()
        invited: set[str] = set()
        async with self._read() as conn:
            for batch in chunks(wanted):
                prefs = select(dm_preferences.c.user_id, dm_preferences.c.dm_enabled).where(
                    dm_preferences.c.user_id.in_(batch)
                )
                enabled.update(
                    (row.user_id, bool(row.dm_enabled)) for row in await conn.execute(prefs)
                )
                keys = select(linked_keys.c.slack_user_id).where(
                    linked_keys.c.slack_user_id.in_(batch)
                )
                linked.update(await conn.scalars(keys))
                sent = select(connect_invites.c.user_id).where(connect_invites.c.user_id.in_(batch))
                invited.update(await conn.scalars(sent))
        return {
            user: OwnerDmSettings(
                user_id=user,
                dm_enabled=enabled.get(user, True),
                linked=user in linked,
                invited=user in invited,
            )
            for user in wanted
        }

    async def mark_connect_invite_sent(self, user_id: str) -> bool:
        """True for the first call per user only (atomic across processes)."""
        need_text(user_id=user_id)
        stmt = (
            self._insert(connect_invites)
            .values(user_id=user_id, sent_at=self._now())
            .on_conflict_do_nothing(index_elements=[connect_invites.c.user_id])
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount == 1

    async def add_done_request(self, user_id: str, project_id: str, job_id: str) -> None:
        """Remember that the user wants a DM when the job finishes (idempotent)."""
        need_text(user_id=user_id, project_id=project_id, job_id=job_id)
        stmt = (
            self._insert(done_requests)
            .values(project_id=project_id, job_id=job_id, user_id=user_id, requested_at=self._now())
            .on_conflict_do_nothing(
                index_elements=[
                    done_requests.c.project_id,
                    done_requests.c.job_id,
                    done_requests.c.user_id,
                ]
            )
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def done_requests(self, project_id: str) -> list[tuple[str, str]]:
        """The project's pending requests as (user_id, job_id), oldest first."""
        stmt = (
            select(done_requests.c.user_id, done_requests.c.job_id)
            .where(done_requests.c.project_id == project_id)
            .order_by(done_requests.c.requested_at, done_requests.c.job_id, done_requests.c.user_id)
        )
        async with self._read() as conn:
            return [(row.user_id, row.job_id) for row in await conn.execute(stmt)]

    async def done_requests_of(
        self, project_ids: Collection[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """``done_requests`` of several projects in one read, by project (every one asked for)."""
        wanted = sorted(set(project_ids))
        found: dict[str, list[tuple[str, str]]] = {project_id: [] for project_id in wanted}
        stmt = self._statement(
            "done_requests_of",
            lambda: (
                select(done_requests.c.project_id, done_requests.c.user_id, done_requests.c.job_id)
                .where(done_requests.c.project_id.in_(bindparam("ids", expanding=True)))
                .order_by(
                    done_requests.c.requested_at,
                    done_requests.c.job_id,
                    done_requests.c.user_id,
                )
            ),
        )
        async with self._read() as conn:
            for batch in chunks(wanted):
                for row in await conn.execute(stmt, {"ids": list(batch)}):
                    found[row.project_id].append((row.user_id, row.job_id))
        return found

    async def remove_done_request(self, user_id: str, project_id: str, job_id: str) -> bool:
        """Drop one request (after the DM went out); True when it existed."""
        stmt = delete(done_requests).where(
            done_requests.c.project_id == project_id,
            done_requests.c.job_id == job_id,
            done_requests.c.user_id == user_id,
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount > 0
