"""How far the poller pages List Exports each cycle, and how it catches up on stragglers (pure).

List Exports orders jobs by ``createdAt``, newest first, not by when they last changed. Each
cycle the poller pages down to the previous cycle's newest ``createdAt`` (the
:class:`Watermark`): everything at or above it is new or recent. Tracked jobs that are still
PENDING or RUNNING but lie below that point (long jobs pushed off the first pages by newer
ones) are *stragglers*. For them it keeps paging, or *seeks* them: one List request from just
above a straggler (``createdBefore``) shows it and the jobs right below it, often other
stragglers too, and costs what a Read of that one job would. It may first list every
still-unfinished job at once (``status=PENDING,RUNNING``) and deal only with the stragglers
missing from that listing. :func:`plan_stragglers` picks the fewest requests.

A job's depth in the listing (how many jobs lie above it) only grows by the jobs created
after it, so a depth seen once stays exact when the new jobs of each cycle are added:
:func:`depths_after`. With exact depths the page counts are exact too; without (the first
cycle after a start), they are estimated from ``createdAt``. Depths and seek offsets live in
``bot.core.listing_positions`` (re-exported here).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.listing_positions import Depths, Offsets, Place, depths_after

__all__ = [
    "MIN_FIRST_PAGE",
    "PAGE_SIZE",
    "SEEK_PAGE",
    "Depths",
    "Offsets",
    "Place",
    "Straggler",
    "StragglerPlan",
    "Watermark",
    "depths_after",
    "estimated_pages",
    "first_page_size",
    "plan_stragglers",
    "seek_requests",
]

PAGE_SIZE = 200  # the List endpoint's largest page
MIN_FIRST_PAGE = 25
SEEK_PAGE = PAGE_SIZE  # jobs one seek shows: the straggler sought and those right below it


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
    """A tracked job that the pages fetched so far did not show.

    ``depth``: how many jobs lie above it in the listing now (0: the newest), when known.
    ``place``: where it lies relative to other stragglers a seek showed with it (see
    :class:`Offsets`), when known or guessed.
    """

    job_id: str
    created_at: datetime
    depth: int | None = None
    place: Place | None = None


@dataclass(frozen=True, slots=True)
class StragglerPlan:
    """What to do about the stragglers.

    ``page_until``: keep paging until a job older than this shows up (None: stop paging).
    ``paged``: the stragglers that paging is expected to show (the newest ones); any it does
    not show after all must be read individually. ``read``: seek these, newest first (a seek
    shows the one sought and the jobs right below it; the last one left is simply read).
    ``requests``: the estimated number of requests.

    ``list_active``: first list every PENDING or RUNNING job (``page_until`` None, ``paged``
    and ``read`` empty, ``requests`` that listing's pages: the least it costs); then plan
    again for the stragglers that listing did not show (they finished or are gone).
    """

    page_until: datetime | None
    paged: tuple[str, ...]
    read: tuple[str, ...]
    requests: int
    list_active: bool = False


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
    position: int = 0,
    active_listing_pages: int | None = None,
    expected_missing: int = 1,
    seek_size: int = SEEK_PAGE,
) -> StragglerPlan:
    """The cheapest way to see every straggler again this cycle.

    ``frontier``: the oldest ``createdAt`` fetched so far (paging continues from there);
    ``exhausted``: the listing has no more pages (then every straggler is read: the listing
    showed every job there is). ``position``: how many jobs the pages fetched so far showed
    (the depth paging continues from); ``page_size``: how many jobs each further page shows.
    A straggler's page count is exact from its ``depth`` when known, else estimated from
    ``tracked_created`` (the ``createdAt`` of every tracked job) and ``density`` (see
    :func:`estimated_pages`).

    Paging down to the k-th newest straggler shows the k newest at once (and down to any other
    whose known depth those pages reach); the others are sought (:func:`seek_requests`,
    ``seek_size`` jobs a seek). The plan picks the k with the fewest requests, seeking rather
    than paging on a tie, since a seek is exact and a page count only an estimate.
    ``active_listing_pages``: what a PENDING,RUNNING listing would cost (None: not an
    option); ``expected_missing``: how many stragglers that listing is expected to lack (at
    least one is counted, so it wins only clearly). The plan lists the active jobs first when
    its pages plus one request per expected missing straggler cost less than the best k; the
    stragglers it does not show are planned for afterwards, when their number is known.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    if seek_size < 1:
        raise ValueError(f"seek_size must be at least 1, got {seek_size}")
    ordered = sorted(stragglers, key=lambda s: (s.created_at, s.job_id), reverse=True)
    everyone = tuple(s.job_id for s in ordered)
    if not ordered:
        return StragglerPlan(None, (), (), 0)
    if exhausted or frontier is None:
        # Nothing left to page through: a straggler the listing no longer shows must be read.
        return StragglerPlan(None, (), everyone, len(everyone))
    created = sorted(tracked_created)
    seeks_from = _suffix_seeks(ordered, seek_size)
    # Known depths, in order: how far down some pages are known to reach.
    known_at = [i for i, s in enumerate(ordered) if s.depth is not None]
    known_depths = [ordered[i].depth or 0 for i in known_at]
    best_k, best_cost = 0, seeks_from[0]
    pages = 0
    for k, straggler in enumerate(ordered, start=1):
        # Paging to the k-th shows the k-1 newer ones on the way: never fewer pages.
        pages = max(pages, _pages_to(straggler, frontier, position, created, density, page_size))
        if pages >= best_cost:
            break  # pages only grow from here
        # Those pages also show every straggler down to the deepest they are known to reach.
        below = bisect.bisect_left(known_depths, position + pages * page_size)
        reached = max(k, known_at[below - 1] + 1) if below else k
        cost = pages + seeks_from[reached]
        if cost < best_cost:
            best_k, best_cost = reached, cost
    if active_listing_pages is not None:
        listing_cost = active_listing_pages + max(1, expected_missing)
        if listing_cost < best_cost:
            return StragglerPlan(None, (), (), active_listing_pages, list_active=True)
    if best_k == 0:
        return StragglerPlan(None, (), everyone, best_cost)
    return StragglerPlan(
        page_until=ordered[best_k - 1].created_at,
        paged=everyone[:best_k],
        read=everyone[best_k:],
        requests=best_cost,
    )


def seek_requests(stragglers: Sequence[Straggler], *, seek_size: int = SEEK_PAGE) -> int:
    """Requests to see ``stragglers`` by seeking, newest first: at most one each.

    A seek shows the job sought and the ``seek_size`` - 1 jobs below it, so with known
    depths one seek covers every straggler less than ``seek_size`` deeper; seeking the
    newest not yet shown, again and again, needs the fewest seeks there are. The same goes
    within each frame of known places (:class:`Offsets`), counted apart from the depths and
    from each other frame (the seeks one set needs would also cover any other). A straggler
    of neither known depth nor place is counted as one seek of its own (it may well be
    shown by another's).
    """
    groups: dict[int | None, list[int]] = {}
    count = 0
    for straggler in stragglers:
        if straggler.depth is not None:
            groups.setdefault(None, []).append(straggler.depth)
        elif straggler.place is not None:
            groups.setdefault(straggler.place.frame, []).append(straggler.place.offset)
        else:
            count += 1
    for positions in groups.values():
        shown_until = None  # the first position the last seek did not show
        for position in sorted(positions):
            if shown_until is None or position >= shown_until:
                count += 1
                shown_until = position + seek_size
    return count


def _suffix_seeks(ordered: Sequence[Straggler], seek_size: int) -> list[int]:
    """``seek_requests(ordered[i:])`` for every i (and 0 past the end), all in one pass.

    Covering from the deepest end (a window ending at the deepest one not covered yet) needs
    as few windows as covering from the newest end, and adding a newer straggler to the
    front then changes only the frontmost window of its frame.
    """
    counts = [0] * (len(ordered) + 1)
    front: dict[int | None, int] = {}  # frame (None: depths) -> its frontmost window's top
    for i in range(len(ordered) - 1, -1, -1):
        straggler = ordered[i]
        counts[i] = counts[i + 1] + 1
        if straggler.depth is not None:
            frame, at = None, straggler.depth
        elif straggler.place is not None:
            frame, at = straggler.place.frame, straggler.place.offset
        else:
            continue
        top = front.get(frame)
        if top is not None and at >= top:
            counts[i] -= 1  # within the window already counted
        else:
            front[frame] = at - seek_size + 1
    return counts


def _pages_to(
    straggler: Straggler,
    frontier: datetime,
    position: int,
    created_sorted: Sequence[datetime],
    density: float | None,
    page_size: int,
) -> int:
    """Pages from ``position`` until ``straggler`` shows up: exact from a known depth."""
    if straggler.depth is None:
        return _pages(straggler.created_at, frontier, created_sorted, density, page_size)
    return max(1, math.ceil((straggler.depth + 1 - position) / page_size))


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
