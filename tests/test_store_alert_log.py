"""The alert log: claim once, confirm or fail, find and take over stale claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest

from bot.peaka import Status
from bot.store import AlertKey, AlertNotClaimedError, AlertRecord, Store
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

KEY = AlertKey("job-1", Status.FAILED, "C1")


async def test_claim_once(state_store: Store, store_backend: Backend) -> None:
    assert await state_store.alert_state(KEY) is None
    assert await state_store.claim_alert(KEY, "p1", "replica-a") is True
    assert await state_store.claim_alert(KEY, "p1", "replica-b") is False
    assert await state_store.alert_state(KEY) == "claimed"
    [record] = await state_store.alerts_for("job-1")
    assert record == AlertRecord(
        key=KEY,
        project_id="p1",
        state="claimed",
        claimed_by="replica-a",
        claimed_at=store_backend.clock.now(),
        slack_channel=None,
        slack_ts=None,
        sent_at=None,
        attempts=1,
        last_error=None,
    )


async def test_keys_differ_by_status_and_target(state_store: Store) -> None:
    keys = [
        KEY,
        AlertKey("job-1", Status.SUCCEEDED, "C1"),
        AlertKey("job-1", Status.FAILED, "C2"),
        AlertKey("job-1", Status.FAILED, "dm:U123"),
        AlertKey("job-2", Status.FAILED, "C1"),
    ]
    assert [await state_store.claim_alert(k, "p1", "r") for k in keys] == [True] * 5
    assert [await state_store.claim_alert(k, "p1", "r") for k in keys] == [False] * 5
    assert {r.key for r in await state_store.alerts_for("job-1")} == set(keys[:4])
    assert await state_store.count_alerts() == 5
    # A key built from plain strings is the same key.
    assert await state_store.alert_state(AlertKey("job-1", "FAILED", "dm:U123")) == "claimed"  # type: ignore[arg-type]


async def test_confirm(state_store: Store, store_backend: Backend) -> None:
    await state_store.claim_alert(KEY, "p1", "r")
    store_backend.clock.advance(3)
    await state_store.confirm_alert(KEY, "C1", "1718020800.000100")
    [record] = await state_store.alerts_for("job-1")
    assert record.state == "sent"
    assert (record.slack_channel, record.slack_ts) == ("C1", "1718020800.000100")
    assert record.sent_at == store_backend.clock.now()
    assert record.sent_at is not None and record.sent_at.tzinfo is UTC
    assert await state_store.unconfirmed_alerts() == []
    assert await state_store.claim_alert(KEY, "p1", "r") is False


async def test_fail_is_permanent(state_store: Store, store_backend: Backend) -> None:
    await state_store.claim_alert(KEY, "p1", "r")
    await state_store.fail_alert(KEY, "channel_not_found " + "x" * 5000)
    [record] = await state_store.alerts_for("job-1")
    assert record.state == "failed"
    assert record.last_error is not None and record.last_error.startswith("channel_not_found")
    assert len(record.last_error) == 2000
    store_backend.clock.advance(3600)
    # Neither listed for retry nor reclaimable, nor claimable again.
    assert await state_store.unconfirmed_alerts() == []
    assert not await state_store.reclaim_alert(KEY, "r2", store_backend.clock.now())
    assert not await state_store.claim_alert(KEY, "p1", "r2")
    assert await state_store.count_alerts("failed") == 1
    assert await state_store.count_alerts("claimed") == 0


async def test_confirming_an_unclaimed_alert_is_a_clear_error(state_store: Store) -> None:
    with pytest.raises(AlertNotClaimedError, match="cannot confirm alert job-1/FAILED/C1"):
        await state_store.confirm_alert(KEY, "C1", "1.2")
    with pytest.raises(AlertNotClaimedError, match="never claimed"):
        await state_store.fail_alert(KEY, "boom")
    assert await state_store.count_alerts() == 0


async def test_suppressed_alert_is_logged_and_never_sent(state_store: Store) -> None:
    assert await state_store.suppress_alert(KEY, "p1", "r", "muted") is True
    assert await state_store.suppress_alert(KEY, "p1", "r", "muted") is False
    assert await state_store.claim_alert(KEY, "p1", "r") is False
    assert await state_store.alert_state(KEY) == "suppressed"
    assert await state_store.unconfirmed_alerts() == []


async def test_unconfirmed_alerts_oldest_first(state_store: Store, store_backend: Backend) -> None:
    clock = store_backend.clock
    keys = [AlertKey(f"job-{i}", Status.FAILED, "C1") for i in range(4)]
    for key in keys:
        await state_store.claim_alert(key, "p1", "r")
        clock.advance(10)
    await state_store.confirm_alert(keys[1], "C1", "1.1")
    pending = await state_store.unconfirmed_alerts()
    assert [r.key for r in pending] == [keys[0], keys[2], keys[3]]
    cutoff = clock.now() - timedelta(seconds=15)  # keys[3] was claimed 10 s ago
    assert [r.key for r in await state_store.unconfirmed_alerts(cutoff)] == [keys[0], keys[2]]


async def test_reclaim_takes_over_only_stale_claims(
    state_store: Store, store_backend: Backend
) -> None:
    clock = store_backend.clock
    await state_store.claim_alert(KEY, "p1", "dead-replica")
    claimed_at = clock.now()
    # Not stale yet: claimed exactly at the cutoff is not before it.
    assert not await state_store.reclaim_alert(KEY, "r2", stale_before=claimed_at)
    clock.advance(120)
    cutoff = clock.now() - timedelta(seconds=60)
    assert await state_store.reclaim_alert(KEY, "r2", stale_before=cutoff)
    [record] = await state_store.alerts_for("job-1")
    assert (record.claimed_by, record.claimed_at, record.attempts) == ("r2", clock.now(), 2)
    # Just reclaimed: no longer stale for a third replica.
    assert not await state_store.reclaim_alert(KEY, "r3", stale_before=cutoff)
    await state_store.confirm_alert(KEY, "C1", "1.1")
    clock.advance(3600)
    assert not await state_store.reclaim_alert(KEY, "r3", stale_before=clock.now())
    unknown = AlertKey("nope", Status.FAILED, "C1")
    assert not await state_store.reclaim_alert(unknown, "r3", stale_before=clock.now())


async def test_concurrent_reclaims_have_one_winner(store_backend: Backend) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    await first.claim_alert(KEY, "p1", "dead")
    store_backend.clock.advance(600)
    cutoff = store_backend.clock.now() - timedelta(seconds=60)
    results = await asyncio.gather(
        *((first if i % 2 else second).reclaim_alert(KEY, f"r{i}", cutoff) for i in range(20))
    )
    assert results.count(True) == 1
    [record] = await first.alerts_for("job-1")
    assert record.attempts == 2


async def test_fifty_concurrent_claims_from_two_engines_one_winner(
    store_backend: Backend,
) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    for round_ in range(3):
        key = AlertKey(f"race-{round_}", Status.SUCCEEDED, "C1")
        results = await asyncio.gather(
            *((first if i % 2 else second).claim_alert(key, "p1", f"r{i}") for i in range(50))
        )
        assert results.count(True) == 1, results
    assert await first.count_alerts() == 3


def test_alert_key_validation() -> None:
    with pytest.raises(ValueError, match="non-empty job id"):
        AlertKey("", Status.FAILED, "C1")
    with pytest.raises(ValueError, match="non-empty target"):
        AlertKey("j", Status.FAILED, "")
    with pytest.raises(ValueError):
        AlertKey("j", "", "C1")  # type: ignore[arg-type]
    assert AlertKey("j", "failed", "C1").status is Status.FAILED  # type: ignore[arg-type]


async def test_claim_alerts_claims_many_in_one_go(state_store: Store) -> None:
    keys = [AlertKey(f"job-{n}", Status.FAILED, "C1") for n in range(5)]
    assert await state_store.claim_alert(keys[1], "p1", "other") is True
    assert await state_store.suppress_alert(keys[3], "p1", "other", "muted") is True
    won = await state_store.claim_alerts([*keys, keys[0]], "p1", "me")
    assert won == {keys[0], keys[2], keys[4]}
    assert await state_store.claim_alerts(keys, "p1", "me") == set()
    assert [await state_store.alert_state(k) for k in keys] == [
        "claimed", "claimed", "claimed", "suppressed", "claimed",
    ]  # fmt: skip
    claimed = {r.key.job_id: r.claimed_by for r in await state_store.unconfirmed_alerts()}
    assert claimed == {"job-0": "me", "job-1": "other", "job-2": "me", "job-4": "me"}
    assert await state_store.claim_alerts([], "p1", "me") == set()


async def test_concurrent_batch_claims_from_two_engines_split_the_keys(
    store_backend: Backend,
) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    keys = [AlertKey(f"batch-{n}", Status.FAILED, "C1") for n in range(30)]
    results = await asyncio.gather(
        *((first if i % 2 else second).claim_alerts(keys, "p1", f"r{i}") for i in range(6))
    )
    for key in keys:
        assert sum(key in won for won in results) == 1


async def test_log_alerts_claims_and_suppresses_for_many_projects_at_once(
    state_store: Store,
) -> None:
    k1, k2, k3, k4 = (AlertKey(f"job-{n}", Status.FAILED, "C1") for n in range(1, 5))
    assert await state_store.claim_alert(k2, "p2", "replica-b") is True  # logged before
    won, quiet = await state_store.log_alerts(
        {k1: "p1", k2: "p2", k4: "p2"}, "replica-a", suppressed={k3: "p3", k4: "p2"}
    )
    assert (won, quiet) == ({k1, k4}, {k3})  # k4 is both: claimed
    assert [
        (r.project_id, r.state, r.claimed_by) for r in await state_store.alerts_for("job-1")
    ] == [("p1", "claimed", "replica-a")]
    [suppressed] = await state_store.alerts_for("job-3")
    assert (suppressed.project_id, suppressed.state, suppressed.last_error) == (
        "p3",
        "suppressed",
        "muted",
    )
    [before] = await state_store.alerts_for("job-2")
    assert before.claimed_by == "replica-b"  # refused, untouched
    # Nothing is anyone's twice, and an empty batch asks nothing.
    assert await state_store.log_alerts({k1: "p1"}, "replica-c", suppressed={k3: "p3"}) == (
        set(),
        set(),
    )
    assert await state_store.log_alerts({}, "replica-a") == (set(), set())
    with pytest.raises(ValueError, match="project_id"):
        await state_store.log_alerts({AlertKey("job-9", Status.FAILED, "C1"): ""}, "replica-a")
    assert await state_store.alert_state(AlertKey("job-9", Status.FAILED, "C1")) is None


async def test_concurrent_log_alerts_from_two_engines_split_the_keys(
    store_backend: Backend,
) -> None:
    first, second = await store_backend.open(), await store_backend.open()
    keys = {AlertKey(f"multi-{n}", Status.FAILED, "C1"): f"p{n % 3}" for n in range(30)}
    results = await asyncio.gather(
        *((first if i % 2 else second).log_alerts(keys, f"r{i}") for i in range(6))
    )
    for key in keys:
        assert sum(key in won for won, _ in results) == 1


async def test_confirm_alerts_confirms_a_group_in_one_go(
    state_store: Store, store_backend: Backend
) -> None:
    keys = [AlertKey(f"job-{i}", Status.FAILED, f"C{i % 2}") for i in range(5)]
    for key in keys:
        await state_store.claim_alert(key, "p1", "r")
    store_backend.clock.advance(3)
    # Two share one ts (one digest); keys[4] stays claimed.
    posted = [(keys[0], "C0", "1.1"), (keys[1], "C1", "1.2"), (keys[2], "C0", "1.2")]
    posted.append((keys[3], "C1", "1.3"))
    await state_store.confirm_alerts(posted)
    await state_store.confirm_alerts([])
    for key, channel, ts in posted:
        [record] = await state_store.alerts_for(key.job_id)
        assert (record.state, record.slack_channel, record.slack_ts) == ("sent", channel, ts)
        assert record.sent_at == store_backend.clock.now()
    assert [r.key for r in await state_store.unconfirmed_alerts()] == [keys[4]]
    # Confirming again (a leftover found in history after a lost confirm) is harmless.
    await state_store.confirm_alerts([(keys[0], "C0", "1.1")])
    assert (await state_store.alerts_for("job-0"))[0].slack_ts == "1.1"
    # One key never claimed: nothing of the group is written.
    with pytest.raises(AlertNotClaimedError):
        await state_store.confirm_alerts(
            [(keys[4], "C0", "2.0"), (AlertKey("nope", Status.FAILED, "C1"), "C1", "2.1")]
        )
    assert await state_store.alert_state(keys[4]) == "claimed"
