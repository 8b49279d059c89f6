"""The remote side of each section: simulator state, its clock and the Slack stand-in.

Runs inside the host process (``bench._host``). Each scenario builds its jobs, moves its
clock one poll interval per ``step()``, and knows the ground truth: the floor of requests a
cycle needs, what the naive strategies would cost, and which alerts must arrive.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._fastsim import FastSimulator
from bench._floor import CycleCost, cycle_cost
from bench._standin import TimedStandIn
from bot.peaka import Status
from bot.simulator import TRINO_ERRORS, CsvOptions, ManualClock, SimJob, SimUser

__all__ = [
    "BOT_TOKEN",
    "OWNERS",
    "CommandWorld",
    "LatencyWorld",
    "PollCostWorld",
    "RealClock",
    "ScaleWorld",
    "World",
    "channel_for",
    "project_ids",
]

BOT_TOKEN = "xoxb-bench-0000-bot-token"
OWNERS = ("ana@example.com", "ben@example.com", "cy@example.com", "dee@example.com")
_CSV = CsvOptions()
_FILE_SIZES = (48_213,)  # pre-sized: the simulator never renders a file in the benchmark


def project_ids(count: int) -> list[str]:
    return [f"bench{index:05d}" for index in range(count)]


def channel_for(project_id: str) -> str:
    """Each project alerts its own channel: CB00000 for bench00000."""
    return "CB" + project_id.removeprefix("bench")


class RealClock:
    """Simulated time = real time, anchored to ``time.monotonic`` so that a transition's
    moment is comparable with the stand-in's arrival times (same host, same clock)."""

    def __init__(self) -> None:
        self.anchor_mono = time.monotonic()
        self.anchor = datetime.now(UTC)

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=time.monotonic() - self.anchor_mono)

    def monotonic_at(self, moment: datetime) -> float:
        return self.anchor_mono + (moment - self.anchor).total_seconds()


class World:
    """A simulator, its users and key, and the stand-in; subclasses add jobs and steps."""

    def __init__(self, clock: ManualClock | RealClock, projects: int, seed: int) -> None:
        self.clock = clock
        self.sim = FastSimulator(clock=clock, seed=seed)
        self.sim.api_failure_rate = 0.0
        self.rng = random.Random(seed)
        self.slack = TimedStandIn(token=BOT_TOKEN)
        self.owners: list[SimUser] = []
        for index, email in enumerate(OWNERS):
            user = self.sim.add_user(email)
            self.owners.append(user)
            self.sim.add_key(user)
            self.slack.add_user(f"U0BENCH{index}", email, name=email.split("@")[0])
        bot_user = self.sim.add_user("exports-bot@example.com")
        self.api_key = self.sim.add_key(bot_user)
        self.projects = project_ids(projects)
        for project_id in self.projects:
            self.sim.add_project(project_id)
        self._sources = {
            pid: list(self.sim.projects[pid].sources.values()) for pid in self.projects
        }
        self._prefixes = {user.id: self._prefix(user) for user in self.owners}

    def _prefix(self, user: SimUser) -> str | None:
        return next((k.prefix for k in self.sim.keys.values() if k.user == user), None)

    def job(
        self,
        project_id: str,
        created_at: datetime,
        *,
        pending: float,
        run: float,
        failed: bool,
    ) -> SimJob:
        """Add a job directly (fast: no validation, shared immutable parts, pre-sized files)."""
        source = self.rng.choice(self._sources[project_id])
        owner = self.rng.choice(self.owners)
        job = SimJob(
            id=self.sim.new_id(),
            project_id=project_id,
            user=owner,
            source=source,
            format="CSV",
            compression="NONE",
            columns=source.columns,
            rows=0 if failed else 993,
            created_at=created_at,
            pending_seconds=pending,
            run_seconds=run,
            outcome=Status.FAILED if failed else Status.SUCCEEDED,
            error=self.rng.choice(TRINO_ERRORS).replace("{source}", source.display)
            if failed
            else None,
            api_key_prefix=self._prefixes[owner.id],
            client_source="peaka-studio",
            csv=_CSV,
            file_sizes=_FILE_SIZES,
        )
        return self.sim.add_job(job)

    def describe(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "projects": self.projects}

    def step(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} has no cycles")

    def check(self) -> dict[str, Any]:
        return {}

    def received(self) -> list[tuple[str, str, str]]:
        """(channel, job id, status) for every alert the stand-in got, repeats included."""
        return [(p.channel, job, status) for p in self.slack.posts for job, status in p.alerts]


