"""Peaka failures end to end: each becomes an ephemeral reply saying what went wrong, what
to do and the valid forms; nothing raises, and a failed click leaves the clicked message."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import Services
from bot.core.cards import ACTION_CANCEL, ACTION_OLDER
from bot.peaka import PeakaClient, RetryPolicy
from bot.simulator import FaultConfig
from tests.conftest import PROJECT_ID, SIGNING_SECRET, RunningSimulator, settings_env
from tests.e2e_support import all_text, bot_with, button, click, expected_ids, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

DOWN = "Peaka isn't answering right now."


class QuickTimeoutServices(Services):
    """Services whose Peaka client waits 0.3 s per attempt (the default 10 s is test-hostile)."""

    def peaka_for(self, api_key: str | None = None) -> PeakaClient:
        key = api_key or self.settings.peaka_api_key.get_secret_value()
        client = self._peaka_clients.get(key)
        if client is None:
            retry = RetryPolicy(max_attempts=2, base_delay=0.05, total_timeout=2.0)
            client = PeakaClient(
                key, base_url=self.settings.peaka_api_url, timeout=0.3, retry=retry
            )
            self._peaka_clients[key] = client
        return client


def _ids(simulator: RunningSimulator) -> tuple[str, str]:
    sim = simulator.sim
    running = expected_ids(sim, PROJECT_ID, frozenset({"RUNNING"}))[0]
    failed = expected_ids(sim, PROJECT_ID, frozenset({"FAILED"}))[0]
    return running, failed


async def _every_command_says(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, *expected: str
) -> None:
    running, failed = _ids(simulator)
    cases = (
        ("failed", "/exports [STATUS...]"),
        ("all mine", "/exports [STATUS...]"),
        (f"show {failed}", "/exports show ID"),
        (f"cancel {running}", "/exports cancel ID"),
    )
    # Concurrently: each waits out the client's retries.
    exchanges = await asyncio.gather(*(run(signed, slack, text) for text, _ in cases))
    for (text, form), exchange in zip(cases, exchanges, strict=True):
        reply = exchange.post
        shown = all_text(reply)
        assert reply.response_type == "ephemeral", text
        for words in expected:
            assert words in shown, (text, shown)
        assert f"Valid forms: `{form}" in shown, text
    assert simulator.sim.job_status(running) == "RUNNING"


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_peaka_server_errors(
    status: int, signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    simulator.sim.faults = FaultConfig(error_rate=1.0, error_statuses=(status,))
    await _every_command_says(signed, slack, simulator, DOWN, f"HTTP {status}")


async def test_peaka_drops_the_connection(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    simulator.sim.faults = FaultConfig(drop_rate=1.0)
    await _every_command_says(signed, slack, simulator, DOWN, "could not reach Peaka")


async def test_peaka_answers_garbage(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    simulator.sim.faults = FaultConfig(malformed_rate=1.0, operations={"listExports"})
    reply = (await run(signed, slack, "failed")).post
    assert DOWN in reply.text


async def test_peaka_times_out(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = settings_env(slack, simulator, tmp_path)
    async with bot_with(env, SIGNING_SECRET, services_type=QuickTimeoutServices) as signed:
        simulator.sim.faults = FaultConfig(latency_seconds=1.0)  # > the client's 0.3 s
        await _every_command_says(signed, slack, simulator, DOWN, "did not answer in time")
        simulator.sim.faults = FaultConfig()


async def test_bad_api_key(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {**settings_env(slack, simulator, tmp_path), "PEAKA_API_KEY": "no-such-key-0000000000"}
    async with bot_with(env, SIGNING_SECRET) as signed:
        await _every_command_says(
            signed, slack, simulator, "Peaka rejected the bot's API key", "PEAKA_API_KEY"
        )
    assert all("no-such-key" not in body for body in slack.all_request_bodies())


async def test_project_key_used_on_another_project(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    ben_analytics = simulator.sim.seed_keys["ben-analytics"]
    env = {**settings_env(slack, simulator, tmp_path), "PEAKA_API_KEY": ben_analytics}
    async with bot_with(env, SIGNING_SECRET) as signed:
        ok = (await run(signed, slack, "failed")).post
        assert ok.text.startswith("Failed exports in analytics")
        refused = (await run(signed, slack, "failed project billing")).post
        assert "The bot's API key may not access that project." in refused.text
        assert "HTTP 403" in all_text(refused)
        assert "Valid forms" in all_text(refused)


async def test_rate_limited(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    simulator.sim.faults = FaultConfig(rate_limit_rate=1.0, retry_after=30)
    await _every_command_says(
        signed, slack, simulator, "Peaka is rate limiting the bot.", "retry after 30 s"
    )


async def test_a_click_during_an_outage_keeps_the_message(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    listing = (await run(signed, slack, "limit 3")).post
    older = button(listing, ACTION_OLDER)
    active = (await run(signed, slack, "active")).post
    cancel = button(active, ACTION_CANCEL)
    assert older is not None and cancel is not None
    simulator.sim.faults = FaultConfig(error_rate=1.0, error_statuses=(503,))
    for element in (older, cancel):
        reply = (await click(signed, slack, element)).post
        assert DOWN in reply.text
        assert not reply.replace_original
        assert reply.response_type == "ephemeral"


async def test_slack_lookups_failing_show_names_instead_of_mentions(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    slack.fail("users.lookupByEmail", "internal_error")
    slack.fail("users.info", "internal_error")
    reply = (await run(signed, slack, "all limit 5")).post
    shown = all_text(reply)
    assert "<@U0" not in shown
    assert "@example.com" in shown
    mine = (await run(signed, slack, "mine")).post
    assert "e-mail" in mine.text  # users.info failed: `mine` explains itself
