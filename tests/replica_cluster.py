"""The multi-replica rig: bot processes (``python -m bot run``) sharing one fresh PostgreSQL
database, a Peaka simulator whose clock the test drives, and the Slack stand-in.

    async with fresh_postgres_database() as url:
        async with Cluster.running(url, tmp_path, projects=PROJECTS) as cluster:
            await cluster.start_replicas(3)
            await cluster.command("subscribe failed project p1", replica=1, ...)
            cluster.kill(0); await cluster.restart(0)
            cluster.posted   # every alert Slack accepted: (job, status, channel) -> [sim times]

The simulator and the stand-in run in the test's event loop; the replicas are separate
processes that reach them over loopback. ``Clockwork`` moves the simulator's ManualClock in
step with real time (one simulated second per second), so "when an outcome happened" and
"when its alert reached Slack" are on one time line.

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.simulator import ManualClock, Simulator, SimulatorServer
from bot.store import normalize_database_url, redact_database_url
from tests.conftest import ADMIN_USER, BOT_TOKEN, PEOPLE, SIGNING_SECRET
from tests.e2e_support import Exchange, click, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import HoldingStandIn

__all__ = [
    "Cluster",
    "Replica",
    "fresh_postgres_database",
    "postgres_url",
    "until",
]

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"
# The bot prints this once it serves (bot.server.start_bot).
_STARTED = re.compile(r"running \(HTTP .*port (\d+)\)")
START_SECONDS = 60.0
STOP_SECONDS = 30.0
TICK = 0.01


async def until(
    predicate: Callable[[], Awaitable[bool] | bool], *, within: float, what: str
) -> None:
    """Wait until ``predicate()`` is true, checking every 50 ms; AssertionError after
    ``within`` seconds naming ``what`` was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.05)


def postgres_url() -> str:
    return os.environ.get("DATABASE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """CREATE DATABASE test_replicas_<random> on the test server; yield its URL; drop it.

    Separate processes can't share a per-connection search_path, so each test gets a whole
    database. PostgreSQL is never skipped: when it can't be reached the test fails saying so.
    """
    server = make_url(normalize_database_url(postgres_url()))
    name = f"test_replicas_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await engine.dispose()
        pytest.fail(
            f"PostgreSQL is needed for the replica tests and is not usable at "
            f"{redact_database_url(str(server))} ({type(exc).__name__}: {exc}); start it or "
            "set DATABASE_TEST_POSTGRES_URL",
            pytrace=False,
        )
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


@dataclass(eq=False)
class Replica:
    """One bot process: its output is drained continuously (a full pipe would stall it)."""

    name: str
    env: dict[str, str]
    cwd: Path
    command: list[str]
    process: asyncio.subprocess.Process | None = None
    port: int | None = None
    output: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = field(default=None, repr=False)
    signed: SignedSlack | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Start the process and wait until it serves (its port is parsed from the log)."""
        self.port = None
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        started = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._drain(self.process, started))
        try:
            async with asyncio.timeout(START_SECONDS):
                self.port = await started
        except BaseException:
            await self.kill()
            raise
        self.signed = SignedSlack(f"http://127.0.0.1:{self.port}/slack/events", SIGNING_SECRET)

    async def _drain(
        self, process: asyncio.subprocess.Process, started: asyncio.Future[int]
    ) -> None:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode("utf-8", "replace"):
            self.output.append(line)
            match = _STARTED.search(line)
            if match and not started.done():
                started.set_result(int(match.group(1)))
        if not started.done():
            started.set_exception(AssertionError(f"{self.name} exited early:\n{self.log()}"))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs (leases and claims are left as they were)."""
        await self._end(signal.SIGKILL)

    async def stop(self) -> int:
        """SIGTERM and wait: the bot's graceful stop. Returns the exit code."""
        return await self._end(signal.SIGTERM)

    async def _end(self, how: signal.Signals) -> int:
        process = self.process
        if process is None:
            return 0
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(how)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                code = await process.wait()
                if self._reader is not None:
                    await self._reader
        except TimeoutError:
            process.kill()
            code = await process.wait()
        if self.signed is not None:
            await self.signed.aclose()
            self.signed = None
        return code

    def log(self, last: int = 60) -> str:
        return "".join(self.output[-last:])


