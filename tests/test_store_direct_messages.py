"""DM opt-out, the one-time connect invite, and "tell me when it's done" requests."""

from __future__ import annotations

import asyncio

from bot.store import Store
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]


async def test_dms_are_on_until_turned_off(state_store: Store) -> None:
    assert await state_store.dm_enabled("U1") is True
    await state_store.set_dm_enabled("U1", False)
    assert await state_store.dm_enabled("U1") is False
    assert await state_store.dm_enabled("U2") is True
    await state_store.set_dm_enabled("U1", True)
    assert await state_store.dm_enabled("U1") is True


async def test_connect_invite_only_the_first_time(state_store: Store) -> None:
    assert await state_store.mark_connect_invite_sent("U1") is True
    assert await state_store.mark_connect_invite_sent("U1") is False
    assert await state_store.mark_connect_invite_sent("U2") is True


async def test_connect_invite_race_has_one_winner(store_backend: Backend) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    results = await asyncio.gather(
        *((first if i % 2 else second).mark_connect_invite_sent("U1") for i in range(20))
    )
    assert results.count(True) == 1


async def test_done_requests(state_store: Store, store_backend: Backend) -> None:
    await state_store.add_done_request("U1", "p1", "job-b")
    store_backend.clock.advance(1)
    await state_store.add_done_request("U2", "p1", "job-a")
    await state_store.add_done_request("U1", "p1", "job-b")  # again: no duplicate
    await state_store.add_done_request("U1", "p2", "job-c")
    assert await state_store.done_requests("p1") == [("U1", "job-b"), ("U2", "job-a")]
    assert await state_store.done_requests("p2") == [("U1", "job-c")]
    assert await state_store.remove_done_request("U1", "p1", "job-b") is True
    assert await state_store.remove_done_request("U1", "p1", "job-b") is False
    assert await state_store.done_requests("p1") == [("U2", "job-a")]
    assert await state_store.done_requests("p9") == []
