"""The simulator with a per-project index, so List stays fast with millions of jobs.

``bot.simulator``'s List scans every job of every project on each request (fine for tests,
quadratic for a 2,000,000-job benchmark). Here ``sim.jobs`` keeps each project's jobs sorted
by (createdAt, id), and while a List or Read request is being answered its ``values()`` yields
only the jobs that request can return: the project's jobs below the cursor, newest first,
until ``limit`` of them match the status filter. The simulator still filters, sorts and
slices that superset itself, so every answer is byte-for-byte what the plain simulator gives.
Anything it cannot parse falls back to the full scan, and to the simulator's own error.
"""

from __future__ import annotations

import bisect
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.peaka import Status, parse_timestamp
from bot.simulator import SimJob, Simulator, SimulatorServer

__all__ = ["FastSimulator", "FastSimulatorServer", "ScopedJobs"]

_FILTERABLE = frozenset({"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"})
_DEFAULT_LIMIT, _MAX_LIMIT = 50, 200


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the request being answered can return (``limit`` 0: nothing, for Reads)."""

    project_id: str
    statuses: frozenset[Status] | None
    limit: int
    before: datetime | None


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("bench_scope", default=None)


class ScopedJobs(dict[str, SimJob]):
    """``sim.jobs`` with each project's jobs kept sorted by (createdAt, id)."""

    def __init__(self, sim: FastSimulator) -> None:
        super().__init__()
        self._sim = sim
        self._keys: dict[str, list[tuple[datetime, str]]] = {}
        self._jobs: dict[str, list[SimJob]] = {}

    def __setitem__(self, job_id: str, job: SimJob) -> None:
        if job_id in self:
            raise ValueError("the benchmark never replaces a job")
        super().__setitem__(job_id, job)
        keys = self._keys.setdefault(job.project_id, [])
        jobs = self._jobs.setdefault(job.project_id, [])
        key = (job.created_at, job.id)
        if not keys or key > keys[-1]:  # the common case: jobs arrive in time order
            keys.append(key)
            jobs.append(job)
        else:
            at = bisect.bisect_left(keys, key)
            keys.insert(at, key)
            jobs.insert(at, job)

    def project_jobs(self, project_id: str) -> list[SimJob]:
        """The project's jobs, oldest first (do not modify)."""
        return self._jobs.get(project_id, [])

    def values(self) -> Any:  # a list instead of a view while a request is scoped
        scope = _SCOPE.get()
        if scope is None:
            return super().values()
        return list(self._window(scope))

    def _window(self, scope: _Scope) -> Iterator[SimJob]:
        if scope.limit == 0:
            return
        keys = self._keys.get(scope.project_id, [])
        jobs = self._jobs.get(scope.project_id, [])
        if scope.before is None:
            end = len(jobs)
        elif self._sim.cursor_inclusive:
            end = bisect.bisect_right(keys, (scope.before, "\U0010ffff"))
        else:
            end = bisect.bisect_left(keys, (scope.before, ""))
        lifetime = timedelta(seconds=self._sim.artifact_lifetime_seconds)
        now = self._sim.clock.now()
        matched = 0
        for index in range(end - 1, -1, -1):
            job = jobs[index]
            yield job
            if scope.statuses is not None:
                state = job.status_at(now, lifetime)
                stored = Status.SUCCEEDED if state is Status.EXPIRED else state
                if stored not in scope.statuses:
                    continue
            matched += 1
            if matched >= scope.limit:  # this walk is already in the List's order
                return


class FastSimulator(Simulator):
    """A ``Simulator`` whose ``jobs`` is a :class:`ScopedJobs`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs: ScopedJobs = ScopedJobs(self)

    def add_job(self, job: SimJob) -> SimJob:
        """Add a job built directly (the benchmark builds millions; ``create_job`` validates)."""
        self.jobs[job.id] = job
        return job


class FastSimulatorServer(SimulatorServer):
    """Serves a FastSimulator, telling its ``jobs`` which request is being answered."""

    async def _list(self, request: web.Request) -> web.StreamResponse:
        token = _SCOPE.set(_list_scope(request))
        try:
            return await super()._list(request)
        finally:
            _SCOPE.reset(token)

    async def _read(self, request: web.Request) -> web.StreamResponse:
        # Reads look jobs up by id; the only scan is the pre-sizing one, which the benchmark's
        # pre-sized jobs make pointless.
        token = _SCOPE.set(_Scope(request.match_info["projectId"], None, 0, None))
        try:
            return await super()._read(request)
        finally:
            _SCOPE.reset(token)


def _list_scope(request: web.Request) -> _Scope | None:
    """The request's filter, or None (scan everything) for anything unusual."""
    query = request.query
    items = [i.strip() for v in query.getall("status", []) for i in v.split(",") if i.strip()]
    if any(item not in _FILTERABLE for item in items):
        return None
    statuses = frozenset(Status(item) for item in items) if items else None
    raw_limit = query.get("limit")
    try:
        limit = _DEFAULT_LIMIT if not raw_limit else int(raw_limit.strip())
    except ValueError:
        return None
    limit = max(1, min(_MAX_LIMIT, limit))
    raw_before = query.get("createdBefore")
    try:
        before = parse_timestamp(raw_before) if raw_before else None
    except ValueError:
        return None
    return _Scope(request.match_info["projectId"], statuses, limit, before)
