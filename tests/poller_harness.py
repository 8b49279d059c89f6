"""The poller's test rig: an empty simulator with a few projects, the Slack stand-in, a store.

    async with PollerRig.running(backend, clock) as rig:
        rig.subscribe(...)                  # via the store
        poller = rig.poller()
        await poller.run_cycle()
        rig.alerts("C1")                    # Counter of (job_id, status) from message metadata

Everything talks over loopback HTTP; the simulator's ManualClock is also the store's and the
poller's clock, so a test moves time with ``rig.clock.advance``.

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.app import Services, build_slack_client
from bot.peaka import PeakaClient, RetryPolicy, Status
from bot.poller import Poller, keys_in_metadata
from bot.settings import Settings, load_settings
from bot.simulator import ManualClock, Simulator, SimulatorServer, SimUser
from bot.slack_users import EmailDirectory
from bot.store import Store
from tests.slack_standin import HoldingStandIn
from tests.store_fixtures import Backend

BOT_TOKEN = "xoxb-poller-test-token"
PROJECTS = ("p1", "p2", "p3", "p4", "p5")
# Slack people; the simulator's job owners use the same e-mails (plus one Slack doesn't know).
PEOPLE = (("U0ANA", "ana@example.com"), ("U0BEN", "ben@example.com"))
OWNERS = ("ana@example.com", "ben@example.com", "zed@example.com")


def alert_keys(messages: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(job_id, status) for every alert a channel's messages carry (digests expanded)."""
    keys = []
    for message in messages:
        for key in keys_in_metadata(message.get("metadata")):
            job_id, _, status = key.rpartition(":")
            keys.append((job_id, status))
    return keys


@dataclass
class PollerRig:
    """A simulator, the Slack stand-in and a store, wired like production."""

    clock: ManualClock
    sim: Simulator
    peaka_url: str
    api_key: str
    slack: HoldingStandIn
    backend: Backend
    store: Store
    owners: list[SimUser] = field(default_factory=list)
    services_made: list[Services] = field(default_factory=list)

    @classmethod
    @asynccontextmanager
    async def running(
        cls, backend: Backend, clock: ManualClock | None = None, *, seed: int = 1, **sim: Any
    ) -> AsyncIterator[PollerRig]:
        clock = clock or ManualClock()
        simulator = Simulator(clock=clock, seed=seed, **sim)
        bot = simulator.add_user("exports-bot@example.com")
        owners = [simulator.add_user(email) for email in OWNERS]
        for project in PROJECTS:
            simulator.add_project(project)
        key = simulator.add_key(bot)
        async with (
            SimulatorServer(simulator, host="127.0.0.1", port=0) as server,
            HoldingStandIn(token=BOT_TOKEN) as slack,
        ):
            for user_id, email in PEOPLE:
                slack.add_user(user_id, email, name=email.split("@")[0])
            store = await backend.open(clock)
            rig = cls(clock, simulator, server.base_url, key, slack, backend, store, owners)
            try:
                yield rig
            finally:
                slack.release()
                for services in rig.services_made:
                    await services.aclose()

    def env(self) -> dict[str, str]:
        """The bot's environment for this rig (also what the subprocess gets)."""
        return {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "poller-test-signing-secret",
            "SLACK_API_URL": self.slack.base_url,
            "PEAKA_API_KEY": self.api_key,
            "PEAKA_API_URL": self.peaka_url,
            "PEAKA_PROJECTS": ",".join(f"{p.upper()}x={p}" for p in PROJECTS),
            "POLL_INTERVAL": "30",
            # Channel alerts only: owners' DMs have their own tests (tests/test_links_*).
            "LINKING_ENABLED": "false",
        }

    def settings(self) -> Settings:
        return load_settings(self.env())

    def services(self) -> Services:
        settings = self.settings()
        services = Services.from_settings(settings, store=self.store, clock=self.clock.now)
        services.slack = build_slack_client(settings)
        services.users = EmailDirectory(services.slack)
        # The rig closes its store itself (the backend does), not with the services.
        services.store = _Unclosable(self.store)
        self.services_made.append(services)
        return services

    def poller(
        self, *, instance_id: str = "poller-test", fast_failures: bool = False, **kw: Any
    ) -> Poller:
        """A Poller on fresh services. ``fast_failures``: a Peaka client that does not retry
        and gives up after 0.5 s, so injected faults reach the poller's own backoff."""
        services = self.services()
        peaka = None
        if fast_failures:
            peaka = PeakaClient(
                self.api_key,
                base_url=self.peaka_url,
                timeout=0.5,
                retry=RetryPolicy(max_attempts=1),
            )
            services._peaka_clients["fast"] = peaka  # closed with the services
        return Poller(
            services,
            instance_id=instance_id,
            peaka=peaka,
            monotonic=lambda: self.clock.now().timestamp(),
            **kw,
        )

    async def subscribe(self, channel: str, project: str, *statuses: Status) -> None:
        await self.store.subscribe(channel, project, statuses, created_by="U0ANA")

    def alerts(self, channel: str) -> Counter[tuple[str, str]]:
        """How often each (job_id, status) was alerted in ``channel``."""
        return Counter(alert_keys(self.slack.messages(channel)))

    def all_alerts(self) -> Counter[tuple[str, str, str]]:
        """How often each (job_id, status, channel) was alerted anywhere."""
        counted: Counter[tuple[str, str, str]] = Counter()
        for channel, messages in self.slack.all_messages().items():
            for job_id, status in alert_keys(messages):
                counted[(job_id, status, channel)] += 1
        return counted

    def posts(self, channel: str | None = None) -> int:
        """chat.postMessage calls that Slack accepted (to ``channel`` if given)."""
        return sum(
            1
            for call in self.slack.calls("chat.postMessage")
            if call.ok and (channel is None or call.body.get("channel") == channel)
        )


