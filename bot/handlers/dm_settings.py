"""``/exports dm on|off``: whether the bot DMs you when your exports finish or fail."""

from __future__ import annotations

from bot.core.command_types import DmSetting
from bot.handlers._context import CommandContext
from bot.handlers.replies import send
from bot.links._replies import render_dm_setting, render_no_store

__all__ = ["handle"]


async def handle(command: DmSetting, ctx: CommandContext) -> None:
    """Store the caller's choice and say what they will get."""
    store = ctx.services.store
    if store is None:
        await send(ctx, render_no_store())
        return
    await store.set_dm_enabled(ctx.user_id, command.enabled)
    # With linking off there is nothing to link: don't suggest it.
    linked = not ctx.services.settings.linking_enabled or (
        await store.linked_key(ctx.user_id) is not None
    )
    await send(ctx, render_dm_setting(command.enabled, linked=linked))
