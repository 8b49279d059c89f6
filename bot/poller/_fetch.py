"""One project's fetch for a cycle: new jobs down to the watermark, then the stragglers.

The plan itself is pure (``bot.core.fetch_plan``); this module runs it against Peaka.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.alerting import SeenJob, TrackedJob, deciding_on, settled
from bot.core.fetch_plan import (
    PAGE_SIZE,
    SEEK_PAGE,
    Depths,
    Offsets,
    Straggler,
    StragglerPlan,
    Watermark,
    depths_after,
    first_page_size,
    plan_stragglers,
)
from bot.peaka import (
    TERMINAL,
    ExportJob,
    JobSummary,
    NotFoundError,
    PageCursor,
    PeakaClient,
    Status,
)

__all__ = ["ProjectFetch", "fetch_project", "without_files"]

log = logging.getLogger(__name__)

READ_CONCURRENCY = 8
# Seeks run one after another (each shows which stragglers the next need not seek); past
# this many in a cycle the rest are read concurrently, so that many stragglers finishing far
# apart cost no more requests than reads but do not take that many round trips in a row.
MAX_SEEKS = 2 * READ_CONCURRENCY
# Past this many pages in one cycle, say so: the interval may be too long for the traffic.
MANY_PAGES = 20
# Jobs a List page shows after the first: one server page of PAGE_SIZE, less the job
# ``list_page`` asks for to know whether more follow and the one the cursor repeats.
FURTHER_PAGE_JOBS = PAGE_SIZE - 2
_ACTIVE = (Status.PENDING, Status.RUNNING)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class ProjectFetch:
    """What one cycle saw of a project.

    ``listed``: jobs from List pages, newest first. ``read``: stragglers read one by one or
    shown by a seek (a List from just above one of them). Listed jobs are ``JobSummary``s,
    except those ``needs_details`` picks (full, no files).
    ``active``: stragglers a PENDING,RUNNING listing showed (seen before ``listed``'s later
    pages and ``read``, so those win). ``gone``: tracked ids Peaka no longer knows (404).
    ``plan``: the straggler plan used (after the active listing, if there was one).
    ``reach``: how many listed jobs this cycle needed (see ``first_page_size``).
    ``depths``: how many jobs lie above each tracked or listed unfinished job, where known
    (pass it back as ``previous_depths`` next cycle). ``finished_stragglers``: how many
    stragglers that were PENDING or RUNNING turned out finished or gone (None: no plan ran;
    pass it back as ``previous_finished`` next cycle). ``offsets``: where tracked jobs that
    seeks showed lie relative to each other (pass it back as ``previous_offsets``).
    """

    listed: list[SeenJob] = field(default_factory=list)
    read: list[ExportJob] = field(default_factory=list)
    active: list[SeenJob] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    plan: StragglerPlan | None = None
    pages: int = 0
    seeks: int = 0
    reach: int | None = None
    depths: Depths = field(default_factory=Depths)
    finished_stragglers: int | None = None
    offsets: Offsets = field(default_factory=Offsets)
    to_decide: list[SeenJob] | None = None

    @property
    def observed(self) -> list[SeenJob]:
        return [*self.active, *self.listed, *self.read]


class _Pager:
    """List pages newest first, one List request per page (up to 200 jobs each)."""

    def __init__(self, client: PeakaClient, project_id: str, into: ProjectFetch) -> None:
        self._client = client
        self._project_id = project_id
        self._into = into
        self.cursor: PageCursor | None = None
        self.exhausted = False

    async def next_page(self, size: int = PAGE_SIZE) -> list[JobSummary]:
        # list_summaries asks the server for limit + 1 + (ids the cursor repeats) jobs; keep that
        # at one server page of ``size`` so each call is exactly one request.
        carried = len(self.cursor.seen_ids) if self.cursor is not None else 0
        limit = max(1, size - 1 - carried)
        page = await self._client.list_summaries(self._project_id, limit=limit, cursor=self.cursor)
        self._into.pages += 1
        if self._into.pages == MANY_PAGES:
            log.warning("project %s: %d List pages in one cycle", self._project_id, MANY_PAGES)
        jobs = page.jobs
        self._into.listed.extend(jobs)
        self.cursor = page.next_cursor
        if self.cursor is None or not jobs:
            self.exhausted = True
        return jobs


async def fetch_project(
    client: PeakaClient,
    project_id: str,
    *,
    watermark: Watermark | None,
    tracked: Mapping[str, TrackedJob],
    check_expiry: bool,
    previous_reach: int | None = None,
    previous_depths: Depths | None = None,
    previous_finished: int | None = None,
    previous_offsets: Offsets | None = None,
) -> ProjectFetch:
    """Fetch what this cycle needs to know about ``project_id``.

    ``watermark`` None is the first poll (baseline): the newest page, then every job still
    PENDING or RUNNING (a status-filtered listing, so history costs nothing). Otherwise: pages
    until one reaches below the watermark, then stragglers (tracked jobs not seen yet that are
    unfinished, or SUCCEEDED ones when ``check_expiry``) per ``plan_stragglers``: a
    PENDING,RUNNING listing, paging on, or seeking them. ``previous_depths``,
    ``previous_finished`` and ``previous_offsets``: the previous cycle's
    ``ProjectFetch.depths``, ``finished_stragglers`` and ``offsets`` (this process's memory;
    None: unknown).
    """
    result = ProjectFetch()
    result.offsets = (previous_offsets or Offsets()).kept(t.created_at for t in tracked.values())
    pager = _Pager(client, project_id, result)
    if watermark is None:
        await pager.next_page()
        result.depths = _depths(result, tracked, 0, Depths())
        if not pager.exhausted:
            seen = {job.id for job in result.listed}
            async for job in client.iter_summaries(
                project_id, statuses=list(_ACTIVE), page_size=PAGE_SIZE
            ):
                if job.id not in seen:
                    result.listed.append(job)
        _add_details(result, tracked, watermark)
        return result

    size = first_page_size(previous_reach)
    while not pager.exhausted:
        page = await pager.next_page(size)
        size = PAGE_SIZE
        if page and watermark.passed(page[-1].created_at):
            break
    new_jobs = _count_new(result.listed, watermark)
    depths = previous_depths or Depths()

    listed = {job.id for job in result.listed}  # kept up to date as more pages come
    stragglers = [
        Straggler(
            t.job_id,
            t.created_at,
            _depth(depths, t.created_at, new_jobs),
            result.offsets.guess(t.created_at),
        )
        for t in tracked.values()
        if t.job_id not in listed and _needs_checking(t.status, check_expiry)
    ]
    # The listing will lack the SUCCEEDED stragglers (expiry checks) and the ones finished
    # since: expect as many of those as last cycle.
    expected_missing = sum(1 for s in stragglers if _finished(tracked[s.job_id].status))
    expected_missing += max(1, previous_finished or 0)
    plan = _plan(
        result, pager, stragglers, tracked, active_listing=True, expected_missing=expected_missing
    )
    if plan.list_active:
        active = await _list_active(client, project_id, {s.job_id for s in stragglers})
        result.active = list(active.values())
        plan = _plan(
            result,
            pager,
            [s for s in stragglers if s.job_id not in active],
            tracked,
            active_listing=False,
        )
    result.plan = plan
    to_read: list[str] = []
    if plan.page_until is not None:
        wanted = set(plan.paged)
        while wanted and not pager.exhausted:
            page = await pager.next_page()
            shown = {job.id for job in page}
            wanted -= shown
            listed |= shown
            if page and page[-1].created_at < plan.page_until:
                break
        to_read += sorted(wanted)  # paging did not show them after all
    to_see = [i for i in plan.read if i not in listed]  # paging may have shown some
    if pager.exhausted:
        to_read += to_see  # the listing showed every job there is: only a Read can tell
    else:
        to_read += await _seek_all(client, project_id, to_see, tracked, result)
    if to_read:
        await _read_all(client, project_id, to_read, result)
    result.reach = _reach(result.listed, watermark, tracked)
    result.finished_stragglers = _finished_count(stragglers, tracked, result)
    result.offsets = result.offsets.kept(t.created_at for t in tracked.values())
    result.depths = _depths(result, tracked, new_jobs, depths, listed)
    _add_details(result, tracked, watermark, listed)
    return result


def _add_details(
    result: ProjectFetch,
    tracked: Mapping[str, TrackedJob],
    watermark: Watermark | None,
    listed_ids: set[str] | None = None,
) -> None:
    """Expand the listed jobs that deciding reads in full (``needs_details``; here, where a
    malformed one raises MalformedResponseError like a List would, and the project backs
    off), and note ``result.to_decide``. ``listed_ids``: the ids in ``result.listed``.

    One pass tells both for each listed job (the usual cycle lists ~100 jobs a project, and
    ~95% of them are ``settled``: deciding then looks at the few others only).
    """
    parts: list[list[SeenJob]] = []
    for jobs in (result.listed, result.active):
        part: list[SeenJob] = []
        parts.append(part)
        for index, job in enumerate(jobs):
            # ``needs_details`` and ``settled``, inlined: this runs for every listed job.
            status = job.status
            before = tracked.get(job.id)
            if before is not None:
                if status == before.status and job.created_at == before.created_at:
                    # The record ``_track`` would keep is the one it has: no details needed.
                    if status in TERMINAL or job.id != before.job_id:
                        part.append(job)
                    continue
            elif status in TERMINAL and (
                watermark is None or not watermark.is_new(job.id, job.created_at)
            ):
                continue  # finished history
            if isinstance(job, JobSummary):
                job = jobs[index] = without_files(job.details())
            part.append(job)
    if _repeats(result, listed_ids):
        # An id seen twice: the later sighting wins, wherever it is (rare).
        result.to_decide = deciding_on(result.observed, tracked, watermark)
        return
    listed, active = parts
    read = [job for job in result.read if not settled(job, tracked.get(job.id), watermark)]
    result.to_decide = [*active, *listed, *read]


def _repeats(result: ProjectFetch, listed_ids: set[str] | None) -> bool:
    """Whether an id is in ``result.observed`` more than once."""
    if listed_ids is None:
        listed_ids = {job.id for job in result.listed}
    others = [job.id for job in (*result.active, *result.read)]
    return (
        len(listed_ids) != len(result.listed)
        or len(set(others)) != len(others)
        or not listed_ids.isdisjoint(others)
    )


def _plan(
    result: ProjectFetch,
    pager: _Pager,
    stragglers: list[Straggler],
    tracked: Mapping[str, TrackedJob],
    *,
    active_listing: bool,
    expected_missing: int = 1,
) -> StragglerPlan:
    listed = result.listed
    pages: int | None = None
    if active_listing and any(not _finished(tracked[s.job_id].status) for s in stragglers):
        # What the PENDING,RUNNING listing holds: the unfinished jobs listed so far and the
        # stragglers (at most); a full last page costs one more request to find the end.
        active = sum(1 for job in listed if not _finished(job.status)) + len(stragglers)
        pages = active // (PAGE_SIZE - 1) + 1
    return plan_stragglers(
        stragglers,
        frontier=listed[-1].created_at if listed else None,
        exhausted=pager.exhausted,
        tracked_created=[t.created_at for t in tracked.values()],
        density=_density(listed),
        page_size=FURTHER_PAGE_JOBS,
        position=len(listed),
        active_listing_pages=pages,
        expected_missing=expected_missing,
    )


async def _list_active(
    client: PeakaClient, project_id: str, wanted: set[str]
) -> dict[str, JobSummary]:
    """The ``wanted`` jobs among every PENDING or RUNNING one, by id.

    Other jobs in that listing are ignored: a job newer than the pages fetched was created
    after them, and stays new for the next cycle's walk.
    """
    found: dict[str, JobSummary] = {}
    async for job in client.iter_summaries(project_id, statuses=list(_ACTIVE), page_size=PAGE_SIZE):
        if job.id in wanted:
            found[job.id] = job
    return found


async def _seek_all(
    client: PeakaClient,
    project_id: str,
    job_ids: Sequence[str],
    tracked: Mapping[str, TrackedJob],
    into: ProjectFetch,
) -> list[str]:
    """Seek the ``job_ids`` (tracked), newest first; the ones left to read.

    One List from just above the newest not seen yet (``createdBefore`` its ``createdAt``
    plus a microsecond) shows it and the jobs right below it: every wanted one among them is
    seen with that one request. The last one left, or one its own seek did not show (gone,
    or hidden by more jobs sharing its instant than a page holds), is left to a Read, which
    also tells a gone job (404); so are those left after ``MAX_SEEKS`` seeks.
    """
    remaining = sorted(job_ids, key=lambda i: (tracked[i].created_at, i), reverse=True)
    left: list[str] = []
    for _ in range(MAX_SEEKS):
        if len(remaining) < 2:
            break
        target = remaining[0]
        page = await client.list_exports(
            project_id, limit=SEEK_PAGE, created_before=tracked[target].created_at + _MICROSECOND
        )
        into.seeks += 1
        into.offsets = into.offsets.seen([job.created_at for job in page])
        shown = {job.id: job for job in page}
        into.read.extend(without_files(shown[i]) for i in remaining if i in shown)
        if target not in shown:
            left.append(target)
        remaining = [i for i in remaining[1:] if i not in shown]
    return left + remaining


def _count_new(jobs: Sequence[SeenJob], watermark: Watermark) -> int:
    """How many of ``jobs`` were not there when ``watermark`` was taken."""
    floor = watermark.created_at
    if floor is None:
        return len(jobs)
    # Only one at or above the watermark can be new: most listed jobs are told by one compare.
    return sum(
        1 for job in jobs if job.created_at >= floor and watermark.is_new(job.id, job.created_at)
    )


def _finished_count(
    stragglers: Sequence[Straggler], tracked: Mapping[str, TrackedJob], result: ProjectFetch
) -> int:
    """How many stragglers that were unfinished are now seen finished, or are gone."""
    unfinished = [s.job_id for s in stragglers if not _finished(tracked[s.job_id].status)]
    if not unfinished:
        return 0  # the usual cycle: every tracked job was listed
    now = {job.id: job.status for job in result.observed}
    gone = set(result.gone)
    count = 0
    for job_id in unfinished:
        status = now.get(job_id)
        if job_id in gone or (status is not None and _finished(status)):
            count += 1
    return count


def _depth(depths: Depths, created_at: datetime, new_jobs: int) -> int | None:
    before = depths.get(created_at)
    return None if before is None else before + new_jobs


def _depths(
    result: ProjectFetch,
    tracked: Mapping[str, TrackedJob],
    new_jobs: int,
    previous: Depths,
    listed_ids: set[str] | None = None,
) -> Depths:
    """Depths to remember: of the tracked jobs and of listed unfinished ones (tracked next).

    ``depths_after`` of them, walking ``result.listed`` once. ``listed_ids``: its ids.
    """
    listed = result.listed
    if listed_ids is None:
        listed_ids = {job.id for job in listed}
    if len(listed_ids) == len(listed):  # each id once: a job's depth is where it is
        pairs: list[tuple[datetime, int]] = []
        walked = 0  # tracked jobs listed under their own id
        for depth, job in enumerate(listed):
            known = tracked.get(job.id)
            if known is not None and known.job_id == job.id:
                walked += 1
                pairs.append((known.created_at, depth))
                if known.created_at == job.created_at:
                    continue  # the same pair again adds nothing
            if job.status not in TERMINAL:
                pairs.append((job.created_at, depth))
        if walked == len(tracked):
            return Depths(pairs)  # the usual cycle: every tracked job was listed
        for job_id, known in tracked.items():
            if known.job_id == job_id and job_id in listed_ids:
                continue  # walked above
            if known.job_id in listed_ids:
                break  # a record under another id than its own: the plain way below
            before = previous.get(known.created_at)
            if before is not None:
                pairs.append((known.created_at, before + new_jobs))
        else:
            return Depths(pairs)
    keep = [(t.job_id, t.created_at) for t in tracked.values()]
    keep += [(job.id, job.created_at) for job in listed if job.status not in TERMINAL]
    return depths_after(
        [(job.id, job.created_at) for job in listed],
        new_jobs=new_jobs,
        previous=previous,
        keep=keep,
    )


def _needs_checking(status: Status, check_expiry: bool) -> bool:
    if status is Status.SUCCEEDED:
        return check_expiry
    return not _finished(status)


def _reach(listed: list[SeenJob], watermark: Watermark, tracked: Mapping[str, TrackedJob]) -> int:
    """How many listed jobs were needed: down to the first one below the watermark, or the
    deepest unfinished tracked one, whichever is deeper."""
    reach = len(listed)
    for n, job in enumerate(listed, start=1):
        if watermark.passed(job.created_at):
            reach = n
            break
    # Only an unfinished tracked job below that can reach deeper: look up from the bottom.
    for n in range(len(listed), reach, -1):
        known = tracked.get(listed[n - 1].id)
        if known is not None and known.status not in TERMINAL:
            return n
    return reach


def _finished(status: Status) -> bool:
    # ``is_known and is_terminal`` in one set lookup: an unknown status is never in TERMINAL.
    return status in TERMINAL


def _density(jobs: list[SeenJob]) -> float | None:
    """Jobs per second over the listed pages (None if it can't be told)."""
    if len(jobs) < 2:
        return None
    span = (jobs[0].created_at - jobs[-1].created_at).total_seconds()
    return (len(jobs) - 1) / span if span > 0 else None


async def _read_all(
    client: PeakaClient, project_id: str, job_ids: list[str], into: ProjectFetch
) -> None:
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def read(job_id: str) -> ExportJob | None:
        async with gate:
            try:
                return without_files(await client.read_export(project_id, job_id))
            except NotFoundError:
                return None

    results = await asyncio.gather(*(read(job_id) for job_id in job_ids), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result  # the whole project waits for its next cycle
    for job_id, job in zip(job_ids, results, strict=True):
        if job is None:
            into.gone.append(job_id)
        elif isinstance(job, ExportJob):
            into.read.append(job)


def without_files(job: ExportJob) -> ExportJob:
    """``job`` without its presigned download URLs."""
    # Presigned URLs are bearer credentials; alerts never need them.
    return dataclasses.replace(job, files=(), expires_at=None) if job.files else job
