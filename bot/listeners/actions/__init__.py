"""Block Kit interactions (``block_actions``): the buttons on the bot's cards and lists.

- ``list_older`` (``paging``): the next page of a job list, replacing the message.
- ``job_cancel`` (``cancel``): cancel after Slack's confirm dialog, then update the card.
- ``job_link``, ``links_refresh``, ``job_notify_done``, ``links_connect`` (``links``):
  download links by DM, refreshed in place; "DM me when it's done"; link a Peaka key.

Each listener is a ``@button`` (``bot.listeners.after_ack``) attached with ``register_button``:
its middleware acks before the listener starts, then the listener works and answers through
the payload's response_url.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.core.cards import ACTION_CANCEL, ACTION_OLDER
from bot.listeners.actions import cancel, links, paging
from bot.listeners.after_ack import register_button

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the action listeners."""
    register_button(app, ACTION_OLDER, paging.on_older)
    register_button(app, ACTION_CANCEL, cancel.on_cancel)
    links.register(app)
