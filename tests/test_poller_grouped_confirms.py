"""Grouped confirms: posts Slack answered are confirmed in the log in groups, not one by one.

A poller SIGKILLed after Slack answered some posts but before their group was confirmed
leaves them claimed; a fresh process settles them from the channel's history without
posting again. And every group is confirmed by the end of a delivery, with the ``ts`` of
the message it belongs to. The poller runs as its own process (``tests/poller_proc.py``)
against the simulator and the Slack stand-in over loopback.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.peaka import Status
from bot.poller._delivery import CONFIRM_GROUP, DIGEST_OVER
from bot.store import AlertKey
from tests.poller_harness import PROJECTS, PollerRig, alert_keys
from tests.store_fixtures import Backend
from tests.test_poller_restarts import CYCLE_TIMEOUT, fleet_for

pytest_plugins = ["tests.store_fixtures"]


def _fail_jobs(rig: PollerRig, project: str, count: int) -> set[str]:
    created = rig.clock.now() - timedelta(seconds=20)
    return {
        rig.sim.create_job(
            project, rig.owners[0], outcome="FAILED", error="boom", created_at=created
        ).id
        for _ in range(count)
    }


async def _check_log_matches_slack(rig: PollerRig, expected: set[tuple[str, str, str]]) -> None:
    """Each expected alert posted once, and the log says ``sent`` with that message's ts."""
    alerted = rig.all_alerts()
    assert {k: n for k, n in alerted.items() if n > 1} == {}, "an alert was repeated"
    assert set(alerted) == expected
    ts_of = {}
    for channel, messages in rig.slack.all_messages().items():
        for message in messages:
            for job_id, status in _keys(message):
                ts_of[(job_id, status, channel)] = str(message["ts"])
    for job_id, status, channel in expected:
        [record] = [
            r
            for r in await rig.store.alerts_for(job_id)
            if r.key == AlertKey(job_id, Status(status), channel)
        ]
        assert record.state == "sent", record
        posted_ts = ts_of[(job_id, status, channel)]
        assert (record.slack_channel, record.slack_ts) == (channel, posted_ts)


def _keys(message: dict[str, Any]) -> list[tuple[str, str]]:
    return alert_keys([message])


async def test_posts_whose_confirm_group_died_are_settled_from_history_not_reposted(
    store_backend: Backend, tmp_path: Path
) -> None:
    assert DIGEST_OVER >= 3  # three cards in a row, not a digest
    async with (
        PollerRig.running(store_backend) as rig,
        fleet_for(rig, store_backend, tmp_path) as fleet,
    ):
        await rig.subscribe("C1", "p1", Status.FAILED)
        process = await fleet.start()
        await process.start_cycle(rig.clock.now().timestamp())  # baseline: no jobs yet

        jobs = _fail_jobs(rig, "p1", 3)
        rig.clock.advance(30)
        expected = {(job, "FAILED", "C1") for job in jobs}
        # One channel posts its cards in order, each after the answer to the one before:
        # when the third is accepted, the bot has the first two answers. Hold the third's
        # answer and SIGKILL the poller there.
        accepted: list[object] = []

        def hold_third(keys: object) -> None:
            accepted.append(keys)
            if len(accepted) == 3:
                rig.slack.hold_posts = True

        rig.slack.on_alert_post = hold_third
        done = process.start_cycle(rig.clock.now().timestamp())
        async with asyncio.timeout(CYCLE_TIMEOUT):
            await rig.slack.held.wait()
        done.cancel()
        process = await fleet.restart()
        rig.slack.release()
        rig.slack.on_alert_post = lambda keys: None

        # All three are in Slack; none is confirmed (the first two waited for their group).
        assert rig.posts("C1") == 3
        assert len(await rig.store.unconfirmed_alerts()) == 3

        await process.start_cycle(rig.clock.now().timestamp())
        assert rig.posts("C1") == 3, "a post was repeated after the restart"
        assert len(rig.slack.calls("conversations.history")) == 1  # one search for the channel
        assert await rig.store.unconfirmed_alerts() == []
        await _check_log_matches_slack(rig, expected)

        # More alerts than a group, over many channels at once: a group is confirmed during
        # the delivery and the rest at its end, each with its own message's ts.
        channels = [f"CM{n:02d}" for n in range(CONFIRM_GROUP + 6)]
        for n, channel in enumerate(channels):
            await rig.subscribe(channel, PROJECTS[n % len(PROJECTS)], Status.FAILED)
        rig.clock.advance(30)
        await process.start_cycle(rig.clock.now().timestamp())  # takes the channels on
        rig.clock.advance(30)
        for project in PROJECTS:
            more = _fail_jobs(rig, project, 1)
            expected |= {
                (job, "FAILED", channel)
                for job in more
                for n, channel in enumerate(channels)
                if PROJECTS[n % len(PROJECTS)] == project
            }
            if project == "p1":
                expected |= {(job, "FAILED", "C1") for job in more}
        rig.clock.advance(30)
        await process.start_cycle(rig.clock.now().timestamp())
        assert await rig.store.unconfirmed_alerts() == []
        await _check_log_matches_slack(rig, expected)

        # Nothing is left over: the next cycle neither searches history nor posts.
        posts, searches = rig.posts(), len(rig.slack.calls("conversations.history"))
        rig.clock.advance(30)
        await process.start_cycle(rig.clock.now().timestamp())
        assert (rig.posts(), len(rig.slack.calls("conversations.history"))) == (posts, searches)
        assert await process.close() == 0
        log = (tmp_path / "poller-proc.log").read_text()
        assert "Traceback" not in log, log[-3000:]
