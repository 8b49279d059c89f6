"""``exports-bot simulator``: the banner, a real request, and Ctrl-C / SIGTERM exiting 0."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import pytest

from bot.simulator import ManualClock, Simulator, SimulatorServer
from bot.simulator.__main__ import describe, serve_forever
from tests.simulator_support import plain

STARTUP_LIMIT = 30.0  # seconds; a bound on waiting, not a speed assertion


async def test_banner_names_url_keys_and_projects() -> None:
    sim = Simulator.seeded(clock=ManualClock(), seed=7)
    async with SimulatorServer(sim) as server:
        banner = describe(sim, server)
    assert server.base_url in banner
    for name, key in sim.seed_keys.items():
        assert name in banner and key in banner
    for alias, project_id in sim.seed_projects.items():
        assert alias in banner and project_id in banner
    assert "curl -H" in banner


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_forever(port=8080, speed=0) == 2
    assert serve_forever(port=70_000) == 2
    assert "--speed" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_cli_serves_until_stopped(stop_signal: signal.Signals) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "simulator", "--port", "0", "--speed", "60",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(STARTUP_LIMIT):
            while not any(line.startswith("  curl") for line in lines):
                raw = await process.stdout.readline()
                assert raw, f"simulator exited early: {lines}"
                lines.append(raw.decode())
        banner = "".join(lines)
        url = re.search(r"http://127\.0\.0\.1:\d+/api/v1", banner)
        key = re.search(r"ana-partner\s+(\S+)", banner)
        assert url and key
        async with plain(headers={"Authorization": f"Bearer {key.group(1)}"}) as client:
            response = await client.get(f"{url.group(0)}/data/projects/mtKDhe1U/exports")
        assert response.status_code == 200 and response.json()
        process.send_signal(stop_signal)
        async with asyncio.timeout(STARTUP_LIMIT):
            assert await process.wait() == 0
        assert process.stderr is not None
        assert b"Traceback" not in await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
