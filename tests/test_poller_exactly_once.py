"""Exactly one alert per subscribed outcome: 500 jobs through random lifecycles over 50 cycles,
with and without injected faults (Peaka 5xx, 429s and timeouts; Slack 429s)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.poller import Poller
from tests.poller_harness import PollerRig, Scenario
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

DRAIN_CYCLES = 4  # after every job ended (the jump is longer than the expiry check period)


async def drive(
    rig: PollerRig,
    scenario: Scenario,
    poller: Poller,
    after_baseline: Callable[[], None] | None = None,
) -> None:
    """The baseline (every project's), then the scenario's cycles."""
    await scenario.subscribe()
    scenario.prepare(0, rig.clock.now() - timedelta(minutes=10))
    scenario.record_baseline()
    report = await poller.run_cycle()
    assert sorted(report.polled) == ["p1", "p2", "p3", "p4", "p5"]
    if after_baseline is not None:
        after_baseline()
    for cycle in range(1, scenario.cycles + 1):
        window = rig.clock.now()
        rig.clock.advance(scenario.step)
        scenario.prepare(cycle, window)
        await poller.run_cycle()


async def drain(rig: PollerRig, scenario: Scenario, poller: Poller) -> None:
    rig.clock.advance(scenario.drain_seconds())
    for _ in range(DRAIN_CYCLES):
        await poller.run_cycle()
        rig.clock.advance(scenario.step)


def assert_exactly_once(rig: PollerRig, scenario: Scenario, *, at_least: int) -> None:
    alerted = rig.all_alerts()
    expected = scenario.expected()
    repeats = {key: n for key, n in alerted.items() if n > 1}
    missing = expected - set(alerted)
    extra = set(alerted) - expected
    assert not repeats, f"alerted more than once: {sorted(repeats)[:5]}"
    assert not missing, f"{len(missing)} missed, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{len(extra)} not expected, e.g. {sorted(extra)[:5]}"
    assert len(expected) >= at_least  # the scenario is not trivially small


async def test_500_jobs_over_50_cycles_alert_each_outcome_exactly_once(
    store_backend: Backend,
) -> None:
    async with PollerRig.running(store_backend, artifact_lifetime_seconds=900) as rig:
        scenario = Scenario(rig, seed=11)
        poller = rig.poller()
        await drive(rig, scenario, poller)
        await drain(rig, scenario, poller)
        assert_exactly_once(rig, scenario, at_least=200)
        assert await rig.store.unconfirmed_alerts() == []
        # The busy project really pushed running jobs off its first page.
        assert sum(1 for plan in scenario.created.values() if plan.project == "p1") > 200
        statuses = Counter(s for _, s, _ in rig.all_alerts())
        assert set(statuses) == {"SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"}


async def test_faults_on_both_sides_still_alert_exactly_once(
    store_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.poller")
    async with PollerRig.running(store_backend, artifact_lifetime_seconds=900, seed=5) as rig:
        scenario = Scenario(rig, seed=23, jobs=120, cycles=20)

        def faults_on() -> None:
            # After the baseline: a project's baseline is its first successful poll, and
            # what ended before it is history by design.
            rig.sim.faults.error_rate = 0.2
            rig.sim.faults.rate_limit_rate = 0.1
            rig.sim.faults.retry_after = 0.0
            rig.sim.faults.timeout_rate = 0.03
            rig.sim.faults.timeout_seconds = 0.6
            rig.slack.rate_limit(["chat.postMessage"], 0.2)
            rig.slack.rate_limit_next("chat.postMessage", 1)
            rig.slack.retry_after = "0"

        poller = rig.poller(fast_failures=True)
        await drive(rig, scenario, poller, after_baseline=faults_on)
        faulted = rig.sim.counters["listExports"] + rig.sim.counters["readExport"]
        posts = rig.slack.calls("chat.postMessage")
        assert any(c.status == 429 for c in posts), [c.status for c in posts]
        # Faults off: the backlog drains, nothing twice.
        rig.sim.faults.error_rate = rig.sim.faults.rate_limit_rate = 0.0
        rig.sim.faults.timeout_rate = 0.0
        rig.slack.rate_limit(["chat.postMessage"], 0.0)
        await drain(rig, scenario, poller)
        assert_exactly_once(rig, scenario, at_least=50)
        assert faulted > 0
        assert poller.last_cycle_at == rig.clock.now() - timedelta(seconds=scenario.step)
        report = await poller.run_cycle()  # alive, and every project polls again
        assert report.failed == [] and report.skipped == []
