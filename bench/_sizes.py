"""How big each section is, full and ``--quick``. Quick keeps every row, smaller."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FULL", "ISSUE", "QUICK", "Sizes"]


@dataclass(frozen=True)
class Sizes:
    """Every size knob of the suite (see bench/README.md for what each one means)."""

    # 1. poll cost: (new jobs per project per cycle, projects, cycles) per scenario
    poll_runs: tuple[tuple[int, int, int], ...]
    poll_stragglers: int
    # 2. alert latency
    latency_jobs: int
    latency_projects: int
    latency_window: float  # seconds over which the jobs finish
    latency_interval: float  # POLL_INTERVAL
    # 3. command overhead
    command_requests: int  # per concurrency level
    command_concurrency: tuple[int, ...]
    # 4. scale
    scale_projects: int
    scale_jobs: int  # per project
    scale_cycles: int
    scale_change: float  # share of a project's jobs changing per cycle
    memory_tracked: int  # jobs in the job-state table measurement

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes(
    # The issue's 200 projects take the poller ~40 s a cycle (see README): per-project figures
    # do not depend on the number of projects, so fewer projects keep the run short.
    poll_runs=((0, 15, 20), (5, 15, 20), (500, 2, 20)),
    poll_stragglers=30,
    latency_jobs=100,
    latency_projects=10,
    latency_window=40.0,
    latency_interval=2.0,
    command_requests=200,
    command_concurrency=(1, 20),
    scale_projects=2000,
    scale_jobs=100,
    scale_cycles=2,
    scale_change=0.05,
    memory_tracked=100_000,
)

QUICK = Sizes(
    poll_runs=((0, 8, 4), (5, 8, 4), (500, 2, 3)),
    poll_stragglers=30,
    latency_jobs=30,
    latency_projects=5,
    latency_window=12.0,
    latency_interval=2.0,
    command_requests=40,
    command_concurrency=(1, 20),
    scale_projects=100,
    scale_jobs=100,
    scale_cycles=2,
    scale_change=0.05,
    memory_tracked=20_000,
)

# Exactly the issue's sizes everywhere (python -m bench --issue-sizes): over an hour at the
# poller's current speed.
ISSUE = Sizes(
    **{
        **FULL.as_json(),
        "poll_runs": ((0, 200, 20), (5, 200, 20), (500, 200, 20)),
        "latency_window": 60.0,
        "scale_cycles": 5,
    }
)
