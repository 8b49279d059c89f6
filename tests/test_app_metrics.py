"""``/metrics`` over HTTP moves after a command and an alert: the counters operators watch."""

from __future__ import annotations

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Services
from bot.peaka import Status
from bot.poller import Poller
from tests.conftest import PROJECT_ID, BotServer, RunningSimulator
from tests.links_support import stored_services  # noqa: F401  (bot_services with a store)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

ALERTS_CHANNEL = "C0METRICS"


async def _scrape(bot_server: BotServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient() as client:
        response = await client.get(bot_server.url + "/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _total(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def test_metrics_move_after_a_command_and_an_alert(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_server: BotServer,
    bot_services: Services,
) -> None:
    assert bot_services.store is not None
    before = await _scrape(bot_server)

    await signed.slash_command("failed", response_url=slack.response_url("metrics-1"))
    await slack.wait_for(lambda: slack.responses("metrics-1"))

    await bot_services.store.subscribe(
        ALERTS_CHANNEL, PROJECT_ID, frozenset({Status.FAILED}), "U0ADMIN"
    )
    poller = Poller(bot_services, instance_id="metrics-test", interval=30)
    await poller.run_cycle()  # baseline
    job = simulator.sim.create_job(
        PROJECT_ID, "ana@example.com", pending_seconds=1, run_seconds=5, outcome="FAILED",
        error="boom",
    )  # fmt: skip
    simulator.clock.advance(timedelta(seconds=60).total_seconds())
    await poller.run_cycle()
    assert any(job.id in str(c.body.get("metadata")) for c in slack.calls("chat.postMessage")), (
        "the alert was posted"
    )

    after = await _scrape(bot_server)
    moved = {
        "commands": ("exports_bot_commands_total", {"command": "ListJobs", "outcome": "ok"}),
        "peaka list": ("exports_bot_peaka_requests_total", {"operation": "listExports"}),
        "alerts sent": ("exports_bot_alerts_sent_total", {"kind": "channel"}),
        "poll cycles": ("exports_bot_poll_cycle_seconds_count", {}),
    }
    for what, (name, labels) in moved.items():
        assert _total(after, name, **labels) > _total(before, name, **labels), what
    assert _total(after, "exports_bot_poll_last_cycle_timestamp_seconds") > 0
