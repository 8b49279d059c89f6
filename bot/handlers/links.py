"""``/exports link ID [project X]``: fresh download links, in a DM, for the export's owner."""

from __future__ import annotations

from bot.core.command_types import GetLink
from bot.handlers._context import CommandContext
from bot.handlers.replies import send
from bot.links import answer_link_request, deliver_answer

__all__ = ["handle"]


async def handle(command: GetLink, ctx: CommandContext) -> None:
    """DM the owner their links; here, only "sent you a DM" or why there are none."""
    services = ctx.services
    answer = await answer_link_request(services, ctx.user_id, command.project_id, command.job_id)
    reply = await deliver_answer(services, ctx.user_id, answer, asked_in=ctx.channel_id)
    if reply is not None:
        await send(ctx, reply)
