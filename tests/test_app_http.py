"""The bot over real HTTP: Slack signatures, the /exports ack, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from bot.app import Services
from bot.server import check_health, start_http
from bot.settings import Settings
from tests.conftest import SIGNING_SECRET, BotServer
from tests.slack_requests import SignedSlack, sign
from tests.slack_standin import SlackStandIn


async def test_good_signature_is_acked_at_once_and_the_answer_follows(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    response = await signed.slash_command("help", response_url=slack.response_url("r1"))
    assert response.status_code == 200
    assert response.text == ""  # ack() with no body: the answer goes to response_url
    [reply] = await slack.wait_for(lambda: slack.responses("r1"))
    assert reply.response_type == "ephemeral"
    assert "/exports" in reply.text and "help" in reply.text
    assert [c.method for c in slack.calls()] == ["auth.test"]  # Bolt's one-time token check


async def test_grammar_errors_are_answered_with_what_is_valid(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    response = await signed.slash_command("fialed", response_url=slack.response_url("r2"))
    assert response.status_code == 200
    [reply] = await slack.wait_for(lambda: slack.responses("r2"))
    assert "fialed" in reply.text
    assert "Did you mean `/exports failed`?" in reply.text
    assert reply.response_type == "ephemeral"


async def test_wrong_signature_is_rejected_with_401(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    response = await signed.slash_command(
        "help", wrong_secret=True, response_url=slack.response_url("bad")
    )
    assert response.status_code == 401
    unsigned = await signed.slash_command("help", unsigned=True)
    assert unsigned.status_code == 401
    await asyncio.sleep(0.2)  # give a wrongly accepted request time to show up
    assert slack.responses("bad") == [] and slack.calls() == []


async def test_timestamp_older_than_five_minutes_is_rejected_with_401(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    assert (await signed.slash_command("help", stale=True)).status_code == 401
    just_inside = int(time.time()) - 4 * 60
    response_url = slack.response_url("inside")
    accepted = await signed.slash_command("help", timestamp=just_inside, response_url=response_url)
    assert accepted.status_code == 200
    await slack.wait_for(lambda: slack.responses("inside"))


async def test_a_body_changed_after_signing_is_rejected(bot_server: BotServer) -> None:
    headers = sign("command=%2Fexports&text=help", SIGNING_SECRET)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            bot_server.events_url,
            content=b"command=%2Fexports&text=cancel+everything",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 401


async def test_url_verification_echoes_the_challenge(signed: SignedSlack) -> None:
    response = await signed.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


async def test_healthz_is_ok_without_store_or_poller(bot_server: BotServer) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(bot_server.url + "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["reasons"] == []
    assert body["checks"] == {"database": "not configured", "poller": "not running"}


async def test_metrics_are_prometheus_text_and_count_commands(
    signed: SignedSlack, slack: SlackStandIn, bot_server: BotServer
) -> None:
    await signed.slash_command("help", response_url=slack.response_url("m1"))
    await slack.wait_for(lambda: slack.responses("m1"))
    async with httpx.AsyncClient() as client:
        response = await client.get(bot_server.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'exports_bot_commands_total{command="Help",outcome="ok"}' in response.text


class _Store:
    """A store whose database answers, or not."""

    def __init__(self, reachable: bool) -> None:
        self.reachable = reachable

    async def ping(self) -> bool:
        if not self.reachable:
            raise ConnectionRefusedError("connection refused by the database")
        return True


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_healthz_is_503_with_reasons_when_db_is_down_or_poller_is_stale(
    bot_settings: Settings,
) -> None:
    clock = _Clock(datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    services = Services.from_settings(bot_settings, store=_Store(reachable=True), clock=clock)
    running = await start_http(None, services, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=running.url) as client:
            # A poller that has finished a cycle recently: healthy.
            services.poller_last_cycle_at = clock.now
            clock.now += timedelta(seconds=3 * bot_settings.poll_interval)
            ok = await client.get("/healthz")
            assert ok.status_code == 200, ok.text
            assert ok.json()["checks"] == {"database": "ok", "poller": "ok"}

            clock.now += timedelta(seconds=1)
            stale = await client.get("/healthz")
            assert stale.status_code == 503
            [reason] = stale.json()["reasons"]
            assert reason.startswith("poller: last cycle finished 91 s ago (limit 90 s")

            services.poller_last_cycle_at = clock.now
            services.store.reachable = False
            down = await client.get("/healthz")
            assert down.status_code == 503
            assert down.json()["reasons"] == ["database: unreachable (ConnectionRefusedError)"]
            # Socket Mode serves no events endpoint on this port.
            assert (await client.post("/slack/events", content=b"x")).status_code in (404, 405)
    finally:
        await running.stop()


async def test_poller_that_never_finished_a_cycle_turns_unhealthy(bot_settings: Settings) -> None:
    clock = _Clock(datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    services = Services.from_settings(bot_settings, clock=clock)
    services.poller = _IdlePoller()
    clock.now += timedelta(seconds=30)
    assert (await check_health(services))[0] is True
    clock.now += timedelta(seconds=61)
    healthy, body = await check_health(services)
    assert not healthy
    assert body["reasons"][0].startswith("poller: no cycle finished in the 91 s since start")


class _IdlePoller:
    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_port_zero_binds_a_free_port_and_stop_releases_it(
    bot_settings: Settings, bot_services: Services
) -> None:
    first = await start_http(None, bot_services, "127.0.0.1", 0)
    second = await start_http(None, bot_services, "127.0.0.1", 0)
    assert first.port != second.port and first.port > 0
    assert first.url == f"http://127.0.0.1:{first.port}"
    await first.stop()
    await second.stop()
    async with httpx.AsyncClient() as client:
        try:
            await client.get(first.url + "/healthz")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers after stop()")
