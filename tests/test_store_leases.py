"""Replicas sharing projects through leases, the replica registry, and the SQLite guard."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.store import Store
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

TTL = timedelta(seconds=60)
PROJECTS = ["p1", "p2", "p3", "p4", "p5"]


async def test_two_holders_split_the_projects(store_backend: Backend) -> None:
    a, b = await store_backend.open(), await store_backend.open()
    share = math.ceil(len(PROJECTS) / 2)
    got_a = await a.acquire_leases("a", PROJECTS, TTL, share)
    got_b = await b.acquire_leases("b", PROJECTS, TTL, share)
    assert got_a == ["p1", "p2", "p3"]
    assert got_b == ["p4", "p5"]
    assert await a.lease_holders() == {"p1": "a", "p2": "a", "p3": "a", "p4": "b", "p5": "b"}
    # Renewing keeps the same projects (no flapping), in any order of arrival.
    assert await b.acquire_leases("b", PROJECTS, TTL, share) == got_b
    assert await a.acquire_leases("a", list(reversed(PROJECTS)), TTL, share) == got_a


async def test_expired_leases_are_taken_over(store_backend: Backend) -> None:
    a, b = await store_backend.open(), await store_backend.open()
    await a.acquire_leases("a", PROJECTS, TTL, 3)
    await b.acquire_leases("b", PROJECTS, TTL, 3)
    store_backend.clock.advance(30)
    await b.acquire_leases("b", PROJECTS, TTL, 3)  # b renews, a has died
    store_backend.clock.advance(31)  # a's leases ran out, b's have 29 s left
    assert await b.lease_holders() == {"p4": "b", "p5": "b"}
    assert await b.acquire_leases("b", PROJECTS, TTL, 5) == PROJECTS
    # a comes back: nothing is free any more.
    assert await a.acquire_leases("a", PROJECTS, TTL, 3) == []


async def test_a_shrinking_share_releases_leases(store_backend: Backend) -> None:
    a, b = await store_backend.open(), await store_backend.open()
    assert await a.acquire_leases("a", PROJECTS, TTL, 5) == PROJECTS
    assert await b.acquire_leases("b", PROJECTS, TTL, 3) == []
    # b joined: a's fair share is now 3; it keeps its first three and frees the rest.
    assert await a.acquire_leases("a", PROJECTS, TTL, 3) == ["p1", "p2", "p3"]
    assert await b.acquire_leases("b", PROJECTS, TTL, 3) == ["p4", "p5"]


async def test_dropped_projects_and_release(state_store: Store) -> None:
    assert await state_store.acquire_leases("a", PROJECTS, TTL, 5) == PROJECTS
    # p2 lost its last subscription: its lease goes.
    remaining = [p for p in PROJECTS if p != "p2"]
    assert await state_store.acquire_leases("a", remaining, TTL, 5) == remaining
    assert "p2" not in await state_store.lease_holders()
    assert await state_store.release_leases("a") == 4
    assert await state_store.lease_holders() == {}
    assert await state_store.acquire_leases("b", [], TTL, 5) == []
    assert await state_store.acquire_leases("b", PROJECTS, TTL, 0) == []


async def test_concurrent_acquirers_never_share_a_project(store_backend: Backend) -> None:
    stores = [await store_backend.open() for _ in range(3)]
    projects = [f"p{i:02d}" for i in range(12)]
    results = await asyncio.gather(
        *(s.acquire_leases(f"r{i}", projects, TTL, 4) for i, s in enumerate(stores))
    )
    held = [p for got in results for p in got]
    assert len(held) == len(set(held))
    holders = await stores[0].lease_holders()
    for i, got in enumerate(results):
        assert all(holders[p] == f"r{i}" for p in got)
    # Whatever the first round left free is picked up on the next one.
    again = [await s.acquire_leases(f"r{i}", projects, TTL, 4) for i, s in enumerate(stores)]
    assert sorted(p for got in again for p in got) == projects


async def test_skip_locked_passes_over_rows_another_replica_holds(pg_backend: Backend) -> None:
    a, b = await pg_backend.open(), await pg_backend.open()
    await a.acquire_leases("a", ["p1"], TTL, 1)
    await a.release_leases("a")
    async with a.engine.connect() as busy:
        # Another replica is mid-acquire on p1: its row is locked until that transaction ends.
        await busy.execute(text("SELECT * FROM project_leases WHERE project_id = 'p1' FOR UPDATE"))
        async with asyncio.timeout(20):  # a lock wait would hang, not just be slow
            got = await b.acquire_leases("b", ["p1", "p2", "p3"], TTL, 3)
        assert got == ["p2", "p3"]
        await busy.rollback()
    assert await b.acquire_leases("b", ["p1", "p2", "p3"], TTL, 3) == ["p1", "p2", "p3"]


async def test_heartbeat_and_live_replicas(store_backend: Backend) -> None:
    a, b = await store_backend.open(), await store_backend.open()
    assert await a.live_replicas() == []
    await a.heartbeat("replica-a", TTL)
    await b.heartbeat("replica-b", timedelta(seconds=10))
    assert await a.live_replicas() == ["replica-a", "replica-b"]
    store_backend.clock.advance(10)
    assert await a.live_replicas() == ["replica-a"]
    await b.heartbeat("replica-b", TTL)  # back again
    assert await b.live_replicas() == ["replica-a", "replica-b"]
    await a.forget_replica("replica-a")
    assert await b.live_replicas() == ["replica-b"]
    share = math.ceil(len(PROJECTS) / len(await b.live_replicas()))
    assert await b.acquire_leases("replica-b", PROJECTS, TTL, share) == PROJECTS


async def test_single_replica_claim_on_sqlite(store_backend: Backend) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    assert await first.claim_single_replica("bot-1", TTL) is None
    assert await second.claim_single_replica("bot-2", TTL) == "bot-1"
    store_backend.clock.advance(59)
    assert await first.claim_single_replica("bot-1", TTL) is None  # renewed
    store_backend.clock.advance(59)
    assert await second.claim_single_replica("bot-2", TTL) == "bot-1"
    store_backend.clock.advance(2)  # bot-1 stopped renewing: its claim lapsed
    assert await second.claim_single_replica("bot-2", TTL) is None
    assert await first.claim_single_replica("bot-1", TTL) == "bot-2"
    assert await first.release_single_replica("bot-1") is False
    assert await second.release_single_replica("bot-2") is True
    assert await first.claim_single_replica("bot-1", TTL) is None


async def test_single_replica_race_has_one_winner(store_backend: Backend) -> None:
    stores = [await store_backend.open() for _ in range(2)]
    results = await asyncio.gather(
        *(stores[i % 2].claim_single_replica(f"bot-{i}", TTL) for i in range(10))
    )
    winners = [f"bot-{i}" for i, other in enumerate(results) if other is None]
    assert len(winners) == 1
    assert all(other == winners[0] for other in results if other is not None)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1)])
async def test_bad_arguments(state_store: Store, ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive timedelta"):
        await state_store.acquire_leases("a", PROJECTS, ttl, 1)
    with pytest.raises(ValueError, match="ttl must be a positive timedelta"):
        await state_store.heartbeat("a", ttl)
    with pytest.raises(ValueError, match="max_projects must be 0 or more"):
        await state_store.acquire_leases("a", PROJECTS, TTL, -1)
    with pytest.raises(ValueError, match="holder must be a non-empty string"):
        await state_store.acquire_leases("", PROJECTS, TTL, 1)
