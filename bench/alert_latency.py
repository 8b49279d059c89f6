"""Section 2: seconds from a job's transition in the simulator to its alert reaching Slack.

The simulator's clock is real time (anchored to ``time.monotonic``, which the stand-in uses
to stamp each ``chat.postMessage``; both live in the host process). ``latency_jobs`` jobs,
spread over ``latency_projects`` projects (one channel each, subscribed to FAILED and
SUCCEEDED), are RUNNING when the bot starts and finish at uniformly random moments within
``latency_window`` seconds. The poller runs as in production (``start()``, POLL_INTERVAL =
``latency_interval``). Floor: a transition waits for the next poll, on average half an
interval and at worst a whole one.
"""

from __future__ import annotations

import asyncio

from bench._bot import PollerBot
from bench._host import WorldHost
from bench._report import Row, summary
from bench._sizes import Sizes

__all__ = ["run"]

SECTION = "2 alert latency"
DELAY = 3.0  # seconds before the first job finishes: the baseline cycle goes first
SLACK = 0.5  # the target allows this much over the interval


async def run(sizes: Sizes) -> list[Row]:
    interval = sizes.latency_interval
    params = {
        "jobs": sizes.latency_jobs,
        "projects": sizes.latency_projects,
        "window": sizes.latency_window,
        "delay": DELAY,
    }
    async with WorldHost("latency", params) as host:
        async with PollerBot(host.info, ["FAILED", "SUCCEEDED"], poll_interval=interval) as bot:
            await bot.poller.start()
            # Every job has finished and a poll (plus its posts) has followed.
            await asyncio.sleep(DELAY + sizes.latency_window + 2 * interval + 1.0)
            await bot.poller.stop()
        check = await host.check()
    latencies: dict[str, float | None] = check["latencies"]
    seen = [value for value in latencies.values() if value is not None]
    missed = len(latencies) - len(seen)
    p50, p99 = summary(seen)
    target = interval + SLACK
    return [
        Row(
            SECTION,
            f"transition -> chat.postMessage, POLL_INTERVAL={interval:g}",
            "s",
            p50,
            p99,
            floor=interval / 2,
            floor_p99=interval,
            target=f"p99 <= {target:g} s",
            met=bool(seen) and p99 <= target and missed == 0,
            samples=len(seen),
            note=f"{len(latencies)} jobs over {sizes.latency_window:g} s; floor p50: half the "
            "interval (average wait for the next poll), floor p99: the interval",
        ),
        Row(
            SECTION,
            "jobs without an alert",
            "jobs",
            float(missed),
            floor=0.0,
            target="0",
            met=missed == 0,
            samples=len(latencies),
        ),
    ]
