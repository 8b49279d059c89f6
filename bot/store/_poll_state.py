"""The poller's memory: one row per followed job, one per project (watermark, baseline).

Every write of a project's rows, in either table, also sets the project's ``revision`` to a
fresh random token, in the same transaction and before the job rows (one lock order for
every writer). So while the revision is the one a poller read or wrote along with its copy
of the job states, nothing else has written them since: the copy is what is stored (see
``poll_snapshots`` and ``save_poll_results``'s ``expected``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.peaka import Status
from bot.store._base import StoreBase, chunks, need_text
from bot.store._records import JobState, PollResult, PollSnapshot, ProjectState
from bot.store._schema import job_states, project_states
from bot.store._types import utc

__all__ = ["PollStateStore"]

Insert = PostgresInsert | SqliteInsert


class PollStateStore(StoreBase):
    async def upsert_job_states(self, states: Iterable[JobState]) -> int:
        """Insert or update job states in multi-row statements; returns how many were written.

        A job listed twice keeps its last entry.
        """
        rows = _job_rows(states)
        if not rows:
            return 0
        async with self._write() as conn:
            await self._touch(conn, {row["project_id"] for row in rows}, _new_revision())
            await self._upsert_rows(conn, rows)
        return len(rows)

    async def poll_state(self, project_id: str) -> tuple[ProjectState | None, dict[str, JobState]]:
        """``project_state`` and ``job_states`` of one project, read together (one connection)."""
        async with self._read() as conn:
            state = await _project_state(conn, project_id)
            rows = await conn.execute(
                select(job_states).where(job_states.c.project_id == project_id)
            )
            return state, {row["job_id"]: _job(row) for row in rows.mappings()}

    async def poll_states(
        self, project_ids: Collection[str]
    ) -> dict[str, tuple[ProjectState | None, dict[str, JobState]]]:
        """``poll_state`` of several projects in one read: two queries per 1,000 projects.

        Every project asked for is in the answer (``(None, {})`` before its first poll).
        """
        snapshots = await self.poll_snapshots(dict.fromkeys(project_ids))
        return {p: (s.state, s.jobs if s.jobs is not None else {}) for p, s in snapshots.items()}

    async def poll_snapshots(self, held: Mapping[str, str | None]) -> dict[str, PollSnapshot]:
        """The poll state and revision of each project in ``held``, in one read.

        ``held``: per project, the revision of the caller's copy of its job states (None:
        no copy). A project still at that revision comes back with ``jobs`` None (its job
        rows are not read); every other one with all its job states. The revisions are read
        first: job rows read after them are never older than the revision says (a write
        since has changed the revision too, so that copy is never taken for current).
        """
        wanted = sorted(held)
        states: dict[str, ProjectState | None] = {}
        revisions: dict[str, str | None] = {}
        async with self._read() as conn:
            states_of = self._statement(
                "project_states_of",
                lambda: select(project_states).where(
                    project_states.c.project_id.in_(bindparam("ids", expanding=True))
                ),
            )
            for batch in chunks(wanted):
                found = await conn.execute(states_of, {"ids": list(batch)})
                for row in found.mappings():
                    states[row["project_id"]] = _state(row)
                    revisions[row["project_id"]] = row["revision"]
            stale = [p for p in wanted if revisions.get(p) is None or revisions[p] != held[p]]
            jobs: dict[str, dict[str, JobState]] = {project_id: {} for project_id in stale}
            jobs_of = self._statement(
                "job_states_of",
                lambda: select(*_JOB_COLUMNS).where(
                    job_states.c.project_id.in_(bindparam("ids", expanding=True))
                ),
            )
            for batch in chunks(stale):
                rows = await conn.execute(jobs_of, {"ids": list(batch)})
                # Plain tuples: a batch is hundreds of rows, and mapping access per field
                # was most of the read's Python time.
                for project_id, job_id, status, created_at, user_name in rows:
                    jobs[project_id][job_id] = JobState(
                        project_id, job_id, _status(status), created_at, user_name
                    )
        return {p: PollSnapshot(states.get(p), revisions.get(p), jobs.get(p)) for p in wanted}

    async def save_poll_results(
        self,
        results: Iterable[PollResult],
        *,
        expected: Mapping[str, str | None] | None = None,
    ) -> dict[str, str]:
        """Several projects' ``save_poll_result`` in one transaction: all or nothing.

        A few statements for the whole batch (revisions, project states, job upserts,
        deletions) instead of a transaction per project. ValueError, before anything is
        written, for a project given twice or a job/project state that isn't its result's
        project. ``expected``: per project, the revision the caller read its state at.
        Returns the new revision of each project written whose revision was still the
        expected one when this transaction locked its row (or, expected None, that still had
        no row: every job writer makes one): for those, the state read plus these changes
        is exactly what is stored now.
        """
        rows: list[dict[str, Any]] = []
        gone: list[tuple[str, str]] = []
        states: list[dict[str, Any]] = []
        projects: set[str] = set()
        written: set[str] = set()
        for result in results:
            if result.project_id in projects:
                raise ValueError(f"project {result.project_id!r} is in the batch twice")
            projects.add(result.project_id)
            rows += _checked_rows(result.project_id, result.upsert, result.state)
            gone += [(result.project_id, job_id) for job_id in sorted(set(result.delete))]
            if result.state is not None:
                states.append(_project_state_row(result.state))
            if result.writes:
                written.add(result.project_id)
        if not written:
            return {}
        revision = _new_revision()
        async with self._write() as conn:
            before: dict[str, str | None] = {}
            made: set[str] = set()
            if expected is not None:
                before, made = await self._lock_rows(conn, sorted(written), expected)
            if states:
                for row in states:
                    row["revision"] = revision
                states.sort(key=lambda row: str(row["project_id"]))
                upsert = self._statement("upsert_project_states", self._project_states_upsert)
                await conn.execute(upsert, states)
            await self._touch(conn, written - {row["project_id"] for row in states}, revision)
            if rows:
                await self._upsert_rows(conn, rows)
            if gone:
                forget = self._statement("forget_job_states", forget_jobs_statement)
                for batch in chunks(gone):
                    await conn.execute(forget, forget_jobs_params(batch))
        if expected is None:
            return {}
        return {
            p: revision
            for p in written
            if p in made or (before.get(p) is not None and before.get(p) == expected.get(p))
        }

    async def save_poll_result(
        self,
        project_id: str,
        *,
        upsert: Iterable[JobState] = (),
        delete: Collection[str] = (),
        state: ProjectState | None = None,
    ) -> None:
        """One cycle's changes to a project in one transaction: ``upsert`` these job states,
        ``delete`` these job ids, then save ``state`` (None: leave the project state as it is).

        All or nothing: what ``upsert_job_states``, ``delete_job_states`` and
        ``save_project_state`` would do one after the other.
        """
        need_text(project_id=project_id)
        result = PollResult(project_id, tuple(upsert), frozenset(delete), state)
        await self.save_poll_results([result])

    async def _lock_rows(
        self, conn: AsyncConnection, project_ids: list[str], expected: Mapping[str, str | None]
    ) -> tuple[dict[str, str | None], set[str]]:
        """Lock these projects' state rows (in one order, so no other writer's change lands
        between this check and the commit, and no deadlock); their revisions, and which
        rows were missing when the caller read and still were, so this made them."""
        stmt = self._statement(
            "lock_project_states",
            lambda: (
                select(project_states.c.project_id, project_states.c.revision)
                .where(project_states.c.project_id.in_(bindparam("ids", expanding=True)))
                .order_by(project_states.c.project_id)
                .with_for_update()
            ),
        )
        found = await conn.execute(stmt, {"ids": project_ids})
        before: dict[str, str | None] = {p: r for p, r in found}
        absent = [p for p in project_ids if p not in before and expected.get(p, "") is None]
        return before, await self._make_rows(conn, absent)

    async def _make_rows(self, conn: AsyncConnection, project_ids: list[str]) -> set[str]:
        """Insert empty state rows for these projects (a concurrent insert is waited for
        and wins); the ones this statement inserted."""
        if not project_ids:
            return set()
        stmt = (
            self._insert(project_states)
            .on_conflict_do_nothing()
            .returning(project_states.c.project_id)
        )
        rows = [{"project_id": p, "newest_seen_ids": "[]"} for p in sorted(project_ids)]
        return set((await conn.execute(stmt, rows)).scalars())

    async def _touch(
        self, conn: AsyncConnection, project_ids: Collection[str], revision: str
    ) -> None:
        """Set these projects' revision (creating an empty state row, which reads as "no
        baseline yet", where there is none: an insert waits for a concurrent one)."""
        if not project_ids:
            return
        stmt = self._statement("touch_project_states", self._touch_statement)
        rows = [
            {"project_id": p, "newest_seen_ids": "[]", "revision": revision}
            for p in sorted(project_ids)
        ]
        await conn.execute(stmt, rows)

    def _touch_statement(self) -> Insert:
        stmt = self._insert(project_states)
        return stmt.on_conflict_do_update(
            index_elements=[project_states.c.project_id],
            set_={"revision": stmt.excluded.revision},
        )

    async def _upsert_rows(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        # One statement run for many rows (executemany): its SQL is compiled once and cached,
        # where a multi-row VALUES is compiled anew for every batch (most of its cost).
        await conn.execute(self._statement("upsert_job_states", self._upsert_statement), rows)

    def _upsert_statement(self) -> Insert:
        stmt = self._insert(job_states)
        return stmt.on_conflict_do_update(
            index_elements=[job_states.c.project_id, job_states.c.job_id],
            set_={
                "status": stmt.excluded.status,
                "created_at": stmt.excluded.created_at,
                "user_name": stmt.excluded.user_name,
            },
        )

    async def job_states(
        self, project_id: str, job_ids: Collection[str] | None = None
    ) -> dict[str, JobState]:
        """Known states of ``job_ids`` (None: every job of the project), by job id."""
        base = select(job_states).where(job_states.c.project_id == project_id)
        found: dict[str, JobState] = {}
        async with self._read() as conn:
            if job_ids is None:
                for row in (await conn.execute(base)).mappings():
                    found[row["job_id"]] = _job(row)
                return found
            for batch in chunks(sorted(set(job_ids))):
                stmt = base.where(job_states.c.job_id.in_(batch))
                for row in (await conn.execute(stmt)).mappings():
                    found[row["job_id"]] = _job(row)
        return found

    async def tracked_jobs(self, project_id: str, statuses: Collection[Status]) -> list[JobState]:
        """The project's jobs last seen in one of ``statuses``, newest first."""
        wanted = sorted({Status(s).value for s in statuses})
        if not wanted:
            return []
        stmt = (
            select(job_states)
            .where(job_states.c.project_id == project_id, job_states.c.status.in_(wanted))
            .order_by(job_states.c.created_at.desc(), job_states.c.job_id.desc())
        )
        async with self._read() as conn:
            return [_job(row) for row in (await conn.execute(stmt)).mappings()]

    async def count_jobs_created_between(
        self, project_id: str, older: datetime, newer: datetime
    ) -> int:
        """How many known jobs of the project were created in [older, newer], both included."""
        stmt = select(func.count()).where(
            job_states.c.project_id == project_id,
            job_states.c.created_at >= utc(older, "older"),
            job_states.c.created_at <= utc(newer, "newer"),
        )
        async with self._read() as conn:
            return int(await conn.scalar(stmt) or 0)

    async def prune_job_states(self, project_id: str, keep_after: datetime) -> int:
        """Forget the project's jobs created before ``keep_after``; returns how many."""
        stmt = delete(job_states).where(
            job_states.c.project_id == project_id,
            job_states.c.created_at < utc(keep_after, "keep_after"),
        )
        async with self._write() as conn:
            await self._touch(conn, [project_id], _new_revision())
            return (await conn.execute(stmt)).rowcount

    async def delete_job_states(self, project_id: str, job_ids: Collection[str]) -> int:
        """Forget these jobs of the project (no longer followed); returns how many."""
        async with self._write() as conn:
            await self._touch(conn, [project_id], _new_revision())
            return await _delete_jobs(conn, project_id, job_ids)

    async def project_state(self, project_id: str) -> ProjectState | None:
        """The project's poll state, or None before its first poll (or after an empty one
        was saved: ``ProjectState(project_id)`` reads back as None)."""
        async with self._read() as conn:
            return await _project_state(conn, project_id)

    async def save_project_state(self, state: ProjectState) -> None:
        """Insert or replace the project's poll state."""
        async with self._write() as conn:
            await conn.execute(self._project_state_upsert(state))

    def _project_state_upsert(self, state: ProjectState) -> Insert:
        row = _project_state_row(state) | {"revision": _new_revision()}
        return self._project_states_upsert().values(row)

    def _project_states_upsert(self) -> Insert:
        """INSERT .. ON CONFLICT DO UPDATE of project-state rows (run with their values)."""
        stmt = self._insert(project_states)
        stmt = stmt.on_conflict_do_update(
            index_elements=[project_states.c.project_id],
            set_={name: getattr(stmt.excluded, name) for name in (*_STATE_COLUMNS, "revision")},
        )
        return stmt


_JOB_COLUMNS = (
    job_states.c.project_id,
    job_states.c.job_id,
    job_states.c.status,
    job_states.c.created_at,
    job_states.c.user_name,
)
_STATUSES = {status.value: status for status in Status}


def _status(value: str) -> Status:
    """``Status(value)``, without the enum call for the known ones."""
    return _STATUSES.get(value) or Status(value)


_STATE_COLUMNS = ("baseline_at", "newest_created_at", "newest_seen_ids", "last_polled_at")


def _new_revision() -> str:
    """A token no other write ever had (122 random bits)."""
    return uuid.uuid4().hex


def _project_state_row(state: ProjectState) -> dict[str, Any]:
    need_text(project_id=state.project_id)
    return {
        "project_id": state.project_id,
        "baseline_at": _opt_utc(state.baseline_at, "baseline_at"),
        "newest_created_at": _opt_utc(state.newest_created_at, "newest_created_at"),
        "newest_seen_ids": json.dumps(sorted(state.newest_seen_ids)),
        "last_polled_at": _opt_utc(state.last_polled_at, "last_polled_at"),
    }


def _checked_rows(
    project_id: str, upsert: Iterable[JobState], state: ProjectState | None
) -> list[dict[str, Any]]:
    """``upsert``'s rows; ValueError unless everything given is of ``project_id``."""
    need_text(project_id=project_id)
    rows = _job_rows(upsert)
    if any(row["project_id"] != project_id for row in rows):
        raise ValueError(f"every job state must be of project {project_id!r}")
    if state is not None and state.project_id != project_id:
        raise ValueError(f"the project state must be of project {project_id!r}")
    return rows


def _job_rows(states: Iterable[JobState]) -> list[dict[str, Any]]:
    """Rows for ``job_states``, one per (project, job): a job given twice keeps its last."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for state in states:
        need_text(project_id=state.project_id, job_id=state.job_id)
        latest[(state.project_id, state.job_id)] = {
            "project_id": state.project_id,
            "job_id": state.job_id,
            "status": Status(state.status).value,
            "created_at": utc(state.created_at, "created_at"),
            "user_name": state.user_name,
        }
    return list(latest.values())


async def _delete_jobs(conn: AsyncConnection, project_id: str, job_ids: Collection[str]) -> int:
    removed = 0
    for batch in chunks(sorted(set(job_ids))):
        stmt = delete(job_states).where(
            job_states.c.project_id == project_id, job_states.c.job_id.in_(batch)
        )
        removed += (await conn.execute(stmt)).rowcount
    return removed


async def _project_state(conn: AsyncConnection, project_id: str) -> ProjectState | None:
    stmt = select(project_states).where(project_states.c.project_id == project_id)
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else _state(row)


def _state(row: Any) -> ProjectState | None:
    """The row's state; None for an empty one (written with job rows, see ``_touch``, or
    forgotten): the same as no row to every reader."""
    empty = row["baseline_at"] is None and row["last_polled_at"] is None
    if empty and row["newest_created_at"] is None and row["newest_seen_ids"] == "[]":
        return None
    return ProjectState(
        project_id=row["project_id"],
        baseline_at=row["baseline_at"],
        newest_created_at=row["newest_created_at"],
        newest_seen_ids=frozenset(json.loads(row["newest_seen_ids"])),
        last_polled_at=row["last_polled_at"],
    )


def _job(row: Any) -> JobState:
    return JobState(
        project_id=row["project_id"],
        job_id=row["job_id"],
        status=Status(row["status"]),
        created_at=row["created_at"],
        user_name=row["user_name"],
    )


def _opt_utc(value: datetime | None, what: str) -> datetime | None:
    return None if value is None else utc(value, what)


def forget_jobs_statement() -> Delete:
    """Delete the (project_id, job_id) rows of ``job_states`` given by
    :func:`forget_jobs_params`.

    The ``project_id IN`` is implied by the pairs, but SQLite (3.40) matches a row-value
    ``IN`` alone by scanning the whole table, once per batch: at 100,000 tracked jobs that
    was most of a poll cycle. With it, SQLite reads only these projects' rows through the
    primary key (PostgreSQL uses the index either way).
    """
    pairs = tuple_(job_states.c.project_id, job_states.c.job_id)
    return delete(job_states).where(
        job_states.c.project_id.in_(bindparam("projects", expanding=True)),
        pairs.in_(bindparam("keys", expanding=True)),
    )


def forget_jobs_params(keys: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The parameters of :func:`forget_jobs_statement` for these (project_id, job_id) pairs."""
    return {"projects": sorted({project_id for project_id, _ in keys}), "keys": list(keys)}
