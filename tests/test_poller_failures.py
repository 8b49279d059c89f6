"""Failure isolation and backoff: one project's errors never stop the others; 429s, 5xx and
timeouts back a project off (with jitter, honouring Retry-After) until it works again. Also
the history search that settles leftovers, and the metadata it reads."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from bot import metrics
from bot.peaka import Status
from bot.poller import ProjectBackoff, keys_in_metadata
from bot.poller._slack import HISTORY_PAGE, alert_metadata, digest_metadata, find_posted
from tests.poller_harness import PollerRig
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

F = Status.FAILED


@pytest.fixture
async def rig(store_backend: Backend) -> AsyncIterator[PollerRig]:
    async with PollerRig.running(store_backend) as running:
        yield running


def test_backoff_grows_with_jitter_honours_retry_after_and_resets() -> None:
    now = [0.0]
    backoff = ProjectBackoff(base=30, ceiling=600, clock=lambda: now[0], rng=random.Random(4))
    assert backoff.ready("p1") and backoff.waiting("p1") == 0
    delays = [backoff.failed("p1") for _ in range(8)]
    for n, delay in enumerate(delays):
        step = min(600, 30 * 2**n)
        assert step / 2 <= delay <= step  # jitter: 50 to 100 % of the step
    assert backoff.failures("p1") == 8
    assert not backoff.ready("p1")
    assert backoff.ready("p2")  # other projects are untouched
    now[0] += delays[-1]
    assert backoff.ready("p1")
    backoff.succeeded("p1")
    assert backoff.failures("p1") == 0
    assert 15 <= backoff.failed("p1") <= 30  # back to the first step
    assert backoff.failed("p3", retry_after=900) == 900  # never sooner than asked
    assert backoff.failed("p4", retry_after=10**9) == 3600  # but a bad header can't park it
    with pytest.raises(ValueError, match="0 < base <= ceiling"):
        ProjectBackoff(base=0, clock=lambda: 0.0)


def test_keys_in_metadata_reads_cards_and_digests_and_ignores_the_rest() -> None:
    assert keys_in_metadata(alert_metadata("p1", "j1", "FAILED", "C1")) == ["j1:FAILED"]
    assert keys_in_metadata(digest_metadata("C1", ["j1:FAILED", "j2:SUCCEEDED"])) == [
        "j1:FAILED",
        "j2:SUCCEEDED",
    ]
    for junk in (
        None,
        "text",
        {"event_type": "something_else", "event_payload": {"job_id": "j", "status": "S"}},
        {"event_type": "peaka_export_alert", "event_payload": "not an object"},
        {"event_type": "peaka_export_alert", "event_payload": {"job_id": 5}},
        {"event_type": "peaka_export_alert", "event_payload": {"alerts": [1, "j3:FAILED"]}},
    ):
        assert keys_in_metadata(junk) in ([], ["j3:FAILED"])


async def test_one_failing_project_never_stops_the_others(rig: PollerRig) -> None:
    await rig.subscribe("C1", "p1", F)
    await rig.subscribe("C1", "nosuchproject", F)  # Peaka answers 404 for it
    poller = rig.poller()
    first = await poller.run_cycle()
    assert first.polled == ["p1"] and first.failed == ["nosuchproject"]
    job = rig.sim.create_job("p1", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    await poller.run_cycle()
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}
    # The failing one backs off longer and longer; p1 is polled every cycle.
    skipped = 0
    for _ in range(12):
        rig.clock.advance(30)
        report = await poller.run_cycle()
        assert "p1" in report.polled
        skipped += "nosuchproject" in report.skipped
    assert skipped >= 6


async def test_rate_limits_back_off_for_at_least_retry_after_then_recover(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F)
    await rig.subscribe("C1", "p2", F)
    poller = rig.poller(fast_failures=True)
    await poller.run_cycle()
    rig.sim.faults.rate_limit_rate = 1.0
    rig.sim.faults.retry_after = 240.0
    job = rig.sim.create_job("p2", rig.owners[0], outcome="FAILED")
    rig.clock.advance(30)
    limited = await poller.run_cycle()
    assert sorted(limited.failed) == ["p1", "p2"]
    rig.sim.faults.rate_limit_rate = 0.0
    rig.sim.reset_counters()
    for _ in range(7):  # 210 s: still inside Retry-After
        rig.clock.advance(30)
        report = await poller.run_cycle()
        assert sorted(report.skipped) == ["p1", "p2"]
    assert rig.sim.counters["listExports"] == 0
    rig.clock.advance(31)
    recovered = await poller.run_cycle()
    assert sorted(recovered.polled) == ["p1", "p2"]
    assert rig.alerts("C1") == {(job.id, "FAILED"): 1}


async def test_server_errors_and_timeouts_count_as_failures_and_success_resets(
    rig: PollerRig,
) -> None:
    await rig.subscribe("C1", "p1", F)
    poller = rig.poller(fast_failures=True)
    await poller.run_cycle()
    rig.sim.faults.error_rate = 1.0
    rig.clock.advance(30)
    assert (await poller.run_cycle()).failed == ["p1"]
    rig.sim.faults.error_rate = 0.0
    rig.sim.faults.timeout_rate = 1.0
    rig.sim.faults.timeout_seconds = 0.6
    rig.clock.advance(60)
    assert (await poller.run_cycle()).failed == ["p1"]
    rig.sim.faults.timeout_rate = 0.0
    rig.clock.advance(600)
    assert (await poller.run_cycle()).polled == ["p1"]
    rig.clock.advance(30)
    assert (await poller.run_cycle()).polled == ["p1"]  # the backoff was reset


async def test_history_search_pages_back_and_stops_once_everything_is_found(
    rig: PollerRig,
) -> None:
    services = rig.services()
    assert services.slack is not None
    await services.slack.chat_postMessage(
        channel="C1", text="old alert", metadata=alert_metadata("p1", "old", "FAILED", "C1")
    )
    for n in range(HISTORY_PAGE + 150):
        rig.slack.post_as_user("C1", "U0BEN", f"chatter {n}")
    await services.slack.chat_postMessage(
        channel="C1", text="digest", metadata=digest_metadata("C1", ["new:FAILED", "x:EXPIRED"])
    )
    errors_before = metrics.SLACK_API_ERRORS.labels("conversations.history", "channel_not_found")
    seen_before = errors_before._value.get()

    recent = await find_posted(services.slack, "C1", {"new:FAILED"})
    assert set(recent.found) == {"new:FAILED"} and recent.complete
    assert len(rig.slack.calls("conversations.history")) == 1  # found on the first page

    deep = await find_posted(services.slack, "C1", {"old:FAILED", "x:EXPIRED", "gone:FAILED"})
    assert set(deep.found) == {"old:FAILED", "x:EXPIRED"} and deep.complete
    assert len(rig.slack.calls("conversations.history")) == 1 + 2  # the whole (short) history

    shallow = await find_posted(services.slack, "C1", {"old:FAILED"}, pages=1)
    assert shallow.found == {} and shallow.complete

    rig.slack.fail("conversations.history", "channel_not_found", "C9")
    missing = await find_posted(services.slack, "C9", {"a:FAILED"})
    assert missing.broken == "channel_not_found" and not missing.complete
    assert errors_before._value.get() == seen_before + 1
    rig.slack.fail("conversations.history", "internal_error", "C8")
    failing = await find_posted(services.slack, "C8", {"a:FAILED"})
    assert failing.broken is None and not failing.complete
