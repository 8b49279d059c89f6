"""Sending a rendered :class:`~bot.core.blocks.Reply` back to Slack."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.blocks import Reply
from bot.handlers._context import CommandContext

__all__ = ["respond_with", "send"]

log = logging.getLogger(__name__)


async def send(ctx: CommandContext, reply: Reply) -> None:
    """Answer a slash command with ``reply`` (ephemeral unless it is ``in_channel``)."""
    await ctx.reply(reply.text, blocks=reply.blocks, in_channel=reply.response_type == "in_channel")


async def respond_with(respond: Any, reply: Reply, *, replace_original: bool) -> None:
    """Answer an interaction through its response_url (Bolt's ``respond``)."""
    response = await respond(
        text=reply.text,
        blocks=reply.blocks,
        response_type=reply.response_type,
        replace_original=replace_original,
    )
    status = getattr(response, "status_code", 200)
    if status != 200:
        # The URL is a credential for this conversation: log the status only.
        log.warning("response_url rejected the reply (HTTP %s)", status)
