"""How far the poller pages List Exports each cycle, and how it catches up on stragglers (pure).

List Exports orders jobs by ``createdAt``, newest first, not by when they last changed. Each
cycle the poller pages down to the previous cycle's newest ``createdAt`` (the
:class:`Watermark`): everything at or above it is new or recent. Tracked jobs that are still
PENDING or RUNNING but lie below that point (long jobs pushed off the first pages by newer
ones) are *stragglers*. For them it either keeps paging or reads them one by one (Read
Export), whichever costs fewer requests: :func:`plan_stragglers`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "MIN_FIRST_PAGE",
    "PAGE_SIZE",
    "Straggler",
    "StragglerPlan",
    "Watermark",
    "estimated_pages",
    "first_page_size",
    "plan_stragglers",
]

PAGE_SIZE = 200  # the List endpoint's largest page
MIN_FIRST_PAGE = 25


@dataclass(frozen=True, slots=True)
class Watermark:
    """The newest ``createdAt`` the previous cycle saw, and the ids of every job at exactly it.

    Jobs can share a ``createdAt``: one created in the same instant as the watermark, after the
    previous listing, is new although its ``createdAt`` is not greater. Hence the ids.
    ``created_at`` None: the project had no jobs yet.
    """

    created_at: datetime | None = None
    ids: frozenset[str] = frozenset()

    def is_new(self, job_id: str, created_at: datetime) -> bool:
        """Whether a job was not there when the watermark was taken."""
        if self.created_at is None or created_at > self.created_at:
            return True
        return created_at == self.created_at and job_id not in self.ids

    def passed(self, created_at: datetime) -> bool:
        """Whether a job this old lies strictly below the watermark.

        Listing newest first, once such a job shows up every job at or above the watermark
        has been seen, so the walk for new jobs can stop.
        """
        return self.created_at is not None and created_at < self.created_at

    def advanced(self, jobs: Iterable[tuple[str, datetime]]) -> Watermark:
        """The watermark after seeing ``jobs`` (id, createdAt); never moves backwards."""
        newest = self.created_at
        ids = set(self.ids)
        for job_id, created_at in jobs:
            if newest is None or created_at > newest:
                newest, ids = created_at, {job_id}
            elif created_at == newest:
                ids.add(job_id)
        return Watermark(newest, frozenset(ids))


def first_page_size(previous_reach: int | None) -> int:
    """How many jobs to ask for on a cycle's first page.

    ``previous_reach``: how deep into the listing the previous cycle needed to look (down to
    the first job below its watermark, or its deepest unfinished tracked job, whichever is
    deeper); None when unknown (first cycle since start). Twice that plus a margin, so the
    usual cycle is one small request that still passes the watermark and shows every tracked
    job nearby; a full page when unknown.
    """
    if previous_reach is None:
        return PAGE_SIZE
    return max(MIN_FIRST_PAGE, min(PAGE_SIZE, 2 * previous_reach + 10))


@dataclass(frozen=True, slots=True)
class Straggler:
    """A tracked job that the pages fetched so far did not show."""

    job_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StragglerPlan:
    """What to do about the stragglers.

    ``page_until``: keep paging until a job older than this shows up (None: stop paging).
    ``paged``: the stragglers that paging is expected to show (the newest ones); any it does
    not show after all must be read individually. ``read``: read these one by one.
    ``requests``: the estimated number of requests.
    """

    page_until: datetime | None
    paged: tuple[str, ...]
    read: tuple[str, ...]
    requests: int


def estimated_pages(
    down_to: datetime,
    *,
    frontier: datetime,
    tracked_created: Sequence[datetime],
    density: float | None,
    page_size: int = PAGE_SIZE,
) -> int:
    """Pages needed to list every job from ``frontier`` down to ``down_to`` (inclusive).

    The job count is estimated as the larger of the tracked jobs in that range (a lower bound:
    finished jobs are not tracked) and ``density`` (jobs per second seen in the pages fetched
    so far) times its length. At least one page.
    """
    return _pages(down_to, frontier, sorted(tracked_created), density, page_size)


def plan_stragglers(
    stragglers: Sequence[Straggler],
    *,
    frontier: datetime | None,
    exhausted: bool,
    tracked_created: Sequence[datetime] = (),
    density: float | None = None,
    page_size: int = PAGE_SIZE,
) -> StragglerPlan:
    """The cheapest way to see every straggler again this cycle.

    ``frontier``: the oldest ``createdAt`` fetched so far (paging continues from there);
    ``exhausted``: the listing has no more pages. ``tracked_created``: the ``createdAt`` of
    every tracked job, for the page estimate (see :func:`estimated_pages`).

    Paging down to the k-th newest straggler shows the k newest at once; the others are read
    individually. The plan picks the k with the fewest requests (pages(k) + reads), reading
    rather than paging on a tie, since a read is exact and a page count only an estimate.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    ordered = sorted(stragglers, key=lambda s: (s.created_at, s.job_id), reverse=True)
    everyone = tuple(s.job_id for s in ordered)
    if not ordered:
        return StragglerPlan(None, (), (), 0)
    if exhausted or frontier is None:
        # Nothing left to page through: a straggler the listing no longer shows must be read.
        return StragglerPlan(None, (), everyone, len(everyone))
    created = sorted(tracked_created)
    best_k, best_cost = 0, len(ordered)
    for k in range(1, len(ordered) + 1):
        pages = _pages(ordered[k - 1].created_at, frontier, created, density, page_size)
        cost = pages + len(ordered) - k
        if cost < best_cost:
            best_k, best_cost = k, cost
    if best_k == 0:
        return StragglerPlan(None, (), everyone, best_cost)
    return StragglerPlan(
        page_until=ordered[best_k - 1].created_at,
        paged=everyone[:best_k],
        read=everyone[best_k:],
        requests=best_cost,
    )


def _pages(
    down_to: datetime,
    frontier: datetime,
    created_sorted: Sequence[datetime],
    density: float | None,
    page_size: int,
) -> int:
    known = bisect.bisect_right(created_sorted, frontier) - bisect.bisect_left(
        created_sorted, down_to
    )
    span = max(0.0, (frontier - down_to).total_seconds())
    guessed = math.ceil(density * span) if density and density > 0 else 0
    jobs = max(known, guessed, 1)
    return math.ceil(jobs / page_size)
