"""A loopback stand-in for the Slack Web API, for end-to-end tests over real HTTP.

    async with SlackStandIn(token="xoxb-test") as slack:
        slack.add_user("U0ANA", "ana@example.com")
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        ...
        slack.calls("chat.postMessage")[0].body["channel"]

It records every call (method, headers, parsed body, raw body), keeps posted messages per
channel (with ``metadata``), answers the methods the bot uses, and has fault knobs:
``errors`` (per method and target), ``rate_limit()`` (HTTP 429 with ``retry_after``, default
1 s, seeded), ``not_in_channel`` and ``archived`` channel sets. ``response_url(id)`` is a URL
whose posts are recorded under ``responses(id)``. ``HoldingStandIn`` can also hold the answer to
an accepted chat.postMessage, to kill the bot between "Slack stored it" and "the bot knows".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote_plus

from aiohttp import web

from bot.poller import keys_in_metadata

__all__ = ["AlertKey", "Call", "HoldingStandIn", "ResponsePost", "SlackStandIn", "StandInUser"]

T = TypeVar("T")
AlertKey = tuple[str, str, str]  # (job id, status, channel) of one alert a post covers

# Which request field names the "target" of a call, for fault keys in `errors`.
_TARGET_FIELD = {
    "chat.postMessage": "channel",
    "chat.postEphemeral": "channel",
    "chat.update": "channel",
    "chat.delete": "channel",
    "conversations.history": "channel",
    "conversations.open": "users",
    "users.info": "user",
    "users.lookupByEmail": "email",
    "views.open": "trigger_id",
    "views.update": "view_id",
    "views.publish": "user_id",
}
_CHANNEL_WRITES = ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete")


@dataclass(frozen=True)
class Call:
    """One request to the stand-in's Web API."""

    method: str
    http_method: str
    headers: dict[str, str]
    body: dict[str, Any]  # query + form fields, or the JSON object
    raw: bytes
    query: str
    status: int  # the HTTP status answered
    response: dict[str, Any]
    peer: Any = None  # the client's (host, port): one per connection

    @property
    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass(frozen=True)
