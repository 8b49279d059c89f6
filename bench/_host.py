"""The host process: the simulator and the Slack stand-in, driven over a loopback control API.

The bot under test runs in another process, so its CPU time and RSS are its own.
``python -m bench._host`` prints one JSON line (``{"control": URL}``) and serves until
``POST /stop`` or until its stdin closes (the parent died).

Control API: ``POST /setup {"scenario", "params"}`` -> URLs, key, projects;
``POST /step`` -> the scenario's ground truth for the cycle; ``GET /counters``,
``POST /counters/reset``; ``GET /check`` -> the scenario's verdict; ``GET /responses`` ->
response_url arrival times; ``POST /load`` -> a load run's timings (``slack_side`` only);
``POST /stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from aiohttp import web

__all__ = ["WorldHost"]

REPO = Path(__file__).resolve().parent.parent


class _Control:
    def __init__(self) -> None:
        self.world: Any = None
        self.sim_server: Any = None
        self.stopped = asyncio.Event()

    async def setup(self, request: web.Request) -> web.Response:
        from bench import _world
        from bench._fastsim import FastSimulatorServer
        from bench._load import SlackSide

        body = await request.json()
        scenarios: dict[str, Any] = {
            "poll_cost": _world.PollCostWorld,
            "scale": _world.ScaleWorld,
            "latency": _world.LatencyWorld,
            "commands": _world.CommandWorld,
            "slack_side": SlackSide,
        }
        if self.world is not None:
            return web.json_response({"error": "one scenario per host"}, status=409)
        started = time.perf_counter()
        world = scenarios[body["scenario"]](body["params"])
        await world.slack.start()
        if world.sim is not None:
            self.sim_server = await FastSimulatorServer(world.sim).start()
        self.world = world
        return web.json_response(
            {
                **world.describe(),
                "peaka_url": self.sim_server.base_url if self.sim_server else None,
                "slack_url": world.slack.base_url,
                "slack_root": world.slack.root_url,
                "setup_seconds": time.perf_counter() - started,
                "jobs": len(world.sim.jobs) if world.sim is not None else 0,
            }
        )

    async def step(self, request: web.Request) -> web.Response:
        return web.json_response(self.world.step())

    async def counters(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.world.sim.counters))

    async def reset(self, request: web.Request) -> web.Response:
        self.world.sim.reset_counters()
        return web.json_response({})

    async def check(self, request: web.Request) -> web.Response:
        return web.json_response(self.world.check())

    async def responses(self, request: web.Request) -> web.Response:
        return web.json_response(self.world.slack.response_arrivals)

    async def load(self, request: web.Request) -> web.Response:
        return web.json_response(await self.world.load(await request.json()))

    async def stop(self, request: web.Request) -> web.Response:
        self.stopped.set()
        return web.json_response({})


async def _serve() -> None:
    control = _Control()
    app = web.Application(client_max_size=64 * 1024**2)
    app.router.add_post("/setup", control.setup)
    app.router.add_post("/step", control.step)
    app.router.add_get("/counters", control.counters)
    app.router.add_post("/counters/reset", control.reset)
    app.router.add_get("/check", control.check)
    app.router.add_get("/responses", control.responses)
    app.router.add_post("/load", control.load)
    app.router.add_post("/stop", control.stop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"control": f"http://127.0.0.1:{port}"}), flush=True)
    loop = asyncio.get_running_loop()
    # The parent holds our stdin: EOF means it is gone, so we go too.
    stdin = sys.stdin.fileno()
    loop.add_reader(stdin, lambda: None if os.read(stdin, 1) else control.stopped.set())
    await control.stopped.wait()
    if control.sim_server is not None:
        await control.sim_server.close()
    if control.world is not None:
        await control.world.slack.stop()
    await runner.cleanup()


class WorldHost:
    """Parent side: start ``bench._host``, set up a scenario, and drive it.

    ``async with WorldHost("poll_cost", params) as host: host.info["peaka_url"] ...``
    """

    def __init__(self, scenario: str, params: dict[str, Any]) -> None:
        self.scenario = scenario
        self.params = params
        self.info: dict[str, Any] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> WorldHost:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._host",
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("the bench host process exited before it started serving")
        control = json.loads(line)["control"]
        self._http = httpx.AsyncClient(base_url=control, timeout=900.0)
        body = {"scenario": self.scenario, "params": self.params}
        self.info = await self._call("POST", "/setup", json=body)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            with contextlib.suppress(httpx.HTTPError):
                await self._http.post("/stop")
            await self._http.aclose()
        if self._process is not None:
            process, self._process = self._process, None
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()  # our own child, by its handle
                await process.wait()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._http is not None
        response = await self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    async def step(self) -> dict[str, Any]:
        """Move the world one cycle on; its ground truth for that cycle."""
        return dict(await self._call("POST", "/step"))

    async def counters(self) -> dict[str, int]:
        return dict(await self._call("GET", "/counters"))

    async def reset_counters(self) -> None:
        await self._call("POST", "/counters/reset")

    async def check(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/check"))

    async def responses(self) -> dict[str, float]:
        return dict(await self._call("GET", "/responses"))

    async def load(self, **body: Any) -> dict[str, list[float]]:
        """Run a closed loop in the host (see ``bench._load.SlackSide.load``)."""
        return dict(await self._call("POST", "/load", json=body))


if __name__ == "__main__":
    asyncio.run(_serve())
