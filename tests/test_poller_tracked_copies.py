"""The poller's copy of each project's tracked jobs (``bot/poller/_tracked.py``): used while
the project's revision is the one it holds, read again as soon as anything else wrote the
project (a second replica, a forget, any store writer), dropped when a save fails, and
never carried over a restart."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.core.alerting import ChannelSubscription, TrackedJob
from bot.peaka import Status
from bot.poller import Poller
from bot.poller._tracked import TrackedCopies
from bot.store import PollSnapshot, Subscription
from tests.poller_harness import PollerRig, Scenario
from tests.store_fixtures import Backend
from tests.test_poller_batches import refuse_project_state_writes

pytest_plugins = ["tests.store_fixtures"]

F = Status.FAILED


@pytest.fixture
async def rig(store_backend: Backend) -> AsyncIterator[PollerRig]:
    async with PollerRig.running(store_backend) as running:
        await running.subscribe("C1", "p1", F)
        yield running


async def assert_copies_current(poller: Poller, rig: PollerRig) -> int:
    """Every copy the poller holds at the store's current revision is what is stored."""
    copies = poller._tracked
    held = {p: r for p, r in copies.held(rig.sim.projects).items() if r is not None}
    stored = await rig.store.poll_snapshots(dict.fromkeys(held))
    current = 0
    for project, snapshot in stored.items():
        if snapshot.revision != held[project]:
            continue  # stale: the next read takes the store's rows
        assert snapshot.jobs is not None
        rows = {i: TrackedJob(i, r.status, r.created_at) for i, r in snapshot.jobs.items()}
        assert copies.known(project, snapshot) == rows
        current += 1
    return current


async def track_a_job(rig: PollerRig, poller: Poller, **job: object) -> str:
    """Baseline, then a new job that runs for 5 minutes and fails: followed by ``poller``."""
    await poller.run_cycle()
    created = rig.sim.create_job("p1", rig.owners[0], run_seconds=300, outcome="FAILED", **job)
    rig.clock.advance(30)
    await poller.run_cycle()
    assert set(await rig.store.job_states("p1")) == {created.id}
    return created.id


async def test_the_copy_is_used_while_the_revision_is_unchanged(rig: PollerRig) -> None:
    poller = rig.poller()
    job_id = await track_a_job(rig, poller)
    assert await assert_copies_current(poller, rig) == 1
    # Rows deleted behind the store's back (no revision change, which no writer of the bot
    # does): the poller goes on from its copy, so the copy really is what it reads.
    async with rig.store.engine.begin() as conn:
        await conn.execute(text("DELETE FROM job_states"))
    rig.clock.advance(330)
    await poller.run_cycle()
    assert rig.alerts("C1") == {(job_id, "FAILED"): 1}


async def test_a_restarted_poller_reads_the_store(rig: PollerRig) -> None:
    first = rig.poller()
    job_id = await track_a_job(rig, first)
    async with rig.store.engine.begin() as conn:  # as above, behind the store's back
        await conn.execute(text("DELETE FROM job_states"))
    rig.clock.advance(330)
    restarted = rig.poller()  # same instance id, nothing in memory
    await restarted.run_cycle()
    # It knows only what is stored: the job is no longer followed, so nothing about it.
    assert rig.alerts("C1") == {}
    assert job_id not in await rig.store.job_states("p1")


async def test_a_second_replica_writing_makes_the_first_read_again(rig: PollerRig) -> None:
    a, b = rig.poller(instance_id="replica-a"), rig.poller(instance_id="replica-b")
    for _ in range(2):
        await a.run_cycle()
        rig.clock.advance(30)
    assert await assert_copies_current(a, rig) == 1  # a's copy: nothing followed
    job = rig.sim.create_job("p1", rig.owners[0], run_seconds=300, outcome="FAILED")
    rig.clock.advance(30)
    # b polls the project meanwhile (it took the lease over): it follows the new job and
    # moves the watermark past it.
    await b.run_cycle()
    assert set(await rig.store.job_states("p1")) == {job.id}
    rig.clock.advance(330)
    # a has it back. With its old copy (nothing followed) and the new watermark the failure
    # would be missed; it reads the store's rows instead.
    report = await a.run_cycle()
    assert report.claimed == 1 and rig.alerts("C1") == {(job.id, "FAILED"): 1}
    assert await assert_copies_current(a, rig) == 1
    # And b, whose copy still follows the job, reads a's save: nothing is repeated.
    rig.clock.advance(30)
    assert (await b.run_cycle()).claimed == 0
    assert await assert_copies_current(b, rig) == 1
    assert rig.all_alerts() == {(job.id, "FAILED", "C1"): 1}


