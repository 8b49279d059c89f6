"""Restarts: the poller runs as its own process (``tests/poller_proc.py``) and is SIGKILLed at
random points, and right after Slack accepted a post but before the bot heard back; each time
a fresh process takes over. Still exactly one alert per outcome, and nothing from the baseline.
The test hosts the simulator, the Slack stand-in and the clock."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.peaka import Status
from bot.store import AlertKey
from tests.poller_harness import PollerRig, Scenario
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

REPO = Path(__file__).resolve().parent.parent
INSTANCE = "poller-proc"  # the same replica, restarted
DRAIN_CYCLES = 4
# Which cycles end in a SIGKILL: at a random moment, or while Slack holds an accepted post.
# Spaced out, so the warm spare process is ready each time.
KILLS = {4: "random", 8: "held", 12: "random", 16: "held"}
CYCLE_TIMEOUT = 60.0


@dataclass
class PollerProcess:
    process: asyncio.subprocess.Process
    log: TextIO

    @classmethod
    async def spawn(cls, env: dict[str, str], log_path: Path) -> PollerProcess:
        log = log_path.open("a")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.poller_proc",
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        started = cls(process, log)
        assert await started._line(CYCLE_TIMEOUT) == "ready"
        return started

    async def _line(self, within: float) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            raw = await self.process.stdout.readline()
        if not raw:
            code = await self.process.wait()
            raise AssertionError(f"the poller process exited ({code}); see its log")
        return raw.decode().strip()

    def start_cycle(self, at: float) -> asyncio.Task[dict[str, Any]]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"cycle {at}\n".encode())

        async def finished() -> dict[str, Any]:
            line = await self._line(CYCLE_TIMEOUT)
            assert line.startswith("done "), line
            result: dict[str, Any] = json.loads(line.removeprefix("done "))
            return result

        return asyncio.create_task(finished())

    async def kill(self) -> None:
        with suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.log.close()

    async def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        async with asyncio.timeout(CYCLE_TIMEOUT):
            code = await self.process.wait()
        self.log.close()
        return code


@dataclass
class Fleet:
    """The running poller process and a warm spare, so a restart costs no start-up time."""

    env: dict[str, str]
    log_path: Path
    current: PollerProcess | None = None
    spare: asyncio.Task[PollerProcess] | None = None
    starts: int = 0
    everyone: list[PollerProcess] = field(default_factory=list)

    async def _spawn(self) -> PollerProcess:
        process = await PollerProcess.spawn(self.env, self.log_path)
        self.everyone.append(process)
        return process

    async def start(self) -> PollerProcess:
        self.current = await self._spawn()
        self.spare = asyncio.create_task(self._spawn())
        self.starts = 1
        return self.current

    async def restart(self) -> PollerProcess:
        """SIGKILL the current process and hand over to the spare."""
        assert self.current is not None and self.spare is not None
        await self.current.kill()
        self.current = await self.spare
        self.spare = asyncio.create_task(self._spawn())
        self.starts += 1
        return self.current

    async def shutdown(self) -> None:
        if self.spare is not None:
            with suppress(Exception):
                await (await self.spare).close()
        for process in self.everyone:
            if process.process.returncode is None:
                await process.kill()


@asynccontextmanager
async def fleet_for(rig: PollerRig, backend: Backend, tmp_path: Path) -> AsyncIterator[Fleet]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        **rig.env(),
        "DATABASE_URL": backend.url,
        "POLLER_DB_SCHEMA": backend.schema or "",
        "POLLER_INSTANCE": INSTANCE,
        "POLLER_START": str(rig.clock.now().timestamp()),
    }
    fleet = Fleet(env, tmp_path / "poller-proc.log")
    try:
        yield fleet
    finally:
        await fleet.shutdown()


async def test_sigkilled_poller_restarts_without_missing_or_repeating_an_alert(
    store_backend: Backend, tmp_path: Path
) -> None:
    rng = random.Random(3)
    async with (
        PollerRig.running(store_backend, artifact_lifetime_seconds=900, seed=9) as rig,
        fleet_for(rig, store_backend, tmp_path) as fleet,
    ):
        scenario = Scenario(rig, seed=31, jobs=100, cycles=20)
        await scenario.subscribe()
        scenario.prepare(0, rig.clock.now() - timedelta(minutes=10))
        scenario.record_baseline()
        process = await fleet.start()
        baseline = await process.start_cycle(rig.clock.now().timestamp())  # never interrupted
        assert sorted(baseline["polled"]) == ["p1", "p2", "p3", "p4", "p5"]

        random_kills, held_kills = 0, []
        for cycle in range(1, scenario.cycles + 1):
            window = rig.clock.now()
            rig.clock.advance(scenario.step)
            scenario.prepare(cycle, window)
            kill = KILLS.get(cycle)
            hold = kill == "held"
            if hold:
                rig.slack.hold_next_post()
            running = fleet.current
            assert running is not None
            done = running.start_cycle(rig.clock.now().timestamp())
            if hold:
                held = asyncio.create_task(rig.slack.held.wait())
                await asyncio.wait({done, held}, return_when=asyncio.FIRST_COMPLETED)
                if held.done() and not done.done():
                    # Slack has stored the post; the bot is waiting for the answer. Now.
                    [call] = rig.slack.calls("chat.postMessage")[-1:]
                    held_kills.append(str(call.response["ts"]))
                    done.cancel()
                    await fleet.restart()
                    rig.slack.release()
                    continue
                held.cancel()
                rig.slack.release()
                await done
            elif kill == "random":
                await _random_moment_inside(rig, done, rng)
                if not done.done():
                    done.cancel()
                    await fleet.restart()
                    random_kills += 1
                    continue
                await done
            else:
                await done

        rig.clock.advance(scenario.drain_seconds())
        for _ in range(DRAIN_CYCLES):
            assert fleet.current is not None
            await fleet.current.start_cycle(rig.clock.now().timestamp())
            rig.clock.advance(scenario.step)
        assert fleet.current is not None
        assert fleet.current.process.stdin is not None
        fleet.current.process.stdin.write(b"rewind 5\n")
        assert (await fleet.current._line(10)).startswith("error unknown command 'rewind'")
        assert await fleet.current.close() == 0

        alerted = rig.all_alerts()
        expected = scenario.expected()
        assert {k: n for k, n in alerted.items() if n > 1} == {}, "an alert was repeated"
        assert expected - set(alerted) == set(), "an alert was missed"
        assert set(alerted) - expected == set(), "an alert nobody should get (baseline?)"
        assert len(expected) > 40
        assert len(held_kills) >= 2, "too few kills between Slack accepting a post and the record"
        assert random_kills >= 2
        assert fleet.starts == 1 + len(held_kills) + random_kills
        # The posts Slack accepted just before a kill were found in history, not re-sent.
        sent_ts = {
            r.slack_ts
            for key in alerted
            for r in await rig.store.alerts_for(key[0])
            if r.key == AlertKey(key[0], Status(key[1]), key[2])
        }
        assert set(held_kills) <= sent_ts
        assert rig.slack.calls("conversations.history")
        assert await rig.store.unconfirmed_alerts() == []
        log = (tmp_path / "poller-proc.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert rig.api_key not in log


async def _random_moment_inside(
    rig: PollerRig, cycle: asyncio.Task[dict[str, Any]], rng: random.Random
) -> None:
    """Return at a random point of the running cycle: after its k-th Peaka List request, or
    after its first Slack post (or when the cycle ends first)."""
    lists = rig.sim.counters["listExports"]
    posts = len(rig.slack.calls("chat.postMessage"))
    k = rng.randint(1, 6)

    def reached() -> bool:
        if k == 6:
            return len(rig.slack.calls("chat.postMessage")) > posts
        return rig.sim.counters["listExports"] >= lists + k

    for _ in range(5000):  # ~10 s at most
        if cycle.done() or reached():
            return
        await asyncio.sleep(0.002)
