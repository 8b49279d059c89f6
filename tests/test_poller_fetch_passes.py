"""The fetch's passes over the listed jobs skip what cannot matter (the reach looks up only
from the bottom, the depths leave out pairs kept already, the finished count stops when no
straggler was unfinished, one pass expands the jobs and picks those to decide on); on any
jobs they give what the plain definitions give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.alerting import SeenJob, TrackedJob, deciding_on, needs_details
from bot.core.fetch_plan import Depths, Straggler, Watermark, depths_after
from bot.peaka import ExportJob, JobSummary, Status, format_timestamp
from bot.poller._fetch import (
    ProjectFetch,
    _add_details,
    _count_new,
    _depths,
    _finished_count,
    _reach,
)

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TIMES = tuple(T0 + timedelta(seconds=n) for n in range(5))
IDS = ("a", "b", "c", "d", "e", "f")
PAUSED = Status("PAUSED")  # a status the API might add later
STATUSES = (*Status, PAUSED)


def _finished(status: Status) -> bool:
    return status.is_known and status.is_terminal


def job(job_id: str, status: Status, created: datetime) -> ExportJob:
    return ExportJob(job_id, status, created, format_timestamp(created))


jobs = st.builds(job, st.sampled_from(IDS), st.sampled_from(STATUSES), st.sampled_from(TIMES))


@st.composite
def cycles(draw: st.DrawFn) -> dict[str, object]:
    """Jobs listed (newest first, repeats and all), read and gone; tracked jobs (some at
    another createdAt than listed); the previous depths and how many jobs are new."""
    listed = sorted(draw(st.lists(jobs, max_size=8)), key=lambda j: j.created_at, reverse=True)
    tracked = {
        # Now and then a record under another id than its own (a careless caller).
        i: TrackedJob(
            draw(st.sampled_from((i, i, i, *IDS))),
            draw(st.sampled_from(STATUSES)),
            draw(st.sampled_from(TIMES)),
        )
        for i in draw(st.frozensets(st.sampled_from(IDS)))
    }
    previous = Depths(
        draw(st.lists(st.tuples(st.sampled_from(TIMES), st.integers(0, 50)), max_size=5))
    )
    return {
        "fetch": ProjectFetch(
            listed=list[SeenJob](listed),
            read=draw(st.lists(jobs, max_size=3)),
            active=list[SeenJob](draw(st.lists(jobs, max_size=3))),
            gone=draw(st.lists(st.sampled_from(IDS), max_size=2)),
        ),
        "tracked": tracked,
        "previous": previous,
        "new_jobs": draw(st.integers(0, 5)),
        "watermark": Watermark(draw(st.sampled_from(TIMES)), frozenset()),
    }


@settings(max_examples=600, deadline=None)
@given(cycles(), st.data())
def test_the_depths_kept_are_those_of_every_tracked_and_listed_unfinished_job(
    case: dict[str, object], data: st.DataObject
) -> None:
    fetch: ProjectFetch = case["fetch"]  # type: ignore[assignment]
    tracked: dict[str, TrackedJob] = case["tracked"]  # type: ignore[assignment]
    previous: Depths = case["previous"]  # type: ignore[assignment]
    new_jobs: int = case["new_jobs"]  # type: ignore[assignment]
    if data.draw(st.booleans()):  # each id listed once, as usual (the pass's fast path)
        first = {}
        for j in fetch.listed:
            first.setdefault(j.id, j)
        fetch.listed = list(first.values())
    if data.draw(st.booleans()):  # tracked as listed, as usual
        tracked = {
            **tracked,
            **{j.id: TrackedJob(j.id, j.status, j.created_at) for j in fetch.listed},
        }
    listed_ids = data.draw(st.sampled_from((None, {j.id for j in fetch.listed})))
    keep = [(t.job_id, t.created_at) for t in tracked.values()]
    keep += [(j.id, j.created_at) for j in fetch.listed if not _finished(j.status)]
    walked = [(j.id, j.created_at) for j in fetch.listed]
    plain = depths_after(walked, new_jobs=new_jobs, previous=previous, keep=keep)
    depths = _depths(fetch, tracked, new_jobs, previous, listed_ids)
    assert len(depths) == len(plain)
    assert [depths.get(t) for t in TIMES] == [plain.get(t) for t in TIMES]


@settings(max_examples=400, deadline=None)
@given(cycles())
def test_the_reach_is_the_watermark_or_the_deepest_unfinished_tracked_job(
    case: dict[str, object],
) -> None:
    fetch: ProjectFetch = case["fetch"]  # type: ignore[assignment]
    tracked: dict[str, TrackedJob] = case["tracked"]  # type: ignore[assignment]
    watermark: Watermark = case["watermark"]  # type: ignore[assignment]
    listed = fetch.listed
    passed = [n for n, j in enumerate(listed, start=1) if watermark.passed(j.created_at)]
    unfinished = [
        n
        for n, j in enumerate(listed, start=1)
        if j.id in tracked and not _finished(tracked[j.id].status)
    ]
    expected = max([passed[0] if passed else len(listed), *unfinished])
    assert _reach(listed, watermark, tracked) == expected


@settings(max_examples=400, deadline=None)
@given(cycles(), st.data())
def test_the_finished_count_counts_unfinished_stragglers_seen_finished_or_gone(
    case: dict[str, object], data: st.DataObject
) -> None:
    fetch: ProjectFetch = case["fetch"]  # type: ignore[assignment]
    tracked: dict[str, TrackedJob] = case["tracked"]  # type: ignore[assignment]
    chosen = data.draw(st.lists(st.sampled_from(sorted(tracked)), unique=True)) if tracked else []
    stragglers = [Straggler(i, tracked[i].created_at) for i in chosen]
    latest = {j.id: j.status for j in fetch.observed}  # a later sighting wins
    expected = sum(
        1
        for i in chosen
        if not _finished(tracked[i].status)
        and (i in fetch.gone or (i in latest and _finished(latest[i])))
    )
    assert _finished_count(stragglers, tracked, fetch) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(jobs, max_size=8), st.one_of(st.none(), st.sampled_from(TIMES)), st.data())
def test_the_new_jobs_are_counted_as_the_watermark_tells_them(
    listed: list[ExportJob], newest: datetime | None, data: st.DataObject
) -> None:
    watermark = Watermark(newest, data.draw(st.frozensets(st.sampled_from(IDS))))
    expected = sum(1 for j in listed if watermark.is_new(j.id, j.created_at))
    assert _count_new(listed, watermark) == expected


@settings(max_examples=400, deadline=None)
@given(cycles(), st.data())
def test_one_pass_expands_the_jobs_that_need_details_and_picks_those_to_decide_on(
    case: dict[str, object], data: st.DataObject
) -> None:
    fetch: ProjectFetch = case["fetch"]  # type: ignore[assignment]
    tracked: dict[str, TrackedJob] = case["tracked"]  # type: ignore[assignment]
    watermark = data.draw(st.one_of(st.none(), st.just(case["watermark"])))
    assert watermark is None or isinstance(watermark, Watermark)
    # Often tracked as listed (settled, if unfinished), now and then under another id.
    for j in data.draw(st.lists(st.sampled_from(fetch.listed))) if fetch.listed else []:
        tracked = {
            **tracked,
            j.id: TrackedJob(
                data.draw(st.sampled_from((j.id, j.id, *IDS))), j.status, j.created_at
            ),
        }
    # Listed jobs arrive as summaries (some are full already, as after an earlier pass).
    for jobs in (fetch.listed, fetch.active):
        jobs[:] = [JobSummary.from_api(j.to_api()) if data.draw(st.booleans()) else j for j in jobs]
    before = [list(fetch.listed), list(fetch.active)]
    listed_ids = data.draw(st.sampled_from((None, {j.id for j in fetch.listed})))
    _add_details(fetch, tracked, watermark, listed_ids)
    for old, new in zip(before, (fetch.listed, fetch.active), strict=True):
        for was, now in zip(old, new, strict=True):
            expand = isinstance(was, JobSummary) and needs_details(was, tracked, watermark)
            assert now is was if not expand else now == was.details()
    assert fetch.to_decide == deciding_on(fetch.observed, tracked, watermark)
    latest = {j.id: j for j in fetch.observed}
    assert all(j is latest[j.id] for j in fetch.to_decide)
