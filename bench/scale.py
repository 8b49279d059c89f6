"""Section 4: one process polling ``scale_projects`` projects of ``scale_jobs`` jobs each.

Half of each project's jobs are finished history, half RUNNING (so the poller tracks
projects x jobs/2 jobs: 100,000 at full size); each cycle 5% of a project's jobs finish (a
tenth FAILED, alerted to the project's channel). CPU seconds per cycle are
``time.process_time`` deltas of this process (threads included: aiosqlite's too), peak RSS
is ``getrusage(RUSAGE_SELF).ru_maxrss``. The CPU floor is what fetching and decoding the
same pages costs with a bare client and nothing else, measured in the same process. The
required-stack floor (``bench._scale_floor``) is the least cycle the stack allows for the
same world: List, compare, one SQLite transaction per 16 projects, the FAILED alerts through
slack_sdk; it runs after the bot (its own baseline, then cycles on the same world, with the
same change per cycle), with httpx on the bot's aiohttp transport and on httpx's own,
interleaved. Memory of the dedup cache and the job-state table at ``memory_tracked`` jobs:
``bench._memory``.
"""

from __future__ import annotations

import asyncio
import resource
import time

import aiohttp
import httpx

from bench import _profiling
from bench._bot import PollerBot
from bench._host import WorldHost
from bench._memory import fill_caches, measure_memory
from bench._report import Row, progress, summary
from bench._scale_floor import ScaleFloor
from bench._sizes import Sizes
from bot.peaka._responses import decode_json

__all__ = ["run"]

SECTION = "4 scale"
INTERVAL = 30.0
FLOOR_PASSES = 2
# The floor fetches this many pages at a time (all 2,000 at once time out in httpx's pool).
FETCH_CONCURRENCY = 32


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def run(sizes: Sizes) -> list[Row]:
    start_rss = _rss_mb()
    params = {
        "projects": sizes.scale_projects,
        "jobs": sizes.scale_jobs,
        "change": sizes.scale_change,
        "cycles": sizes.scale_cycles,
    }
    cpu: list[float] = []
    wall: list[float] = []
    failed: list[float] = []  # projects whose poll failed, per cycle (baseline first)
    async with WorldHost("scale", params) as host:
        projects: list[str] = host.info["projects"]
        async with PollerBot(host.info, ["FAILED"]) as bot:
            progress(f"scale: {len(projects)} projects set up; baseline cycle")
            began, started = time.process_time(), time.perf_counter()
            report = await bot.poller.run_cycle()
            failed.append(len(report.failed))
            baseline_cpu = time.process_time() - began
            baseline_wall = time.perf_counter() - started
            for cycle in range(sizes.scale_cycles):
                progress(f"scale: cycle {cycle + 1}/{sizes.scale_cycles}")
                await host.step()
                began, started = time.process_time(), time.perf_counter()
                with _profiling.measured():
                    report = await bot.poller.run_cycle()
                cpu.append(time.process_time() - began)
                wall.append(time.perf_counter() - started)
                failed.append(len(report.failed) + len(report.skipped))
            peak_rss = _rss_mb()
            # The caches fill over a day of this world's alerts: fill them, run one more
            # cycle, and that is the steady state's peak.
            progress("scale: one more cycle, the dedup cache at its cap")
            keys = fill_caches(bot.poller)
            await host.step()
            report = await bot.poller.run_cycle()
            failed.append(len(report.failed) + len(report.skipped))
            cached = (keys, bot.poller.jobs_awaiting_delivery)
        steady_rss = _rss_mb()
        check = await host.check()
        progress("scale: bare fetches (the floor)")
        floor_httpx = await _bare_fetch(host, projects, "httpx")
        floor_aiohttp = await _bare_fetch(host, projects, "aiohttp")
        progress("scale: the required-stack floor (baseline, then its cycles)")
        stack = await _stack_floor(host)
        after = await host.check()
    progress(f"scale: memory at {sizes.memory_tracked:,} tracked jobs")
    memory = await measure_memory(sizes.memory_tracked)
    tracked = int(host.info["tracked"])
    rows = _rows(sizes, cpu, wall, floor_httpx, floor_aiohttp, baseline_cpu, baseline_wall,
                 start_rss, peak_rss, tracked, check)  # fmt: skip
    rows.insert(6, _steady_rss(start_rss, steady_rss, cached, tracked))
    rows.insert(2, _failures(sizes, failed))
    return rows + _stack_rows(sizes, cpu, floor_httpx, stack, check, after) + memory


