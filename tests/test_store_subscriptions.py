"""Channel subscriptions and mutes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.peaka import Status
from bot.store import Store, Subscription
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]


async def test_subscribe_returns_and_lists_the_subscription(
    state_store: Store, store_backend: Backend
) -> None:
    made = await state_store.subscribe("C1", "p1", [Status.FAILED, "SUCCEEDED"], "U1")
    assert made == Subscription(
        channel_id="C1",
        project_id="p1",
        statuses=frozenset({Status.FAILED, Status.SUCCEEDED}),
        created_by="U1",
        created_at=store_backend.clock.now(),
        broken_reason=None,
    )
    [listed] = await state_store.list_subscriptions()
    assert listed == made
    assert listed.created_at.tzinfo is UTC


async def test_resubscribing_replaces_statuses_and_clears_broken(
    state_store: Store, store_backend: Backend
) -> None:
    await state_store.subscribe("C1", "p1", [Status.FAILED], "U1")
    assert await state_store.mark_subscription_broken("C1", "channel_not_found") == 1
    [broken] = await state_store.list_subscriptions("C1")
    assert broken.broken_reason == "channel_not_found"
    store_backend.clock.advance(60)
    again = await state_store.subscribe("C1", "p1", [Status.CANCELLED, Status.EXPIRED], "U2")
    [listed] = await state_store.list_subscriptions("C1")
    assert listed == again
    assert listed.statuses == {Status.CANCELLED, Status.EXPIRED}
    assert listed.broken_reason is None
    assert listed.created_by == "U2"
    assert listed.created_at == store_backend.clock.now()


async def test_unknown_statuses_survive_the_round_trip(state_store: Store) -> None:
    await state_store.subscribe("C1", "p1", ["PAUSED", Status.FAILED], "U1")
    [listed] = await state_store.list_subscriptions()
    assert {s.value for s in listed.statuses} == {"PAUSED", "FAILED"}
    assert not Status("PAUSED").is_known


async def test_filters_and_order(state_store: Store) -> None:
    for channel, project in [("C2", "p1"), ("C1", "p2"), ("C1", "p1"), ("C3", "p3")]:
        await state_store.subscribe(channel, project, [Status.FAILED], "U1")
    every = [(s.channel_id, s.project_id) for s in await state_store.list_subscriptions()]
    assert every == [("C1", "p1"), ("C1", "p2"), ("C2", "p1"), ("C3", "p3")]
    by_channel = await state_store.list_subscriptions(channel_id="C1")
    assert [s.project_id for s in by_channel] == ["p1", "p2"]
    by_project = await state_store.list_subscriptions(project_id="p1")
    assert [s.channel_id for s in by_project] == ["C1", "C2"]
    both = await state_store.list_subscriptions(channel_id="C2", project_id="p1")
    assert [(s.channel_id, s.project_id) for s in both] == [("C2", "p1")]
    assert await state_store.list_subscriptions(channel_id="C9") == []


async def test_unsubscribe_one_or_all(state_store: Store) -> None:
    for project in ("p1", "p2", "p3"):
        await state_store.subscribe("C1", project, [Status.FAILED], "U1")
    await state_store.subscribe("C2", "p1", [Status.FAILED], "U1")
    assert await state_store.unsubscribe("C1", "p2") == 1
    assert await state_store.unsubscribe("C1", "p2") == 0
    assert await state_store.unsubscribe("C1", None) == 2
    assert [(s.channel_id, s.project_id) for s in await state_store.list_subscriptions()] == [
        ("C2", "p1")
    ]


async def test_subscribed_projects_leave_out_broken_ones(state_store: Store) -> None:
    await state_store.subscribe("C1", "p1", [Status.FAILED], "U1")
    await state_store.subscribe("C2", "p1", [Status.FAILED], "U1")
    await state_store.subscribe("C2", "p2", [Status.FAILED], "U1")
    await state_store.subscribe("C3", "p3", [Status.FAILED], "U1")
    assert await state_store.subscribed_projects() == ["p1", "p2", "p3"]
    await state_store.mark_subscription_broken("C2", "not_in_channel")
    assert await state_store.subscribed_projects() == ["p1", "p3"]
    await state_store.mark_subscription_broken("C1", "channel_not_found")
    assert await state_store.subscribed_projects() == ["p3"]
    assert await state_store.mark_subscription_broken("C9", "channel_not_found") == 0


async def test_bad_subscriptions_are_refused(state_store: Store) -> None:
    with pytest.raises(ValueError, match="at least one status"):
        await state_store.subscribe("C1", "p1", [], "U1")
    with pytest.raises(ValueError, match="channel_id must be a non-empty string"):
        await state_store.subscribe("", "p1", [Status.FAILED], "U1")
    with pytest.raises(ValueError, match="say why"):
        await state_store.mark_subscription_broken("C1", "")
    assert await state_store.list_subscriptions() == []


async def test_mute_until_a_time_then_it_lapses(state_store: Store, store_backend: Backend) -> None:
    assert await state_store.muted_until("C1") is None
    until = store_backend.clock.now() + timedelta(hours=2)
    await state_store.set_mute("C1", until)
    assert await state_store.muted_until("C1") == until
    assert await state_store.muted_until("C2") is None
    store_backend.clock.advance(2 * 3600)
    assert await state_store.muted_until("C1") is None  # at the instant it ends: not muted


async def test_mute_is_replaced_and_removed(state_store: Store, store_backend: Backend) -> None:
    now = store_backend.clock.now()
    await state_store.set_mute("C1", now + timedelta(hours=1))
    # Another offset is the same instant, returned in UTC.
    later = (now + timedelta(hours=8)).astimezone(timezone(timedelta(hours=3)))
    await state_store.set_mute("C1", later)
    got = await state_store.muted_until("C1")
    assert got == later and got is not None and got.tzinfo is UTC
    await state_store.set_mute("C1", None)
    assert await state_store.muted_until("C1") is None
    await state_store.set_mute("C1", None)  # unmuting an unmuted channel is fine


async def test_naive_datetimes_are_refused(state_store: Store) -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        await state_store.set_mute("C1", datetime(2030, 1, 1))
    assert await state_store.muted_until("C1") is None


async def test_muted_channels_lists_the_mutes_still_running(
    state_store: Store, store_backend: Backend
) -> None:
    assert await state_store.muted_channels() == set()
    now = store_backend.clock.now()
    await state_store.set_mute("C1", now + timedelta(hours=2))
    await state_store.set_mute("C2", now + timedelta(minutes=5))
    await state_store.set_mute("C3", now + timedelta(hours=1))
    await state_store.set_mute("C3", None)
    assert await state_store.muted_channels() == {"C1", "C2"}
    store_backend.clock.advance(300)  # C2's mute ends at this instant: not muted any more
    assert await state_store.muted_channels() == {"C1"}
    for channel in ("C1", "C2", "C3"):
        muted = await state_store.muted_until(channel) is not None
        assert muted == (channel in await state_store.muted_channels())
