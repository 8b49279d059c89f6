"""Project leases on PostgreSQL: a fair, disjoint split that follows replicas joining, leaving
and dying, and why SKIP LOCKED is safe (a locked row is skipped, never waited on or shared).

Each replica here has its own Store (its own connection pool), as separate processes do; all
read one ManualClock, so lease expiry is driven, not slept through.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Services, build_slack_client
from bot.peaka import Status
from bot.poller import Poller
from bot.replicas import (
    LEASE_INTERVALS,
    SINGLE_INSTANCE_ID,
    ProjectLeases,
    ReplicaPoller,
    adopt_orphaned_claims,
    fair_share,
    poller_for,
)
from bot.settings import load_settings
from bot.store import AlertKey, Store
from tests.conftest import RunningSimulator, settings_env
from tests.slack_standin import SlackStandIn
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]
pytestmark = pytest.mark.postgres

INTERVAL = 1.0
PROJECTS = ["p1", "p2", "p3", "p4", "p5"]


async def _replicas(backend: Backend, count: int) -> list[ProjectLeases]:
    return [
        ProjectLeases(await backend.open(), INTERVAL, replica_id=f"r{i}", clock=backend.clock.now)
        for i in range(count)
    ]


async def _round(replicas: Sequence[ProjectLeases], projects: Sequence[str]) -> list[list[str]]:
    """One poll cycle of every replica, concurrently (their transactions interleave)."""
    return list(await asyncio.gather(*(r.select(projects) for r in replicas)))


async def _settle(
    backend: Backend, replicas: Sequence[ProjectLeases], projects: Sequence[str], rounds: int = 4
) -> list[list[str]]:
    """Cycle until the split covers every project and stays put; it must within ``rounds``."""
    previous: list[list[str]] | None = None
    for _ in range(rounds):
        held = await _round(replicas, projects)
        _assert_disjoint(held)
        backend.clock.advance(INTERVAL / 2)  # replicas beat more often than once a cycle
        if held == previous and sorted(p for h in held for p in h) == sorted(projects):
            return held
        previous = held
    raise AssertionError(f"no stable split within {rounds} cycles; last: {previous}")


def _assert_disjoint(held: Sequence[Sequence[str]]) -> None:
    flat = [p for projects in held for p in projects]
    assert len(flat) == len(set(flat)), f"a project is held twice: {held}"


def test_fair_share_is_the_ceiling_of_projects_per_replica() -> None:
    assert fair_share(5, 3) == 2
    assert fair_share(5, 2) == 3
    assert fair_share(5, 1) == 5
    assert fair_share(2, 3) == 1
    assert fair_share(0, 3) == 0
    assert fair_share(4, 0) == 4  # no one else registered yet: this replica alone
    with pytest.raises(ValueError, match="projects must be 0 or more"):
        fair_share(-1, 2)


def test_a_bad_interval_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="interval must be a positive number"):
        ProjectLeases(store=None, interval=0)  # type: ignore[arg-type]


async def test_three_replicas_settle_on_two_two_one_and_never_overlap(
    pg_backend: Backend,
) -> None:
    replicas = await _replicas(pg_backend, 3)
    # Whoever comes first may take everything; within a few cycles the shares are fair.
    final = await _settle(pg_backend, replicas, PROJECTS)
    assert sorted(len(h) for h in final) == [1, 2, 2]
    for _ in range(3):
        assert await _round(replicas, PROJECTS) == final
        pg_backend.clock.advance(INTERVAL / 2)
    holders = await replicas[0].store.lease_holders()
    assert holders == {p: r.replica_id for r, h in zip(replicas, final, strict=True) for p in h}


async def test_a_dead_replicas_projects_lapse_after_two_intervals_and_are_taken_over(
    pg_backend: Backend,
) -> None:
    a, b, c = await _replicas(pg_backend, 3)
    await _settle(pg_backend, [a, b, c], PROJECTS)
    orphaned = set(c.held)
    assert orphaned
    await _round([a, b, c], PROJECTS)  # c's last renewal, then it dies (never calls again)
    # Up to just short of the lease time, c's projects are still its own: nobody else polls
    # them. (a and b go on beating every half interval, as their heartbeat tasks do.)
    for step in (0.5, 0.5, 0.5, 0.499):
        pg_backend.clock.advance(step * INTERVAL)
        held = await _round([a, b], PROJECTS)
        assert not orphaned & (set(held[0]) | set(held[1]))
    # At the lease time they are free, and c no longer counts: the survivors split all five.
    pg_backend.clock.advance(0.001 * INTERVAL)
    held = await _round([a, b], PROJECTS)
    _assert_disjoint(held)
    assert sorted(held[0] + held[1]) == PROJECTS
    assert sorted(len(h) for h in held) == [2, 3]
    assert c.replica_id not in await a.store.live_replicas()


async def test_a_joining_replica_gets_its_share_within_two_cycles(pg_backend: Backend) -> None:
    a, b = await _replicas(pg_backend, 2)
    assert await a.select(PROJECTS) == PROJECTS
    pg_backend.clock.advance(INTERVAL)
    assert await b.select(PROJECTS) == []  # registered; a still holds all five
    # Next cycle: a sheds down to ceil(5/2) = 3; b picks up the two it let go.
    shed = await a.select(PROJECTS)
    assert len(shed) == 3
    taken = await b.select(PROJECTS)
    assert sorted(shed + taken) == PROJECTS


async def test_a_clean_shutdown_hands_the_projects_over_at_once(pg_backend: Backend) -> None:
    a, b = await _replicas(pg_backend, 2)
    await _settle(pg_backend, [a, b], PROJECTS)
    assert a.held and b.held
    await a.release()
    assert a.held == ()
    # No waiting for the lease time: b's very next cycle takes everything.
    assert await b.select(PROJECTS) == PROJECTS
    assert await b.store.live_replicas() == [b.replica_id]


async def test_projects_no_longer_subscribed_are_let_go(pg_backend: Backend) -> None:
    [a] = await _replicas(pg_backend, 1)
    assert await a.select(PROJECTS) == PROJECTS
    assert await a.select(["p2", "p9"]) == ["p2", "p9"]
    holders = await a.store.lease_holders()
    assert holders == {"p2": "r0", "p9": "r0"}


async def test_eight_concurrent_replicas_never_hold_one_project_twice(pg_backend: Backend) -> None:
    replicas = await _replicas(pg_backend, 8)
    projects = [f"proj{i:02d}" for i in range(20)]
    held = await _settle(pg_backend, replicas, projects, rounds=6)
    assert max(len(h) for h in held) == fair_share(20, 8)
    survivors = replicas[:5]  # three die at once: their leases lapse, the rest take them
    for _ in range(int(2 * LEASE_INTERVALS)):  # half-interval steps: the living keep beating
        _assert_disjoint(await _round(survivors, projects))
        pg_backend.clock.advance(INTERVAL / 2)
    held = await _settle(pg_backend, survivors, projects, rounds=6)
    assert max(len(h) for h in held) == fair_share(20, 5)


async def test_a_row_locked_by_another_transaction_is_skipped_not_waited_for(
    pg_backend: Backend,
) -> None:
    """The heart of SKIP LOCKED: a replica mid-transaction on a project never makes another
    wait (the cycle goes on without it) and never lets it take that project meanwhile."""
    [a] = await _replicas(pg_backend, 1)
    await a.select(PROJECTS)
    await a.release()  # every row exists and is free
    other: Store = await pg_backend.open()
    async with other.engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text("SELECT 1 FROM project_leases WHERE project_id = 'p3' FOR UPDATE"))
        async with asyncio.timeout(10):  # a blocking read would hang here until the commit
            held = await a.select(PROJECTS)
        assert held == ["p1", "p2", "p4", "p5"]
        await transaction.commit()
    assert await a.select(PROJECTS) == PROJECTS


async def test_a_dead_replicas_alert_claims_are_adopted_once_it_is_not_live(
    pg_backend: Backend,
) -> None:
    a, b, c = await _replicas(pg_backend, 3)
    await _round([a, b, c], PROJECTS)
    store = await pg_backend.open()

    def key(job: str, target: str = "C1") -> AlertKey:
        return AlertKey(job, Status.FAILED, target)

    assert await adopt_orphaned_claims(store, a) == []  # nothing claimed yet
    await store.claim_alert(key("j-live"), "p1", "r1")  # b is alive: slow, maybe, not dead
    await store.claim_alert(key("j-old"), "p1", "host-123-abc")  # a process long gone
    await store.claim_alert(key("j-dm", "dm:U0ANA"), "p1", "host-123-abc")  # a DM: not ours
    await store.claim_alert(key("j-c"), "p2", "r2")
    # c dies: a and b go on beating; after a lease time c is no longer live, and its claim
    # is anyone's to settle.
    for _ in range(int(2 * LEASE_INTERVALS)):
        pg_backend.clock.advance(INTERVAL / 2)
        await _round([a, b], PROJECTS)
    await store.claim_alert(key("j-new"), "p3", "joined-456-def")  # after the live read
    assert sorted(k.job_id for k in await adopt_orphaned_claims(store, a)) == ["j-c", "j-old"]
    assert await adopt_orphaned_claims(store, b) == []  # each claim goes to one replica
    owners = {r.key.job_id: r.claimed_by for r in await store.unconfirmed_alerts()}
    assert owners == {
        "j-live": "r1",
        "j-old": "r0",
        "j-dm": "host-123-abc",
        "j-c": "r0",
        "j-new": "joined-456-def",
    }


async def test_concurrent_adopters_split_orphaned_claims_without_overlap(
    pg_backend: Backend,
) -> None:
    replicas = await _replicas(pg_backend, 4)
    await _round(replicas, PROJECTS)
    store = await pg_backend.open()
    for i in range(20):
        await store.claim_alert(AlertKey(f"job{i}", Status.SUCCEEDED, "C1"), "p1", "gone-1-a")
    pg_backend.clock.advance(INTERVAL / 2)
    await _round(replicas, PROJECTS)
    stores = [await pg_backend.open() for _ in replicas]
    adopted = await asyncio.gather(
        *(adopt_orphaned_claims(s, r) for s, r in zip(stores, replicas, strict=True))
    )
    flat = [k.job_id for keys in adopted for k in keys]
    assert sorted(flat) == sorted(f"job{i}" for i in range(20))  # each exactly once


async def test_a_replica_ids_are_unique_per_process_start() -> None:
    from bot.replicas import new_replica_id

    ids = {new_replica_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) < 80 and " " not in i for i in itertools.islice(ids, 5))


async def test_the_poller_is_leased_on_postgresql_and_plain_on_sqlite(
    pg_backend: Backend, slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    settings = load_settings(settings_env(slack, simulator, tmp_path))
    on_postgres = Services.from_settings(settings, store=await pg_backend.open())
    on_postgres.slack = build_slack_client(settings)
    leased = poller_for(on_postgres)
    assert isinstance(leased, ReplicaPoller)
    assert leased.instance_id == leased.leases.replica_id  # claims name the live replica
    assert leased.leases.interval == settings.poll_interval
    async with await Store.open(settings.database_url) as sqlite_store:
        on_sqlite = Services.from_settings(settings, store=sqlite_store)
        on_sqlite.slack = build_slack_client(settings)
        single = poller_for(on_sqlite)
        assert type(single) is Poller
        assert single.instance_id == SINGLE_INSTANCE_ID  # one bot per file: a restart is "it"
    with pytest.raises(ValueError, match="needs a database"):
        poller_for(Services.from_settings(settings))
