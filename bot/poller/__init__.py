"""The poller: watches subscribed Peaka projects and posts job alerts to Slack channels.

Usage::

    poller = Poller(services, instance_id="bot-1")   # services.store and .slack are needed
    await poller.start()        # a cycle now, then every POLL_INTERVAL
    ...
    await poller.stop()         # finishes the cycle in flight, posts included

Tests drive it cycle by cycle with ``await poller.run_cycle()``.
"""

from bot.poller._backoff import ProjectBackoff
from bot.poller._delivery import DIGEST_OVER
from bot.poller._poller import CycleReport, Poller
from bot.poller._slack import ALERT_EVENT, BROKEN_CHANNEL_ERRORS, keys_in_metadata

__all__ = [
    "ALERT_EVENT",
    "BROKEN_CHANNEL_ERRORS",
    "DIGEST_OVER",
    "CycleReport",
    "Poller",
    "ProjectBackoff",
    "keys_in_metadata",
]
