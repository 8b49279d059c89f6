"""Modal submissions and closes (``view_submission`` / ``view_closed``)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.links import CONNECT_CALLBACK
from bot.listeners.views.connect_key import on_connect_submit

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the view listeners: the key-linking modal's submission."""
    app.view(CONNECT_CALLBACK)(on_connect_submit)
