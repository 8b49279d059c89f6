"""A DM to the bot: ``link ID`` or just an export id -> download links in that DM.

Only people's own new messages in the bot's 1:1 DM count: bot messages (the bot's own
included), edits, deletions and every other message subtype are ignored. Anything without
a usable id gets an answer saying what was wrong and what works.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot import metrics
from bot.links import (
    DmError,
    DmUnclear,
    answer_link_request,
    deliver_answer,
    parse_dm_text,
)
from bot.links._delivery import send_dm
from bot.links._replies import render_dm_help
from bot.listeners.after_ack import run_after_ack

__all__ = ["is_person_dm", "on_message"]

log = logging.getLogger(__name__)

# Long enough for any real request; a pasted essay is not parsed.
MAX_TEXT = 4000


def is_person_dm(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Whether ``event`` is a person's new message in a DM with the bot."""
    if event.get("channel_type") != "im" or event.get("subtype") is not None:
        return False
    if event.get("bot_id") or event.get("bot_profile") or event.get("thread_ts"):
        return False
    user = event.get("user")
    return isinstance(user, str) and bool(user) and user != bot_user_id


async def on_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
    """Answer a DM; Bolt has already acked the event."""
    services = context["services"]
    if not is_person_dm(event, context.bot_user_id):
        return
    user_id = str(event["user"])
    channel = str(event.get("channel") or "")
    text = event.get("text") if isinstance(event.get("text"), str) else ""
    # No respond here: a failure is logged and counted, the DM gets no apology.
    await run_after_ack(
        "DirectMessage", services, lambda: _answer(services, user_id, channel, str(text)[:MAX_TEXT])
    )


async def _answer(services: Any, user_id: str, channel: str, text: str) -> None:
    request = parse_dm_text(text, services.projects)
    if isinstance(request, DmUnclear):
        metrics.COMMANDS.labels("DirectMessage", "rejected").inc()
        await _reply(services, user_id, render_dm_help(request.problem))
        return
    answer = await answer_link_request(services, user_id, request.project_id, request.job_id)
    reply = await deliver_answer(services, user_id, answer, asked_in=channel)
    if reply is not None:
        await _reply(services, user_id, reply)


async def _reply(services: Any, user_id: str, reply: Any) -> None:
    try:
        await send_dm(services.slack, user_id, reply)
    except DmError as exc:
        log.warning("could not answer a DM: %s", exc.code)
