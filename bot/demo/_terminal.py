"""The demo's front end: what you type becomes the requests Slack would send the bot.

Each line is one of:

- ``/exports ...``: a slash command in #exports-alerts, form-encoded and signed (v0 HMAC with
  the signing secret) and POSTed to the bot's ``/slack/events``, exactly as Slack does;
- ``!N`` (``!N yes`` for buttons that ask to confirm): a ``block_actions`` click on button N;
- ``/submit TEXT``, ``/close``: submit or dismiss the modal the bot opened;
- ``/as NAME``: act as another person; ``/wait SECONDS``; ``/help``; ``/quit``;
- anything else: a direct message to the bot (a ``message.im`` event).

What the bot sends comes back through :class:`~bot.demo._slack.DemoSlack` and is printed
with a label saying who saw it: ``#exports-alerts``, ``DM`` or ``only you``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.console import Console
from rich.text import Text
from slack_sdk.signature import SignatureVerifier

from bot.demo._render import BlockRenderer
from bot.demo._slack import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Delivery,
    DemoSlack,
    Person,
    ResponseTarget,
)

__all__ = ["HELP", "Terminal"]

APP_ID = "A0DEMO"
# How long to wait for the bot's answer to one request before reading the next line.
REPLY_TIMEOUT = 15.0
# After the first answer, how long it must stay quiet before the next line (DMs follow).
QUIET = 0.4

HELP = """\
Type what you would type in Slack:
  /exports failed                 list failed exports (try: running, succeeded mine, all limit 3)
  /exports show ID                one job's card; /exports cancel ID cancels it
  /exports subscribe failed       alert #exports-alerts when a job fails (succeeded, cancelled...)
  /exports link ID                DM yourself the download links of your own export
  link ID   (or just the ID)      the same, as a direct message to the bot
  /exports help                   everything the bot understands
Demo commands:
  !N   press button [N]  (!N yes for buttons that ask to confirm, such as Cancel)
  /as NAME     act as someone else: ana, ben, cy or dee
  /submit TEXT fill in and submit the open modal; /close dismisses it
  /wait N      wait N seconds, printing what arrives (handy in scripts)
  /help        this text; /quit (or Ctrl-D) leaves
Labels say who saw each message: #exports-alerts (the channel), DM, only you."""


@dataclass(frozen=True, slots=True)
class _Button:
    element: dict[str, Any]
    message: Delivery


