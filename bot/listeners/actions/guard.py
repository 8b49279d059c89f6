"""Run an action's work so that a bug becomes an apology to the clicker, never silence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot import metrics
from bot.core.blocks import Reply
from bot.handlers.replies import respond_with

__all__ = ["answer_safely"]

log = logging.getLogger(__name__)

_SORRY = Reply(text="Sorry, something went wrong on my side. Please try again in a minute.")


async def answer_safely(name: str, respond: Any, work: Callable[[], Awaitable[None]]) -> None:
    """Await ``work``; on an unexpected error log it and tell the clicker (ephemerally)."""
    try:
        await work()
    except Exception:
        log.exception("button %s failed", name)
        metrics.COMMANDS.labels(name, "error").inc()
        try:
            await respond_with(respond, _SORRY, replace_original=False)
        except Exception:
            log.warning("could not tell the user about the failure", exc_info=True)
