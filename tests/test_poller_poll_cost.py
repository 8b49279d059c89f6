"""What a poll cycle costs in List and Read requests, counted by the simulator (issue 8).

Two layouts of long-running "stragglers" pushed off the first page, each followed for a few
cycles with the exact number of requests a cycle must make (worked out in the comments; a
List page after the first shows 198 jobs: 200 less the look-ahead job and the one the cursor
repeats). Alerts stay exactly once throughout. On SQLite and PostgreSQL (``store_backend``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.peaka import Status
from bot.poller import Poller, _fetch
from bot.simulator import SimJob
from tests.poller_harness import PollerRig
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

F = Status.FAILED


@pytest.fixture
async def rig(store_backend: Backend) -> AsyncIterator[PollerRig]:
    async with PollerRig.running(store_backend) as running:
        yield running


async def _cycle(rig: PollerRig, poller: Poller) -> tuple[int, int]:
    """(List, Read) requests of one cycle."""
    rig.sim.reset_counters()
    report = await poller.run_cycle()
    assert not report.failed
    return rig.sim.counters["listExports"], rig.sim.counters["readExport"]


def _job(
    rig: PollerRig, created: datetime, *, finishes: datetime | None = None, failed: bool = False
) -> SimJob:
    """A job created at ``created`` that finishes at ``finishes`` (default: 2 s later)."""
    end = finishes or created + timedelta(seconds=2)
    run = (end - created).total_seconds() - 1
    outcome = "FAILED" if failed else "SUCCEEDED"
    return rig.sim.create_job(
        "p1", rig.owners[0], created_at=created, pending_seconds=1, run_seconds=run, outcome=outcome
    )


async def _far_stragglers(rig: PollerRig, finishes: dict[int, datetime]) -> list[SimJob]:
    """The bench's layout: 40 old finished jobs, then 30 stragglers (n = 0 the oldest), each
    followed by 10 finished ones, then 250 newer finished jobs. Straggler n is 260 + 11 x
    (29 - n) jobs deep; it fails at ``finishes[n]``, else runs for a day."""
    await rig.subscribe("C1", "p1", F)
    t0 = rig.clock.now()
    for n in range(40):
        _job(rig, t0 - timedelta(seconds=7200 - n * 30))
    stragglers = []
    for n in range(30):
        created = t0 - timedelta(seconds=3600 - n * 100)
        end = finishes.get(n, t0 + timedelta(days=1))
        stragglers.append(_job(rig, created, finishes=end, failed=True))
        for filler in range(10):
            _job(rig, created + timedelta(seconds=5 + filler * 9))
    for n in range(250):
        _job(rig, t0 - timedelta(seconds=600 - n * 2))
    return stragglers


async def test_far_stragglers_cost_one_pending_running_listing_plus_seeks_of_the_finished(
    rig: PollerRig,
) -> None:
    """Paging to the far stragglers costs two or three pages a cycle, reading them up to 30
    reads; one PENDING,RUNNING listing shows all the unfinished ones, seeks the finished."""
    t0 = rig.clock.now()
    # The two oldest stragglers fail in the second cycle, the newest one in the third.
    finishes = {0: t0 + timedelta(seconds=45), 1: t0 + timedelta(seconds=45)}
    finishes[29] = t0 + timedelta(seconds=75)
    stragglers = await _far_stragglers(rig, finishes)
    poller = rig.poller()

    # Baseline: the newest page, then the PENDING,RUNNING listing (30 jobs: one page).
    assert await _cycle(rig, poller) == (2, 0)
    rig.clock.advance(30)
    # Nothing new: the first page, and one listing shows all 30 stragglers still running.
    assert await _cycle(rig, poller) == (2, 0)
    for n in range(5):
        _job(rig, t0 + timedelta(seconds=31 + n))
    rig.clock.advance(30)
    # A small first page (the last cycle needed 2 jobs) shows the 5 new jobs and the
    # watermark; the listing lacks the two that failed (11 jobs apart): one List from just
    # above the newer one shows both.
    assert await _cycle(rig, poller) == (3, 0)
    rig.clock.advance(30)
    # Two finished last cycle, so two are expected again: the listing and two seeks (3) no
    # longer beat paging to all 28 (3 pages by the first page's density; exact: 24-617).
    # Paging shows the failed one, and teaches the poller every straggler's depth.
    assert await _cycle(rig, poller) == (4, 0)
    rig.clock.advance(30)
    # With exact depths the 27 left (276-562 deep) fit in two seeks; the listing plus the one
    # straggler it is expected to lack would cost as much, so: the first page and two seeks.
    assert await _cycle(rig, poller) == (3, 0)
    failed = {job.id for job in (stragglers[0], stragglers[1], stragglers[-1])}
    assert rig.alerts("C1") == {(job_id, "FAILED"): 1 for job_id in failed}


async def test_several_stragglers_finishing_at_once_cost_a_seek_per_200_jobs_not_a_read_each(
    rig: PollerRig,
) -> None:
    """Five stragglers fail in one cycle: 21 and 20 (348 and 359 deep), 2, 1 and 0 (557-579
    deep). A seek from just above 21 shows 348-547 (21 and 20), one from just above 2 shows
    the other three: two List requests where reading them took five. Then three more fail
    (12, 11, 10). 14 requests over the five cycles; the old code (a read per finished
    straggler) made 20."""
    t0 = rig.clock.now()
    finishes = {n: t0 + timedelta(seconds=45) for n in (0, 1, 2, 20, 21)}
    finishes.update({n: t0 + timedelta(seconds=75) for n in (10, 11, 12)})
    stragglers = await _far_stragglers(rig, finishes)
    poller = rig.poller()
    assert await _cycle(rig, poller) == (2, 0)  # baseline: a page and the active listing
    rig.clock.advance(30)
    assert await _cycle(rig, poller) == (2, 0)  # the first page and the listing
    rig.clock.advance(30)
    # The first page, the listing (it lacks five), two seeks.
    assert await _cycle(rig, poller) == (4, 0)
    rig.clock.advance(30)
    # Five finished last cycle, so five are expected again: the listing plus five (6) loses
    # to seeking all 25. 17 of them lay on the first seek's page (11 places per 100 s); the 8
    # newer ones are guessed at that pace just above them: two seeks. The first, from just
    # above 29 (260 deep), shows 260-459 (29 down to 11, so 12 and 11 failed); the second,
    # from just above 10 (469 deep), the other eight.
    assert await _cycle(rig, poller) == (3, 0)
    rig.clock.advance(30)
    # Nothing fails; three did last cycle. The same two seeks: less than the listing plus
    # three.
    assert await _cycle(rig, poller) == (3, 0)
    failed = [stragglers[n] for n in (0, 1, 2, 10, 11, 12, 20, 21)]
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1 for job in failed}


async def _near_stragglers(rig: PollerRig) -> tuple[datetime, list[SimJob]]:
    """3 stragglers 250-252 jobs deep under 250 finished jobs; they fail at t0 + 59 s."""
    await rig.subscribe("C1", "p1", F)
    t0 = rig.clock.now()
    fail_at = t0 + timedelta(seconds=59)
    stragglers = [
        _job(rig, t0 - timedelta(seconds=1000 - n * 10), finishes=fail_at, failed=True)
        for n in range(3)
    ]
    for n in range(250):
        _job(rig, t0 - timedelta(seconds=500 - n * 2))
    return t0, stragglers


def _burst(rig: PollerRig, start: datetime) -> None:
    """650 new jobs within 0.65 s (finished long before the next poll)."""
    for n in range(650):
        _job(rig, start + timedelta(seconds=n * 0.001))


async def test_a_remembered_depth_makes_the_straggler_page_count_exact(rig: PollerRig) -> None:
    t0, stragglers = await _near_stragglers(rig)
    poller = rig.poller()
    assert await _cycle(rig, poller) == (2, 0)  # baseline: a page and the active listing
    rig.clock.advance(30)
    # A full first page (0-198), then one page (199-396) shows the three: as cheap as the
    # active listing, and it teaches the poller their depths (250-252).
    assert await _cycle(rig, poller) == (2, 0)
    _burst(rig, t0 + timedelta(seconds=30))
    rig.clock.advance(30)
    # 650 new jobs: four pages down to the watermark (0-792). The stragglers are now exactly
    # 900-902 deep: one more page (793-990) shows all three, failed. No listing, no reads.
    assert await _cycle(rig, poller) == (5, 0)
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1 for job in stragglers}
    rig.clock.advance(30)
    assert await _cycle(rig, poller) == (1, 0)  # nothing left to follow: one page
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1 for job in stragglers}


async def test_without_remembered_depths_a_new_poller_falls_back_to_the_estimate(
    rig: PollerRig,
) -> None:
    """The same, but the third cycle runs in a fresh poller (a restart, or the project moved
    from another replica): the depths are unknown, and the estimate (the density of the
    pages just listed, mostly the burst) puts the stragglers nine pages down. So: the four
    pages, the PENDING,RUNNING listing (cheaper than three seeks of unknown reach), which
    lacks all three, then one seek from just above the newest shows all three: one request
    more than with the depths; alerts still exactly once."""
    t0, stragglers = await _near_stragglers(rig)
    poller = rig.poller()
    assert await _cycle(rig, poller) == (2, 0)
    rig.clock.advance(30)
    assert await _cycle(rig, poller) == (2, 0)
    _burst(rig, t0 + timedelta(seconds=30))
    rig.clock.advance(30)
    assert await _cycle(rig, rig.poller()) == (6, 0)
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1 for job in stragglers}


async def test_past_max_seeks_in_a_row_the_rest_are_read_concurrently(
    rig: PollerRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four stragglers 200 jobs apart (199 finished jobs below each) all fail at once: each
    seek shows only the one sought. With at most two seeks in a row (16 in production; two
    keeps the simulator's listing small), two seeks, then the two left are read together:
    as many requests as seeking on, fewer round trips in a row."""
    monkeypatch.setattr(_fetch, "MAX_SEEKS", 2)
    await rig.subscribe("C1", "p1", F)
    t0 = rig.clock.now()
    stragglers = []
    for n in range(4):
        created = t0 - timedelta(seconds=4_000 - n * 200)
        stragglers.append(_job(rig, created, finishes=t0 + timedelta(seconds=45), failed=True))
        for filler in range(199):
            _job(rig, created + timedelta(seconds=1 + filler * 0.5))
    for n in range(250):
        _job(rig, t0 - timedelta(seconds=600 - n * 2))
    poller = rig.poller()
    assert await _cycle(rig, poller) == (2, 0)  # baseline: a page and the active listing
    rig.clock.advance(30)
    assert await _cycle(rig, poller) == (2, 0)  # the first page and the listing
    rig.clock.advance(30)
    # The first page, the listing (it lacks all four), two seeks, then two reads.
    assert await _cycle(rig, poller) == (4, 2)
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1 for job in stragglers}