def _finished_at(job: SimJob) -> datetime:
    return job.created_at + timedelta(seconds=job.pending_seconds + job.run_seconds)


@dataclass
class _Expectation:
    """Alerts that must arrive: (channel, job id, status), each exactly once."""

    keys: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, channel: str, jobs: Iterable[SimJob], status: Status) -> None:
        self.keys.update((channel, job.id, status.value) for job in jobs)

    def compare(self, received: list[tuple[str, str, str]]) -> dict[str, int]:
        counts: dict[tuple[str, str, str], int] = {}
        for key in received:
            counts[key] = counts.get(key, 0) + 1
        return {
            "expected": len(self.keys),
            "received": len(received),
            "missed": len(self.keys - counts.keys()),
            "repeated": sum(n - 1 for n in counts.values() if n > 1),
            "unexpected": len(counts.keys() - self.keys),
        }


class PollCostWorld(World):
    """Section 1: per project 30 long-running stragglers pushed off the first page by newer
    finished jobs; each step adds ``new_per_cycle`` jobs per project and moves 30 s on.

    Layout below the first page (newest first): 250 finished "pushers", then the stragglers
    one every 100 s with 10 finished jobs between neighbours, then 40 old finished jobs.
    Stragglers finish (half of them FAILED) at random moments over the measured cycles; a
    third run past the end. New jobs run 1-60 s (so some straddle a poll); 5% fail.
    """

    PUSHERS = 250
    FILLERS = 10

    def __init__(self, params: dict[str, Any]) -> None:
        self.interval = float(params.get("interval", 30.0))
        self.new_per_cycle = int(params["new_per_cycle"])
        cycles = int(params["cycles"])
        self.manual = ManualClock()
        super().__init__(self.manual, int(params["projects"]), int(params.get("seed", 1)))
        t0 = self.clock.now()
        horizon = cycles * self.interval
        for pid in self.projects:
            for index in range(40):
                created = t0 - timedelta(seconds=7200 - index * 30)
                self.job(pid, created, pending=1, run=20, failed=index % 9 == 0)
            count = int(params["stragglers"])
            for index in range(count):
                created = t0 - timedelta(seconds=3600 - index * 100)
                finish = self.rng.uniform(0, horizon * 1.5)  # seconds after t0
                run = (t0 - created).total_seconds() + finish - 1
                self.job(pid, created, pending=1, run=run, failed=self.rng.random() < 0.5)
                for filler in range(self.FILLERS):
                    when = created + timedelta(seconds=5 + filler * 9 + self.rng.random())
                    self.job(pid, when, pending=1, run=3, failed=False)
            for index in range(self.PUSHERS):
                when = t0 - timedelta(seconds=600 - index * 2.3 - self.rng.random())
                self.job(pid, when, pending=1, run=2, failed=self.rng.random() < 0.05)
        self.polled_at = t0
        self.active = {pid: self._active_positions(pid) for pid in self.projects}
        self.expected = _Expectation()

    def _active_positions(self, project_id: str) -> list[int]:
        """Indexes (oldest first; stable as new jobs only append) of jobs active now."""
        now = self.clock.now()
        jobs = self.sim.jobs.project_jobs(project_id)
        return [i for i, job in enumerate(jobs) if job.created_at <= now < _finished_at(job)]

    def step(self) -> dict[str, Any]:
        start = self.polled_at
        for pid in self.projects:
            moments = sorted(self.rng.uniform(0, self.interval) for _ in range(self.new_per_cycle))
            for offset in moments:
                created = start + timedelta(seconds=offset)
                run = self.rng.uniform(1, 60)
                self.job(pid, created, pending=1, run=run, failed=self.rng.random() < 0.05)
        self.manual.set(start + timedelta(seconds=self.interval))
        self.polled_at = now = self.clock.now()
        total = CycleCost()
        failed_now = 0
        for pid in self.projects:
            jobs = self.sim.jobs.project_jobs(pid)
            # New jobs are newer than every older one, so they sit at the end of the list.
            first_new = len(jobs) - self.new_per_cycle
            known = self.active[pid]
            finished = [i for i in known if _finished_at(jobs[i]) <= now]
            fresh = range(first_new, len(jobs))
            active = [i for i in known if _finished_at(jobs[i]) > now]
            active += [i for i in fresh if _finished_at(jobs[i]) > now]
            total += cycle_cost(len(jobs), self.new_per_cycle, known, finished, len(active))
            became = [jobs[i] for i in finished] + [
                jobs[i] for i in fresh if _finished_at(jobs[i]) <= now
            ]
            failed = [job for job in became if job.outcome is Status.FAILED]
            failed_now += len(failed)
            self.expected.add(channel_for(pid), failed, Status.FAILED)
            self.active[pid] = active
        return {**total.as_json(), "failed_transitions": failed_now}

    def check(self) -> dict[str, Any]:
        return self.expected.compare(self.received())


