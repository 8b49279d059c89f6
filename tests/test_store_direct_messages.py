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


async def test_done_requests_of_many_projects_in_one_read(
    state_store: Store, store_backend: Backend
) -> None:
    await state_store.add_done_request("U1", "p1", "job-b")
    store_backend.clock.advance(1)
    await state_store.add_done_request("U2", "p1", "job-a")
    await state_store.add_done_request("U1", "p2", "job-c")
    await state_store.add_done_request("U1", "p3", "job-d")  # not asked for
    found = await state_store.done_requests_of(["p2", "p1", "p9"])
    assert found == {
        "p1": [("U1", "job-b"), ("U2", "job-a")],  # oldest first, as done_requests
        "p2": [("U1", "job-c")],
        "p9": [],
    }
    for project in ("p1", "p2", "p9"):
        assert found[project] == await state_store.done_requests(project)


async def test_owner_dm_settings_read_many_users_at_once(state_store: Store) -> None:
    await state_store.set_dm_enabled("U1", False)
    await state_store.set_dm_enabled("U3", True)
    await state_store.save_linked_key("U2", b"ciphertext", "AbCd")
    await state_store.save_linked_key("U3", b"ciphertext", "EfGh")
    assert await state_store.mark_connect_invite_sent("U1") is True
    found = await state_store.owner_dm_settings(["U1", "U2", "U3", "U4", "U2"])
    assert sorted(found) == ["U1", "U2", "U3", "U4"]
    assert (found["U1"].dm_enabled, found["U1"].linked, found["U1"].invited) == (False, False, True)
    assert (found["U2"].dm_enabled, found["U2"].linked, found["U2"].invited) == (True, True, False)
    assert (found["U3"].dm_enabled, found["U3"].linked, found["U3"].invited) == (True, True, False)
    assert (found["U4"].dm_enabled, found["U4"].linked, found["U4"].invited) == (True, False, False)
    # The same answers as the one-by-one reads.
    for user, settings in found.items():
        assert settings.dm_enabled == await state_store.dm_enabled(user)
        assert settings.linked == (await state_store.linked_key(user) is not None)
    assert await state_store.owner_dm_settings([]) == {}


async def test_owner_dm_settings_beyond_one_in_list(state_store: Store) -> None:
    users = [f"U{n:05d}" for n in range(2500)]  # more ids than one IN list holds
    await state_store.set_dm_enabled(users[-1], False)
    assert await state_store.mark_connect_invite_sent(users[1500]) is True
    found = await state_store.owner_dm_settings(users)
    assert len(found) == 2500
    assert [u for u, s in found.items() if not s.dm_enabled] == [users[-1]]
    assert [u for u, s in found.items() if s.invited] == [users[1500]]
