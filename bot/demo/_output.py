"""Printing what the bot sends: a label saying who saw it, the rendered blocks, numbered buttons.

Labels are from the point of view of whoever you are acting as: ``#exports-alerts`` (posted
in the channel), ``DM`` (your DM with the bot), ``only you`` (an ephemeral reply), ``modal``;
someone else's private messages show as ``DM to ben`` on one line. A new version of an
earlier message says so: ``· updated`` (chat.update) or ``· replaces the message``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.demo._render import BlockRenderer
from bot.demo._workspace import BOT_USER_ID, Delivery, Person

__all__ = ["Button", "Printer"]

log = logging.getLogger(__name__)

_LABEL_STYLES = {
    "channel": "bold white on blue",
    "dm": "bold white on magenta",
    "modal": "bold black on cyan",
    "ephemeral": "bold black on yellow",
}


@dataclass(frozen=True, slots=True)
class Button:
    """A numbered button and the message it is on."""

    element: dict[str, Any]
    message: Delivery


class Printer:
    """Prints deliveries and notes; numbers every button it shows, from 1 up."""

    def __init__(
        self,
        console: Console,
        people: dict[str, Person],
        channels: dict[str, str],
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.console = console
        self.people = people
        self.channels = channels
        self.viewer: Person | None = None  # whose point of view labels take
        self.quiet = False  # while the demo sets itself up
        self.prompt: str | None = None  # shown again after output that arrives while typing
        self.buttons: dict[int, Button] = {}
        names = {person.id: person.name for person in people.values()}
        names.update(channels)
        names[BOT_USER_ID] = "exports-bot"
        self._renderer = BlockRenderer(names, now=now, width=lambda: console.width)

    @property
    def last_button(self) -> int:
        return len(self.buttons)

    def show(self, delivery: Delivery) -> None:
        """Print one delivery: its label, then its blocks (one line if it is not yours).

        Never raises: a message the renderer can't handle is shown as its plain text.
        """
        if self.quiet:
            return
        try:
            self._show(delivery)
        except Exception as exc:
            log.exception("could not render a message")
            self.console.print(f"[{self.label(delivery)}] (shown as plain text: {exc})")
            self.console.print(delivery.text, markup=False, highlight=False, soft_wrap=True)
            self.console.print()

    def _show(self, delivery: Delivery) -> None:
        if self.prompt is not None:
            self.console.print()
        header = Text(f"[{self.label(delivery)}]", style=_LABEL_STYLES[delivery.kind])
        if self._someone_elses(delivery):
            self.console.print(header, self._summary(delivery), soft_wrap=True)
        elif delivery.deleted:
            self.console.print(header, Text("(message deleted)", style="dim"))
        else:
            blocks = delivery.blocks
            if delivery.kind == "modal" and delivery.text:  # the modal's title
                blocks = [{"type": "header", "text": {"type": "plain_text", "text": delivery.text}}]
                blocks += delivery.blocks
            rendered = self._renderer.render(
                blocks, delivery.text, first_button=self.last_button + 1
            )
            for element in rendered.buttons:
                self.buttons[self.last_button + 1] = Button(element, delivery)
            self.console.print(header)
            for line in rendered.lines:
                self.console.print(line, soft_wrap=True)
            if delivery.kind == "modal":
                self.note("  " + _modal_hint(delivery.view or {}))
        self.console.print()
        if self.prompt is not None:
            self.console.print(self.prompt, end="")

    def label(self, delivery: Delivery) -> str:
        """Where a delivery went, from the viewer's point of view."""
        who = self.name(delivery.audience)
        you = self.viewer is not None and delivery.audience == self.viewer.id
        if delivery.kind == "channel":
            base = "#" + self.channels.get(delivery.channel, delivery.channel)
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
        """A line from the demo itself (not from the bot)."""
        if not self.quiet:
            self.console.print(Text(text, style=style))

    def echo(self, person: Person, line: str) -> None:
        """Show a scripted command as if typed (when stdin is not a terminal)."""
        self.console.print(Text(f"{person.name}> ", style="bold") + Text(line))

    def name(self, user_id: str | None) -> str:
        person = self.people.get(user_id or "")
        return person.name if person else (user_id or "someone")

    def _someone_elses(self, delivery: Delivery) -> bool:
        if delivery.kind == "channel" or delivery.audience is None or self.viewer is None:
            return False
        return delivery.audience != self.viewer.id

    def _summary(self, delivery: Delivery) -> Text:
        lines = self._renderer.render(delivery.blocks, delivery.text, first_button=0).lines
        first = next((line.plain.strip() for line in lines if line.plain.strip()), "")
        room = max(20, self.console.width - len(self.label(delivery)) - 30)
        shown = first if len(first) <= room else first[: room - 1] + "…"
        hint = f"  (/as {self.name(delivery.audience)} to read it)"
        return Text(shown, style="dim") + Text(hint, style="dim italic")


def _modal_hint(view: dict[str, Any]) -> str:
    """How to use a modal's Submit and Close buttons from the terminal."""
    close = (view.get("close") or {}).get("text") or "Close"
    if not view.get("submit"):
        return f"/close dismisses this modal ({close})"
    submit = (view.get("submit") or {}).get("text") or "Submit"
    return f"/submit TEXT fills in and submits this modal ({submit}), /close dismisses it ({close})"