class Terminal:
    """Reads commands, sends signed requests to the bot, prints what the bot sends."""

    def __init__(
        self,
        console: Console,
        slack: DemoSlack,
        events_url: str,
        signing_secret: str,
        *,
        user: Person,
        channel: str,
        now: Callable[[], Any] | None = None,
    ) -> None:
        self.console = console
        self.slack = slack
        self.events_url = events_url
        self.user = user
        self.channel = channel
        self.quiet = False  # set while the demo sets itself up
        self.prompt: str | None = None  # shown again after output that arrives while typing
        self._signer = SignatureVerifier(signing_secret)
        self._http = httpx.AsyncClient(timeout=30.0)
        self._renderer = BlockRenderer(self._names(), now=now, width=lambda: console.width)
        self._buttons: dict[int, _Button] = {}
        self._next_button = 1
        self._ids = itertools.count(1)
        self._closed: set[str] = set()  # ids of modals submitted or dismissed

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- output ------------------------------------------------------------------------------

    def show(self, delivery: Delivery) -> None:
        """Print one delivery (DemoSlack's ``on_delivery``)."""
        if self.quiet:
            return
        if self.prompt is not None:
            self.console.print()
        header = Text(f"[{self.label(delivery)}]", style=self._label_style(delivery))
        if delivery.kind != "channel" and delivery.audience not in (None, self.user.id):
            # Someone else's private message: one line, so yours stay readable.
            self.console.print(header, self._summary(delivery), soft_wrap=True)
        elif delivery.deleted:
            self.console.print(header, Text(" (message deleted)", style="dim"))
        else:
            rendered = self._renderer.render(
                delivery.blocks, delivery.text, first_button=self._next_button
            )
            for element in rendered.buttons:
                self._buttons[self._next_button] = _Button(element, delivery)
                self._next_button += 1
            self.console.print(header)
            for line in rendered.lines:
                self.console.print(line, soft_wrap=True)
            if delivery.kind == "modal":
                self.note("type /submit TEXT to submit this modal, /close to dismiss it")
        self.console.print()
        if self.prompt is not None:
            self.console.print(self.prompt, end="")

    def label(self, delivery: Delivery) -> str:
        """Where a delivery went, from the current user's point of view."""
        who = self._name(delivery.audience)
        you = delivery.audience == self.user.id
        if delivery.kind == "channel":
            base = "#" + self.slack.channels.get(delivery.channel, delivery.channel)
        elif delivery.kind == "dm":
            base = "DM" if you else f"DM to {who}"
        elif delivery.kind == "modal":
            base = "modal" if you else f"modal for {who}"
        else:
            base = "only you" if you else f"only {who}"
        if delivery.deleted:
            return base
        if delivery.replaced:
            return f"{base} · replaces the message"
        if delivery.updated:
            return f"{base} · updated"
        return base

    def note(self, text: str, *, style: str = "dim") -> None:
        if not self.quiet:
            self.console.print(Text(text, style=style))

    def echo(self, line: str) -> None:
        """Show a scripted command as if typed (stdin is not a terminal)."""
        self.console.print(Text(f"{self.user.name}> ", style="bold") + Text(line))

    # --- input -------------------------------------------------------------------------------

    async def execute(self, line: str) -> bool:
        """Run one input line; False means the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        lowered = word.lower()
        if lowered in ("/quit", "/exit", "/q"):
            return False
        if lowered in ("/help", "/?"):
            self.console.print(HELP, markup=False, highlight=False)
        elif lowered == "/exports":
            await self.slash_command(rest)
        elif lowered == "/as":
            self.switch_user(rest)
        elif lowered == "/wait":
            await self.wait(rest)
        elif lowered == "/submit":
            await self.submit_modal(rest)
        elif lowered == "/close":
            await self.close_modal()
        elif word.startswith("!"):
            await self.press(word[1:], rest)
        elif word.startswith("/"):
            self.note(
                f"{word} is not a command here. Slack commands: /exports ...; demo commands: "
                "/as, /submit, /close, /wait, /help, /quit.",
                style="yellow",
            )
        else:
            await self.direct_message(line)
        return True

    def switch_user(self, name: str) -> None:
        wanted = name.strip().lstrip("@").lower()
        for person in self.slack.people.values():
            if wanted in (person.name, person.id.lower(), person.email.lower()):
                self.user = person
                self.note(f"You are now {person.name} ({person.email}, Slack id {person.id}).")
                return
        names = ", ".join(p.name for p in self.slack.people.values())
        shown = f"{name!r} is not" if name else "Say who to be; there is"
        self.note(f"{shown} someone in this workspace. People: {names}.", style="yellow")

    async def wait(self, seconds: str) -> None:
        try:
            value = float(seconds)
        except ValueError:
            self.note("/wait takes a number of seconds, e.g. /wait 5", style="yellow")
            return
        await asyncio.sleep(min(max(value, 0.0), 3600.0))

    # --- requests to the bot -----------------------------------------------------------------

    async def slash_command(
        self, text: str, *, user: Person | None = None, wait_up_to: float = REPLY_TIMEOUT
    ) -> None:
        user = user or self.user
        response_id = f"cmd{next(self._ids)}"
        target = ResponseTarget(user.id, self.channel)
        form = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "demo",
            "channel_id": self.channel,
            "channel_name": self.slack.channels.get(self.channel, ""),
            "user_id": user.id,
            "user_name": user.name,
            "command": "/exports",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(response_id, target),
            "trigger_id": self.slack.new_trigger(user.id),
        }
        body = urlencode(form)
        await self._send(body, "application/x-www-form-urlencoded", response_id, user, wait_up_to)

    async def direct_message(self, text: str) -> None:
        channel = self.slack.dm_channel(self.user.id)
        message = self.slack.record_user_message(channel, self.user.id, text)
        event = {
            "type": "message",
            "channel": channel,
            "channel_type": "im",
            "user": self.user.id,
            "text": text,
            "ts": message["ts"],
            "event_ts": message["ts"],
            "team": TEAM_ID,
        }
        envelope = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        await self._send(json.dumps(envelope), "application/json", None, self.user)

    async def press(self, number_text: str, rest: str) -> None:
        try:
            number = int(number_text)
        except ValueError:
            self.note("Press a button with its number, e.g. !1", style="yellow")
            return
        button = self._buttons.get(number)
        if button is None:
            shown = f"up to {self._next_button - 1}" if self._next_button > 1 else "none yet"
            self.note(f"There is no button [{number}] (buttons so far: {shown}).", style="yellow")
            return
        message = button.message
        private = message.kind in ("dm", "ephemeral", "modal")
        if private and message.audience != self.user.id:
            owner = self._name(message.audience)
            self.note(
                f"Button [{number}] is on a message only {owner} can see; /as {owner} to press it.",
                style="yellow",
            )
            return
        confirm = button.element.get("confirm")
        if confirm and rest.lower() not in ("y", "yes"):
            title = _text_of(confirm.get("title")) or "Are you sure?"
            question = _text_of(confirm.get("text"))
            self.note(f"{title} {question}".strip(), style="bold yellow")
            self.note(f"Type !{number} yes to go ahead.", style="yellow")
            return
        await self._click(button)

    async def submit_modal(
        self, value: str, *, user: Person | None = None, wait_up_to: float = REPLY_TIMEOUT
    ) -> bool:
        """Fill the open modal's first input with ``value`` and submit it; False if none is open."""
        user = user or self.user
        modal = self.open_modal(user)
        if modal is None or modal.view is None:
            self.note(
                "No modal is open. Commands such as /exports connect open one.", style="yellow"
            )
            return False
        values: dict[str, dict[str, Any]] = {}
        filled = False
        for block in modal.view.get("blocks") or []:
            element = block.get("element") if isinstance(block, dict) else None
            if block.get("type") != "input" or not isinstance(element, dict):
                continue
            text = value if not filled else ""
            filled = True
            state = {"type": element.get("type", "plain_text_input"), "value": text}
            values[str(block.get("block_id", ""))] = {str(element.get("action_id", "")): state}
        payload = {
            **self._interaction_base("view_submission", user),
            "view": {**modal.view, "state": {"values": values}},
        }
        self._closed.add(modal.ts)
        await self._send_payload(payload, None, user, wait_up_to, view=modal)
        return True

    async def close_modal(self) -> None:
        modal = self.open_modal(self.user)
        if modal is None or modal.view is None:
            self.note("No modal is open.", style="yellow")
            return
        self._closed.add(modal.ts)
        base = self._interaction_base("view_closed", self.user)
        payload = {**base, "view": modal.view, "is_cleared": False}
        await self._send_payload(payload, None, self.user)
        self.note("(modal closed)")

    # --- internals ---------------------------------------------------------------------------

    def open_modal(self, user: Person) -> Delivery | None:
        """The modal ``user`` has open (the newest one shown to them and not yet closed)."""
        for delivery in reversed(self.slack.deliveries):
            if delivery.kind == "modal" and delivery.audience == user.id:
                return None if delivery.ts in self._closed else delivery
        return None

    async def _click(self, button: _Button) -> None:
        message = button.message
        element = button.element
        response_id = f"act{next(self._ids)}"
        action = {
            "action_id": element.get("action_id", ""),
            "block_id": element.get("block_id", "demo"),
            "text": element.get("text", {"type": "plain_text", "text": ""}),
            "value": element.get("value", ""),
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
        payload = self._interaction_base("block_actions", self.user)
        payload["actions"] = [action]
        if message.kind == "modal" and message.view is not None:
            payload["container"] = {"type": "view", "view_id": message.ts}
            payload["view"] = message.view
        else:
            target = ResponseTarget(self.user.id, message.channel, message.ts)
            payload["response_url"] = self.slack.response_url(response_id, target)
            payload["channel"] = {"id": message.channel, "name": self._channel_name(message)}
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": message.kind == "ephemeral",
            }
            if message.kind != "ephemeral":  # Slack leaves ephemeral messages out
                payload["message"] = {
                    "type": "message",
                    "ts": message.ts,
                    "user": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "text": message.text,
                    "blocks": message.blocks,
                }
        await self._send_payload(payload, response_id, self.user)

    def _interaction_base(self, kind: str, user: Person) -> dict[str, Any]:
        return {
            "type": kind,
            "team": {"id": TEAM_ID, "domain": "demo"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "demo-verification-token",
            "trigger_id": self.slack.new_trigger(user.id),
            "is_enterprise_install": False,
        }

    async def _send_payload(
        self,
        payload: dict[str, Any],
        response_id: str | None,
        user: Person,
        wait_up_to: float = REPLY_TIMEOUT,
        *,
        view: Delivery | None = None,
    ) -> None:
        body = urlencode({"payload": json.dumps(payload)})
        kind = "application/x-www-form-urlencoded"
        await self._send(body, kind, response_id, user, wait_up_to, view=view)

    async def _send(
        self,
        body: str,
        content_type: str,
        response_id: str | None,
        user: Person,
        wait_up_to: float = REPLY_TIMEOUT,
        *,
        view: Delivery | None = None,
    ) -> None:
        """POST a signed request, show any answer in the ack, then wait for the bot's replies."""
        since = len(self.slack.deliveries)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": str(
                self._signer.generate_signature(timestamp=timestamp, body=body)
            ),
        }
        try:
            ack = await self._http.post(self.events_url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            self.note(f"Could not reach the bot: {type(exc).__name__}", style="bold red")
            return
        if ack.status_code != 200:
            self.note(
                f"The bot answered HTTP {ack.status_code}: {ack.text[:200]}", style="bold red"
            )
            return
        answered = self._show_ack(ack, user, view)
        await self._settle(since, response_id, user, wait_up_to, answered=answered)

    def _show_ack(self, ack: httpx.Response, user: Person, view: Delivery | None) -> bool:
        """Show what the bot put in the HTTP ack itself (an immediate reply, modal errors)."""
        if not ack.content:
            return False
        try:
            body = ack.json()
        except ValueError:
            body = {"text": ack.text}
        if not isinstance(body, dict):
            return False
        action = body.get("response_action")
        if action == "errors" and isinstance(body.get("errors"), dict):
            for problem in body["errors"].values():
                self.note(f"modal: {problem}", style="bold yellow")
            if view is not None:
                self._closed.discard(view.ts)  # still open: fix and /submit again
            return True
        if action in ("update", "push") and isinstance(body.get("view"), dict):
            new_view = {**body["view"], "id": view.ts if view else "V0"}
            self.show(
                Delivery(
                    seq=0,
                    kind="modal",
                    channel="",
                    audience=user.id,
                    ts=new_view["id"],
                    text=_text_of(new_view.get("title")),
                    blocks=new_view.get("blocks") or [],
                    view=new_view,
                    updated=True,
                )
            )
            return True
        if action == "clear" or (view is not None and not body.get("text")):
            return False
        if body.get("text") or body.get("blocks"):
            ts = self.slack.next_ts()
            self.show(
                Delivery(
                    seq=0,
                    kind="ephemeral",
                    channel=self.channel,
                    audience=user.id,
                    ts=ts,
                    text=str(body.get("text", "")),
                    blocks=list(body.get("blocks") or []),
                )
            )
            return True
        return False

    async def _settle(
        self,
        since: int,
        response_id: str | None,
        user: Person,
        wait_up_to: float,
        *,
        answered: bool,
    ) -> None:
        """Wait for the bot's reply to this request, then for it to go quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_up_to
        seen = since

        def related(d: Delivery) -> bool:
            return (response_id is not None and d.response_id == response_id) or (
                d.audience == user.id
            )

        while not answered and loop.time() < deadline:
            await asyncio.sleep(0.02)
            answered = any(related(d) for d in self.slack.deliveries[since:])
        if not answered:
            self.note(f"(no answer from the bot within {wait_up_to:g} s)", style="yellow")
            return
        quiet_since = loop.time()
        limit = loop.time() + 3.0
        while loop.time() - quiet_since < QUIET and loop.time() < limit:
            await asyncio.sleep(0.02)
            if len(self.slack.deliveries) != seen:
                seen = len(self.slack.deliveries)
                quiet_since = loop.time()

    def _summary(self, delivery: Delivery) -> Text:
        lines = self._renderer.render(delivery.blocks, delivery.text, first_button=0).lines
        first = next((line.plain.strip() for line in lines if line.plain.strip()), "")
        room = max(20, self.console.width - len(self.label(delivery)) - 30)
        shown = first if len(first) <= room else first[: room - 1] + "…"
        hint = f"  (/as {self._name(delivery.audience)} to read it)"
        return Text(shown, style="dim") + Text(hint, style="dim italic")

    def _names(self) -> dict[str, str]:
        names = {person.id: person.name for person in self.slack.people.values()}
        names.update(self.slack.channels)
        names[BOT_USER_ID] = "exports-bot"
        return names

    def _name(self, user_id: str | None) -> str:
        person = self.slack.people.get(user_id or "")
        return person.name if person else (user_id or "someone")

    def _channel_name(self, message: Delivery) -> str:
        return self.slack.channels.get(message.channel, "directmessage")

    def _label_style(self, delivery: Delivery) -> str:
        return {
            "channel": "bold white on blue",
            "dm": "bold white on magenta",
            "modal": "bold black on cyan",
        }.get(delivery.kind, "bold black on yellow")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)