class ScaleWorld(World):
    """Section 4: ``jobs`` per project, half finished history and half RUNNING; each step
    ``change`` x ``jobs`` of them finish (10% FAILED) and the clock moves 30 s on."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.interval = float(params.get("interval", 30.0))
        super().__init__(ManualClock(), int(params["projects"]), int(params.get("seed", 4)))
        jobs = int(params["jobs"])
        per_cycle = max(1, round(float(params["change"]) * jobs))
        history, active = jobs - jobs // 2, jobs // 2
        t0 = self.clock.now()
        self.expected = _Expectation()
        failed_by_cycle: dict[int, int] = {}
        for pid in self.projects:
            for index in range(history):
                created = t0 - timedelta(seconds=7200 - index * 30 - self.rng.random())
                self.job(pid, created, pending=1, run=20, failed=self.rng.random() < 0.1)
            for index in range(active):
                created = t0 - timedelta(seconds=3600 - index * 60 - self.rng.random())
                cycle = index // per_cycle + 1
                finish = (cycle - 1) * self.interval + self.rng.uniform(0.1, self.interval - 0.1)
                run = (t0 - created).total_seconds() + finish - 1
                failed = self.rng.random() < 0.1
                job = self.job(pid, created, pending=1, run=run, failed=failed)
                if failed:
                    self.expected.add(channel_for(pid), [job], Status.FAILED)
                    failed_by_cycle[cycle] = failed_by_cycle.get(cycle, 0) + 1
        self.cycle = 0
        self.failed_by_cycle = failed_by_cycle
        self.tracked_at_start = active * len(self.projects)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "tracked": self.tracked_at_start}

    def step(self) -> dict[str, Any]:
        self.cycle += 1
        assert isinstance(self.clock, ManualClock)
        self.clock.advance(self.interval)
        return {"failed_transitions": self.failed_by_cycle.get(self.cycle, 0)}

    def check(self) -> dict[str, Any]:
        done = {
            key
            for key in self.expected.keys
            if _finished_at(self.sim.jobs[key[1]]) <= self.clock.now()
        }
        return _Expectation(done).compare(self.received())


class LatencyWorld(World):
    """Section 2: real-time clock; ``jobs`` jobs (spread over the projects) already RUNNING,
    finishing at uniformly random moments within ``window`` seconds after ``delay``."""

    def __init__(self, params: dict[str, Any]) -> None:
        clock = RealClock()
        super().__init__(clock, int(params["projects"]), int(params.get("seed", 2)))
        self.real = clock
        delay, window = float(params["delay"]), float(params["window"])
        now = clock.now()
        self.transitions: dict[str, float] = {}
        self.channel_of: dict[str, str] = {}
        for index in range(int(params["jobs"])):
            pid = self.projects[index % len(self.projects)]
            created = now - timedelta(seconds=5 + self.rng.random())
            finish = now + timedelta(seconds=delay + self.rng.uniform(0, window))
            run = (finish - created).total_seconds() - 1
            job = self.job(pid, created, pending=1, run=run, failed=self.rng.random() < 0.5)
            self.transitions[job.id] = clock.monotonic_at(_finished_at(job))
            self.channel_of[job.id] = channel_for(pid)

    def check(self) -> dict[str, Any]:
        """Per job: seconds from its transition to the first alert naming it (None: none)."""
        first: dict[str, float] = {}
        for post in self.slack.posts:
            for job_id, _ in post.alerts:
                first.setdefault(job_id, post.arrived)
        latencies = {
            job_id: (first[job_id] - moment) if job_id in first else None
            for job_id, moment in self.transitions.items()
        }
        return {"latencies": latencies, "now": time.monotonic()}


class CommandWorld(World):
    """Section 3: one project with ``jobs`` finished jobs (a fifth FAILED), ManualClock."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(ManualClock(), 1, int(params.get("seed", 3)))
        t0 = self.clock.now()
        count = int(params["jobs"])
        for index in range(count):
            created = t0 - timedelta(seconds=(count - index) * 60 + self.rng.random())
            self.job(self.projects[0], created, pending=1, run=30, failed=index % 5 == 0)
