"""Bolt listeners, one package per kind of Slack request; each package has ``register(app)``.

Listeners stay thin: ack fast, pull ``context["services"]``, hand off to ``bot.handlers``.
Work after the ack goes through ``bot.listeners.after_ack`` (``@button`` for buttons,
``run_after_ack`` otherwise), so shutdown waits for it and a failure is never silent.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events, views

__all__ = ["register_listeners"]


def register_listeners(app: AsyncApp) -> None:
    """Attach every listener the bot has to ``app``."""
    for kind in (commands, actions, views, events):
        kind.register(app)
