"""``/exports help [TOPIC]``: the valid forms of every command, or of one."""

from __future__ import annotations

from bot.core.commands import Help
from bot.core.usage import COMMAND, USAGE
from bot.handlers._context import CommandContext

__all__ = ["handle", "help_text"]


def help_text(topic: str | None = None) -> str:
    """Usage lines (form, then what it does) for ``topic`` or for every command."""
    verbs = [topic] if topic in USAGE else list(USAGE)
    lines = [f"`{COMMAND} {USAGE[v][0]}`\n    {USAGE[v][1]}" for v in verbs]
    heading = f"*{COMMAND}* shows and manages Peaka export jobs."
    return "\n".join([heading, *lines])


async def handle(command: Help, ctx: CommandContext) -> None:
    """Reply with the help text, only to the caller."""
    await ctx.reply(help_text(command.topic))
