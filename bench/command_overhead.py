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
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _profiling
from bench._bot import SIGNING_SECRET, bot_settings
from bench._host import WorldHost
from bench._report import Row, summary
from bench._sizes import Sizes
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
            try:
                return await _measure(sizes, peaka, slack, server.url, project)
            finally:
                await server.stop()
                async with asyncio.timeout(30):
                    await services.in_flight.wait_idle()
                await services.aclose()


async def _measure(
    sizes: Sizes, peaka: WorldHost, slack: WorldHost, bot_url: str, project: str
) -> list[Row]:
    command: dict[str, Any] = {
        "kind": "command",
        "url": bot_url + EVENTS_PATH,
        "signing_secret": SIGNING_SECRET,
        "text": "failed",
    }
    bare: dict[str, Any] = {
        "kind": "list",
        "url": f"{peaka.info['peaka_url']}/data/projects/{project}/exports",
        "headers": {"Authorization": f"Bearer {peaka.info['api_key']}"},
        "params": {"status": "FAILED", "limit": "11"},
    }
    both: dict[str, Any] = {**bare, "kind": "list_then_post"}
    health: dict[str, Any] = {"kind": "health", "url": bot_url + "/healthz"}
    # Warm up: connections, the e-mail cache, Bolt's first-call costs.
    for body in (command, bare, both, health):
        await slack.load(**body, concurrency=1, total=WARM_UP)
    reply = await slack.check()
    if "FAILED" not in str(reply).upper():
        raise RuntimeError(f"/exports failed did not list failed jobs: {str(reply)[:300]}")

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
        }
        # Alternate baseline and command batches so drift hits both alike.
        for _ in range(2):
            got = await slack.load(**bare, concurrency=concurrency, total=half)
            times["list"] += got["total"]
            cpu = time.process_time()
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
    cpu = sum(times["cpu"]) / len(times["cpu"]) * 1000
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
    return [overhead, least, ack]