async def _stack_floor(host: WorldHost) -> dict[str, list[float]]:
    """CPU seconds per cycle of the required-stack floor, by transport, and its alert count
    against the world's failed transitions over its cycles."""
    passes: dict[str, list[float]] = {"aiohttp": [], "httpx": [], "alerts": [], "expected": []}
    async with ScaleFloor(host.info) as floor:
        await floor.cycle("aiohttp")  # baseline: every active job becomes tracked
        for index in range(2 * FLOOR_PASSES):
            transport = ("aiohttp", "httpx")[index % 2]
            expected = (await host.step())["failed_transitions"]
            alerts = floor.alerts
            passes[transport].append(await floor.cycle(transport))
            passes["alerts"].append(floor.alerts - alerts)
            passes["expected"].append(expected)
    return passes


def _stack_rows(
    sizes: Sizes,
    cpu: list[float],
    floor_httpx: list[float],
    stack: dict[str, list[float]],
    before: dict[str, int],
    after: dict[str, int],
) -> list[Row]:
    """The required-stack floor's rows: its CPU per cycle, its projects per core, and the
    poller against it."""
    projects = sizes.scale_projects
    wrong = [
        sum(check[k] for k in ("missed", "repeated", "unexpected")) for check in (before, after)
    ]
    if wrong[1] != wrong[0] or stack["alerts"] != stack["expected"]:
        raise RuntimeError(f"the required-stack floor's alerts are wrong: {stack}, {after}")
    bare50, bare99 = summary(floor_httpx)
    what = {"aiohttp": "httpx on the bot's aiohttp transport", "httpx": "httpx's own transport"}
    rows = []
    for transport in ("aiohttp", "httpx"):
        cpu50, cpu99 = summary(stack[transport])
        rows.append(
            Row(
                SECTION,
                f"required-stack floor: List + compare + SQLite + alerts ({transport})",
                "s",
                cpu50,
                cpu99,
                bare50,
                bare99,
                samples=len(stack[transport]),
                note=f"CPU seconds per cycle of the least cycle the stack allows "
                f"(bench._scale_floor), {what[transport]}; floor: the bare httpx GET + JSON "
                "decode; "
                f"FAILED alerts per cycle {stack['alerts']} (expected {stack['expected']})",
                extra={"passes": stack[transport]},
            )
        )
        per_core = projects * INTERVAL / cpu50 if cpu50 else float("nan")
        rows.append(
            Row(
                SECTION,
                f"projects per core at a 30 s interval, required-stack floor ({transport})",
                "projects",
                per_core,
                floor=None,
                samples=len(stack[transport]),
                note=f"projects x 30 s / the required-stack floor's CPU per cycle (p50), "
                f"{what[transport]}; the target is 10,000",
            )
        )
    cpu50, cpu99 = summary(cpu)
    floor50, floor99 = summary(stack["aiohttp"])
    rows.append(
        Row(
            SECTION,
            "poller / required-stack floor (aiohttp): CPU seconds per cycle",
            "s",
            cpu50,
            cpu99,
            floor50,
            floor99,
            samples=len(cpu),
            note="the poller's CPU per cycle against the required-stack floor's, both on the "
            "aiohttp transport",
        )
    )
    return rows


def _steady_rss(start_rss: float, rss: float, cached: tuple[int, int], tracked: int) -> Row:
    """Peak RSS once the caches that fill over time are full (``fill_caches``)."""
    return Row(
        SECTION,
        "peak RSS of the bot process, caches at their caps",
        "MB",
        rss,
        floor=start_rss,
        target="< 150 MB",
        met=rss < 150,
        samples=1,
        note=f"{tracked:,} tracked; one more cycle with the dedup cache at {cached[0]:,} keys "
        f"(its cap: ten cycles at the full-size world's 1,000 alerts a cycle); claimed-jobs cache: "
        f"{cached[1]:,} jobs (it holds only alerts not sent yet); floor: RSS after imports",
    )


