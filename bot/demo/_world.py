"""The demo's world: the seeded Peaka simulator on a fast clock, its people, and new activity.

``Simulator.seeded`` gives three projects, four people with well-known keys and jobs in every
status. On top of that the demo adds the bot's own Peaka user and partner key, and
:class:`Activity`, which keeps submitting jobs to the default project so that some start,
finish and fail every few seconds: channel alerts have something to report.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.demo._workspace import Person
from bot.simulator import ScaledClock, Simulator

__all__ = ["DEMO_CHANNEL", "DEMO_CHANNEL_NAME", "PEOPLE", "Activity", "DemoWorld"]

DEMO_CHANNEL = "C0EXPORTS"
DEMO_CHANNEL_NAME = "exports-alerts"
# Slack people for the seeded simulator's users (same e-mails, so their jobs are theirs).
PEOPLE = (
    Person("U0ANA", "ana", "ana@example.com"),
    Person("U0BEN", "ben", "ben@example.com"),
    Person("U0CY", "cy", "cy@example.com"),
    Person("U0DEE", "dee", "dee@example.com"),
)
# Each person's seeded personal key (Simulator.seeded's seed_keys), linked at start.
PERSONAL_KEYS = {
    "U0ANA": "ana-partner",
    "U0BEN": "ben-analytics",
    "U0CY": "cy-partner",
    "U0DEE": "dee-marketing",
}
BOT_EMAIL = "exports-bot@example.com"


@dataclass
class DemoWorld:
    """The simulator and what the bot needs to know about it."""

    sim: Simulator
    clock: ScaledClock
    bot_key: str
    base_url: str = ""  # the simulator's API URL, once it is serving

    @classmethod
    def create(cls, *, speed: float, seed: int) -> DemoWorld:
        """Seeded demo data on a clock running ``speed`` times faster than real time."""
        clock = ScaledClock(speed=speed, start=datetime.now(UTC))
        sim = Simulator.seeded(clock=clock, seed=seed)
        bot_user = sim.add_user(BOT_EMAIL)
        bot_key = sim.add_key(bot_user, project_id=None)
        return cls(sim=sim, clock=clock, bot_key=bot_key)

    @property
    def projects_setting(self) -> str:
        """PEAKA_PROJECTS: every seeded project as ``alias=id``; the first is the default."""
        return ",".join(f"{alias}={pid}" for alias, pid in self.sim.seed_projects.items())

    @property
    def default_project(self) -> str:
        return next(iter(self.sim.seed_projects.values()))

    def personal_key(self, user_id: str) -> str | None:
        """The seeded Peaka key of a demo person (what they would paste into connect)."""
        name = PERSONAL_KEYS.get(user_id)
        return self.sim.seed_keys.get(name) if name else None


class Activity:
    """Submits a job to the default project every ``every`` simulated seconds.

    Every other job fails, so with the default speed (30x) a failure lands every few real
    seconds. Jobs run for 20 to 80 simulated seconds; owners rotate through the people.
    """

    def __init__(self, world: DemoWorld, *, every: float = 60.0, seed: int = 7) -> None:
        self.world = world
        self.every = every
        self.created: list[str] = []
        self._rng = random.Random(f"demo-activity:{seed}")
        self._owners = itertools.cycle(["ana@example.com", "ben@example.com", "cy@example.com"])
        self._outcomes = itertools.cycle(["FAILED", "SUCCEEDED"])
        self._task: asyncio.Task[None] | None = None

    def submit(self) -> str:
        """Submit one job now; returns its id."""
        job = self.world.sim.create_job(
            self.world.default_project,
            next(self._owners),
            format=self._rng.choice(("CSV", "JSONL")),
            compression=self._rng.choice(("NONE", "GZIP")),
            rows=self._rng.randrange(50, 5_000),
            pending_seconds=self._rng.uniform(3, 10),
            run_seconds=self._rng.uniform(20, 80),
            outcome=next(self._outcomes),
            client_source=self._rng.choice(("peaka-studio", "peaka-api", "trino-cli")),
        )
        self.created.append(job.id)
        return job.id

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="demo-activity")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        real_seconds = self.every / self.world.clock.speed
        while True:
            self.submit()
            await asyncio.sleep(real_seconds)
