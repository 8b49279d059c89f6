"""The "Get download link" button on a succeeded job: a placeholder until links land."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import metrics
from bot.core.button_values import decode_job_value
from bot.core.job_replies import render_link_coming_soon, render_stale_button
from bot.handlers.replies import respond_with
from bot.listeners.actions._payload import action_value
from bot.listeners.actions.guard import answer_safely

__all__ = ["on_link"]


async def on_link(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any] | None,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Ack, then tell only the clicker that download links are coming soon."""
    await ack()
    services = context["services"]

    async def work() -> None:
        try:
            ref = decode_job_value(action_value(body, action))
        except ValueError as exc:
            reply = render_stale_button(str(exc))
        else:
            reply = render_link_coming_soon(ref.job_id)
        await respond_with(respond, reply, replace_original=False)
        metrics.COMMANDS.labels("LinkButton", "ok").inc()

    async with services.in_flight.track():
        await answer_safely("LinkButton", respond, work)
