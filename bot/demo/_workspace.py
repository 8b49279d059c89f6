"""Who and what is in the demo's Slack workspace: people, and the messages the bot sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Delivery",
    "Kind",
    "Person",
    "ResponseTarget",
]

APP_ID = "A0DEMO"
TEAM_ID = "T0DEMO"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"

Kind = Literal["channel", "dm", "ephemeral", "modal"]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the demo workspace; ``email`` matches their jobs' ``userName`` in Peaka."""

    id: str
    name: str
    email: str
    is_admin: bool = False

    def as_api(self) -> dict[str, Any]:
        profile = {"display_name": self.name, "real_name": self.name.title(), "email": self.email}
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.name.title(),
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": False,
            "deleted": False,
            "profile": profile,
        }


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Where posts to one ``response_url`` go: who asked, in which channel, about which message."""

    user_id: str
    channel_id: str
    # The message a button press came from: replace_original and delete_original act on it.
    message_ts: str | None = None
    message_kind: Kind | None = None
    message_audience: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message the bot sent, as the terminal shows it.

    ``kind``: ``channel`` (everyone in it sees it), ``dm``, ``ephemeral`` (only ``audience``
    sees it) or ``modal`` (a view opened for ``audience``). ``ts`` identifies the message for
    button presses; ``updated``/``replaced`` say it is a new version of an earlier message.
    """

    seq: int
    kind: Kind
    channel: str
    audience: str | None
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    response_id: str | None = None
    updated: bool = False
    replaced: bool = False
    deleted: bool = False
    view: dict[str, Any] | None = None