async def test_another_replicas_forget_makes_the_poller_start_afresh(rig: PollerRig) -> None:
    a, b = rig.poller(instance_id="replica-a"), rig.poller(instance_id="replica-b")
    job_id = await track_a_job(rig, a)
    assert await assert_copies_current(a, rig) == 1  # following the job
    await b.run_cycle()
    # The subscription goes and comes back while only b looks: b forgets the project.
    await rig.store.unsubscribe("C1", "p1")
    await b.run_cycle()
    assert await rig.store.job_states("p1") == {}
    await rig.subscribe("C1", "p1", F)
    rig.clock.advance(330)
    # a's copy still follows the job (it would alert it); the store says start afresh.
    await a.run_cycle()
    assert rig.alerts("C1") == {}
    state = await rig.store.project_state("p1")
    assert state is not None and job_id in state.newest_seen_ids | {job_id}
    later = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    await a.run_cycle()
    assert rig.alerts("C1") == {(later.id, "FAILED"): 1}


async def test_a_failed_save_drops_the_copy(rig: PollerRig) -> None:
    poller = rig.poller(fast_failures=True)
    for _ in range(2):  # the first save made the row: the copy is kept from the second
        await poller.run_cycle()
        rig.clock.advance(30)
    assert await assert_copies_current(poller, rig) == 1
    job = rig.sim.create_job("p1", rig.owners[0], run_seconds=300, outcome="FAILED")
    await refuse_project_state_writes(rig, True)
    rig.clock.advance(30)
    assert (await poller.run_cycle()).failed == ["p1"]
    assert poller._tracked.held(["p1"]) == {"p1": None}
    await refuse_project_state_writes(rig, False)
    for _ in range(3):  # backing off, then polled again from the store
        rig.clock.advance(30)
        await poller.run_cycle()
    assert set(await rig.store.job_states("p1")) == {job.id}
    assert await assert_copies_current(poller, rig) == 1
    rig.clock.advance(330)
    await poller.run_cycle()
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}


async def test_replicas_taking_turns_at_random_alert_everything_exactly_once(
    store_backend: Backend,
) -> None:
    async with PollerRig.running(store_backend, artifact_lifetime_seconds=900) as rig:
        scenario = Scenario(rig, seed=5, jobs=200, cycles=24)
        await scenario.subscribe()
        scenario.prepare(0, rig.clock.now() - timedelta(minutes=10))
        scenario.record_baseline()
        pollers = [rig.poller(instance_id=f"replica-{n}") for n in range(3)]
        turns = random.Random(5)
        await pollers[0].run_cycle()
        reused = 0
        for cycle in range(1, scenario.cycles + 1):
            window = rig.clock.now()
            rig.clock.advance(scenario.step)
            scenario.prepare(cycle, window)
            # Each project's lease goes to one of the replicas, afresh every cycle.
            poller = turns.choice(pollers)
            await poller.run_cycle()
            for each in pollers:
                reused += await assert_copies_current(each, rig)
        rig.clock.advance(scenario.drain_seconds())
        for poller in (*pollers, *pollers):
            await poller.run_cycle()
            rig.clock.advance(scenario.step)
        expected = scenario.expected()
        alerted = rig.all_alerts()
        assert len(expected) >= 60
        assert set(alerted) == expected and set(alerted.values()) == {1}
        assert reused > 0  # some copies were current, and checked


def test_copies_of_projects_no_longer_polled_are_dropped() -> None:
    copies = TrackedCopies()
    for project in ("p1", "p2", "p3"):
        copies.known(project, PollSnapshot(None, f"rev-{project}", {}))
    assert copies.held(["p1", "p2", "p3"]) == {p: f"rev-{p}" for p in ("p1", "p2", "p3")}
    copies.retain(["p2", "p9"])  # p1 and p3 went to another replica
    assert copies.held(["p1", "p2", "p3"]) == {"p1": None, "p2": "rev-p2", "p3": None}
    assert len(copies) == 1
    with pytest.raises(RuntimeError):  # the store said "current", but nothing is held
        copies.known("p1", PollSnapshot(None, "rev-p1", None))


class _LeasedPoller(Poller):
    """Polls only ``held``, as a replica polls only the projects it holds leases on."""

    held: frozenset[str] = frozenset()

    async def _projects_to_poll(
        self, subscriptions: Sequence[Subscription]
    ) -> dict[str, list[ChannelSubscription]]:
        projects = await super()._projects_to_poll(subscriptions)
        return {p: subs for p, subs in projects.items() if p in self.held}


def _remembered(poller: Poller) -> set[str]:
    """The projects the poller keeps anything of in memory between cycles."""
    listing = poller._projects
    memories = (listing._reach, listing._depths, listing._offsets, listing._expiry_checked)
    copies = poller._tracked.held(["p1", "p2"])
    return {p for m in memories for p in m} | {p for p, rev in copies.items() if rev}


async def test_a_project_whose_lease_moved_on_is_forgotten_in_memory(rig: PollerRig) -> None:
    await rig.subscribe("C2", "p2", F)
    poller = _LeasedPoller(
        rig.services(), instance_id="replica-a", monotonic=lambda: rig.clock.now().timestamp()
    )
    poller.held = frozenset({"p1", "p2"})
    await track_a_job(rig, poller)
    assert _remembered(poller) == {"p1", "p2"}
    poller.held = frozenset({"p2"})  # p1's lease went to another replica
    rig.clock.advance(30)
    await poller.run_cycle()
    # What it knew of p1's listing would be stale by the time the lease comes back.
    assert _remembered(poller) == {"p2"}
