"""The "Older" button under a job list: fetch the next page and replace the message."""

from __future__ import annotations

from bot import metrics
from bot.core.button_values import decode_older_value
from bot.core.job_replies import render_stale_button
from bot.handlers.list_jobs import list_reply
from bot.handlers.replies import respond_with
from bot.listeners.actions._payload import action_value
from bot.listeners.after_ack import Click, button
from bot.peaka import PageCursor

__all__ = ["on_older"]


@button("Older")
async def on_older(click: Click) -> None:
    """Replace the list with its next page (everything needed is in the value)."""
    services, respond = click.services, click.respond
    try:
        page = decode_older_value(action_value(click.body, click.action))
        cursor = PageCursor.decode(page.cursor)
        if services.projects.resolve(page.query.project_id) is None:
            raise ValueError("its project is no longer configured")
    except ValueError as exc:
        metrics.COMMANDS.labels(click.name, "rejected").inc()
        await respond_with(respond, render_stale_button(str(exc)), replace_original=False)
        return
    outcome = await list_reply(services, page.query, cursor=cursor, mine_user=page.mine_user)
    await respond_with(respond, outcome.reply, replace_original=outcome.ok)
    metrics.COMMANDS.labels(click.name, "ok").inc()
