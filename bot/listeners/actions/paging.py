"""The "Older" button under a job list: fetch the next page and replace the message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import metrics
from bot.core.button_values import decode_older_value
from bot.core.job_replies import render_stale_button
from bot.handlers.list_jobs import list_reply
from bot.handlers.replies import respond_with
from bot.listeners.actions._payload import action_value
from bot.listeners.actions.guard import answer_safely
from bot.peaka import PageCursor

__all__ = ["on_older"]

log = logging.getLogger(__name__)


async def on_older(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any] | None,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Ack, then replace the list with its next page (everything needed is in the value)."""
    await ack()
    services = context["services"]

    async def work() -> None:
        try:
            page = decode_older_value(action_value(body, action))
            cursor = PageCursor.decode(page.cursor)
            if services.projects.resolve(page.query.project_id) is None:
                raise ValueError("its project is no longer configured")
        except ValueError as exc:
            metrics.COMMANDS.labels("Older", "rejected").inc()
            await respond_with(respond, render_stale_button(str(exc)), replace_original=False)
            return
        outcome = await list_reply(services, page.query, cursor=cursor, mine_user=page.mine_user)
        await respond_with(respond, outcome.reply, replace_original=outcome.ok)
        metrics.COMMANDS.labels("Older", "ok").inc()

    async with services.in_flight.track():
        await answer_safely("Older", respond, work)
