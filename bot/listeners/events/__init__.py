"""Events API listeners (DMs to the bot, App Home, membership changes)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the event listeners (none yet; ``url_verification`` is answered by Bolt)."""