class _Unclosable:
    """A store proxy whose close is a no-op (the fixture owns the real one)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in ("close", "aclose"):
            return _noop
        return getattr(self._store, name)


async def _noop() -> None:
    return None


def metadata_of(message: dict[str, Any]) -> dict[str, Any]:
    """A message's metadata as a dict (the stand-in stores what was posted)."""
    value = message.get("metadata") or {}
    return json.loads(value) if isinstance(value, str) else dict(value)


@dataclass(frozen=True)
class PlannedJob:
    project: str
    owner: int
    cycle: int  # created in the window before this cycle (0: before the baseline)
    at: float  # where in that window, 0..1
    pending: float
    run: float
    outcome: str
    cancel_after: float | None  # seconds after creation, if it gets cancelled


SUBSCRIPTIONS: tuple[tuple[str, str, frozenset[Status]], ...] = (
    ("C_FAIL", "p1", frozenset({Status.FAILED})),
    ("C_FAIL", "p2", frozenset({Status.FAILED})),
    ("C_FAIL", "p4", frozenset({Status.FAILED, Status.CANCELLED})),
    ("C_P3", "p3", frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})),
    ("C_GONE", "p2", frozenset({Status.EXPIRED})),
    ("C_P5", "p5", frozenset({Status.SUCCEEDED, Status.EXPIRED, Status.CANCELLED})),
)


@dataclass
class Scenario:
    """Random job lifecycles across the rig's projects, driven cycle by cycle.

    Project p1 is busy (more jobs than a List page between its long jobs' start and end),
    a tenth of the jobs run for 10 to 40 minutes, some are cancelled, some share createdAt.
    ``expected()`` is the ground truth: every (job, status, channel) that must be alerted.
    """

    rig: PollerRig
    seed: int
    jobs: int = 500
    cycles: int = 50
    step: float = 30.0
    planned: list[PlannedJob] = field(default_factory=list)
    created: dict[str, PlannedJob] = field(default_factory=dict)
    at_baseline: dict[str, Status] = field(default_factory=dict)
    _cancel_at: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        weights = {"p1": 0.52, "p2": 0.12, "p3": 0.12, "p4": 0.12, "p5": 0.12}
        for n in range(self.jobs):
            project = rng.choices(list(weights), list(weights.values()))[0]
            long_job = rng.random() < 0.1
            cycle = 0 if n < self.jobs // 25 else rng.randrange(1, max(2, self.cycles - 5))
            self.planned.append(
                PlannedJob(
                    project=project,
                    owner=rng.randrange(len(OWNERS)),
                    cycle=cycle,
                    at=rng.choice([0.0, 0.5, 1.0]) if rng.random() < 0.2 else rng.random(),
                    pending=rng.uniform(0, 40),
                    run=rng.uniform(600, 2400) if long_job else rng.uniform(1, 120),
                    outcome="FAILED" if rng.random() < 0.3 else "SUCCEEDED",
                    cancel_after=rng.uniform(0, 200) if rng.random() < 0.1 else None,
                )
            )

    async def subscribe(self) -> None:
        for channel, project, statuses in SUBSCRIPTIONS:
            await self.rig.subscribe(channel, project, *statuses)

    def prepare(self, cycle: int, window_start: datetime) -> None:
        """Create the jobs of the window before ``cycle`` (the clock is at its end)."""
        now = self.rig.clock.now()
        span = (now - window_start).total_seconds()
        for plan in self.planned:
            if plan.cycle != cycle:
                continue
            created = window_start + timedelta(seconds=plan.at * span)
            job = self.rig.sim.create_job(
                plan.project,
                self.rig.owners[plan.owner],
                pending_seconds=plan.pending,
                run_seconds=plan.run,
                outcome=plan.outcome,
                created_at=created,
            )
            self.created[job.id] = plan
            if plan.cancel_after is not None:
                self._cancel_at[job.id] = created + timedelta(seconds=plan.cancel_after)
        for job_id, when in list(self._cancel_at.items()):
            if when <= now:
                self.rig.sim.cancel_job(job_id)  # a no-op once it has finished
                del self._cancel_at[job_id]

    def record_baseline(self) -> None:
        for job_id in self.created:
            self.at_baseline[job_id] = Status(self.rig.sim.job_status(job_id))

    def drain_seconds(self) -> float:
        """How far past the last cycle every job has ended (and expired, if it succeeded)."""
        end = max(
            (j.created_at + _seconds(j.pending_seconds + j.run_seconds))
            for j in self.rig.sim.jobs.values()
        )
        lifetime = self.rig.sim.artifact_lifetime_seconds
        return max(0.0, (end - self.rig.clock.now()).total_seconds()) + lifetime + 1

    def expected(self) -> set[tuple[str, str, str]]:
        wanted: set[tuple[str, str, str]] = set()
        for job_id, plan in self.created.items():
            base = self.at_baseline.get(job_id)
            if base is not None and base.is_terminal:
                continue  # history: never alerted
            final = Status(self.rig.sim.job_status(job_id))
            reached = {final} if final is not Status.EXPIRED else {Status.SUCCEEDED, final}
            for channel, project, statuses in SUBSCRIPTIONS:
                if project == plan.project:
                    wanted |= {(job_id, s.value, channel) for s in reached & statuses}
        return wanted


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
