"""Text the grammar could not read: say what was wrong, what was probably meant, what is valid."""

from __future__ import annotations

from bot.core.blocks import escape_mrkdwn
from bot.core.usage import COMMAND, CommandError
from bot.handlers._context import CommandContext

__all__ = ["handle"]


async def handle(command: CommandError, ctx: CommandContext) -> None:
    """Reply with the problem, a suggestion when there is one, and the valid forms."""
    lines = [escape_mrkdwn(command.message)]
    if command.suggestion:
        lines.append(f"Did you mean `{COMMAND} {escape_mrkdwn(command.suggestion)}`?")
    if command.usage:
        lines.append("```" + command.usage + "```")
    await ctx.reply("\n".join(lines))
