"""What the bot does for each parsed command: one module per command kind.

Layout (the place to add a command's behaviour):

- ``bot.core.commands.parse_command(text)`` turns ``/exports`` text into a command object (pure).
- ``bot.listeners.commands.exports.HANDLERS`` maps the command's class name to a handler here.
- A handler is ``async def handle(command, ctx: CommandContext) -> None`` in its own module,
  e.g. ``bot/handlers/help.py``; it answers through ``ctx.reply(...)`` (the response_url) and
  reaches Peaka, the store and Slack through ``ctx.services``.
"""

from __future__ import annotations

from bot.handlers._context import CommandContext, Handler

__all__ = ["CommandContext", "Handler"]
