"""Sending one proactive DM: claim it in the alert log, post it with metadata, confirm it.

Apart from ``proactive`` (which decides who hears of what) so the cycle's DMs and the
sweep and recovery (``_dm_sweep``) share one way to send: ``deliver_dm`` claims and sends,
``post_claimed_dm`` posts an already claimed DM, ``find_posted_dm`` finds one Slack already
accepted (by its metadata, ``DM_EVENT``), ``invite_owner`` sends the one-time invitation to
link a key.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.core.blocks import Reply
from bot.core.messages import render_job_state_for_link
from bot.links._delivery import DmError, send_dm
from bot.links._flow import answer_link_request
from bot.links._replies import (
    render_connect_invite,
    render_failed_dm,
    render_succeeded_dm,
    render_succeeded_later,
)
from bot.peaka import ExportJob, Status
from bot.store import AlertKey

if TYPE_CHECKING:
    from bot.app import Services

__all__ = [
    "DM_EVENT",
    "DmReport",
    "claimant",
    "deliver_dm",
    "dm_target",
    "find_posted_dm",
    "invite_owner",
    "post_claimed_dm",
    "reply_for",
]

log = logging.getLogger(__name__)

DM_EVENT = "peaka_export_dm"
# Slack errors that won't go away by retrying: the DM is logged as failed, never resent.
_PERMANENT = frozenset(
    {"user_not_found", "cannot_dm_bot", "user_disabled", "account_inactive", "channel_not_found"}
)
_HISTORY_LIMIT = 200


@dataclass(slots=True)
class DmReport:
    """What one call sent: ``(job id, status, user id)`` per DM, and who got an invitation."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    recovered: list[tuple[str, str, str]] = field(default_factory=list)


def dm_target(user_id: str) -> str:
    """The alert log's target for DMs to ``user_id``."""
    return f"dm:{user_id}"


async def invite_owner(
    services: Services, user_id: str, job: ExportJob, project_id: str, report: DmReport
) -> None:
    """Once per person, ever: link your key to get links by DM."""
    if not await services.store.mark_connect_invite_sent(user_id):
        return
    reply = render_connect_invite(job, services.projects.label(project_id))
    try:
        await send_dm(_slack(services), user_id, reply)
    except DmError as exc:
        log.warning("could not send a connect invitation: %s", exc.code)
        return
    metrics.ALERTS_SENT.labels("dm").inc()
    report.invited.append(user_id)


async def deliver_dm(
    services: Services,
    project_id: str,
    job: ExportJob,
    status: Status,
    user_id: str,
    report: DmReport,
) -> None:
    """Claim (job, status, dm:user) and, if this call won it, send and confirm the DM."""
    key = AlertKey(job.id, status, dm_target(user_id))
    if not await services.store.claim_alert(key, project_id, claimant()):
        metrics.ALERTS_DEDUPLICATED.labels(layer="database").inc()
        return
    reply = await reply_for(services, project_id, job, status, user_id)
    if await post_claimed_dm(services, key, project_id, user_id, reply):
        report.sent.append((job.id, status.value, user_id))


async def reply_for(
    services: Services, project_id: str, job: ExportJob, status: Status, user_id: str
) -> Reply:
    """The DM about ``job`` reaching ``status``, built fresh (links are read right now)."""
    label = services.projects.label(project_id)
    if status is Status.FAILED:
        return render_failed_dm(job, label, project_id=project_id)
    if status is Status.SUCCEEDED:
        answer = await answer_link_request(services, user_id, project_id, job.id)
        if answer.kind == "links" and answer.job is not None:
            where = answer.project_id or project_id
            return render_succeeded_dm(answer.job, services.projects.label(where), project_id=where)
        if answer.kind == "answer":
            return answer.reply
        return render_succeeded_later(job, label, project_id=project_id)  # Peaka failed
    return render_job_state_for_link(job, project_id=project_id)


async def post_claimed_dm(
    services: Services, key: AlertKey, project_id: str, user_id: str, reply: Reply
) -> bool:
    """Post a claimed DM and confirm it; a permanent Slack refusal is logged as failed."""
    store = services.store
    metadata = {
        "event_type": DM_EVENT,
        "event_payload": {
            "project_id": project_id,
            "job_id": key.job_id,
            "status": key.status.value,
            "target": key.target,
        },
    }
    try:
        posted = await send_dm(_slack(services), user_id, reply, metadata=metadata)
    except DmError as exc:
        if exc.code in _PERMANENT:
            await store.fail_alert(key, f"Slack {exc.method}: {exc.code}")
        # Otherwise the claim stays: recover_unconfirmed_dms retries it once it is stale.
        return False
    await store.confirm_alert(key, posted.channel, posted.ts)
    metrics.ALERTS_SENT.labels("dm").inc()
    return True


async def find_posted_dm(slack: Any, channel: str, key: AlertKey) -> str | None:
    """The ``ts`` of a DM in ``channel`` whose metadata names ``key``, if Slack has one."""
    try:
        response = await slack.conversations_history(
            channel=channel, include_all_metadata=True, limit=_HISTORY_LIMIT
        )
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "unknown") if exc.response else "unknown"
        raise DmError("conversations.history", code) from None
    except SlackClientError:
        raise DmError("conversations.history", "unreachable") from None
    for message in response.get("messages") or []:
        metadata = message.get("metadata") if isinstance(message, dict) else None
        if not isinstance(metadata, dict) or metadata.get("event_type") != DM_EVENT:
            continue
        payload = metadata.get("event_payload") or {}
        if (
            payload.get("job_id") == key.job_id
            and payload.get("status") == key.status.value
            and payload.get("target") == key.target
        ):
            ts = message.get("ts")
            return str(ts) if ts else None
    return None


def _slack(services: Services) -> AsyncWebClient:
    if services.slack is None:  # checked on the way in; this is for the type checker
        raise DmError("chat.postMessage", "no_slack_client")
    return services.slack


def claimant() -> str:
    """Who claims: this host and process, for the alert log's ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}"
