"""A failed Peaka call becomes a reply: what went wrong, what to do next, the valid forms."""

from __future__ import annotations

import logging

from bot.core.blocks import Reply, context
from bot.core.messages import render_api_failure
from bot.core.usage import COMMAND, USAGE
from bot.peaka import (
    ForbiddenError,
    InvalidKeyError,
    MalformedResponseError,
    NotFoundError,
    PeakaError,
    PeakaTransportError,
    RateLimitedError,
    ServerError,
)

__all__ = ["failure_kind", "failure_reply"]

log = logging.getLogger(__name__)


def failure_kind(exc: PeakaError) -> str:
    """The ``bot.core.messages.API_FAILURES`` key for ``exc`` ("unknown" when none fits)."""
    if isinstance(exc, RateLimitedError):
        return "rate_limited"
    if isinstance(exc, InvalidKeyError):
        return "bad_key"
    if isinstance(exc, ForbiddenError):
        return "forbidden"
    if isinstance(exc, NotFoundError):
        return "not_found"
    if isinstance(exc, ServerError | PeakaTransportError | MalformedResponseError):
        return "peaka_down"
    return "unknown"


def failure_reply(exc: PeakaError, verb: str) -> Reply:
    """The ephemeral reply for a Peaka failure during ``/exports <verb>``.

    The details are the exception's message: it names the operation and what Peaka said,
    never the key (the client guarantees that); the renderer escapes it.
    """
    kind = failure_kind(exc)
    log.warning("/exports %s: Peaka call failed (%s): %s", verb, kind, exc)
    reply = render_api_failure(kind, str(exc))
    form = USAGE.get(verb)
    if form is None:
        return reply
    usage = context(f"Valid forms: `{COMMAND} {form[0]}` · `{COMMAND} help` for all commands")
    return Reply(text=reply.text, blocks=[*reply.blocks, usage])
