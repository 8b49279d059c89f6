"""Direct messages: open the DM with a person, post into it, update a message in it.

Download links are only ever posted here, into the 1:1 DM of the person they belong to
(``conversations.open`` then ``chat.postMessage``), and refreshed in place (``chat.update`` on
that DM's channel id). Slack failures become :class:`DmError` with Slack's error code only:
the message body, which may hold links, is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.core.blocks import Reply

__all__ = ["DmError", "PostedDm", "open_dm", "refresh_link_dm", "send_dm", "send_link_dm"]

log = logging.getLogger(__name__)


class DmError(Exception):
    """Slack would not open, post or update a DM; ``code`` is Slack's error code."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"Slack {method} failed: {code}")
        self.method = method
        self.code = code


@dataclass(frozen=True, slots=True)
class PostedDm:
    """Where a DM landed: the DM's channel id and the message ``ts``."""

    channel: str
    ts: str


async def open_dm(slack: AsyncWebClient, user_id: str) -> str:
    """The channel id of the bot's 1:1 DM with ``user_id`` (``conversations.open``)."""
    response = await _call("conversations.open", slack.conversations_open(users=user_id))
    channel = response.get("channel")
    channel_id = channel.get("id") if isinstance(channel, Mapping) else None
    if not isinstance(channel_id, str) or not channel_id:
        raise DmError("conversations.open", "no_channel_in_response")
    return channel_id


async def send_dm(
    slack: AsyncWebClient,
    user_id: str,
    reply: Reply,
    *,
    metadata: Mapping[str, Any] | None = None,
) -> PostedDm:
    """Post ``reply`` into the DM with ``user_id``; ``metadata`` rides along (alert log)."""
    channel = await open_dm(slack, user_id)
    response = await _call(
        "chat.postMessage",
        slack.chat_postMessage(
            channel=channel,
            text=reply.text,
            blocks=reply.blocks,
            metadata=dict(metadata) if metadata is not None else None,
        ),
    )
    ts = response.get("ts")
    if not isinstance(ts, str) or not ts:
        raise DmError("chat.postMessage", "no_ts_in_response")
    return PostedDm(channel=str(response.get("channel") or channel), ts=ts)


async def send_link_dm(slack: AsyncWebClient, user_id: str, reply: Reply) -> PostedDm:
    """Post a download-link DM (``bot.core.messages.render_link_dm``) to its owner."""
    return await send_dm(slack, user_id, reply)


async def refresh_link_dm(slack: AsyncWebClient, dm: PostedDm, reply: Reply) -> None:
    """Replace the link DM at ``dm`` with ``reply`` (fresh links, or why there are none)."""
    await _call(
        "chat.update",
        slack.chat_update(channel=dm.channel, ts=dm.ts, text=reply.text, blocks=reply.blocks),
    )


async def _call(method: str, call: Awaitable[Any]) -> Any:
    try:
        return await call
    except SlackApiError as exc:
        code = _error_code(exc)
        metrics.SLACK_API_ERRORS.labels(method, code).inc()
        log.warning("Slack %s failed: %s", method, code)
        raise DmError(method, code) from None
    except SlackClientError as exc:
        metrics.SLACK_API_ERRORS.labels(method, "client_error").inc()
        log.warning("Slack %s failed: %s", method, type(exc).__name__)
        raise DmError(method, "unreachable") from None


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:
        return "unknown"
