"""Send the app real, signed requests over HTTP, the way Slack does.

    signed = SignedSlack(bot_server.url + "/slack/events", signing_secret)
    response = await signed.slash_command("failed", response_url=slack.response_url("r1"))
    response = await signed.slash_command("help", wrong_secret=True)   # -> 401
    response = await signed.slash_command("help", stale=True)          # timestamp 6 min old

Signatures follow Slack's v0 scheme: ``v0=HMAC_SHA256(secret, "v0:{timestamp}:{body}")`` in
``X-Slack-Signature`` with ``X-Slack-Request-Timestamp`` (slack_sdk's SignatureVerifier).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

__all__ = ["SignedSlack", "sign", "slash_command_fields"]

STALE_SECONDS = 6 * 60  # Bolt rejects timestamps more than 5 minutes old


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The two Slack signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": str(signature)}


def slash_command_fields(
    text: str,
    *,
    team_id: str = "T0STANDIN",
    user_id: str = "U0ANA",
    channel_id: str = "C0GENERAL",
    response_url: str = "http://127.0.0.1:9/response/unused",
    command: str = "/exports",
    trigger_id: str = "1.0000.standin",
) -> dict[str, str]:
    """A slash command's fields: the form body in HTTP mode, the payload in Socket Mode."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "standin",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0STANDIN",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


class SignedSlack:
    """An HTTP client posting signed Slack requests to one events URL."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0STANDIN",
        user_id: str = "U0ANA",
        channel_id: str = "C0GENERAL",
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.user_id = user_id
        self.channel_id = channel_id
        self._http = httpx.AsyncClient(timeout=10.0)
        self._trigger = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SignedSlack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        wrong_secret: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
        unsigned: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``body`` signed (or deliberately mis-signed) to the events URL."""
        if stale and timestamp is None:
            timestamp = int(time.time()) - STALE_SECONDS
        secret = self.signing_secret + "-wrong" if wrong_secret else self.signing_secret
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if not unsigned:
            all_headers.update(sign(body, secret, timestamp))
        return await self._http.post(self.events_url, content=body.encode(), headers=all_headers)

    async def slash_command(
        self,
        text: str,
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        response_url: str = "http://127.0.0.1:9/response/unused",
        command: str = "/exports",
        trigger_id: str | None = None,
        **options: Any,
    ) -> httpx.Response:
        """A slash command, form-encoded like Slack sends it."""
        form = slash_command_fields(
            text,
            team_id=self.team_id,
            user_id=user_id or self.user_id,
            channel_id=channel_id or self.channel_id,
            response_url=response_url,
            command=command,
            trigger_id=trigger_id or self._next_trigger(),
        )
        return await self.send(urlencode(form), "application/x-www-form-urlencoded", **options)

    async def interactive(self, payload: dict[str, Any], **options: Any) -> httpx.Response:
        """Any interactivity payload, as JSON in the ``payload`` form field."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", **options)

    async def block_actions(
        self,
        actions: list[dict[str, Any]],
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        response_url: str | None = None,
        payload: dict[str, Any] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """A ``block_actions`` payload for ``actions`` (each needs action_id, value...)."""
        full = self.block_actions_payload(
            actions,
            user_id=user_id,
            channel_id=channel_id,
            message=message,
            response_url=response_url,
            payload=payload,
        )
        return await self.interactive(full, **options)

    def block_actions_payload(
        self,
        actions: list[dict[str, Any]],
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        response_url: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The ``block_actions`` payload :meth:`block_actions` sends."""
        full: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user_id or self.user_id, "team_id": self.team_id},
            "api_app_id": "A0STANDIN",
            "trigger_id": self._next_trigger(),
            "container": {"type": "message", "channel_id": channel_id or self.channel_id},
            "channel": {"id": channel_id or self.channel_id},
            "actions": [{"block_id": "b", "type": "button", **a} for a in actions],
        }
        if message is not None:
            full["message"] = message
            full["container"]["message_ts"] = message.get("ts")
        if response_url is not None:
            full["response_url"] = response_url
        full.update(payload or {})
        return full

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user_id: str | None = None,
        private_metadata: str = "",
        view: dict[str, Any] | None = None,
        **options: Any,
    ) -> httpx.Response:
        """A ``view_submission`` with ``values`` as ``view.state.values``."""
        full_view = {
            "id": "V000001",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "h1",
            **(view or {}),
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "standin"},
            "user": {"id": user_id or self.user_id, "team_id": self.team_id},
            "api_app_id": "A0STANDIN",
            "trigger_id": self._next_trigger(),
            "view": full_view,
        }
        return await self.interactive(payload, **options)

    async def event(self, event: dict[str, Any], **options: Any) -> httpx.Response:
        """An Events API ``event_callback`` wrapping ``event``."""
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0STANDIN",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{self._next_trigger()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": "U0BOT", "is_bot": True},
            ],
        }
        return await self.send(json.dumps(envelope), "application/json", **options)

    async def url_verification(self, challenge: str, **options: Any) -> httpx.Response:
        """Slack's endpoint check when the Request URL is saved."""
        body = json.dumps(
            {"token": "deprecated", "challenge": challenge, "type": "url_verification"}
        )
        return await self.send(body, "application/json", **options)

    def _next_trigger(self) -> str:
        self._trigger += 1
        return f"{self._trigger}.0000.standin"
