"""The demo's front end: what you type becomes the requests Slack would send the bot.

Each line is one of:

- ``/exports ...``: a slash command in #exports-alerts, form-encoded and signed (v0 HMAC with
  the signing secret) and POSTed to the bot's ``/slack/events``, exactly as Slack does;
- ``!N`` (``!N yes`` for buttons that ask to confirm): a ``block_actions`` click on button N;
- ``/submit TEXT``, ``/close``: submit or dismiss the modal the bot opened;
- ``/as NAME``: act as another person; ``/wait SECONDS``; ``/help``; ``/quit``;
- anything else: a direct message to the bot (a ``message.im`` event).

What the bot sends comes back through :class:`~bot.demo._slack.DemoSlack`, and the
:class:`~bot.demo._output.Printer` prints it with a label saying who saw it.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx

from bot.demo import _requests
from bot.demo._output import Button, Printer
from bot.demo._requests import SignedPoster
from bot.demo._slack import DemoSlack
from bot.demo._workspace import Delivery, Person, ResponseTarget

__all__ = ["HELP", "REPLY_TIMEOUT", "Terminal"]

# How long to wait for the bot's answer to one request before reading the next line.
REPLY_TIMEOUT = 15.0
# After the first answer, how long it must stay quiet before the next line (DMs follow).
QUIET = 0.4
_DEMO_COMMANDS = "/as, /submit, /close, /wait, /help, /quit"

HELP = """\
Type what you would type in Slack:
  /exports failed                 list failed exports (try: running, succeeded mine, all limit 3)
  /exports show ID                one job's card; /exports cancel ID cancels it
  /exports subscribe failed       alert #exports-alerts when a job fails (succeeded, cancelled...)
  /exports link ID                DM yourself the download links of your own export
  link ID   (or just the ID)      the same, as a direct message to the bot
  /exports help                   everything the bot understands
Demo commands:
  !N           press button [N] (!N yes for buttons that ask to confirm, such as Cancel)
  /as NAME     act as someone else: ana, ben, cy or dee
  /submit TEXT fill in and submit the open modal; /close dismisses it
  /wait N      wait N seconds, printing what arrives (handy in scripts)
  /help        this text; /quit (or Ctrl-D) leaves
Labels say who saw each message: #exports-alerts (the channel), DM, only you."""


