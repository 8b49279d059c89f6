"""DMs not from a cycle's outcomes: done requests in projects not polled, crash leftovers.

"DM me when it's done" in projects the poller did not poll, and DMs a crash left claimed
but unconfirmed. Apart from ``proactive`` (the poll cycle's DMs) because neither starts from
a cycle's outcomes: both read the job again from Peaka, then send through ``_dm_post``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import metrics
from bot.links._delivery import DmError, open_dm
from bot.links._dm_post import (
    DmReport,
    claimant,
    deliver_dm,
    find_posted_dm,
    post_claimed_dm,
    reply_for,
)
from bot.peaka import NotFoundError, PeakaError, Status
from bot.store import StoreError

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["STALE_CLAIM", "recover_unconfirmed_dms", "sweep_done_requests"]

log = logging.getLogger(__name__)

# A claim this old whose DM was never confirmed belongs to a process that died mid-send.
STALE_CLAIM = timedelta(minutes=5)


async def sweep_done_requests(services: Services, *, polled: Collection[str] = ()) -> DmReport:
    """Deliver "DM me when it's done" requests in projects the poller did not poll.

    One Read Export per job someone is waiting for; never raises.
    """
    report = DmReport()
    store = services.store
    if store is None or services.slack is None:
        return report
    try:
        for project in services.projects.all:
            if project.id in polled:
                continue
            waiting: dict[str, list[str]] = {}
            for user_id, job_id in await store.done_requests(project.id):
                waiting.setdefault(job_id, []).append(user_id)
            for job_id, users in waiting.items():
                await _sweep_one(services, project.id, job_id, users, report)
    except (StoreError, OSError) as exc:
        log.warning("done-request sweep stopped: %s", type(exc).__name__)
    except Exception:
        log.exception("done-request sweep failed")
    return report


async def recover_unconfirmed_dms(services: Services, report: DmReport | None = None) -> None:
    """Finish DMs whose sender died between claiming and confirming (after STALE_CLAIM)."""
    store, slack = services.store, services.slack
    if store is None or slack is None:
        return
    stale_before = services.clock() - STALE_CLAIM
    for record in await store.unconfirmed_alerts(claimed_before=stale_before):
        key = record.key
        if not key.target.startswith("dm:"):
            continue  # channel alerts are the poller's
        if not await store.reclaim_alert(key, claimant(), stale_before):
            continue
        user_id = key.target.removeprefix("dm:")
        try:
            channel = await open_dm(slack, user_id)
            posted_ts = await find_posted_dm(slack, channel, key)
        except DmError as exc:
            log.warning("could not check DM history for %s: %s", user_id, exc.code)
            continue
        if posted_ts is not None:
            await store.confirm_alert(key, channel, posted_ts)
            metrics.ALERTS_DEDUPLICATED.labels(layer="slack_history").inc()
            continue
        try:
            job = await services.peaka_for().read_export(record.project_id, key.job_id)
        except NotFoundError:
            await store.fail_alert(key, "the export no longer exists")
            continue
        except PeakaError as exc:
            log.warning("could not re-read export for a DM: %s", type(exc).__name__)
            continue
        reply = await reply_for(services, record.project_id, job, key.status, user_id)
        if (
            await post_claimed_dm(services, key, record.project_id, user_id, reply)
            and report is not None
        ):
            report.recovered.append((key.job_id, key.status.value, user_id))


async def _sweep_one(
    services: Services, project_id: str, job_id: str, users: list[str], report: DmReport
) -> None:
    store = services.store
    try:
        job = await services.peaka_for().read_export(project_id, job_id)
    except NotFoundError:
        for user_id in users:
            await store.remove_done_request(user_id, project_id, job_id)
        return
    except PeakaError as exc:
        log.warning("could not read an export someone waits for: %s", type(exc).__name__)
        return
    if not (job.status.is_known and job.status.is_terminal):
        return
    # EXPIRED means it succeeded and expired unseen: the outcome they waited for is success.
    status = Status.SUCCEEDED if job.status is Status.EXPIRED else job.status
    for user_id in users:
        await deliver_dm(services, project_id, job, status, user_id, report)
        await store.remove_done_request(user_id, project_id, job_id)
