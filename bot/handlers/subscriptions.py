"""``/exports subscribe|unsubscribe|subscriptions|mute|unmute``: a channel's alerts.

State lives in ``services.store`` (``bot.store.Store``); without one, each command says the
database isn't configured. When EXPORTS_ADMINS is set, only those users and workspace
admins (``users.info`` is_admin / is_owner) may change anything; everyone may look.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.core.command_types import ListSubscriptions, Mute, Subscribe, Unmute, Unsubscribe
from bot.core.messages import render_command_error, render_subscriptions
from bot.core.subscription_replies import (
    alert_statuses_problem,
    broken_note,
    render_admin_refusal,
    render_muted,
    render_store_missing,
    render_subscribed,
    render_unmuted,
    render_unsubscribed,
)
from bot.handlers._context import CommandContext
from bot.handlers.permissions import may_change_alerts
from bot.handlers.replies import send

if TYPE_CHECKING:
    from bot.store import Store

__all__ = ["list_subscriptions", "mute", "subscribe", "unmute", "unsubscribe"]

log = logging.getLogger(__name__)


async def subscribe(command: Subscribe, ctx: CommandContext) -> None:
    """Alert this channel when exports of a project end in the given statuses."""
    label = ctx.services.projects.label(command.project_id)
    problem = alert_statuses_problem(command, label)
    if problem is not None:
        await send(ctx, render_command_error(problem))
        return
    store = await _store(ctx, changes=True)
    if store is None:
        return
    previous = None
    for sub in await store.list_subscriptions(ctx.channel_id):
        if sub.project_id == command.project_id:
            previous = frozenset(sub.statuses)
    await store.subscribe(ctx.channel_id, command.project_id, command.statuses, ctx.user_id)
    muted = await store.muted_until(ctx.channel_id)
    reply = render_subscribed(label, command.statuses, previous=previous, muted_until=muted)
    await send(ctx, reply)


async def unsubscribe(command: Unsubscribe, ctx: CommandContext) -> None:
    """Stop this channel's alerts for one project, or for all of them."""
    store = await _store(ctx, changes=True)
    if store is None:
        return
    removed = await store.unsubscribe(ctx.channel_id, command.project_id)
    label = None if command.project_id is None else ctx.services.projects.label(command.project_id)
    await send(ctx, render_unsubscribed(label, removed))


async def list_subscriptions(command: ListSubscriptions, ctx: CommandContext) -> None:
    """What this channel gets, broken subscriptions flagged with how to fix them."""
    store = await _store(ctx, changes=False)
    if store is None:
        return
    rows = [
        (
            ctx.services.projects.label(sub.project_id),
            frozenset(sub.statuses),
            broken_note(sub.broken_reason) if sub.broken_reason else None,
        )
        for sub in await store.list_subscriptions(ctx.channel_id)
    ]
    await send(ctx, render_subscriptions(rows, await store.muted_until(ctx.channel_id)))


async def mute(command: Mute, ctx: CommandContext) -> None:
    """Pause this channel's alerts for a while."""
    store = await _store(ctx, changes=True)
    if store is None:
        return
    until = ctx.services.clock() + command.duration
    await store.set_mute(ctx.channel_id, until)
    await send(ctx, render_muted(until))


async def unmute(command: Unmute, ctx: CommandContext) -> None:
    """Resume this channel's alerts."""
    store = await _store(ctx, changes=True)
    if store is None:
        return
    was = await store.muted_until(ctx.channel_id)
    await store.set_mute(ctx.channel_id, None)
    await send(ctx, render_unmuted(was is not None))


async def _store(ctx: CommandContext, *, changes: bool) -> Store | None:
    """The store, or None after telling the caller why they can't go on."""
    store: Store | None = ctx.services.store
    if store is None:
        await send(ctx, render_store_missing())
        return None
    if changes and not await may_change_alerts(ctx.services, ctx.user_id):
        log.info("refused a subscription change by a non-admin")
        await send(ctx, render_admin_refusal(sorted(ctx.services.settings.admins)))
        return None
    return store
