"""The Cancel button on a pending or running job (Slack shows its confirm dialog first)."""

from __future__ import annotations

from bot import metrics
from bot.core.button_values import decode_job_value
from bot.core.job_replies import render_stale_button
from bot.handlers.cancel_job import cancel_reply
from bot.handlers.replies import respond_with
from bot.listeners.actions._payload import action_value, clicking_user
from bot.listeners.after_ack import Click, button

__all__ = ["on_cancel"]


@button("CancelButton")
async def on_cancel(click: Click) -> None:
    """Cancel the job, then replace the message with the job's fresh card.

    Only the job's owner or a bot admin may cancel (the card is shared, so everyone sees the
    button); anyone else gets an ephemeral refusal and the card stays as it was.
    """
    services, respond = click.services, click.respond
    try:
        ref = decode_job_value(action_value(click.body, click.action))
        if services.projects.resolve(ref.project_id) is None:
            raise ValueError("its project is no longer configured")
    except ValueError as exc:
        metrics.COMMANDS.labels(click.name, "rejected").inc()
        await respond_with(respond, render_stale_button(str(exc)), replace_original=False)
        return
    outcome = await cancel_reply(services, ref.project_id, ref.job_id, clicking_user(click.body))
    await respond_with(respond, outcome.reply, replace_original=outcome.ok)
    metrics.COMMANDS.labels(click.name, "ok").inc()
