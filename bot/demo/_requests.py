"""The requests Slack sends an app, built and signed the way Slack does it.

Payload shapes follow Slack's documentation for slash commands (form fields), Events API
``event_callback`` envelopes (JSON) and interactivity payloads (``block_actions``,
``view_submission``, ``view_closed``: JSON in a ``payload`` form field). :class:`SignedPoster`
signs each body with the v0 scheme (``v0=HMAC_SHA256(secret, "v0:{timestamp}:{body}")``) so
the bot's own signature check runs on every request, as in production.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.demo._workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Delivery, Person

__all__ = [
    "SignedPoster",
    "block_actions",
    "interaction",
    "message_event",
    "slash_command",
    "view_submission",
]

_TOKEN = "demo-verification-token"  # the deprecated verification token; Bolt ignores it
_FORM = "application/x-www-form-urlencoded"


def slash_command(
    text: str,
    user: Person,
    *,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
) -> str:
    """The form body of ``/exports text`` typed by ``user`` in a channel."""
    return urlencode(
        {
            "token": _TOKEN,
            "team_id": TEAM_ID,
            "team_domain": "demo",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user.id,
            "user_name": user.name,
            "command": "/exports",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def message_event(text: str, user: Person, *, channel_id: str, ts: str, event_id: str) -> str:
    """The JSON body of a ``message.im`` event: ``user`` wrote ``text`` in their DM with the bot."""
    event = {
        "type": "message",
        "channel": channel_id,
        "channel_type": "im",
        "user": user.id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    return json.dumps(
        {
            "token": _TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def interaction(kind: str, user: Person, trigger_id: str, **fields: Any) -> str:
    """The form body of an interactivity payload of ``kind`` by ``user``."""
    payload = {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": "demo"},
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": _TOKEN,
        "trigger_id": trigger_id,
        "is_enterprise_install": False,
        **fields,
    }
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    element: dict[str, Any],
    message: Delivery,
    user: Person,
    *,
    trigger_id: str,
    response_url: str | None,
    channel_name: str,
) -> str:
    """A click on button ``element`` of ``message`` (a message, or a modal's view)."""
    action = {
        "action_id": element.get("action_id", ""),
        "block_id": element.get("block_id", "demo"),
        "text": element.get("text", {"type": "plain_text", "text": ""}),
        "value": element.get("value", ""),
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    if message.kind == "modal" and message.view is not None:
        container = {"type": "view", "view_id": message.ts}
        return interaction(
            "block_actions",
            user,
            trigger_id,
            actions=[action],
            container=container,
            view=message.view,
        )
    fields: dict[str, Any] = {
        "actions": [action],
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.kind == "ephemeral",
        },
        "channel": {"id": message.channel, "name": channel_name},
        "response_url": response_url,
    }
    if message.kind != "ephemeral":  # Slack leaves ephemeral messages out
        fields["message"] = {
            "type": "message",
            "ts": message.ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": message.text,
            "blocks": message.blocks,
        }
    return interaction("block_actions", user, trigger_id, **fields)


def view_submission(view: dict[str, Any], value: str, user: Person, *, trigger_id: str) -> str:
    """Submitting ``view`` with ``value`` typed into its first input (others left empty)."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if isinstance(block, dict) else None
        if not isinstance(element, dict) or block.get("type") != "input":
            continue
        typed = value if not values else ""
        state = {"type": element.get("type", "plain_text_input"), "value": typed}
        values[str(block.get("block_id", ""))] = {str(element.get("action_id", "")): state}
    return interaction(
        "view_submission", user, trigger_id, view={**view, "state": {"values": values}}
    )


class SignedPoster:
    """POSTs bodies to the bot's ``/slack/events``, signed with its signing secret."""

    def __init__(self, events_url: str, signing_secret: str) -> None:
        self.events_url = events_url
        self._signer = SignatureVerifier(signing_secret)
        self._http = httpx.AsyncClient(timeout=30.0)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, body: str, *, json_body: bool = False) -> httpx.Response:
        """Send one request; raises ``httpx.HTTPError`` when the bot can't be reached."""
        timestamp = str(int(time.time()))
        signature = self._signer.generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": "application/json" if json_body else _FORM,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(signature),
        }
        return await self._http.post(self.events_url, content=body.encode(), headers=headers)