@dataclass(eq=False)
class Clockwork:
    """Moves the simulator's ManualClock with real time and timestamps what Slack accepts.

    ``posted[(job_id, status, channel)]`` lists the simulated times at which a message
    covering that alert was accepted (a digest covers several). ``at(t, action)`` runs
    ``action`` once the simulated clock reaches ``t``.
    """

    clock: ManualClock
    slack: HoldingStandIn
    posted: dict[tuple[str, str, str], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _t0: float = 0.0
    _start: datetime = field(default_factory=lambda: datetime.now(UTC))
    _scheduled: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._t0 = asyncio.get_running_loop().time()
        self._start = self.clock.now()
        self.slack.on_alert_post = self._stamp
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        self._scheduled.append((when, next(self._order), action))
        self._scheduled.sort(key=lambda item: (item[0], item[1]))

    @property
    def pending_actions(self) -> int:
        return len(self._scheduled)

    def now(self) -> datetime:
        return self.clock.now()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._step(loop.time())
            await asyncio.sleep(TICK)

    def _step(self, loop_time: float) -> None:
        # Scheduled actions happen at their exact simulated time, in order.
        target = self._simulated(loop_time)
        while self._scheduled and self._scheduled[0][0] <= target:
            when, _, action = self._scheduled.pop(0)
            if when > self.clock.now():
                self.clock.set(when)
            action()
        if target > self.clock.now():
            self.clock.set(target)

    def _simulated(self, loop_time: float) -> datetime:
        return self._start + timedelta(seconds=loop_time - self._t0)

    def _stamp(self, keys: list[tuple[str, str, str]]) -> None:
        # The moment Slack accepted it, on the simulated time line (which is real time here).
        now = max(self.clock.now(), self._simulated(asyncio.get_running_loop().time()))
        for key in keys:
            self.posted[key].append(now)


@dataclass(eq=False)
class Cluster:
    """Replicas of the bot around one simulator, one stand-in and one database."""

    database_url: str
    workdir: Path
    sim: Simulator
    clock: ManualClock
    peaka_url: str
    api_key: str
    slack: HoldingStandIn
    clockwork: Clockwork
    projects: dict[str, str]  # alias -> project id
    poll_interval: float
    replicas: list[Replica] = field(default_factory=list)
    _round_robin: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        database_url: str,
        workdir: Path,
        *,
        projects: dict[str, str],
        poll_interval: float,
        owners: Iterable[str] = ("ana@example.com", "ben@example.com"),
    ) -> AsyncIterator[Cluster]:
        clock = ManualClock(start=datetime.now(UTC).replace(microsecond=0))
        sim = Simulator(clock=clock, seed=9)
        bot_user = sim.add_user("exports-bot@example.com")
        for email in owners:
            sim.add_user(email)
        for project_id in projects.values():
            sim.add_project(project_id)
        api_key = sim.add_key(bot_user, project_id=None)
        slack = HoldingStandIn(token=BOT_TOKEN)
        for user_id, email, is_admin in PEOPLE:
            slack.add_user(user_id, email, name=email.split("@")[0], is_admin=is_admin)
        async with SimulatorServer(sim, host="127.0.0.1", port=0) as server:
            await slack.start()
            clockwork = Clockwork(clock, slack)
            cluster = cls(
                database_url,
                workdir,
                sim,
                clock,
                server.base_url,
                api_key,
                slack,
                clockwork,
                dict(projects),
                poll_interval,
            )
            clockwork.start()
            try:
                yield cluster
            finally:
                slack.release()
                await asyncio.gather(*(r.kill() for r in cluster.replicas))
                await clockwork.stop()
                await slack.stop()

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment every replica runs with."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.base_url,
            "PEAKA_API_KEY": self.api_key,
            "PEAKA_API_URL": self.peaka_url,
            "PEAKA_PROJECTS": ",".join(f"{a}={p}" for a, p in self.projects.items()),
            "HOST": "127.0.0.1",
            "PORT": "0",
            "DATABASE_URL": self.database_url,
            "POLL_INTERVAL": str(self.poll_interval),
            "EXPORTS_ADMINS": ADMIN_USER,
            "BOT_ENCRYPTION_KEY": "q0JQjcj5TfTRj9vRC2qkN4BqlZkY5mY9rGOYiL6EpAM=",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(overrides)
        return env

    async def start_replicas(self, count: int) -> list[Replica]:
        """Start ``count`` more replicas at once; return them once all serve."""
        new = []
        for _ in range(count):
            index = len(self.replicas)
            workdir = self.workdir / f"replica{index}"
            workdir.mkdir(parents=True, exist_ok=True)
            replica = Replica(
                f"replica{index}",
                self.env(),
                workdir,
                [sys.executable, "-m", "bot", "run"],
            )
            self.replicas.append(replica)
            new.append(replica)
        await asyncio.gather(*(r.start() for r in new))
        return new

    def next_replica(self) -> Replica:
        """Round robin over the replicas that are up, as Slack spreads requests."""
        live = [r for r in self.replicas if r.running and r.signed is not None]
        assert live, "no replica is running"
        return live[next(self._round_robin) % len(live)]

    async def command(
        self, text: str, *, replica: Replica | None = None, **options: Any
    ) -> Exchange:
        """``/exports text`` to ``replica`` (default: the next in round robin); its one reply."""
        target = replica or self.next_replica()
        assert target.signed is not None
        return await run(target.signed, self.slack, text, **options)

    async def click(
        self, element: dict[str, Any], *, replica: Replica | None = None, **options: Any
    ) -> Exchange:
        """Click a button from a reply on ``replica`` (default: the next in round robin)."""
        target = replica or self.next_replica()
        assert target.signed is not None
        return await click(target.signed, self.slack, element, **options)

    def logs(self) -> str:
        return "\n".join(f"--- {r.name}\n{r.log()}" for r in self.replicas)