class ResponsePost:
    """One post to a ``response_url``."""

    id: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        return self.body.get("blocks")

    @property
    def response_type(self) -> str | None:
        return self.body.get("response_type")

    @property
    def replace_original(self) -> bool:
        return _truthy(self.body.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return _truthy(self.body.get("delete_original"))


@dataclass
class StandInUser:
    id: str
    email: str | None
    name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False

    def as_api(self, team_id: str) -> dict[str, Any]:
        profile: dict[str, Any] = {"display_name": self.name, "real_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name or self.id.lower(),
            "real_name": self.name,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "deleted": self.deleted,
            "profile": profile,
        }


@dataclass
class SlackStandIn:
    """The stand-in server. Use as ``async with``; ``base_url`` ends with ``/api/``."""

    token: str = "xoxb-standin-0000-token"
    app_token: str = "xapp-1-standin-app-token"  # for apps.connections.open (Socket Mode)
    team_id: str = "T0STANDIN"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    seed: int = 0
    # Fault knobs, mutable at any time:
    # errors[method][target or "*"] = error code,
    # e.g. {"chat.postMessage": {"C_GONE": "channel_not_found"}}
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    rate_limited: dict[str, float] = field(default_factory=dict)  # method -> share answered 429
    not_in_channel: set[str] = field(default_factory=set)
    archived: set[str] = field(default_factory=set)
    # response_url id -> HTTP status to answer instead of 200 (e.g. 404 for an expired URL)
    response_url_status: dict[str, int] = field(default_factory=dict)
    # The Retry-After header of its 429s (slack_sdk waits that + up to 1 s).
    retry_after: str = "1"

    def __post_init__(self) -> None:
        self.users: dict[str, StandInUser] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._calls: list[Call] = []
        self._responses: dict[str, list[ResponsePost]] = {}
        self._rng = random.Random(self.seed)
        self._limit_next: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        # What Socket Mode clients sent back (acks: {"envelope_id": ..., "payload": ...}).
        self.socket_replies: list[dict[str, Any]] = []
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    # --- set-up and inspection ---------------------------------------------------------------

    def add_user(
        self, user_id: str, email: str | None, *, name: str = "", is_admin: bool = False, **kw: Any
    ) -> StandInUser:
        user = StandInUser(user_id, email, name=name or user_id, is_admin=is_admin, **kw)
        self.users[user_id] = user
        return user

    def fail(self, method: str, error: str, target: str = "*") -> None:
        """Answer ``method`` (for ``target``, or always) with ``{"ok": false, "error": error}``."""
        self.errors.setdefault(method, {})[target] = error

    def rate_limit(self, methods: Iterable[str], ratio: float) -> None:
        """Answer this share of calls to ``methods`` with HTTP 429 (``retry_after``)."""
        for method in methods:
            self.rate_limited[method] = ratio

    def rate_limit_next(self, method: str, count: int = 1) -> None:
        """Answer the next ``count`` calls to ``method`` with HTTP 429 (deterministic)."""
        self._limit_next[method] = count

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id.removeprefix("U").removeprefix("W")

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in ``channel`` (user ids mean their DM), oldest first."""
        return list(self._messages.get(self._channel_id(channel), []))

    def all_messages(self) -> dict[str, list[dict[str, Any]]]:
        return {channel: list(msgs) for channel, msgs in self._messages.items()}

    def post_as_user(self, channel: str, user_id: str, text: str, **extra: Any) -> dict[str, Any]:
        """Put a message from a person into a channel's history (not a Web API call)."""
        message = {"type": "message", "ts": self._next_ts(), "user": user_id, "text": text, **extra}
        self._messages.setdefault(self._channel_id(channel), []).append(message)
        return message

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call (to ``method`` only, when given), in arrival order."""
        return [c for c in self._calls if method is None or c.method == method]

    def all_request_bodies(self) -> list[str]:
        """Every request body and query seen (form bodies decoded), response_url posts included."""
        texts = []
        for call in self._calls:
            raw = call.raw.decode("utf-8", "replace")
            form = "json" not in call.headers.get("Content-Type", "")
            texts.append(unquote_plus(raw) if form else raw)
            if call.query:
                texts.append(unquote_plus(call.query))
        for posts in self._responses.values():
            texts.extend(post.raw.decode("utf-8", "replace") for post in posts)
        return texts

    def response_url(self, response_id: str) -> str:
        """A response_url to hand the bot; posts to it appear in ``responses(response_id)``."""
        return f"{self.root_url}/response/{response_id}"

    def responses(self, response_id: str) -> list[ResponsePost]:
        return list(self._responses.get(response_id, []))

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def send_envelope(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Push a Socket Mode envelope (e.g. "slash_commands") to the connected client."""
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise AssertionError("no Socket Mode client is connected")
        await live[-1].send_str(json.dumps(envelope))
        return envelope_id

    def socket_reply(self, envelope_id: str) -> dict[str, Any] | None:
        """The client's ack for ``envelope_id``, once it has arrived."""
        for reply in self.socket_replies:
            if reply.get("envelope_id") == envelope_id:
                return reply
        return None

    async def wait_for(self, predicate: Callable[[], T], within: float = 5.0) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                seen = [c.method for c in self._calls][-20:]
                raise AssertionError(f"not true within {within} s; last Slack calls: {seen}")
            await asyncio.sleep(0.01)

    # --- HTTP handlers -----------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = dict(parse_qsl(raw.decode("utf-8", "replace")))
        response_id = request.match_info["id"]
        post = ResponsePost(response_id, body, raw, dict(request.headers))
        self._responses.setdefault(response_id, []).append(post)
        status = self.response_url_status.get(response_id, 200)
        return web.Response(status=status, text="ok" if status == 200 else "expired_url")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0"}}
        await ws.send_str(json.dumps(hello))
        async for message in ws:
            if message.type.name == "TEXT":
                self.socket_replies.append(json.loads(message.data))
        return ws

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        body: dict[str, Any] = dict(request.query)
        content_type = request.headers.get("Content-Type", "")
        if raw and "json" in content_type:
            try:
                body.update(json.loads(raw))
            except ValueError:
                body["_invalid_json"] = True
        elif raw:
            body.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

        status, answer, headers = self._answer(method, request.headers, body)
        call = Call(
            method=method,
            http_method=request.method,
            headers=dict(request.headers),
            body=body,
            raw=raw,
            query=request.query_string,
            status=status,
            response=answer,
            peer=request.transport.get_extra_info("peername") if request.transport else None,
        )
        self._calls.append(call)
        return web.json_response(answer, status=status, headers=headers)

    def _answer(
        self, method: str, headers: Any, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return 200, _error("not_authed"), {}
        expected = self.app_token if method == "apps.connections.open" else self.token
        if auth.removeprefix("Bearer ") != expected:
            return 200, _error("invalid_auth"), {}
        ratio = self.rate_limited.get(method, 0.0)
        if self._limit_next.get(method, 0) > 0:
            self._limit_next[method] -= 1
            return 429, _error("ratelimited"), {"Retry-After": self.retry_after}
        if ratio and self._rng.random() < ratio:
            return 429, _error("ratelimited"), {"Retry-After": self.retry_after}
        if body.get("_invalid_json"):
            return 200, _error("invalid_json"), {}
        target = str(body.get(_TARGET_FIELD.get(method, ""), ""))
        faults = self.errors.get(method, {})
        error = faults.get(target) or faults.get("*")
        if error:
            return 200, _error(error), {}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, _error("unknown_method"), {}
        if method in _CHANNEL_WRITES or method == "conversations.history":
            channel = self._channel_id(target)
            if channel in self.archived and method in _CHANNEL_WRITES:
                return 200, _error("is_archived"), {}
            if channel in self.not_in_channel:
                return 200, _error("not_in_channel"), {}
        try:
            return 200, handler(body), {}
        except _ApiError as exc:
            return 200, _error(exc.code), {}

    # --- methods -----------------------------------------------------------------------------

    def _m_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://standin.slack.com/",
            "team": "Stand-in",
            "user": "exports-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(body, "channel"))
        message = self._message_from(body)
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
        self._messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(body, "channel"))
        user = _required(body, "user")
        message = self._message_from(body)
        self.ephemerals.append({**message, "channel": channel, "to": user})
        return {"ok": True, "message_ts": message["ts"]}

    def _m_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(body, "channel"))
        message = self._find(channel, _required(body, "ts"))
        if "text" in body:
            message["text"] = str(body["text"])
        if "blocks" in body:
            message["blocks"] = _json_value(body["blocks"], "invalid_blocks")
        if "metadata" in body:
            message["metadata"] = _json_value(body["metadata"], "invalid_metadata_format")
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": message,
        }

    def _m_chat_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(body, "channel"))
        message = self._find(channel, _required(body, "ts"))
        self._messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _m_conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(_required(body, "users")).split(",") if u]
        if len(users) != 1:
            raise _ApiError("not_implemented")  # the stand-in only opens 1:1 DMs
        if users[0] not in self.users:
            raise _ApiError("user_not_found")
        return {"ok": True, "channel": {"id": self.dm_channel(users[0])}}

    def _m_conversations_history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(body, "channel"))
        with_metadata = _truthy(body.get("include_all_metadata"))
        inclusive = _truthy(body.get("inclusive"))
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or "inf")
        limit = max(1, min(int(body.get("limit") or 100), 999))
        start = int(body.get("cursor") or 0)

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        top_level = [
            m
            for m in reversed(self._messages.get(channel, []))
            if m.get("thread_ts", m["ts"]) == m["ts"] and in_range(float(m["ts"]))
        ]
        page = top_level[start : start + limit]
        more = start + limit < len(top_level)
        shown = [m if with_metadata else _without(m, "metadata") for m in page]
        return {
            "ok": True,
            "messages": shown,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _m_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(_required(body, "user")))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": user.as_api(self.team_id)}

    def _m_users_lookupByEmail(self, body: dict[str, Any]) -> dict[str, Any]:
        email = str(_required(body, "email")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"ok": True, "user": user.as_api(self.team_id)}
        raise _ApiError("users_not_found")

    def _m_views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        _required(body, "trigger_id")
        view = self._new_view(body)
        return {"ok": True, "view": view}

    def _m_views_update(self, body: dict[str, Any]) -> dict[str, Any]:
        view_id = body.get("view_id") or self._view_by_external(body.get("external_id"))
        if not view_id or view_id not in self.views:
            raise _ApiError("not_found")
        current = self.views[view_id]
        if body.get("hash") and body["hash"] != current["hash"]:
            raise _ApiError("hash_conflict")
        update = _json_value(_required(body, "view"), "invalid_arguments")
        self.views[view_id] = {**update, "id": view_id, "hash": f"h{next(self._view_ids)}"}
        return {"ok": True, "view": self.views[view_id]}

    def _m_views_publish(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = str(_required(body, "user_id"))
        view = self._new_view(body)
        self.home_views[user_id] = view
        return {"ok": True, "view": view}

    # --- internals ---------------------------------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _channel_id(self, channel: str) -> str:
        # Posting to a user id posts into the DM with that user, as Slack does.
        return self.dm_channel(channel) if channel[:1] in ("U", "W") else channel

    def _message_from(self, body: dict[str, Any]) -> dict[str, Any]:
        if not any(body.get(k) for k in ("text", "blocks", "attachments")):
            raise _ApiError("no_text")
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._next_ts(),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": str(body.get("text", "")),
        }
        if body.get("blocks"):
            message["blocks"] = _json_value(body["blocks"], "invalid_blocks")
        if body.get("metadata"):
            message["metadata"] = _json_value(body["metadata"], "invalid_metadata_format")
        return message

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self._messages.get(channel, []):
            if message["ts"] == str(ts):
                return message
        raise _ApiError("message_not_found")

    def _new_view(self, body: dict[str, Any]) -> dict[str, Any]:
        view = _json_value(_required(body, "view"), "invalid_arguments")
        view_id = f"V{next(self._view_ids):06d}"
        stored = {**view, "id": view_id, "hash": f"h{next(self._view_ids)}"}
        self.views[view_id] = stored
        return stored

    def _view_by_external(self, external_id: Any) -> str | None:
        for view_id, view in self.views.items():
            if external_id and view.get("external_id") == external_id:
                return view_id
        return None


