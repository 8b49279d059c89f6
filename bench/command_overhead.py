"""Section 3: ``/exports failed`` end to end next to a bare List call for the same page.

Three processes, as in production: the simulator (Peaka) in one host process; the Slack
stand-in and the load generator (what Slack sends, and the bare client) in another; the bot
(Bolt behind aiohttp, HTTP mode) alone in this one. Each load worker sends a signed
``/exports failed`` and waits for the response_url post before sending the next, so
``concurrency`` commands are in flight at once. The baseline is the List request the bot makes
(``status=FAILED&limit=11``), sent by a bare ``httpx`` client from the same load process with
its JSON decoded. Next to it: that List plus a bare post to a response_url, the least any
reply needs. The ack's floor is a ``GET /healthz`` round trip to the same bot server. What
stands for Slack (the signed POSTs, the ``/healthz`` floor, the bare post) uses aiohttp, the
lighter client, so the load process takes less of the two cores from the bot
(``bench._load``). The bot process's CPU time per command is in the row's note and ``extra``:
at concurrency 20 the bot is CPU-bound and its latency is about 20 x that figure.

The required-stack floor (``bench._command_floor``) is the least app the project's stack
allows for the same command (Bolt with signature checks, served the same way, the same List,
the same 32 Block Kit blocks through slack_sdk's models, one post), run in this process next
to the bot and timed with the same load, its batches interleaved with the bot's. Its rows
compare it to the bare List and the bot to it, in latency and in CPU per command.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _profiling
from bench._bot import SIGNING_SECRET, bot_settings
from bench._command_floor import FloorApp
from bench._host import WorldHost
from bench._report import Row, summary
from bench._sizes import Sizes
from bench._world import BOT_TOKEN
from bot.app import Services, build_app
from bot.server import EVENTS_PATH, start_http

__all__ = ["run"]

SECTION = "3 command overhead"
JOBS = 600
WARM_UP = 5


async def run(sizes: Sizes) -> list[Row]:
    async with (
        WorldHost("commands", {"jobs": JOBS}) as peaka,
        WorldHost("slack_side", {}) as slack,
    ):
        project = peaka.info["projects"][0]
        with tempfile.TemporaryDirectory() as tmp:
            settings = bot_settings(
                peaka_url=peaka.info["peaka_url"],
                api_key=peaka.info["api_key"],
                slack_url=slack.info["slack_url"],
                projects=[project],
                data_dir=Path(tmp),
            )
            services = Services.from_settings(settings)
            app = build_app(settings, services=services)
            server = await start_http(app, services, "127.0.0.1", 0)
            floor = FloorApp(
                peaka_url=peaka.info["peaka_url"],
                api_key=peaka.info["api_key"],
                project=project,
                slack_url=slack.info["slack_url"],
                token=BOT_TOKEN,
                signing_secret=SIGNING_SECRET,
            )
            await floor.start()
            try:
                return await _measure(sizes, peaka, slack, server.url, floor.url, project)
            finally:
                await floor.stop()
                await server.stop()
                async with asyncio.timeout(30):
                    await services.in_flight.wait_idle()
                await services.aclose()


async def _measure(
    sizes: Sizes, peaka: WorldHost, slack: WorldHost, bot_url: str, floor_url: str, project: str
) -> list[Row]:
    command: dict[str, Any] = {
        "kind": "command",
        "url": bot_url + EVENTS_PATH,
        "signing_secret": SIGNING_SECRET,
        "text": "failed",
    }
    floor_command = {**command, "url": floor_url}
    bare: dict[str, Any] = {
        "kind": "list",
        "url": f"{peaka.info['peaka_url']}/data/projects/{project}/exports",
        "headers": {"Authorization": f"Bearer {peaka.info['api_key']}"},
        "params": {"status": "FAILED", "limit": "11"},
    }
    both: dict[str, Any] = {**bare, "kind": "list_then_post"}
    health: dict[str, Any] = {"kind": "health", "url": bot_url + "/healthz"}
    # Warm up: connections, the e-mail cache, Bolt's first-call costs.
    shapes = {}
    for name, body in (("bot", command), ("floor", floor_command)):
        shapes[name] = (await slack.load(**body, concurrency=1, total=WARM_UP))["shape"]
    for body in (bare, both, health):
        await slack.load(**body, concurrency=1, total=WARM_UP)
    reply = await slack.check()
    if "FAILED" not in str(reply).upper():
        raise RuntimeError(f"/exports failed did not list failed jobs: {str(reply)[:300]}")
    if shapes["bot"] != shapes["floor"]:  # the floor must build the same reply
        raise RuntimeError(f"the floor's reply differs from the bot's: {shapes}")

    rows: list[Row] = []
    half = max(1, sizes.command_requests // 2)
    for concurrency in sizes.command_concurrency:
        times: dict[str, list[float]] = {
            "ack": [],
            "total": [],
            "list": [],
            "both": [],
            "health": [],
            "cpu": [],
            "floor": [],
            "floor_cpu": [],
        }
        # Alternate baseline and command batches so drift hits both alike; the bot and its
        # floor take turns going first.
        for round_ in range(2):
            got = await slack.load(**bare, concurrency=concurrency, total=half)
            times["list"] += got["total"]
            for which in ("bot", "floor") if round_ == 0 else ("floor", "bot"):
                cpu = time.process_time()
                if which == "floor":
                    got = await slack.load(**floor_command, concurrency=concurrency, total=half)
                    times["floor_cpu"].append((time.process_time() - cpu) / half)
                    times["floor"] += got["total"]
                    continue
                with _profiling.measured():  # the bot's side of the commands, in this process
                    got = await slack.load(**command, concurrency=concurrency, total=half)
                times["cpu"].append((time.process_time() - cpu) / half)
                times["ack"] += got["ack"]
                times["total"] += got["total"]
            got = await slack.load(**health, concurrency=concurrency, total=half)
            times["health"] += got["total"]
            got = await slack.load(**both, concurrency=concurrency, total=half)
            times["both"] += got["total"]
        rows += _rows(concurrency, times)
    return rows


def _rows(concurrency: int, times: dict[str, list[float]]) -> list[Row]:
    end50, end99 = summary([t * 1000 for t in times["total"]])
    list50, list99 = summary([t * 1000 for t in times["list"]])
    ack50, ack99 = summary([t * 1000 for t in times["ack"]])
    ping50, ping99 = summary([t * 1000 for t in times["health"]])
    both50, both99 = summary([t * 1000 for t in times["both"]])
    floor50, floor99 = summary([t * 1000 for t in times["floor"]])
    cpu = sum(times["cpu"]) / len(times["cpu"]) * 1000
    floor_cpu = sum(times["floor_cpu"]) / len(times["floor_cpu"]) * 1000
    overhead = Row(
        SECTION,
        f"/exports failed -> response_url post, concurrency {concurrency}",
        "ms",
        end50,
        end99,
        floor=list50,
        floor_p99=list99,
        samples=len(times["total"]),
        note="floor: a bare httpx List call for the same page (status=FAILED, limit=11); "
        f"the bot process's CPU: {cpu:.2f} ms per command",
        extra={"bot_cpu_ms_per_command": cpu},
    )
    overhead.target = "ratio p50 <= 1.5"
    overhead.met = overhead.ratio is not None and overhead.ratio <= 1.5
    ack = Row(
        SECTION,
        f"ack of the signed POST, concurrency {concurrency}",
        "ms",
        ack50,
        ack99,
        floor=ping50,
        floor_p99=ping99,
        target="p99 < 100 ms",
        met=ack99 < 100.0,
        samples=len(times["ack"]),
        note="floor: GET /healthz round trip to the same server",
    )
    least = Row(
        SECTION,
        f"bare List + bare response_url post, concurrency {concurrency}",
        "ms",
        both50,
        both99,
        floor=list50,
        floor_p99=list99,
        samples=len(times["both"]),
        note="the two HTTP calls any /exports reply needs, nothing else: how close to the "
        "bare List a command can possibly get on loopback",
    )
    stack = Row(
        SECTION,
        f"required-stack floor: Bolt + List + models + post, concurrency {concurrency}",
        "ms",
        floor50,
        floor99,
        floor=list50,
        floor_p99=list99,
        samples=len(times["floor"]),
        note="the least app the stack allows for /exports failed (bench._command_floor): "
        "Bolt with signature checks behind aiohttp, the same List over httpx + the bot's "
        "aiohttp transport, the same 32 blocks through slack_sdk's models, one post; "
        f"floor: the bare List; its process CPU: {floor_cpu:.2f} ms per command",
        extra={"cpu_ms_per_command": floor_cpu},
    )
    versus = Row(
        SECTION,
        f"bot / required-stack floor, concurrency {concurrency}",
        "ms",
        end50,
        end99,
        floor=floor50,
        floor_p99=floor99,
        samples=len(times["total"]),
        note=f"the bot's command against the required-stack floor's; CPU per command "
        f"{cpu:.2f} ms against {floor_cpu:.2f} ms ({cpu / floor_cpu:.2f}x)",
        extra={"bot_cpu_ms_per_command": cpu, "floor_cpu_ms_per_command": floor_cpu,
               "cpu_ratio": cpu / floor_cpu},
    )  # fmt: skip
    return [overhead, least, stack, versus, ack]
