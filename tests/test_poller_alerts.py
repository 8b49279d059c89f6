"""The poller against the simulator and the Slack stand-in: baseline, alerts, cards, digests,
mutes, expiry, broken channels, poll cost, stragglers, leftovers and the start/stop loop.
On SQLite and PostgreSQL (``store_backend``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot import metrics
from bot.peaka import Status
from bot.poller import ALERT_EVENT
from bot.poller._slack import alert_metadata
from bot.store import AlertKey
from tests.poller_harness import PollerRig, alert_keys, metadata_of
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

S, F, C, E = Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED


@pytest.fixture
async def rig(store_backend: Backend) -> AsyncIterator[PollerRig]:
    async with PollerRig.running(store_backend) as running:
        yield running


async def test_baseline_alerts_nothing_then_each_outcome_once_per_channel(rig: PollerRig) -> None:
    ana, ben, _ = rig.owners
    old_done = rig.sim.create_job("p1", ana, run_seconds=1, outcome="FAILED")
    old_running = rig.sim.create_job("p1", ben, run_seconds=120, outcome="FAILED", error="boom")
    rig.clock.advance(10)
    await rig.subscribe("C1", "p1", F, S)
    await rig.subscribe("C2", "p1", F)
    await rig.subscribe("C3", "p2", F)
    poller = rig.poller()
    cycles_before = _histogram_count(metrics.POLL_CYCLE_SECONDS)

    await poller.run_cycle()  # baseline
    assert rig.posts() == 0
    assert _histogram_count(metrics.POLL_CYCLE_SECONDS) == cycles_before + 1
    assert metrics.POLL_LAST_CYCLE._value.get() >= time.time() - 60

    fresh = rig.sim.create_job("p1", ana, run_seconds=5)
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C1") == {(fresh.id, "SUCCEEDED"): 1}
    assert rig.alerts("C2") == {}

    rig.clock.advance(120)
    await poller.run_cycle()
    await poller.run_cycle()  # nothing new: nothing more
    assert rig.alerts("C1") == {(fresh.id, "SUCCEEDED"): 1, (old_running.id, "FAILED"): 1}
    assert rig.alerts("C2") == {(old_running.id, "FAILED"): 1}
    assert rig.alerts("C3") == {}
    assert old_done.id not in {job for job, _, _ in rig.all_alerts()}
    assert poller.last_cycle_at == rig.clock.now()
    assert poller._services.poller_last_cycle_at == rig.clock.now()  # what /healthz reads


async def test_alert_card_has_the_full_error_the_mention_and_metadata(rig: PollerRig) -> None:
    ana, _, zed = rig.owners
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    error = "Query exceeded per-node memory limit " + "x" * 1500 + " END-OF-ERROR"
    failed = rig.sim.create_job("p1", ana, run_seconds=5, outcome="FAILED", error=error)
    nobody = rig.sim.create_job("p1", zed, run_seconds=5, outcome="FAILED", error="short")
    rig.clock.advance(30)
    sent_before = metrics.ALERTS_SENT.labels(kind="channel")._value.get()
    await poller.run_cycle()

    messages = rig.slack.messages("C1")
    assert len(messages) == 2
    by_job = {metadata_of(m)["event_payload"]["job_id"]: m for m in messages}
    card = by_job[failed.id]
    assert metadata_of(card) == alert_metadata("p1", failed.id, "FAILED", "C1")
    assert metadata_of(card)["event_type"] == ALERT_EVENT
    shown = "".join(str(b) for b in card["blocks"])
    assert "END-OF-ERROR" in shown and "x" * 1500 in shown.replace("\n", "")
    assert "<@U0ANA>" in card["text"] + shown
    other = "".join(str(b) for b in by_job[nobody.id]["blocks"])
    assert "zed@example.com" in other and "<@" not in other
    assert metrics.ALERTS_SENT.labels(kind="channel")._value.get() == sent_before + 2
    lookups = [c.body["email"] for c in rig.slack.calls("users.lookupByEmail")]
    assert sorted(lookups) == ["ana@example.com", "zed@example.com"]
    # The e-mail directory caches: another alert for ana costs no lookup.
    rig.sim.create_job("p1", ana, run_seconds=5, outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert len(rig.slack.calls("users.lookupByEmail")) == 2


async def test_more_than_five_alerts_for_a_channel_in_one_cycle_become_one_digest(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C_BUSY", "p1", F, S)
    await rig.subscribe("C_CALM", "p2", S)
    poller = rig.poller()
    await poller.run_cycle()
    busy = [rig.sim.create_job("p1", rig.owners[n % 3], outcome="FAILED") for n in range(7)]
    calm = [rig.sim.create_job("p2", rig.owners[0]) for _ in range(5)]
    rig.clock.advance(30)
    digests_before = metrics.ALERTS_SENT.labels(kind="digest")._value.get()
    await poller.run_cycle()

    [digest] = rig.slack.messages("C_BUSY")
    payload = metadata_of(digest)["event_payload"]
    assert sorted(payload["alerts"]) == sorted(f"{job.id}:FAILED" for job in busy)
    assert payload["target"] == "C_BUSY"
    assert "7 export alerts" in digest["text"]
    assert rig.alerts("C_BUSY") == {(job.id, "FAILED"): 1 for job in busy}
    assert len(rig.slack.messages("C_CALM")) == 5  # five is not a burst
    assert rig.alerts("C_CALM") == {(job.id, "SUCCEEDED"): 1 for job in calm}
    assert metrics.ALERTS_SENT.labels(kind="digest")._value.get() == digests_before + 1
    for job in busy:
        assert await rig.store.alert_state(AlertKey(job.id, F, "C_BUSY")) == "sent"


async def test_muted_channel_gets_nothing_and_unmuting_does_not_flood(rig: PollerRig) -> None:
    await rig.subscribe("C_MUTE", "p1", F)
    await rig.subscribe("C_OPEN", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    await rig.store.set_mute("C_MUTE", rig.clock.now() + timedelta(minutes=10))
    while_muted = [rig.sim.create_job("p1", rig.owners[0], outcome="FAILED") for _ in range(3)]
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C_MUTE") == {}
    assert rig.alerts("C_OPEN") == {(job.id, "FAILED"): 1 for job in while_muted}
    for job in while_muted:
        assert await rig.store.alert_state(AlertKey(job.id, F, "C_MUTE")) == "suppressed"
    assert await rig.store.count_alerts("suppressed") == 3

    rig.clock.advance(11 * 60)  # the mute ends
    await poller.run_cycle()
    assert rig.alerts("C_MUTE") == {}  # no flood of what was muted
    after = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C_MUTE") == {(after.id, "FAILED"): 1}


async def test_expired_alerts_follow_succeeded_and_running_to_expired_gives_both(
    store_backend: Backend,
) -> None:
    async with PollerRig.running(store_backend, artifact_lifetime_seconds=300) as rig:
        await rig.subscribe("C_OK", "p1", S)
        await rig.subscribe("C_GONE", "p1", E)
        poller = rig.poller()
        await poller.run_cycle()
        quick = rig.sim.create_job("p1", rig.owners[0], run_seconds=5)
        rig.clock.advance(30)
        await poller.run_cycle()
        assert rig.alerts("C_OK") == {(quick.id, "SUCCEEDED"): 1}
        tracked = await rig.store.job_states("p1")
        assert tracked[quick.id].status is S  # followed for its expiry
        # A job the poller last saw running succeeds and expires while nobody looks.
        slow = rig.sim.create_job("p1", rig.owners[1], run_seconds=60)
        rig.clock.advance(30)
        await poller.run_cycle()
        rig.clock.advance(400)
        await poller.run_cycle()
        await poller.run_cycle()
        assert rig.alerts("C_OK") == {(quick.id, "SUCCEEDED"): 1, (slow.id, "SUCCEEDED"): 1}
        assert rig.alerts("C_GONE") == {(quick.id, "EXPIRED"): 1, (slow.id, "EXPIRED"): 1}
        assert await rig.store.job_states("p1") == {}  # nothing left to follow


async def test_without_an_expired_subscription_succeeded_jobs_are_not_followed(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", S)
    poller = rig.poller()
    await poller.run_cycle()
    rig.sim.create_job("p1", rig.owners[0], run_seconds=60)
    rig.clock.advance(30)
    await poller.run_cycle()
    assert len(await rig.store.job_states("p1")) == 1  # running: followed
    rig.clock.advance(60)
    await poller.run_cycle()
    assert await rig.store.job_states("p1") == {}


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_channel_that_cannot_take_posts_is_marked_broken_without_retries(
    rig: PollerRig, error: str
) -> None:
    await rig.subscribe("C_BAD", "p1", F)
    await rig.subscribe("C_GOOD", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    if error == "not_in_channel":
        rig.slack.not_in_channel.add("C_BAD")
    elif error == "is_archived":
        rig.slack.archived.add("C_BAD")
    else:
        rig.slack.fail("chat.postMessage", error, "C_BAD")
    first = [rig.sim.create_job("p1", rig.owners[0], outcome="FAILED") for _ in range(2)]
    rig.clock.advance(30)
    await poller.run_cycle()

    [sub] = await rig.store.list_subscriptions("C_BAD")
    assert sub.broken_reason == error
    assert metrics.SLACK_API_ERRORS.labels("chat.postMessage", error)._value.get() >= 1
    for job in first:
        assert await rig.store.alert_state(AlertKey(job.id, F, "C_BAD")) == "failed"
    attempts = len([c for c in rig.slack.calls("chat.postMessage") if c.body["channel"] == "C_BAD"])
    assert attempts == 1  # the first failure stops the channel for this cycle

    later = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    for _ in range(3):
        rig.clock.advance(30)
        await poller.run_cycle()
    calls = [c for c in rig.slack.calls("chat.postMessage") if c.body["channel"] == "C_BAD"]
    assert len(calls) == attempts  # no retry storm
    assert rig.alerts("C_GOOD") == {(job.id, "FAILED"): 1 for job in [*first, later]}
    # Re-subscribing (someone fixed the channel) resumes alerts.
    rig.slack.not_in_channel.clear()
    rig.slack.archived.clear()
    rig.slack.errors.clear()
    await rig.subscribe("C_BAD", "p1", F)
    again = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C_BAD") == {(again.id, "FAILED"): 1}


async def test_steady_state_costs_one_list_request_per_subscribed_project(rig: PollerRig) -> None:
    for project in ("p1", "p2", "p3"):
        await rig.subscribe(f"C_{project}", project, F, S, C)
        for n in range(30):
            rig.sim.create_job(project, rig.owners[n % 3], run_seconds=5 + n)
    await rig.subscribe("C_BROKEN", "p4", F)
    await rig.store.mark_subscription_broken("C_BROKEN", "channel_not_found")
    rig.sim.create_job("p5", rig.owners[0])  # no subscription at all
    poller = rig.poller()
    for _ in range(4):
        await poller.run_cycle()
        rig.clock.advance(30)
    rig.sim.reset_counters()
    for _ in range(5):
        await poller.run_cycle()
        rig.clock.advance(30)
    assert rig.sim.counters["listExports"] == 5 * 3
    assert rig.sim.counters["readExport"] == 0
    assert set(rig.sim.counters) <= {"listExports"}


async def test_a_long_job_pushed_off_the_first_pages_still_alerts_once(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller()
    long_job = rig.sim.create_job("p1", rig.owners[0], run_seconds=3600, outcome="FAILED")
    rig.clock.advance(1)
    await poller.run_cycle()  # baseline: the long job is tracked
    quick = []
    for _ in range(3):  # 3 x 150 newer jobs push it far off the first page
        for _ in range(150):
            quick.append(rig.sim.create_job("p1", rig.owners[1], run_seconds=1))
            rig.clock.advance(0.01)
        rig.clock.advance(30)
        await poller.run_cycle()
    rig.sim.reset_counters()
    rig.clock.advance(30)
    await poller.run_cycle()
    # Nothing new: one page, plus one read for the straggler (cheaper than three pages).
    assert rig.sim.counters["listExports"] == 1
    assert rig.sim.counters["readExport"] == 1
    rig.clock.advance(3600)
    await poller.run_cycle()
    await poller.run_cycle()
    assert rig.alerts("C1") == {(long_job.id, "FAILED"): 1}
    assert len(quick) == 450


async def test_a_burst_of_new_jobs_is_paged_down_to_the_watermark(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", S)
    poller = rig.poller()
    before = rig.sim.create_job("p1", rig.owners[0], run_seconds=1)
    rig.clock.advance(5)
    await poller.run_cycle()  # baseline: `before` has finished, history
    burst = []
    for n in range(230):  # ten jobs per instant: ties across the page boundaries
        burst.append(rig.sim.create_job("p1", rig.owners[0], run_seconds=3600))
        if n % 10 == 9:
            rig.clock.advance(0.001)
    rig.clock.advance(30)
    rig.sim.reset_counters()
    await poller.run_cycle()
    assert rig.sim.counters["listExports"] == 2  # down to the watermark, no further
    assert set(await rig.store.job_states("p1")) == {job.id for job in burst}
    # A job created in the watermark's very instant after the cycle is still new.
    late = rig.sim.create_job("p1", rig.owners[0], run_seconds=1, created_at=burst[-1].created_at)
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C1") == {(late.id, "SUCCEEDED"): 1}
    assert before.id not in {job for job, _, _ in rig.all_alerts()}


async def test_rate_limited_posts_are_retried_by_the_slack_client(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    job = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    rig.slack.retry_after = "0"
    rig.slack.rate_limit_next("chat.postMessage", 1)
    await poller.run_cycle()
    statuses = [c.status for c in rig.slack.calls("chat.postMessage")]
    assert statuses == [429, 200]
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}


async def test_other_slack_errors_keep_the_claim_and_retry_next_cycle(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    jobs = [rig.sim.create_job("p1", rig.owners[0], outcome="FAILED") for _ in range(2)]
    rig.slack.fail("chat.postMessage", "internal_error", "C1")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C1") == {}
    assert all([await rig.store.alert_state(AlertKey(j.id, F, "C1")) == "claimed" for j in jobs])
    # The poller keeps the unsent alerts' jobs, so the retry needs no Read Export.
    assert poller.jobs_awaiting_delivery == 2
    reads = rig.sim.counters["readExport"]
    rig.slack.errors.clear()
    await poller.run_cycle()
    assert rig.alerts("C1") == {(j.id, "FAILED"): 1 for j in jobs}
    assert rig.sim.counters["readExport"] == reads
    # Slack answered with an error, so no history search was needed before resending.
    assert rig.slack.calls("conversations.history") == []
    # Sent: their jobs are no longer held.
    assert poller.jobs_awaiting_delivery == 0


async def test_a_job_sent_to_one_channel_but_not_another_is_kept_for_the_retry(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F)
    await rig.subscribe("C2", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    job = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.slack.fail("chat.postMessage", "internal_error", "C2")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert (rig.alerts("C1"), rig.alerts("C2")) == ({(job.id, "FAILED"): 1}, {})
    assert poller.jobs_awaiting_delivery == 1
    reads = rig.sim.counters["readExport"]
    rig.slack.errors.clear()
    await poller.run_cycle()
    assert rig.alerts("C2") == {(job.id, "FAILED"): 1}
    assert rig.sim.counters["readExport"] == reads
    assert poller.jobs_awaiting_delivery == 0


async def test_a_post_slack_accepted_before_a_crash_is_found_not_repeated(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    first = rig.poller(instance_id="replica-a")
    await first.run_cycle()
    posted = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    lost = rig.sim.create_job("p1", rig.owners[0], run_seconds=600)
    rig.sim.cancel_job(lost.id)
    await rig.subscribe("C1", "p1", F, C)
    rig.clock.advance(30)
    # The dead process claimed both, Slack accepted one post, the log never heard back.
    for job, status in ((posted, F), (lost, C)):
        assert await rig.store.claim_alert(AlertKey(job.id, status, "C1"), "p1", "replica-a")
    meta = alert_metadata("p1", posted.id, "FAILED", "C1")
    reply = await _post_as_bot(rig, "C1", meta)
    rig.slack.post_as_user("C1", "U0BEN", "chatter after the alert")

    restarted = rig.poller(instance_id="replica-a")
    await restarted.run_cycle()
    assert rig.alerts("C1") == {(posted.id, "FAILED"): 1, (lost.id, "CANCELLED"): 1}
    assert len(rig.slack.calls("conversations.history")) == 1
    history = rig.slack.calls("conversations.history")[0]
    assert str(history.body.get("include_all_metadata")).lower() in ("true", "1")
    records = {r.key.job_id: r for r in await rig.store.alerts_for(posted.id)}
    assert records[posted.id].state == "sent" and records[posted.id].slack_ts == reply
    assert await rig.store.alert_state(AlertKey(lost.id, C, "C1")) == "sent"
    assert await rig.store.unconfirmed_alerts() == []


async def test_another_pollers_claim_is_taken_over_only_once_stale(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller(instance_id="replica-b")
    await poller.run_cycle()
    job = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    assert await rig.store.claim_alert(AlertKey(job.id, F, "C1"), "p1", "replica-a")
    await poller.run_cycle()  # replica-a may still be posting it
    rig.clock.advance(9 * 60)
    await poller.run_cycle()
    assert rig.alerts("C1") == {}
    rig.clock.advance(2 * 60)  # ten minutes: replica-a is surely not posting it any more
    await poller.run_cycle()
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}
    [record] = await rig.store.alerts_for(job.id)
    assert record.claimed_by == "replica-b" and record.state == "sent"


async def test_start_runs_cycles_and_stop_finishes_the_one_in_flight(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    baseline = rig.poller(interval=0.05)
    await baseline.run_cycle()
    jobs = [rig.sim.create_job("p1", rig.owners[0], outcome="FAILED") for _ in range(3)]
    rig.clock.advance(30)
    rig.slack.hold_next_post()
    poller = rig.poller(interval=0.05)
    await poller.start()
    assert poller.task is not None
    await asyncio.wait_for(rig.slack.held.wait(), 10)  # a cycle is posting right now
    stopping = asyncio.create_task(poller.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # it waits for the cycle in flight
    rig.slack.release()
    await asyncio.wait_for(stopping, 10)
    assert rig.alerts("C1") == {(j.id, "FAILED"): 1 for j in jobs}
    assert await rig.store.unconfirmed_alerts() == []
    assert poller.task is None and poller.last_cycle_at is not None


async def _post_as_bot(rig: PollerRig, channel: str, metadata: dict[str, object]) -> str:
    """Post like the bot did before it died (straight to the stand-in's Web API)."""
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.post(
            rig.slack.base_url + "chat.postMessage",
            headers={"Authorization": f"Bearer {rig.slack.token}"},
            json={"channel": channel, "text": "an alert", "metadata": metadata},
        )
    ts = response.json()["ts"]
    assert alert_keys(rig.slack.messages(channel))
    return str(ts)


async def test_a_project_polled_again_after_a_long_gap_takes_a_new_baseline(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F, S)
    poller = rig.poller()
    watched = rig.sim.create_job("p1", rig.owners[0], run_seconds=3 * 3600, outcome="FAILED")
    await poller.run_cycle()  # baseline: the long job is followed
    meanwhile = [rig.sim.create_job("p1", rig.owners[1], outcome="FAILED") for _ in range(8)]
    rig.clock.advance(7 * 3600)  # the bot was down for seven hours
    restarted = rig.poller()
    await restarted.run_cycle()
    # What appeared while nobody looked is history; the job it was following still alerts.
    assert rig.alerts("C1") == {(watched.id, "FAILED"): 1}
    assert all((job.id, "FAILED") not in rig.alerts("C1") for job in meanwhile)
    after = rig.sim.create_job("p1", rig.owners[1], outcome="FAILED")
    rig.clock.advance(30)
    await restarted.run_cycle()
    assert rig.alerts("C1")[(after.id, "FAILED")] == 1


async def test_unsubscribing_then_subscribing_again_does_not_replay_the_gap(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller()
    await poller.run_cycle()
    rig.sim.create_job("p1", rig.owners[0], run_seconds=60, outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert len(await rig.store.job_states("p1")) == 1
    await rig.store.unsubscribe("C1", "p1")
    await poller.run_cycle()
    assert await rig.store.job_states("p1") == {}  # forgotten
    gap = [rig.sim.create_job("p1", rig.owners[0], outcome="FAILED") for _ in range(3)]
    rig.clock.advance(600)
    await poller.run_cycle()  # nothing to poll
    await rig.store.subscribe("C2", "p1", [F], created_by="U0ANA")
    await poller.run_cycle()
    assert rig.all_alerts() == {}
    fresh = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C2") == {(fresh.id, "FAILED"): 1}
    assert len(gap) == 3


def _histogram_count(histogram: object) -> float:
    for family in histogram.collect():  # type: ignore[attr-defined]
        for sample in family.samples:
            if sample.name.endswith("_count"):
                return float(sample.value)
    return 0.0


async def test_a_leftover_waits_while_history_is_unreadable_but_not_forever(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F)
    await rig.poller(instance_id="replica-a").run_cycle()
    job = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    # Claimed by a process that died before posting (or after: it can't be told apart).
    assert await rig.store.claim_alert(AlertKey(job.id, F, "C1"), "p1", "replica-a")
    rig.slack.fail("conversations.history", "internal_error", "C1")
    restarted = rig.poller(instance_id="replica-a")
    await restarted.run_cycle()
    await restarted.run_cycle()
    assert rig.alerts("C1") == {}  # can't tell whether it was posted: wait
    await restarted.run_cycle()
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}
    assert len(rig.slack.calls("conversations.history")) == 3
