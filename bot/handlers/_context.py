"""The context a command handler gets: who asked, where, and how to answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt.context.respond.async_respond import AsyncRespond
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.app import Services

__all__ = ["CommandContext", "Handler"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CommandContext:
    """One ``/exports`` invocation, after the ack."""

    services: Services
    user_id: str
    channel_id: str
    team_id: str
    text: str
    respond: AsyncRespond = field(repr=False)
    client: AsyncWebClient = field(repr=False)
    trigger_id: str | None = None

    async def reply(
        self,
        text: str,
        *,
        blocks: Sequence[dict[str, Any]] | None = None,
        replace_original: bool = False,
        in_channel: bool = False,
    ) -> None:
        """Answer through the command's response_url (only the caller sees it by default)."""
        response = await self.respond(
            text=text,
            blocks=list(blocks) if blocks is not None else None,
            response_type="in_channel" if in_channel else "ephemeral",
            replace_original=replace_original,
        )
        status = getattr(response, "status_code", 200)
        if status != 200:
            # The URL itself is a credential for this conversation: log the status only.
            log.warning("response_url rejected the reply (HTTP %s)", status)


Handler = Callable[[Any, CommandContext], Awaitable[None]]
