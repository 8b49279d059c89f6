"""The work a listener does after Slack's ack: counted as in flight, and never silent.

Every listener that works after its ack has the same shape: ``services.in_flight`` counts the
work (graceful shutdown waits for it), and an unexpected error becomes a log line, a
``COMMANDS{outcome="error"}`` count and, where there is a ``respond``, an ephemeral apology.
:func:`run_after_ack` is that shape; :func:`button` wraps a button's work in it, and
:func:`register_button` attaches it behind :func:`ack_at_once`, which acks first:

    @button("Older")
    async def on_older(click: Click) -> None:
        ...                                   # register_button(app, ACTION_OLDER, on_older)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import metrics
from bot.core.blocks import Reply
from bot.handlers.replies import respond_with

if TYPE_CHECKING:
    from bot.app import Services

__all__ = [
    "ActionListener",
    "Click",
    "ClickWork",
    "ack_at_once",
    "button",
    "register_button",
    "run_after_ack",
]

log = logging.getLogger(__name__)

_SORRY = Reply(text="Sorry, something went wrong on my side. Please try again in a minute.")


async def ack_at_once(ack: AsyncAck, next: Callable[[], Awaitable[None]]) -> None:
    """Listener middleware: ack (empty body) before the listener is started.

    With ``process_before_response=False`` Bolt starts the listener as a task and then polls
    ``ack.response`` every 10 ms, so an ack from inside the listener reaches Slack 10-15 ms
    late. Acked here, Bolt answers the HTTP request (or Socket Mode envelope) at once.
    """
    await ack()
    await next()


async def run_after_ack(
    name: str,
    services: Services,
    work: Callable[[], Awaitable[None]],
    *,
    respond: AsyncRespond | None = None,
) -> None:
    """Await ``work`` counted in ``services.in_flight``; on an unexpected error log it, count
    ``COMMANDS{name, "error"}`` and, given ``respond``, apologise to the person (ephemerally).
    """
    async with services.in_flight.track():
        try:
            await work()
        except Exception:
            log.exception("%s failed", name)
            metrics.COMMANDS.labels(name, "error").inc()
            if respond is None:
                return
            try:
                await respond_with(respond, _SORRY, replace_original=False)
            except Exception:
                log.warning("could not tell the user about the failure", exc_info=True)


@dataclass(frozen=True, slots=True)
class Click:
    """One button press, as a button's work gets it."""

    name: str  # the button's label in COMMANDS and the log (``button(name)``)
    services: Services
    body: dict[str, Any]  # the block_actions payload
    action: dict[str, Any] | None  # the pressed button (Bolt's ``action``)
    respond: AsyncRespond  # the payload's response_url


ClickWork = Callable[[Click], Awaitable[None]]


class ActionListener(Protocol):
    """A Bolt action listener (Bolt passes arguments by these parameter names)."""

    async def __call__(
        self,
        body: dict[str, Any],
        action: dict[str, Any] | None,
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None: ...


def button(name: str) -> Callable[[ClickWork], ActionListener]:
    """Make a button's work a Bolt action listener that runs it in :func:`run_after_ack`.

    The listener does not ack: attach it with :func:`register_button`, whose middleware does.
    ``name`` labels the button in ``COMMANDS`` and in the log.
    """

    def decorate(work: ClickWork) -> ActionListener:
        async def listener(
            body: dict[str, Any],
            action: dict[str, Any] | None,
            respond: AsyncRespond,
            context: AsyncBoltContext,
        ) -> None:
            services = context["services"]
            click = Click(name, services, body, action, respond)
            await run_after_ack(name, services, lambda: work(click), respond=respond)

        # Not functools.wraps: Bolt unwraps ``__wrapped__`` to read the parameter names it
        # injects, and it must see ``listener``'s, not ``work``'s.
        listener.__module__ = work.__module__
        listener.__name__ = work.__name__
        listener.__qualname__ = work.__qualname__
        listener.__doc__ = work.__doc__
        return listener

    return decorate


def register_button(app: AsyncApp, action_id: str, listener: ActionListener) -> None:
    """Attach a :func:`button` listener for ``action_id``, acked by :func:`ack_at_once`."""
    app.action(action_id, middleware=[ack_at_once])(listener)
