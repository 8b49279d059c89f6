"""The poller's Slack edge: posting alerts with metadata, and finding them again in history.

Every alert message carries Slack message metadata naming what it covers, so after a crash
between "Slack accepted the post" and "the log says so" the bot can look in the channel's
history instead of posting twice::

    {"event_type": "peaka_export_alert",
     "event_payload": {"project_id": ..., "job_id": ..., "status": ..., "target": channel}}

A digest's payload has ``"alerts": ["<job_id>:<status>", ...]`` instead of one job.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.core.blocks import Reply

__all__ = [
    "ALERT_EVENT",
    "BROKEN_CHANNEL_ERRORS",
    "HISTORY_PAGE",
    "HISTORY_PAGES",
    "PostResult",
    "alert_key",
    "alert_metadata",
    "digest_metadata",
    "find_posted",
    "keys_in_metadata",
    "post_alert",
]

log = logging.getLogger(__name__)

ALERT_EVENT = "peaka_export_alert"
# Errors that mean the channel can't take alerts until someone acts: stop, mark it broken.
BROKEN_CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
HISTORY_PAGE = 200
# How far back to look for an alert that may have been posted (HISTORY_PAGES x HISTORY_PAGE).
HISTORY_PAGES = 5


def alert_key(job_id: str, status: str) -> str:
    """``job_id:status``, how metadata names an alert within its channel."""
    return f"{job_id}:{status}"


def alert_metadata(project_id: str, job_id: str, status: str, target: str) -> dict[str, Any]:
    """The metadata for one job's alert in ``target`` (a channel id)."""
    return {
        "event_type": ALERT_EVENT,
        "event_payload": {
            "project_id": project_id,
            "job_id": job_id,
            "status": status,
            "target": target,
        },
    }


def digest_metadata(target: str, keys: Sequence[str]) -> dict[str, Any]:
    """The metadata for a digest covering ``keys`` (``job_id:status`` each) in ``target``."""
    return {
        "event_type": ALERT_EVENT,
        "event_payload": {"kind": "digest", "target": target, "alerts": list(keys)},
    }


def keys_in_metadata(metadata: Any) -> list[str]:
    """The ``job_id:status`` keys an alert message's metadata covers ([] for anything else)."""
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != ALERT_EVENT:
        return []
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping):
        return []
    alerts = payload.get("alerts")
    if isinstance(alerts, list):
        return [item for item in alerts if isinstance(item, str)]
    job_id, status = payload.get("job_id"), payload.get("status")
    if isinstance(job_id, str) and isinstance(status, str):
        return [alert_key(job_id, status)]
    return []


@dataclass(frozen=True, slots=True)
class PostResult:
    """What became of one post.

    ``ts``: posted. ``broken``: the channel can't take alerts (one of BROKEN_CHANNEL_ERRORS).
    ``error``: failed for now; ``answered`` says Slack replied (so nothing was posted) rather
    than the request being lost (then the message may exist: reconcile before sending again).
    """

    ts: str | None = None
    broken: str | None = None
    error: str | None = None
    answered: bool = True


async def post_alert(
    slack: AsyncWebClient, channel: str, reply: Reply, metadata: Mapping[str, Any]
) -> PostResult:
    """chat.postMessage ``reply`` with ``metadata``; rate limits are retried by the client."""
    try:
        response = await slack.chat_postMessage(
            channel=channel,
            text=reply.text,
            blocks=reply.blocks,
            metadata=dict(metadata),
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as exc:
        error = _error_code(exc)
        metrics.SLACK_API_ERRORS.labels("chat.postMessage", error).inc()
        if error in BROKEN_CHANNEL_ERRORS:
            return PostResult(broken=error)
        return PostResult(error=error)
    except (SlackClientError, OSError, TimeoutError) as exc:
        # Lost on the way: Slack may or may not have posted it.
        metrics.SLACK_API_ERRORS.labels("chat.postMessage", type(exc).__name__).inc()
        return PostResult(error=type(exc).__name__, answered=False)
    ts = response.get("ts")
    return PostResult(ts=str(ts)) if ts else PostResult(error="no_ts", answered=False)


@dataclass(frozen=True, slots=True)
class HistoryScan:
    """What ``find_posted`` found: ``found`` key -> ts; ``broken`` if the channel is unusable;
    ``complete`` False when the scan failed (then nothing may be concluded from absence)."""

    found: dict[str, str]
    broken: str | None = None
    complete: bool = True


async def find_posted(
    slack: AsyncWebClient,
    channel: str,
    wanted: Collection[str],
    *,
    pages: int = HISTORY_PAGES,
) -> HistoryScan:
    """Look through ``channel``'s recent history for alerts whose metadata covers ``wanted``.

    Newest first, ``HISTORY_PAGE`` messages a call, at most ``pages`` calls, stopping once
    every wanted key is found.
    """
    remaining = set(wanted)
    found: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(pages):
        if not remaining:
            break
        try:
            response = await slack.conversations_history(
                channel=channel,
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
        except SlackApiError as exc:
            error = _error_code(exc)
            metrics.SLACK_API_ERRORS.labels("conversations.history", error).inc()
            if error in BROKEN_CHANNEL_ERRORS:
                return HistoryScan(found, broken=error, complete=False)
            log.warning("conversations.history failed in %s: %s", channel, error)
            return HistoryScan(found, complete=False)
        except (SlackClientError, OSError, TimeoutError) as exc:
            metrics.SLACK_API_ERRORS.labels("conversations.history", type(exc).__name__).inc()
            log.warning("conversations.history failed in %s: %s", channel, type(exc).__name__)
            return HistoryScan(found, complete=False)
        for message in response.get("messages") or []:
            if not isinstance(message, Mapping):
                continue
            for key in keys_in_metadata(message.get("metadata")):
                if key in remaining:
                    remaining.discard(key)
                    found[key] = str(message.get("ts", ""))
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            break
    return HistoryScan(found)


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:
        return "unknown"
