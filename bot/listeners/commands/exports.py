"""``/exports`` text -> command object -> handler.

The grammar is ``bot.core.commands.parse_command`` (pure; never raises). Handlers live in
``bot/handlers/<kind>.py`` (see ``bot.handlers``); ``HANDLERS`` below is the routing table,
keyed by the parsed command's type, so adding a command means: a case in the grammar, a
handler module, one line here. A ``CommandError`` is answered with what was wrong and what
is valid; a command type without a handler yet gets a polite "not available yet".
"""

from __future__ import annotations

import logging

from bot import metrics
from bot.core.blocks import escape_mrkdwn
from bot.core.cards import MAX_LIST_LIMIT as _CARDS_PER_MESSAGE
from bot.core.commands import (
    CancelJob,
    Command,
    CommandError,
    Connect,
    Disconnect,
    DmSetting,
    GetLink,
    Help,
    ListJobs,
    ListSubscriptions,
    Mute,
    ShowJob,
    Subscribe,
    Unmute,
    Unsubscribe,
    parse_command,
)
from bot.handlers import CommandContext, Handler, cancel_job, list_jobs, show_job, subscriptions
from bot.handlers import connect as connect_handler
from bot.handlers import dm_settings as dm_settings_handler
from bot.handlers import help as help_handler
from bot.handlers import invalid as invalid_handler
from bot.handlers import links as links_handler

__all__ = ["HANDLERS", "MAX_LIST_LIMIT", "dispatch", "parse", "run_command"]

log = logging.getLogger(__name__)

# The most jobs one `/exports ... limit N` may list: as many cards as fit in Slack's 50 blocks.
MAX_LIST_LIMIT = _CARDS_PER_MESSAGE

HANDLERS: dict[type, Handler] = {
    Help: help_handler.handle,
    CommandError: invalid_handler.handle,
    ListJobs: list_jobs.handle,
    ShowJob: show_job.handle,
    CancelJob: cancel_job.handle,
    Subscribe: subscriptions.subscribe,
    Unsubscribe: subscriptions.unsubscribe,
    ListSubscriptions: subscriptions.list_subscriptions,
    Mute: subscriptions.mute,
    Unmute: subscriptions.unmute,
    GetLink: links_handler.handle,
    Connect: connect_handler.connect,
    Disconnect: connect_handler.disconnect,
    DmSetting: dm_settings_handler.handle,
}


def parse(text: str, ctx: CommandContext) -> Command | CommandError:
    """The command ``text`` means for this workspace's projects."""
    return parse_command(text, ctx.services.projects, max_limit=MAX_LIST_LIMIT)


async def dispatch(command: Command | CommandError, ctx: CommandContext) -> None:
    """Run the handler registered for ``type(command)``; count it in ``COMMANDS``."""
    kind = type(command).__name__
    handler = HANDLERS.get(type(command))
    if handler is None:
        metrics.COMMANDS.labels(kind, "unavailable").inc()
        shown = escape_mrkdwn(ctx.text.strip()[:200])
        await ctx.reply(f"`/exports {shown}` is not available yet. Try `/exports help`.")
        return
    outcome = "error"
    try:
        await handler(command, ctx)
        outcome = "rejected" if isinstance(command, CommandError) else "ok"
    finally:
        metrics.COMMANDS.labels(kind, outcome).inc()


async def run_command(ctx: CommandContext) -> None:
    """Parse ``ctx.text`` and dispatch it; a failure becomes an apology, never a crash."""
    command: Command | CommandError | None = None
    try:
        command = parse(ctx.text, ctx)
        await dispatch(command, ctx)
    except Exception:
        log.exception("/exports %s failed", type(command).__name__ if command else "parse")
        try:
            await ctx.reply("Sorry, something went wrong on my side. Please try again in a minute.")
        except Exception:
            log.warning("could not tell the user about the failure", exc_info=True)
