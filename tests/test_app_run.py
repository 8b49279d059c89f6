"""``bot.server.run`` as a process: serves, answers, stops cleanly on SIGTERM, leaks nothing."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.app import Services
from bot.core.commands import Help
from bot.handlers import CommandContext
from bot.listeners.commands.exports import HANDLERS
from bot.server import start_bot
from bot.settings import load_settings
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, RunningSimulator, settings_env
from tests.slack_requests import SignedSlack, slash_command_fields
from tests.slack_standin import SlackStandIn

RUN = "import asyncio, sys; from bot.server import run; from bot.settings import load_settings; "
RUN += "sys.exit(asyncio.run(run(load_settings())))"


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("the bot exited early:\n" + "".join(seen))
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match


@pytest.mark.slow
async def test_run_serves_then_stops_gracefully_on_sigterm(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **settings_env(slack, simulator, tmp_path),
        "LOG_LEVEL": "DEBUG",  # the most output there is to leak secrets into
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            started = await _read_until(process.stdout, r"running \(HTTP .*port (\d+)\)", seen)
        url = f"http://127.0.0.1:{started.group(1)}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/healthz")).status_code == 200
        async with SignedSlack(url + "/slack/events", SIGNING_SECRET) as signed:
            ack = await signed.slash_command("help", response_url=slack.response_url("run"))
        assert ack.status_code == 200
        await slack.wait_for(lambda: slack.responses("run"))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest = await process.stdout.read()
            code = await process.wait()
    output = "".join(seen) + rest.decode()
    assert code == 0, output
    assert "stopped" in output
    assert "Traceback" not in output
    for secret in (BOT_TOKEN, SIGNING_SECRET, simulator.api_key):
        assert secret not in output


async def test_socket_mode_acks_over_the_socket_and_serves_health_on_the_port(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {**settings_env(slack, simulator, tmp_path), "SLACK_APP_TOKEN": slack.app_token}
    settings = load_settings(env)
    bot = await start_bot(settings, services=Services.from_settings(settings))
    try:
        await slack.wait_for(lambda: slack.socket_connected)
        fields = slash_command_fields("help", response_url=slack.response_url("sock"))
        envelope_id = await slack.send_envelope("slash_commands", fields)
        ack = await slack.wait_for(lambda: slack.socket_reply(envelope_id))
        assert ack == {"envelope_id": envelope_id}  # ack() with no body
        [reply] = await slack.wait_for(lambda: slack.responses("sock"))
        assert "/exports" in reply.text
        async with httpx.AsyncClient(base_url=bot.url) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
            assert (await client.post("/slack/events", content=b"{}")).status_code in (404, 405)
        assert [c.token for c in slack.calls("apps.connections.open")] == [slack.app_token]
    finally:
        await bot.stop()
    await slack.wait_for(lambda: not slack.socket_connected)


async def test_stop_lets_acked_work_finish_before_closing(
    slack: SlackStandIn,
    simulator: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_help(command: Help, ctx: CommandContext) -> None:
        started.set()
        await release.wait()
        await ctx.reply("finished after the ack")

    monkeypatch.setitem(HANDLERS, Help, slow_help)
    settings = load_settings(settings_env(slack, simulator, tmp_path))
    bot = await start_bot(settings, services=Services.from_settings(settings))
    async with SignedSlack(bot.url + "/slack/events", SIGNING_SECRET) as signed:
        ack = await signed.slash_command("help", response_url=slack.response_url("slow"))
    assert ack.status_code == 200
    await asyncio.wait_for(started.wait(), 5)

    stopping = asyncio.create_task(bot.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # still waiting for the handler
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(bot.url + "/healthz")  # but no longer taking requests
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert [r.text for r in slack.responses("slow")] == ["finished after the ack"]
