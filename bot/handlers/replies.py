"""Sending a rendered :class:`~bot.core.blocks.Reply` back to Slack."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.core.blocks import Reply
from bot.handlers._context import CommandContext

__all__ = ["Outcome", "respond_with", "send"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A reply, and whether it is the answer asked for (``ok``) or a failure message.

    A button's answer replaces the message clicked only when ``ok``: an outage or a missing
    job is told in a new ephemeral message, so the list or card stays usable.
    """

    reply: Reply
    ok: bool


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
