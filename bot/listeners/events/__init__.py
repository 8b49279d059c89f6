"""Events API listeners: DMs to the bot (``message.im``)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners.events.direct_messages import on_message

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the event listeners (``url_verification`` is answered by Bolt itself)."""
    app.event("message")(on_message)
