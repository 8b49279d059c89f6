"""The connect modal's submission: check the pasted key, then answer in the modal itself."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.links import CONNECT_BLOCK, CONNECT_INPUT, submit_connect

__all__ = ["on_connect_submit", "submitted_key"]

log = logging.getLogger(__name__)

_SORRY = "Something went wrong on my side; your key was not stored. Try again in a minute."


def submitted_key(view: dict[str, Any]) -> object:
    """The text typed into the key field (None when the payload lacks it)."""
    values = (view.get("state") or {}).get("values") or {}
    block = values.get(CONNECT_BLOCK) if isinstance(values, dict) else None
    field = block.get(CONNECT_INPUT) if isinstance(block, dict) else None
    return field.get("value") if isinstance(field, dict) else None


async def on_connect_submit(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Ack with the outcome: errors under the field, or the modal turned into a confirmation.

    The check happens before the ack (the answer goes in the ack), within Slack's 3 s.
    """
    services = context["services"]
    user = body.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    async with services.in_flight.track():
        try:
            if not user_id:
                raise ValueError("the submission names no user")
            answer = await submit_connect(services, user_id, submitted_key(view))
        except Exception as exc:
            # The type only: the message could quote the submission.
            log.error("storing a linked key failed: %s", type(exc).__name__)
            answer = {"response_action": "errors", "errors": {CONNECT_BLOCK: _SORRY}}
        await ack(**answer)