class HoldingStandIn(SlackStandIn):
    """The stand-in, plus: hold the HTTP answer to an accepted chat.postMessage.

    A held post is stored (the message is in the channel) but its answer waits for
    ``release()``; ``held`` is set and ``held_keys`` gets the alerts it covers, so a test can
    kill the poster exactly between "Slack accepted the post" and "the bot learned its ts".
    ``hold_next_post()`` holds the next accepted post; ``hold_posts = True`` holds every one
    until ``release()``. ``on_alert_post`` is called with the alert keys of every accepted
    post as it is accepted (before any hold).
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hold_posts = False
        self._hold_next = False
        self.held = asyncio.Event()
        self.held_keys: list[AlertKey] = []
        self._release = asyncio.Event()
        self.on_alert_post: Callable[[list[AlertKey]], None] = lambda keys: None

    def hold_next_post(self) -> None:
        self._hold_next = True
        self.held = asyncio.Event()
        self._release = asyncio.Event()

    def release(self) -> None:
        self.hold_posts = False
        self._hold_next = False
        self._release.set()

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        if request.match_info["method"] != "chat.postMessage":
            return response
        call = self._calls[-1]  # recorded just now: no await since it was appended
        if not call.ok:
            return response
        channel = str(call.response.get("channel"))
        keys = []
        for key in keys_in_metadata((call.response.get("message") or {}).get("metadata")):
            job_id, _, status = key.rpartition(":")
            keys.append((job_id, status, channel))
        self.on_alert_post(keys)
        if self.hold_posts or self._hold_next:
            self._hold_next = False
            release = self._release
            self.held_keys.extend(keys)
            self.held.set()
            await release.wait()
        return response


class _ApiError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _required(body: dict[str, Any], name: str) -> Any:
    value = body.get(name)
    if value in (None, ""):
        raise _ApiError("invalid_arguments" if name != "channel" else "channel_not_found")
    return value


def _json_value(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(error) from None
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _without(message: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != key}