def _failures(sizes: Sizes, failed: list[float]) -> Row:
    """Projects a cycle could not poll (an error, or backing off after one): should be none."""
    worst = max(failed)
    return Row(
        SECTION,
        "projects not polled per cycle (failed or backing off)",
        "projects",
        *summary(failed),
        floor=0.0,
        floor_p99=0.0,
        target="0",
        met=worst == 0,
        samples=len(failed),
        note=f"of {sizes.scale_projects}; per cycle, baseline first: "
        + ", ".join(f"{n:.0f}" for n in failed),
        extra={"per_cycle": failed},
    )


async def _bare_fetch(host: WorldHost, projects: list[str], library: str) -> list[float]:
    """CPU seconds to GET and JSON-decode (``decode_json``, as the bot does) each project's
    first page (limit=200), ``FETCH_CONCURRENCY`` at a time; one figure per pass."""
    base = host.info["peaka_url"]
    headers = {"Authorization": f"Bearer {host.info['api_key']}"}
    params = {"limit": "200"}
    passes: list[float] = []
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)
    if library == "httpx":
        async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, pool=None)) as client:

            async def one(project: str) -> None:
                url = f"{base}/data/projects/{project}/exports"
                async with gate:
                    response = await client.get(url, params=params, headers=headers)
                response.raise_for_status()
                decode_json(response.content)

            for _ in range(FLOOR_PASSES):
                began = time.process_time()
                await asyncio.gather(*(one(p) for p in projects))
                passes.append(time.process_time() - began)
        return passes
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one_aiohttp(project: str) -> None:
            url = f"{base}/data/projects/{project}/exports"
            async with gate, session.get(url, params=params, headers=headers) as response:
                response.raise_for_status()
                decode_json(await response.read())

        for _ in range(FLOOR_PASSES):
            began = time.process_time()
            await asyncio.gather(*(one_aiohttp(p) for p in projects))
            passes.append(time.process_time() - began)
    return passes


def _rows(
    sizes: Sizes,
    cpu: list[float],
    wall: list[float],
    floor_httpx: list[float],
    floor_aiohttp: list[float],
    baseline_cpu: float,
    baseline_wall: float,
    start_rss: float,
    peak_rss: float,
    tracked: int,
    check: dict[str, int],
) -> list[Row]:
    projects = sizes.scale_projects
    where = f"{projects} projects x {sizes.scale_jobs} jobs, {tracked:,} tracked"
    cpu50, cpu99 = summary(cpu)
    floor50, floor99 = summary(floor_httpx)
    wall50, wall99 = summary(wall)
    per_core = projects * INTERVAL / cpu50 if cpu50 else float("nan")
    per_core_floor = projects * INTERVAL / floor50 if floor50 else float("nan")
    wrong = check["missed"] + check["repeated"] + check["unexpected"]
    return [
        Row(SECTION, "CPU seconds per poll cycle", "s", cpu50, cpu99, floor50, floor99,
            samples=len(cpu),
            note=f"{where}; floor: bare httpx GET + JSON decode of the same pages"),
        Row(SECTION, "wall seconds per poll cycle", "s", wall50, wall99, samples=len(wall),
            target=f"< {INTERVAL:g} s interval", met=wall99 < INTERVAL, note=where),
        Row(SECTION, "projects per core at a 30 s interval", "projects", per_core,
            floor=per_core_floor, target=">= 10,000", met=per_core >= 10_000,
            samples=len(cpu),
            note="projects x 30 s / CPU seconds per cycle (p50); floor column: the same from "
            "the bare-fetch floor (higher is better, so ratio < 1)"),
        Row(SECTION, "bare aiohttp GET + JSON decode of the same pages", "s",
            *summary(floor_aiohttp), floor=floor50, floor_p99=floor99,
            samples=len(floor_aiohttp),
            note="not a floor of the bot's stack: the same work with another HTTP client, "
            "against the httpx floor"),
        Row(SECTION, "baseline cycle (first start)", "s", baseline_cpu, floor=None,
            samples=1, note=f"CPU seconds; wall {baseline_wall:.1f} s; {where}"),
        Row(SECTION, "peak RSS of the bot process, first cycles", "MB", peak_rss,
            floor=start_rss, samples=1,
            note=f"{where}; the caches nearly empty; floor: RSS after imports, before any "
            "work"),
        Row(SECTION, "FAILED alerts missed + repeated + unexpected", "alerts", float(wrong),
            floor=0.0, target="0", met=wrong == 0, samples=check["expected"],
            note=str(check), extra=dict(check)),
    ]  # fmt: skip
