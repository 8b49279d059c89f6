"""A small Slack Web API on loopback for the demo: what the bot sends becomes terminal output.

The bot's ``AsyncWebClient`` (``SLACK_API_URL``) and Bolt's ``respond()`` (``response_url``)
talk to this server exactly as they would to Slack. Every message the bot sends, wherever it
goes, becomes a :class:`Delivery` handed to ``on_delivery``; the terminal prints it.

It answers the methods the bot uses: ``auth.test``, ``chat.postMessage|postEphemeral|update|
delete``, ``conversations.open|history|info``, ``users.info|lookupByEmail`` and
``views.open|update|push|publish``. Anything else gets ``unknown_method``, as Slack would.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.demo._workspace import BOT_ID, BOT_USER_ID, TEAM_ID, Delivery, Kind, Person, ResponseTarget

__all__ = ["DemoSlack"]

log = logging.getLogger(__name__)


class DemoSlack:
    """The stand-in server. ``async with DemoSlack(token, people, channels, on_delivery):``."""

    def __init__(
        self,
        token: str,
        people: list[Person],
        channels: dict[str, str],
        on_delivery: Callable[[Delivery], None],
    ) -> None:
        self.token = token
        self.people = {person.id: person for person in people}
        self.channels = dict(channels)  # channel id -> name
        self.on_delivery = on_delivery
        self.deliveries: list[Delivery] = []
        self.targets: dict[str, ResponseTarget] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._seq = itertools.count(1)
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._triggers: dict[str, str] = {}  # trigger_id -> the user whose action made it
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> DemoSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``SLACK_API_URL`` for the bot."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, response_id: str, target: ResponseTarget) -> str:
        """A response_url for one request; what the bot posts there is shown for ``target``."""
        self.targets[response_id] = target
        return f"http://127.0.0.1:{self.port}/response/{response_id}"

    def new_trigger(self, user_id: str) -> str:
        """A trigger_id for one request by ``user_id`` (views.open with it shows them a modal)."""
        trigger = f"{next(self._views)}.{int(time.time())}.demo"
        self._triggers[trigger] = user_id
        return trigger

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with ``user_id`` (D + the user id's tail)."""
        return "D" + user_id[1:]

    def dm_user(self, channel: str) -> str | None:
        """The person a DM channel id belongs to, if it is one."""
        if channel.startswith("D"):
            user_id = "U" + channel[1:]
            return user_id if user_id in self.people else None
        return None

    def next_ts(self) -> str:
        """A fresh, increasing message timestamp like Slack's (seconds.micros)."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def record_user_message(self, channel: str, user_id: str, text: str) -> dict[str, Any]:
        """Put a person's message into a channel's history (what they typed to the bot)."""
        message = {"type": "message", "ts": self.next_ts(), "user": user_id, "text": text}
        self._messages.setdefault(channel, []).append(message)
        return message

    # --- HTTP --------------------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["id"]
        target = self.targets.get(response_id)
        if target is None:
            return web.Response(status=404, text="no_such_response_url")
        body = _decode(await request.read(), request.headers.get("Content-Type", ""))
        in_channel = body.get("response_type") == "in_channel"
        replace = _truthy(body.get("replace_original"))
        deleted = _truthy(body.get("delete_original"))
        kind: Kind = "channel" if in_channel else "ephemeral"
        audience = None if in_channel else target.user_id
        ts = self.next_ts()
        on_message = (replace or deleted) and target.message_ts is not None
        if on_message and target.message_ts is not None:
            # Slack edits (or deletes) the message the button was on, for all who saw it.
            ts = target.message_ts
            kind = target.message_kind or "ephemeral"
            audience = None if kind == "channel" else target.message_audience or target.user_id
            self._edit_stored(target.channel_id, ts, body, deleted=deleted)
        self._emit(
            kind=kind,
            channel=target.channel_id,
            audience=audience,
            ts=ts,
            body=body,
            response_id=response_id,
            replaced=on_message and not deleted,
            deleted=on_message and deleted,
        )
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body: dict[str, Any] = dict(request.query)
        body.update(_decode(await request.read(), request.headers.get("Content-Type", "")))
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            log.warning("the demo's Slack stand-in does not know %s", method)
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            answer: dict[str, Any] = handler(body)
        except _SlackError as exc:
            answer = {"ok": False, "error": exc.code}
        return web.json_response(answer)

    # --- Web API methods ---------------------------------------------------------------------

    def _m_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://demo.slack.com/",
            "team": "Demo",
            "user": "exports-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        message = self._message(body)
        self._messages.setdefault(channel, []).append(message)
        self._emit_in_conversation(channel, message["ts"], body)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        user = str(body.get("user") or "")
        if user not in self.people:
            raise _SlackError("user_not_in_channel")
        message = self._message(body)
        self._emit(kind="ephemeral", channel=channel, audience=user, ts=message["ts"], body=body)
        return {"ok": True, "message_ts": message["ts"]}

    def _m_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        message = self._find(channel, str(body.get("ts") or ""))
        if "text" in body:
            message["text"] = str(body["text"])
        if "blocks" in body:
            message["blocks"] = _json(body["blocks"], "invalid_blocks")
        if "metadata" in body:
            message["metadata"] = _json(body["metadata"], "invalid_metadata_format")
        shown = {"text": message.get("text", ""), "blocks": message.get("blocks", [])}
        self._emit_in_conversation(channel, message["ts"], shown, updated=True)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        message = self._find(channel, str(body.get("ts") or ""))
        self._messages[channel].remove(message)
        self._emit_in_conversation(channel, message["ts"], {"text": ""}, deleted=True)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _m_conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(body.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _SlackError("not_implemented")  # only 1:1 DMs in the demo
        if users[0] not in self.people:
            raise _SlackError("user_not_found")
        return {"ok": True, "channel": {"id": self.dm_channel(users[0]), "is_im": True}}

    def _m_conversations_info(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        name = self.channels.get(channel, "")
        return {"ok": True, "channel": {"id": channel, "name": name, "is_im": not name}}

    def _m_conversations_history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(body)
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or "inf")
        limit = max(1, min(int(body.get("limit") or 100), 999))
        start = int(body.get("cursor") or 0)
        with_metadata = _truthy(body.get("include_all_metadata"))
        newest_first = [
            m for m in reversed(self._messages.get(channel, [])) if oldest < float(m["ts"]) < latest
        ]
        page = newest_first[start : start + limit]
        more = start + limit < len(newest_first)
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _m_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self.people.get(str(body.get("user") or ""))
        if person is None:
            raise _SlackError("user_not_found")
        return {"ok": True, "user": person.as_api()}

    def _m_users_lookupByEmail(self, body: dict[str, Any]) -> dict[str, Any]:
        email = str(body.get("email") or "").strip().lower()
        for person in self.people.values():
            if person.email.lower() == email:
                return {"ok": True, "user": person.as_api()}
        raise _SlackError("users_not_found")

    def _m_views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = self._triggers.get(str(body.get("trigger_id") or ""))
        if user_id is None:
            raise _SlackError("invalid_trigger_id")
        return {"ok": True, "view": self._show_view(body, user_id)}

    def _m_views_push(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._m_views_open(body)

    def _m_views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        view_id = str(body.get("view_id") or "")
        previous = next((d for d in reversed(self.deliveries) if d.ts == view_id), None)
        if previous is None or previous.audience is None:
            raise _SlackError("not_found")
        return {"ok": True, "view": self._show_view(body, previous.audience, view_id=view_id)}

    def _m_views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        # The App Home tab: nothing to show in a terminal, but the call must succeed.
        view = _json(body.get("view"), "invalid_arguments")
        return {"ok": True, "view": {**view, "id": f"VHOME{next(self._views):04d}"}}

    # --- internals ---------------------------------------------------------------------------

    def _show_view(
        self, body: dict[str, Any], user_id: str, *, view_id: str | None = None
    ) -> dict[str, Any]:
        view = _json(body.get("view"), "invalid_arguments")
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments")
        is_update = view_id is not None
        view_id = view_id or f"V{next(self._views):06d}"
        stored = {**view, "id": view_id, "hash": f"h{next(self._views)}"}
        self._emit(
            kind="modal",
            channel="",
            audience=user_id,
            ts=view_id,
            body={"text": _plain(view.get("title")), "blocks": view.get("blocks") or []},
            view=stored,
            updated=is_update,
        )
        return stored

    def _channel(self, body: dict[str, Any]) -> str:
        channel = str(body.get("channel") or "")
        if channel[:1] in ("U", "W") and channel in self.people:
            return self.dm_channel(channel)  # posting to a user id posts into their DM
        if channel in self.channels or self.dm_user(channel):
            return channel
        raise _SlackError("channel_not_found")

    def _message(self, body: dict[str, Any]) -> dict[str, Any]:
        if not any(body.get(k) for k in ("text", "blocks", "attachments")):
            raise _SlackError("no_text")
        message: dict[str, Any] = {
            "type": "message",
            "ts": self.next_ts(),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": str(body.get("text", "")),
        }
        if body.get("blocks"):
            message["blocks"] = _json(body["blocks"], "invalid_blocks")
        if body.get("metadata"):
            message["metadata"] = _json(body["metadata"], "invalid_metadata_format")
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
        return message

    def _edit_stored(self, channel: str, ts: str, body: dict[str, Any], *, deleted: bool) -> None:
        """Keep channel history in step with a response_url edit (ephemerals aren't stored)."""
        stored = self._messages.get(channel, [])
        for message in stored:
            if message["ts"] == ts:
                if deleted:
                    stored.remove(message)
                else:
                    message["text"] = str(body.get("text", ""))
                    message["blocks"] = body.get("blocks") or []
                return

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                return message
        raise _SlackError("message_not_found")

    def _emit_in_conversation(
        self,
        channel: str,
        ts: str,
        body: dict[str, Any],
        *,
        updated: bool = False,
        deleted: bool = False,
    ) -> None:
        """Show a message the bot posted, edited or deleted: in a DM if ``channel`` is one."""
        dm_user = self.dm_user(channel)
        self._emit(
            kind="dm" if dm_user else "channel",
            channel=channel,
            audience=dm_user,
            ts=ts,
            body=body,
            updated=updated,
            deleted=deleted,
        )

    def _emit(
        self,
        *,
        kind: Kind,
        channel: str,
        audience: str | None,
        ts: str,
        body: dict[str, Any],
        response_id: str | None = None,
        updated: bool = False,
        replaced: bool = False,
        deleted: bool = False,
        view: dict[str, Any] | None = None,
    ) -> None:
        blocks = body.get("blocks") or []
        if isinstance(blocks, str):
            blocks = _json(blocks, "invalid_blocks")
        delivery = Delivery(
            seq=next(self._seq),
            kind=kind,
            channel=channel,
            audience=audience,
            ts=ts,
            text=str(body.get("text") or ""),
            blocks=blocks if isinstance(blocks, list) else [],
            response_id=response_id,
            updated=updated,
            replaced=replaced,
            deleted=deleted,
            view=view,
        )
        self.deliveries.append(delivery)
        self.on_delivery(delivery)


class _SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _decode(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _json(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _SlackError(error) from None
    if value is None:
        raise _SlackError(error)
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _plain(text_object: Any) -> str:
    if isinstance(text_object, dict):
        return str(text_object.get("text") or "")
    return str(text_object or "")
