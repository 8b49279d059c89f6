"""Block Kit interactions (``block_actions``): the buttons on the bot's cards and lists.

- ``list_older`` (``paging``): the next page of a job list, replacing the message.
- ``job_cancel`` (``cancel``): cancel after Slack's confirm dialog, then update the card.
- ``job_link``, ``links_refresh``, ``job_notify_done``, ``links_connect`` (``links``):
  download links by DM, refreshed in place; "DM me when it's done"; link a Peaka key.

Each listener is a ``@button`` (``bot.listeners.after_ack``): it acks at once, then works and
answers through the payload's response_url.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.core.cards import ACTION_CANCEL, ACTION_OLDER
from bot.listeners.actions import cancel, links, paging

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the action listeners."""
    app.action(ACTION_OLDER)(paging.on_older)
    app.action(ACTION_CANCEL)(cancel.on_cancel)
    links.register(app)
