"""The download-link buttons: Get download link, Refresh links, DM me when done, Link my key.

- ``job_link`` (a job card, anywhere): links go to the clicker's DM if they own the job; the
  click itself gets "sent you a DM", or why there are none, only visible to the clicker.
- ``links_refresh`` (in a link DM): read the export again and update that DM in place.
- ``job_notify_done`` (under "still running"): remember to DM the clicker when it ends.
- ``links_connect``: open the modal to link a Peaka key.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot import metrics
from bot.core.blocks import Reply
from bot.core.button_values import JobRef, decode_job_value
from bot.core.cards import ACTION_LINK, ACTION_NOTIFY_DONE, ACTION_REFRESH_LINKS
from bot.core.job_replies import render_stale_button
from bot.handlers.replies import respond_with
from bot.links import (
    ACTION_CONNECT,
    PostedDm,
    answer_link_request,
    deliver_answer,
    open_connect_modal,
    refresh_answer,
)
from bot.links._replies import render_done_request_saved, render_link_failure, render_no_store
from bot.listeners.actions._payload import (
    action_value,
    clicked_channel,
    clicked_message_ts,
    clicking_user,
)
from bot.listeners.after_ack import Click, button, register_button

__all__ = ["on_connect", "on_link", "on_notify_done", "on_refresh", "register"]


def register(app: AsyncApp) -> None:
    """Attach the four link buttons' listeners."""
    register_button(app, ACTION_LINK, on_link)
    register_button(app, ACTION_REFRESH_LINKS, on_refresh)
    register_button(app, ACTION_NOTIFY_DONE, on_notify_done)
    register_button(app, ACTION_CONNECT, on_connect)


@button("LinkButton")
async def on_link(click: Click) -> None:
    """DM the owner their links; the clicker hears where they went."""
    services = click.services
    ref = await _job_ref(click)
    if ref is None:
        return
    user_id = clicking_user(click.body)
    answer = await answer_link_request(services, user_id, ref.project_id, ref.job_id)
    reply = await deliver_answer(services, user_id, answer, asked_in=clicked_channel(click.body))
    if reply is not None:
        await respond_with(click.respond, reply, replace_original=False)


@button("RefreshLinks")
async def on_refresh(click: Click) -> None:
    """Replace the link DM's links with fresh ones (``chat.update``)."""
    ref = await _job_ref(click)
    if ref is None:
        return
    channel, ts = clicked_channel(click.body), clicked_message_ts(click.body)
    if not channel or not ts:
        reason = "Slack didn't say which message it was on"
        await respond_with(click.respond, render_stale_button(reason), replace_original=False)
        return
    dm = PostedDm(channel=channel, ts=ts)
    user_id = clicking_user(click.body)
    reply = await refresh_answer(click.services, user_id, dm, ref.project_id, ref.job_id)
    if reply is not None:
        await respond_with(click.respond, reply, replace_original=False)


@button("NotifyDone")
async def on_notify_done(click: Click) -> None:
    """Remember (durably) to DM the clicker when the job ends."""
    services, respond = click.services, click.respond
    ref = await _job_ref(click)
    if ref is None:
        return
    user_id = clicking_user(click.body)
    answer = await answer_link_request(services, user_id, ref.project_id, ref.job_id)
    job = answer.job
    still_running = job is not None and job.status.is_known and job.status.is_active
    if answer.owner and still_running and job is not None:
        if services.store is None:
            await respond_with(respond, render_no_store(), replace_original=False)
            return
        await services.store.add_done_request(user_id, answer.project_id or ref.project_id, job.id)
        metrics.COMMANDS.labels(click.name, "ok").inc()
        reply: Reply | None = render_done_request_saved(job)
    else:
        # It ended meanwhile (links go to the DM), or it isn't theirs: say so now.
        asked_in = clicked_channel(click.body)
        reply = await deliver_answer(services, user_id, answer, asked_in=asked_in)
    if reply is not None:
        await respond_with(respond, reply, replace_original=False)


@button("ConnectButton")
async def on_connect(click: Click) -> None:
    """Open the key modal (the click's trigger_id is good for 3 seconds)."""
    trigger = click.body.get("trigger_id")
    problem = await open_connect_modal(
        click.services, trigger if isinstance(trigger, str) else None
    )
    if problem is not None:
        reply = render_link_failure(
            "Slack didn't let me open the form for your key.",
            f"Slack said {problem}. Run /exports connect instead.",
        )
        await respond_with(click.respond, reply, replace_original=False)


async def _job_ref(click: Click) -> JobRef | None:
    """The button's job, or None after telling the clicker why the button is unusable."""
    try:
        ref = decode_job_value(action_value(click.body, click.action))
        if click.services.projects.resolve(ref.project_id) is None:
            raise ValueError("its project is no longer configured")
    except ValueError as exc:
        metrics.COMMANDS.labels(click.name, "rejected").inc()
        await respond_with(click.respond, render_stale_button(str(exc)), replace_original=False)
        return None
    return ref
