"""``/exports connect`` (open the key modal) and ``/exports disconnect`` (delete the key)."""

from __future__ import annotations

from bot import metrics
from bot.core.command_types import Connect, Disconnect
from bot.handlers._context import CommandContext
from bot.handlers.replies import send
from bot.links import forget_key, open_connect_modal
from bot.links._replies import (
    render_disconnected,
    render_link_failure,
    render_linking_disabled,
    render_no_store,
)

__all__ = ["connect", "disconnect"]


async def connect(command: Connect, ctx: CommandContext) -> None:
    """Open the modal where the caller pastes their Peaka API key."""
    if not ctx.services.settings.linking_enabled:
        await send(ctx, render_linking_disabled())
        return
    if ctx.services.store is None:
        await send(ctx, render_no_store())
        return
    problem = await open_connect_modal(ctx.services, ctx.trigger_id)
    if problem is not None:
        metrics.COMMANDS.labels("Connect", "error").inc()
        await send(
            ctx,
            render_link_failure(
                "Slack didn't let me open the form for your key.",
                f"Slack said {problem} (a form must open within 3 seconds of the command). "
                "Run /exports connect again.",
            ),
        )


async def disconnect(command: Disconnect, ctx: CommandContext) -> None:
    """Delete the caller's linked key (say which, by its prefix)."""
    if ctx.services.store is None:
        await send(ctx, render_no_store())
        return
    await send(ctx, render_disconnected(await forget_key(ctx.services, ctx.user_id)))
