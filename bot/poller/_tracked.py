"""The poller's copy of each project's tracked jobs, so a cycle reads only what changed.

An entry is (revision, jobs): the job states stored while the project's ``revision`` (see
``bot.store._poll_state``) is that token. Every writer of a project's rows sets a fresh
token in the same transaction, so while the store still answers with the entry's revision,
nothing has written the project since, whoever else (another replica, a restart, the
forget path) may run: ``Store.poll_snapshots`` then skips its job rows. An entry is made

- from job rows read after their revision (rows newer than it mean the token has moved on,
  so the entry can never match again), or
- after a save whose transaction found, with the row locked, the revision the cycle read:
  the rows then were the cycle's ``known``, and now are ``known`` plus the saved changes.

Anything else (a failed or partly failed save, a failed project) drops the entry; the
next cycle reads the project from the store. Nothing is kept across restarts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC

from bot.core.alerting import TrackedJob
from bot.peaka import Status
from bot.store import PollResult, PollSnapshot

__all__ = ["TrackedCopies"]


class TrackedCopies:
    """Per project: the revision and the tracked jobs (``TrackedJob``) stored at it; bounded
    by the projects this process polls (``retain`` drops the others each cycle).

    The jobs are kept as a tuple and mapped by id when read: a dict costs ~45 bytes a job
    more, 4.5 MB at 100,000 tracked jobs, and mapping a 50-job project again costs ~2 µs
    once a cycle.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[str, tuple[TrackedJob, ...]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def held(self, project_ids: Iterable[str]) -> dict[str, str | None]:
        """The revision held for each project (None: no copy), for ``poll_snapshots``."""
        entries = self._entries
        return {p: entry[0] if (entry := entries.get(p)) else None for p in project_ids}

    def known(self, project_id: str, snapshot: PollSnapshot) -> Mapping[str, TrackedJob]:
        """The project's tracked jobs as stored at ``snapshot``'s revision, by id."""
        if snapshot.jobs is None:
            entry = self._entries.get(project_id)
            if entry is None or entry[0] != snapshot.revision:
                raise RuntimeError(f"no copy of project {project_id}'s jobs at that revision")
            return {job.job_id: job for job in entry[1]}
        known = {i: TrackedJob(i, r.status, r.created_at) for i, r in snapshot.jobs.items()}
        if snapshot.revision is not None:
            self._entries[project_id] = (snapshot.revision, tuple(known.values()))
        return known

    def saved(self, result: PollResult, known: Mapping[str, TrackedJob], revision: str) -> None:
        """After a save that found the revision ``known`` was read at: ``known`` plus the
        result's changes, applied as the store does (upserts, then deletions)."""
        jobs = dict(known)
        for job in result.upsert:
            jobs[job.job_id] = TrackedJob(
                job.job_id, Status(job.status), job.created_at.astimezone(UTC)
            )
        for job_id in result.delete:
            jobs.pop(job_id, None)
        self._entries[result.project_id] = (revision, tuple(jobs.values()))

    def retain(self, project_ids: Collection[str]) -> None:
        """Drop the copies of projects not in ``project_ids`` (e.g. whose lease moved on)."""
        for project_id in self._entries.keys() - set(project_ids):
            del self._entries[project_id]

    def drop(self, project_ids: Collection[str]) -> None:
        """Forget the copies of these projects (the next read takes them from the store)."""
        for project_id in project_ids:
            self._entries.pop(project_id, None)