class Terminal:
    """Runs input lines as Slack requests to the bot and waits for the bot's answers."""

    def __init__(
        self,
        printer: Printer,
        slack: DemoSlack,
        poster: SignedPoster,
        *,
        user: Person,
        channel: str,
    ) -> None:
        self.printer = printer
        self.slack = slack
        self.poster = poster
        self.channel = channel
        self.user = user
        self._ids = itertools.count(1)
        self._closed: set[str] = set()  # ids of modals submitted or dismissed

    @property
    def user(self) -> Person:
        return self._user

    @user.setter
    def user(self, person: Person) -> None:
        self._user = person
        self.printer.viewer = person

    async def execute(self, line: str) -> bool:
        """Run one input line; False means the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        command = word.lower()
        if command in ("/quit", "/exit", "/q"):
            return False
        if command in ("/help", "/?"):
            self.printer.console.print(HELP, markup=False, highlight=False)
        elif command == "/exports":
            await self.slash_command(rest)
        elif command == "/as":
            self.switch_user(rest)
        elif command == "/wait":
            await self.wait(rest)
        elif command == "/submit":
            await self.submit_modal(rest)
        elif command == "/close":
            await self.close_modal()
        elif word.startswith("!"):
            await self.press(word[1:], rest)
        elif word.startswith("/"):
            self._warn(
                f"{word} is not a command here. In Slack: /exports ...; demo: {_DEMO_COMMANDS}."
            )
        else:
            await self.direct_message(line)
        return True

    def switch_user(self, name: str) -> None:
        wanted = name.strip().lstrip("@").lower()
        for person in self.slack.people.values():
            if wanted in (person.name, person.id.lower(), person.email.lower()):
                self.user = person
                self.printer.note(
                    f"You are now {person.name} ({person.email}, Slack id {person.id})."
                )
                return
        names = ", ".join(p.name for p in self.slack.people.values())
        said = f"{name!r} is not" if name else "Say who to be; there is"
        self._warn(f"{said} someone in this workspace. People: {names}.")

    async def wait(self, seconds: str) -> None:
        try:
            value = float(seconds)
        except ValueError:
            self._warn("/wait takes a number of seconds, e.g. /wait 5")
            return
        await asyncio.sleep(min(max(value, 0.0), 3600.0))

    # --- requests to the bot -----------------------------------------------------------------

    async def slash_command(
        self, text: str, *, user: Person | None = None, wait_up_to: float = REPLY_TIMEOUT
    ) -> None:
        """``/exports text`` in the demo channel, as ``user`` (default: whoever you are)."""
        user = user or self.user
        response_id = f"cmd{next(self._ids)}"
        body = _requests.slash_command(
            text,
            user,
            channel_id=self.channel,
            channel_name=self.slack.channels.get(self.channel, ""),
            response_url=self.slack.response_url(
                response_id, ResponseTarget(user.id, self.channel)
            ),
            trigger_id=self.slack.new_trigger(user.id),
        )
        await self._send(body, user, response_id, wait_up_to)

    async def direct_message(self, text: str) -> None:
        """``text`` written to the bot in your DM with it."""
        channel = self.slack.dm_channel(self.user.id)
        message = self.slack.record_user_message(channel, self.user.id, text)
        event_id = f"Ev{next(self._ids):08d}"
        body = _requests.message_event(
            text, self.user, channel_id=channel, ts=message["ts"], event_id=event_id
        )
        await self._send(body, self.user, None, REPLY_TIMEOUT, json_body=True)

    async def press(self, number_text: str, answer: str) -> None:
        """Click button ``[number]`` (after its confirm dialog, when ``answer`` is yes)."""
        try:
            number = int(number_text)
        except ValueError:
            self._warn("Press a button by its number, e.g. !1")
            return
        button = self.printer.buttons.get(number)
        if button is None:
            seen = f"1 to {self.printer.last_button}" if self.printer.buttons else "none yet"
            self._warn(f"There is no button [{number}] (buttons so far: {seen}).")
            return
        message = button.message
        if message.kind != "channel" and message.audience != self.user.id:
            owner = self.printer.name(message.audience)
            self._warn(f"Button [{number}] is on a message only {owner} sees; /as {owner} first.")
            return
        confirm = button.element.get("confirm")
        if isinstance(confirm, dict) and answer.lower() not in ("y", "yes"):
            title = _text_of(confirm.get("title")) or "Are you sure?"
            self.printer.note(
                f"{title} {_text_of(confirm.get('text'))}".strip(), style="bold yellow"
            )
            self._warn(f"Type !{number} yes to go ahead.")
            return
        await self._click(button)

    async def submit_modal(
        self, value: str, *, user: Person | None = None, wait_up_to: float = REPLY_TIMEOUT
    ) -> bool:
        """Type ``value`` into the open modal's first field and submit it.

        Returns True when the bot accepted it (False: no modal open, or errors shown in it).
        """
        user = user or self.user
        modal = self.open_modal(user)
        if modal is None or modal.view is None:
            self._warn("No modal is open; /exports connect opens one.")
            return False
        self._closed.add(modal.ts)
        trigger = self.slack.new_trigger(user.id)
        body = _requests.view_submission(modal.view, value, user, trigger_id=trigger)
        await self._send(body, user, None, wait_up_to, view=modal)
        return modal.ts in self._closed  # errors in the ack re-open it

    async def close_modal(self) -> None:
        """Dismiss the open modal; Slack tells the app only if the view asked for it."""
        modal = self.open_modal(self.user)
        if modal is None or modal.view is None:
            self._warn("No modal is open.")
            return
        self._closed.add(modal.ts)
        if modal.view.get("notify_on_close"):
            trigger = self.slack.new_trigger(self.user.id)
            body = _requests.interaction(
                "view_closed", self.user, trigger, view=modal.view, is_cleared=False
            )
            await self._send(body, self.user, None, REPLY_TIMEOUT, expect_answer=False)
        self.printer.note("(modal closed)")

    def open_modal(self, user: Person) -> Delivery | None:
        """The modal ``user`` has open (the newest one shown to them and not yet closed)."""
        for delivery in reversed(self.slack.deliveries):
            if delivery.kind == "modal" and delivery.audience == user.id:
                return None if delivery.ts in self._closed else delivery
        return None

    # --- internals ---------------------------------------------------------------------------

    async def _click(self, button: Button) -> None:
        message = button.message
        response_id = f"act{next(self._ids)}"
        response_url = None
        if message.kind != "modal":
            target = ResponseTarget(
                self.user.id, message.channel, message.ts, message.kind, message.audience
            )
            response_url = self.slack.response_url(response_id, target)
        body = _requests.block_actions(
            button.element,
            message,
            self.user,
            trigger_id=self.slack.new_trigger(self.user.id),
            response_url=response_url,
            channel_name=self.slack.channels.get(message.channel, "directmessage"),
        )
        await self._send(body, self.user, response_id, REPLY_TIMEOUT)

    async def _send(
        self,
        body: str,
        user: Person,
        response_id: str | None,
        wait_up_to: float,
        *,
        json_body: bool = False,
        view: Delivery | None = None,
        expect_answer: bool = True,
    ) -> None:
        """POST a signed request, show any answer in the ack, then wait for the bot's replies."""
        since = len(self.slack.deliveries)
        try:
            ack = await self.poster.post(body, json_body=json_body)
        except httpx.HTTPError as exc:
            self.printer.note(f"Could not reach the bot: {type(exc).__name__}", style="bold red")
            return
        if ack.status_code != 200:
            problem = f"The bot answered HTTP {ack.status_code}: {ack.text[:200]}"
            self.printer.note(problem, style="bold red")
            return
        answered = self._show_ack(ack, user, view)
        if expect_answer:
            await self._settle(since, response_id, user, wait_up_to, answered=answered)

    def _show_ack(self, ack: httpx.Response, user: Person, view: Delivery | None) -> bool:
        """Show what the bot put in the HTTP ack itself (a reply, a modal's errors or update)."""
        try:
            body = ack.json() if ack.content else None
        except ValueError:
            body = {"text": ack.text}
        if not isinstance(body, dict):
            return False
        action = body.get("response_action")
        if action == "errors" and isinstance(body.get("errors"), dict):
            for problem in body["errors"].values():
                self.printer.note(f"modal: {problem}", style="bold yellow")
            if view is not None:
                self._closed.discard(view.ts)  # still open: fix it and /submit again
            return True
        if action in ("update", "push") and isinstance(body.get("view"), dict):
            shown = {**body["view"], "id": self.slack.next_ts()}
            title = _text_of(shown.get("title"))
            self._show_local("modal", user, shown, title, shown.get("blocks"), updated=True)
            return True
        if action is None and (body.get("text") or body.get("blocks")):
            self._show_local("ephemeral", user, None, str(body.get("text", "")), body.get("blocks"))
            return True
        return False

    def _show_local(
        self,
        kind: Any,
        user: Person,
        view: dict[str, Any] | None,
        text: str,
        blocks: Any,
        *,
        updated: bool = False,
    ) -> None:
        """Show an answer that came in the ack rather than through the Web API."""
        delivery = Delivery(
            seq=0,
            kind=kind,
            channel=self.channel if kind != "modal" else "",
            audience=user.id,
            ts=view["id"] if view else self.slack.next_ts(),
            text=text,
            blocks=list(blocks) if isinstance(blocks, list) else [],
            view=view,
            updated=updated,
        )
        self.slack.deliveries.append(delivery)  # so /submit finds an updated modal
        self.printer.show(delivery)

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

        def related(d: Delivery) -> bool:
            return d.audience == user.id or (
                response_id is not None and d.response_id == response_id
            )

        while not answered and loop.time() < deadline:
            await asyncio.sleep(0.02)
            answered = any(related(d) for d in self.slack.deliveries[since:])
        if not answered:
            self._warn(f"(no answer from the bot within {wait_up_to:g} s)")
            return
        seen = len(self.slack.deliveries)
        quiet_since = loop.time()
        limit = loop.time() + 3.0
        while loop.time() - quiet_since < QUIET and loop.time() < limit:
            await asyncio.sleep(0.02)
            if len(self.slack.deliveries) != seen:
                seen = len(self.slack.deliveries)
                quiet_since = loop.time()

    def _warn(self, text: str) -> None:
        self.printer.note(text, style="yellow")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)
