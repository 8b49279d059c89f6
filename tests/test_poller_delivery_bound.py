"""Delivery posts to at most CHANNELS_AT_ONCE channels at a time, and still reaches them all.

A cycle with an alert in each of many channels must not hold every channel's rendered
message and request at once. The Slack stand-in holds the answers to accepted posts, so the
test can count how many channels are being posted to while none has been answered.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.peaka import Status
from bot.poller._delivery import CHANNELS_AT_ONCE
from tests.poller_harness import PollerRig
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]


async def test_alerts_to_many_channels_go_out_a_bounded_number_at_a_time(
    store_backend: Backend,
) -> None:
    channels = [f"CB{n:02d}" for n in range(CHANNELS_AT_ONCE + 8)]
    async with PollerRig.running(store_backend) as rig:
        for channel in channels:
            await rig.subscribe(channel, "p1", Status.FAILED)
        poller = rig.poller()
        await poller.run_cycle()  # baseline: no jobs yet
        created = rig.clock.now() - timedelta(seconds=20)
        job = rig.sim.create_job(
            "p1", rig.owners[0], outcome="FAILED", error="boom", created_at=created
        )
        rig.clock.advance(30)

        accepted: list[object] = []
        rig.slack.on_alert_post = accepted.append
        rig.slack.hold_posts = True
        cycle = asyncio.create_task(poller.run_cycle())
        await rig.slack.wait_for(lambda: len(accepted) >= CHANNELS_AT_ONCE)
        await asyncio.sleep(0.5)  # room for any further post to arrive, if one could
        assert len(accepted) == CHANNELS_AT_ONCE, "more channels posted to at once than allowed"

        rig.slack.release()
        async with asyncio.timeout(30):
            await cycle
        assert len(accepted) == len(channels)
        for channel in channels:
            assert rig.alerts(channel) == {(job.id, "FAILED"): 1}, channel
        assert await rig.store.unconfirmed_alerts() == []
