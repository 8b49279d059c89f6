"""Modal submissions and closes (``view_submission`` / ``view_closed``)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the view listeners (none yet; the key-linking modal lands here)."""
