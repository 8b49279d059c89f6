"""The commands ``/exports`` understands, as plain frozen dataclasses.

:func:`bot.core.commands.parse_command` builds them; listeners dispatch on their type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeAlias

from bot.peaka._models import Status

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_MUTE",
    "MIN_MUTE",
    "CancelJob",
    "Command",
    "Connect",
    "Disconnect",
    "DmSetting",
    "GetLink",
    "Help",
    "ListJobs",
    "ListSubscriptions",
    "Mute",
    "ShowJob",
    "Subscribe",
    "Unmute",
    "Unsubscribe",
]

DEFAULT_LIMIT = 10
MAX_MUTE = timedelta(days=30)
MIN_MUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ListJobs:
    statuses: frozenset[Status]  # never empty: no status words means ALL_STATUSES
    project_id: str
    limit: int = DEFAULT_LIMIT
    mine: bool = False
    share: bool = False


@dataclass(frozen=True, slots=True)
class ShowJob:
    job_id: str
    project_id: str
    share: bool = False


@dataclass(frozen=True, slots=True)
class CancelJob:
    job_id: str
    project_id: str


@dataclass(frozen=True, slots=True)
class GetLink:
    job_id: str
    project_id: str


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None  # one of HELP_TOPICS


@dataclass(frozen=True, slots=True)
class Subscribe:
    statuses: frozenset[Status]
    project_id: str


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    project_id: str | None  # None = every project


@dataclass(frozen=True, slots=True)
class ListSubscriptions:
    pass


@dataclass(frozen=True, slots=True)
class Mute:
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Unmute:
    pass


@dataclass(frozen=True, slots=True)
class Connect:
    pass


@dataclass(frozen=True, slots=True)
class Disconnect:
    pass


@dataclass(frozen=True, slots=True)
class DmSetting:
    enabled: bool


Command: TypeAlias = (
    ListJobs
    | ShowJob
    | CancelJob
    | GetLink
    | Help
    | Subscribe
    | Unsubscribe
    | ListSubscriptions
    | Mute
    | Unmute
    | Connect
    | Disconnect
    | DmSetting
)
