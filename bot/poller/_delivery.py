"""Alert delivery: claimed alerts -> Slack posts (one card each, or a digest), then the log.

Every alert reaching this module is already claimed in the alert log. A post that Slack
accepted is confirmed with its ``ts`` (in groups of ``CONFIRM_GROUP``, one transaction
each, all before ``deliver`` returns); a channel that can't take posts (removed, archived,
bot not in it) gets its subscriptions marked broken and its alerts failed; anything else
leaves the claim in place for the next cycle, which first looks for the message in the
channel's history (``_reconcile``) when it can't be sure the post failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.core.blocks import Reply
from bot.core.messages import MAX_DIGEST_LINES, render_alert, render_digest
from bot.peaka import ExportJob
from bot.poller._slack import (
    PostResult,
    alert_key,
    alert_metadata,
    digest_metadata,
    post_alert,
)
from bot.slack_users import EmailDirectory
from bot.store import AlertDeduplicator, AlertKey, Store

__all__ = ["DIGEST_OVER", "Delivery", "Outbound"]

log = logging.getLogger(__name__)

# More alerts than this for one channel in one cycle become a digest.
DIGEST_OVER = 5
# Posted alerts are confirmed in groups of up to this many, one transaction each (and the
# rest at the end of every delivery). A crash can leave at most this many posted-but-
# unconfirmed alerts (plus the posts in flight); the next cycle settles them with one
# conversations.history search per channel, so a crash costs at most this many searches,
# not repeats. 64 keeps that small next to a cycle's ~1,000 posts at 2,000 projects (16
# transactions instead of 1,000), and far below what a search sees (HISTORY_PAGES x
# HISTORY_PAGE messages per channel), so every unconfirmed post is still within reach.
CONFIRM_GROUP = 64
# Channels posted to at once. Unbounded, a cycle with an alert in each of 1,000 channels held
# 1,000 rendered messages and requests at once (most waiting for the HTTP pool): ~8 MB of
# peak RSS at bench scale for nothing. A channel that Slack rate-limits waits in its slot,
# which is right: chat.postMessage's limits are per workspace as well as per channel.
CHANNELS_AT_ONCE = 32
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Outbound:
    """A claimed alert ready to post; ``job`` shows the status the alert is about."""

    key: AlertKey
    project_id: str
    job: ExportJob

    @classmethod
    def of(cls, key: AlertKey, project_id: str, job: ExportJob) -> Outbound:
        # A job seen EXPIRED gives a SUCCEEDED alert too: the card tells that outcome.
        shown = job if job.status == key.status else dataclasses.replace(job, status=key.status)
        return cls(key, project_id, shown)

    @property
    def channel(self) -> str:
        return self.key.target

    @property
    def metadata_key(self) -> str:
        return alert_key(self.key.job_id, self.key.status.value)


class Delivery:
    """Posts claimed alerts and records the outcome in the store.

    ``unposted`` holds the keys whose last attempt is known not to have reached Slack (Slack
    answered with an error, or it was never tried), so they need no history check.
    """

    def __init__(
        self,
        store: Store,
        dedup: AlertDeduplicator,
        slack: AsyncWebClient,
        users: EmailDirectory | None,
        label: Callable[[str], str],
    ) -> None:
        self._store = store
        self._dedup = dedup
        self._slack = slack
        self._users = users
        self._label = label
        self.unposted: set[AlertKey] = set()
        # Posted, not yet confirmed in the log: (key, channel, ts), flushed by ``flush``.
        self._posted: list[tuple[AlertKey, str, str]] = []
        # Of the current ``deliver``: the keys posted or failed for good.
        self._done: set[AlertKey] = set()

    async def deliver(self, alerts: Sequence[Outbound]) -> set[AlertKey]:
        """Post every alert, channel by channel (channels in parallel, each in order), and
        return the keys still to send: those a later cycle retries.

        Every post Slack accepted is confirmed in the log before this returns (or is
        cancelled), in groups of up to ``CONFIRM_GROUP``. A posted alert whose confirmation
        fails is not returned: the next cycle finds it in the channel's history.
        """
        self._done = set()
        by_channel: dict[str, list[Outbound]] = {}
        for alert in alerts:
            by_channel.setdefault(alert.channel, []).append(alert)
        gate = asyncio.Semaphore(CHANNELS_AT_ONCE)

        async def deliver_channel(channel: str, items: list[Outbound]) -> None:
            async with gate:
                await self._deliver_channel(channel, items, mentions)

        try:
            mentions = await self._mentions(a.job for a in alerts)
            await asyncio.gather(*(deliver_channel(c, items) for c, items in by_channel.items()))
        finally:
            await self.flush()
        return {alert.key for alert in alerts} - self._done

    async def flush(self) -> None:
        """Confirm the posted alerts not confirmed yet, in one transaction.

        If the write fails they stay claimed: the next cycle finds them in the channel's
        history (they are not ``unposted``) and confirms them then, without posting again.
        """
        posted, self._posted = self._posted, []
        if not posted:
            return
        try:
            await self._dedup.confirm_many(posted)
        except Exception:
            log.exception(
                "confirming %d posted alert(s) failed; the next cycle finds them in history",
                len(posted),
            )

    async def _posted_ok(self, batch: Sequence[Outbound], channel: str, ts: str) -> None:
        for item in batch:
            self._posted.append((item.key, channel, ts))
            self.unposted.discard(item.key)
            self._done.add(item.key)
        if len(self._posted) >= CONFIRM_GROUP:
            await self.flush()

    async def fail_channel(
        self, channel: str, alerts: Iterable[Outbound | AlertKey], why: str
    ) -> None:
        """Mark the channel's subscriptions broken and fail these alerts for good."""
        log.warning("alerts to channel %s stopped: %s (subscription marked broken)", channel, why)
        await self._store.mark_subscription_broken(channel, why)
        for item in alerts:
            key = item.key if isinstance(item, Outbound) else item
            await self._dedup.fail(key, why)
            self.unposted.discard(key)
            self._done.add(key)

    async def _deliver_channel(
        self, channel: str, items: list[Outbound], mentions: dict[str, str]
    ) -> None:
        try:
            batches: list[list[Outbound]]
            if len(items) > DIGEST_OVER:
                batches = [
                    items[i : i + MAX_DIGEST_LINES] for i in range(0, len(items), MAX_DIGEST_LINES)
                ]
            else:
                batches = [[item] for item in items]
            for n, batch in enumerate(batches):
                result = await self._post(channel, batch, mentions, digest=len(items) > DIGEST_OVER)
                if result.ts is not None:
                    await self._posted_ok(batch, channel, result.ts)
                    continue
                rest = [item for later in batches[n:] for item in later]
                if result.broken is not None:
                    await self.fail_channel(channel, rest, result.broken)
                    return
                log.warning(
                    "posting %d alert(s) to %s failed (%s); retrying next cycle",
                    len(batch),
                    channel,
                    result.error,
                )
                # Slack answered with an error, so nothing was posted; the batches after this
                # one were never tried. Either way: no history check needed next time.
                later = rest if result.answered else rest[len(batch) :]
                self.unposted.update(item.key for item in later)
                return
        except Exception:
            log.exception("delivering alerts to %s failed; retrying next cycle", channel)

    async def _post(
        self, channel: str, batch: list[Outbound], mentions: dict[str, str], *, digest: bool
    ) -> PostResult:
        if digest:
            entries = [
                (item.job, self._label(item.project_id), _mention(item.job, mentions))
                for item in batch
            ]
            reply: Reply = render_digest(entries)
            metadata = digest_metadata(channel, [item.metadata_key for item in batch])
            kind = "digest"
        else:
            [item] = batch
            reply = render_alert(
                item.job,
                self._label(item.project_id),
                _mention(item.job, mentions),
                project_id=item.project_id,
            )
            metadata = alert_metadata(
                item.project_id, item.key.job_id, item.key.status.value, channel
            )
            kind = "channel"
        result = await post_alert(self._slack, channel, reply, metadata)
        if result.ts is not None:
            metrics.ALERTS_SENT.labels(kind=kind).inc()
        return result

    async def _mentions(self, jobs: Iterable[ExportJob]) -> dict[str, str]:
        """``{email: Slack user id}`` for the jobs' owners Slack knows (cached lookups)."""
        directory = self._users
        if directory is None:
            return {}
        emails = sorted(
            {
                job.user_name.strip().lower()
                for job in jobs
                if job.user_name and _EMAIL.match(job.user_name.strip())
            }
        )

        async def lookup(email: str) -> str | None:
            try:
                return await directory.user_id_for(email)
            except Exception:
                log.warning("users.lookupByEmail failed; the alert shows the name instead")
                return None

        found = await asyncio.gather(*(lookup(email) for email in emails))
        return {email: uid for email, uid in zip(emails, found, strict=True) if uid}


def _mention(job: ExportJob, mentions: dict[str, str]) -> str | None:
    if not job.user_name:
        return None
    user_id = mentions.get(job.user_name.strip().lower())
    return f"<@{user_id}>" if user_id else None
