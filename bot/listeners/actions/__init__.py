"""Block Kit interactions (``block_actions``): buttons and menus on the bot's cards."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the action listeners (none yet; the card buttons land here)."""
