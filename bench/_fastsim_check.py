"""``python -m bench._fastsim_check``: the indexed simulator answers List exactly as the plain one.

Two simulators with the same seed get the same jobs (ties in ``createdAt`` included); random
List queries (status filters, limits, cursors, both cursor semantics) must return identical
JSON from both. Exits 1 on any difference.
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import timedelta

import httpx

from bench._fastsim import FastSimulator, FastSimulatorServer
from bot.peaka import format_timestamp
from bot.simulator import ManualClock, Simulator, SimulatorServer

QUERIES = 400


async def check(seed: int = 3) -> int:
    """How many of ``QUERIES`` random List queries differ between the two simulators."""
    rng = random.Random(seed)
    clocks = [ManualClock(), ManualClock()]
    sims = [Simulator(clock=clocks[0], seed=1), FastSimulator(clock=clocks[1], seed=1)]
    keys = []
    for sim in sims:
        user = sim.add_user("ana@example.com")
        for project in ("p1", "p2"):
            sim.add_project(project)
        keys.append(sim.add_key(user))
    start = clocks[0].now()
    for _ in range(1500):
        project = rng.choice(["p1", "p2"])
        offset = rng.choice([rng.uniform(-3600, 0), -100.0, -50.5])  # some exact ties
        options = {
            "created_at": start + timedelta(seconds=offset),
            "pending_seconds": rng.uniform(0, 100),
            "run_seconds": rng.uniform(0, 300),
            "outcome": rng.choice(["SUCCEEDED", "FAILED"]),
        }
        for sim in sims:
            sim.create_job(project, "ana@example.com", **options)  # type: ignore[arg-type]
    for clock in clocks:
        clock.advance(120)
    jobs = list(sims[0].jobs.values())
    differ = 0
    async with (
        SimulatorServer(sims[0]) as plain,
        FastSimulatorServer(sims[1]) as fast,
        httpx.AsyncClient() as client,
    ):
        for index in range(QUERIES):
            params: list[tuple[str, str | int | float | bool | None]] = [
                ("limit", str(rng.choice([1, 5, 50, 199, 200, 500])))
            ]
            status = rng.choice([None, "FAILED", "PENDING,RUNNING", "SUCCEEDED", "CANCELLED"])
            if status:
                params.append(("status", status))
            if rng.random() < 0.6:
                params.append(("createdBefore", format_timestamp(rng.choice(jobs).created_at)))
            for sim in sims:
                sim.cursor_inclusive = index % 2 == 1
            project = rng.choice(["p1", "p2"])
            answers = []
            for server, key in ((plain, keys[0]), (fast, keys[1])):
                url = f"{server.base_url}/data/projects/{project}/exports"
                response = await client.get(
                    url, params=params, headers={"Authorization": f"Bearer {key}"}
                )
                answers.append(response.json())
            differ += answers[0] != answers[1]
    return differ


def main() -> int:
    differ = asyncio.run(check())
    print(f"{differ} of {QUERIES} List answers differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
