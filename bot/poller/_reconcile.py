"""Leftover alerts: claimed in the log but never confirmed (a crash, or Slack failing).

Between "Slack accepted the post" and "the log says sent" the process can die. So before
sending a leftover again, the channel's recent history is searched for a message whose
metadata covers it: found -> confirm with that message's ``ts``; not found -> send.
Leftovers whose last attempt surely did not reach Slack (``Delivery.unposted``) skip the search.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.peaka import ExportJob, NotFoundError, PeakaClient, PeakaError
from bot.poller._delivery import Delivery, Outbound
from bot.poller._fetch import without_files
from bot.poller._slack import alert_key, find_posted
from bot.store import AlertDeduplicator, AlertRecord, Store

__all__ = ["DM_PREFIX", "Leftovers"]

log = logging.getLogger(__name__)

DM_PREFIX = "dm:"  # alert-log targets of direct messages, which this poller does not send
# After this many failed history searches in a row for a channel, send without one.
MAX_SCAN_FAILURES = 3


class Leftovers:
    """Finds this poller's unconfirmed alerts and settles them against Slack history."""

    def __init__(
        self,
        *,
        store: Store,
        dedup: AlertDeduplicator,
        slack: AsyncWebClient,
        peaka: PeakaClient,
        delivery: Delivery,
        instance_id: str,
        known_jobs: Callable[[str], ExportJob | None],
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._dedup = dedup
        self._slack = slack
        self._peaka = peaka
        self._delivery = delivery
        self._instance_id = instance_id
        self._known_jobs = known_jobs
        self._scan_failures: dict[str, int] = {}
        self._now = now

    async def collect(self, *, stale_before: datetime, broken: Mapping[str, str]) -> list[Outbound]:
        """The leftovers to send (again) this cycle; the rest is confirmed, failed or waits.

        ``stale_before``: another poller's claim older than this is taken over (it died).
        ``broken``: channel -> reason for channels whose subscriptions are broken.
        """
        by_channel: dict[str, list[AlertRecord]] = {}
        records = await self._store.unconfirmed_alerts()
        # Keys settled elsewhere (another replica, an operator) need no memory here.
        self._delivery.unposted &= {r.key for r in records}
        for record in records:
            if record.key.target.startswith(DM_PREFIX):
                continue
            if record.claimed_by != self._instance_id and not await self._store.reclaim_alert(
                record.key, self._instance_id, stale_before
            ):
                continue  # another live poller is on it
            by_channel.setdefault(record.key.target, []).append(record)
        outbound: list[Outbound] = []
        for channel, waiting in by_channel.items():
            try:
                outbound += await self._settle(channel, waiting, broken.get(channel))
            except Exception:
                log.exception("settling leftover alerts for %s failed; trying next cycle", channel)
        return outbound

    async def _settle(
        self, channel: str, records: list[AlertRecord], broken: str | None
    ) -> list[Outbound]:
        if broken is not None:
            for record in records:
                await self._dedup.fail(record.key, f"subscription broken: {broken}")
            return []
        unposted = self._delivery.unposted
        to_check = [r for r in records if r.key not in unposted]
        sendable = [r for r in records if r.key in unposted]
        if to_check:
            wanted = {alert_key(r.key.job_id, r.key.status.value): r for r in to_check}
            scan = await find_posted(self._slack, channel, wanted)
            if scan.broken is not None:
                await self._delivery.fail_channel(channel, [r.key for r in records], scan.broken)
                return []
            # One transaction for the channel's found posts (a crash can leave a whole
            # confirm group of them).
            await self._dedup.confirm_many(
                [(wanted[name].key, channel, ts) for name, ts in scan.found.items()]
            )
            for name in scan.found:
                log.info("alert %s in %s was posted before a restart; confirmed", name, channel)
            failures = 0 if scan.complete else self._scan_failures.get(channel, 0) + 1
            self._scan_failures[channel] = failures
            if failures >= MAX_SCAN_FAILURES:
                # History stays unreadable: better a possible repeat than a lost alert.
                log.warning(
                    "can't search %s's history (%d tries); sending its %d unconfirmed alert(s)",
                    channel,
                    failures,
                    len(wanted) - len(scan.found),
                )
            if scan.complete or failures >= MAX_SCAN_FAILURES:
                sendable += [r for name, r in wanted.items() if name not in scan.found]
        return [o for o in [await self._outbound(r) for r in sendable] if o is not None]

    async def _renew(self, record: AlertRecord) -> bool:
        """Refresh this poller's claim right before sending it again, so no other poller
        takes it for stale while the post is on its way. False: someone else has it now."""
        just_after = self._now() + timedelta(microseconds=1)
        return await self._store.reclaim_alert(record.key, self._instance_id, just_after)

    async def _outbound(self, record: AlertRecord) -> Outbound | None:
        if not await self._renew(record):
            return None
        job = self._known_jobs(record.key.job_id)
        if job is None:
            try:
                job = without_files(
                    await self._peaka.read_export(record.project_id, record.key.job_id)
                )
            except NotFoundError:
                await self._dedup.fail(record.key, "export job not found in Peaka")
                return None
            except PeakaError as exc:
                log.warning("can't read export %s for its alert yet: %s", record.key.job_id, exc)
                return None
        return Outbound.of(record.key, record.project_id, job)
