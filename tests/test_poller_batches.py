"""The poller's store work per batch of projects: one read, one claims and one save transaction
for many projects, while a failure still costs only the projects it hits, and a failed batch
save records nothing as done (the next cycle re-decides; the alert log refuses repeats)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.peaka import Status
from tests.poller_harness import PollerRig
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

F = Status.FAILED
PROJECTS = ("p1", "p2", "p3")


@pytest.fixture
async def rig(store_backend: Backend) -> AsyncIterator[PollerRig]:
    async with PollerRig.running(store_backend) as running:
        for project in PROJECTS:
            await running.subscribe(f"C-{project}", project, F)
        yield running


async def refuse_project_state_writes(rig: PollerRig, refuse: bool) -> None:
    """Make the database itself refuse (or accept again) every write of a project's state."""
    sqlite = rig.store.dialect == "sqlite"
    async with rig.store.engine.begin() as conn:
        if not refuse:
            for when in ("insert", "update"):
                await conn.exec_driver_sql(
                    f"DROP TRIGGER refuse_{when} ON project_states"
                    if not sqlite
                    else f"DROP TRIGGER refuse_{when}"
                )
            return
        if not sqlite:
            await conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'project state writes refused by the test'; END $$ "
                "LANGUAGE plpgsql"
            )
        for when in ("insert", "update"):
            await conn.exec_driver_sql(
                f"CREATE TRIGGER refuse_{when} BEFORE {when.upper()} ON project_states "
                + (
                    "BEGIN SELECT RAISE(ABORT, 'project state writes refused by the test'); END"
                    if sqlite
                    else "FOR EACH ROW EXECUTE FUNCTION refuse_write()"
                )
            )


async def test_one_project_failing_in_a_batch_costs_the_others_nothing(rig: PollerRig) -> None:
    poller = rig.poller(fast_failures=True)
    first = await poller.run_cycle()
    assert sorted(first.polled) == list(PROJECTS)
    jobs = {p: rig.sim.create_job(p, rig.owners[0], outcome="FAILED") for p in PROJECTS}
    hidden = rig.sim.projects.pop("p2")  # Peaka answers 404 for it, this cycle only
    rig.clock.advance(30)
    report = await poller.run_cycle()
    assert report.failed == ["p2"] and sorted(report.polled) == ["p1", "p3"]
    assert report.claimed == 2
    for project in ("p1", "p3"):  # alerted once, and their new state saved
        assert rig.alerts(f"C-{project}") == {(jobs[project].id, "FAILED"): 1}
        state, _ = await rig.store.poll_state(project)
        assert state is not None and jobs[project].id in state.newest_seen_ids
    assert rig.alerts("C-p2") == {}
    state, _ = await rig.store.poll_state("p2")
    assert state is not None and jobs["p2"].id not in state.newest_seen_ids
    rig.sim.projects["p2"] = hidden
    # p2 backs off (at most one interval after a first failure), then alerts; nothing twice.
    rig.clock.advance(30)
    again = await poller.run_cycle()
    assert sorted(again.polled) == list(PROJECTS)
    rig.clock.advance(30)
    await poller.run_cycle()
    for project in PROJECTS:
        assert rig.alerts(f"C-{project}") == {(jobs[project].id, "FAILED"): 1}


async def test_a_failed_batch_save_records_nothing_and_alerts_stay_exactly_once(
    rig: PollerRig,
) -> None:
    poller = rig.poller(fast_failures=True)
    await poller.run_cycle()
    before = await rig.store.poll_states(PROJECTS)
    jobs = {p: rig.sim.create_job(p, rig.owners[0], outcome="FAILED") for p in PROJECTS}
    await refuse_project_state_writes(rig, True)
    rig.clock.advance(30)
    report = await poller.run_cycle()
    # The save failed for the whole batch: every project backs off, nothing is saved...
    assert sorted(report.failed) == list(PROJECTS) and report.polled == []
    assert await rig.store.poll_states(PROJECTS) == before
    # ...but what was claimed before the save is delivered, once.
    assert report.claimed == 3
    for project in PROJECTS:
        assert rig.alerts(f"C-{project}") == {(jobs[project].id, "FAILED"): 1}
    await refuse_project_state_writes(rig, False)
    # The next cycles re-decide from the old state; the alert log refuses the repeats.
    for _ in range(3):
        rig.clock.advance(30)
        await poller.run_cycle()
    after = await rig.store.poll_states(PROJECTS)
    for project in PROJECTS:
        assert rig.alerts(f"C-{project}") == {(jobs[project].id, "FAILED"): 1}
        state = after[project][0]
        assert state is not None and jobs[project].id in state.newest_seen_ids
    # A fresh poller (a restart: empty caches) re-deciding nothing new sends nothing either.
    rig.clock.advance(30)
    restarted = rig.poller(fast_failures=True)
    assert (await restarted.run_cycle()).claimed == 0
    assert sum(rig.all_alerts().values()) == len(PROJECTS)
