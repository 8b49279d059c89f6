"""What the store hands back: small frozen dataclasses, datetimes always aware UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.peaka import Status

__all__ = [
    "AlertKey",
    "AlertRecord",
    "AlertState",
    "JobState",
    "LinkedKey",
    "OwnerDmSettings",
    "PollResult",
    "PollSnapshot",
    "ProjectState",
    "Subscription",
]

AlertState = Literal["claimed", "sent", "failed", "suppressed"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel wants alerts when ``project_id``'s exports end in one of ``statuses``.

    ``broken_reason`` is set when posting to the channel failed for good (e.g. the bot was
    removed); such a subscription is kept for ``/exports subscriptions`` but not polled for.
    """

    channel_id: str
    project_id: str
    statuses: frozenset[Status]
    created_by: str
    created_at: datetime
    broken_reason: str | None = None


@dataclass(frozen=True, slots=True)
class JobState:
    """The poller's last observation of one job."""

    project_id: str
    job_id: str
    status: Status
    created_at: datetime
    user_name: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectState:
    """Where the poller is in one project's job list.

    ``baseline_at``: when the first poll took the baseline (None: not taken yet).
    ``newest_created_at``/``newest_seen_ids``: the watermark, the newest ``createdAt`` seen
    and the ids of every job at exactly that instant. ``last_polled_at``: the last cycle.
    """

    project_id: str
    baseline_at: datetime | None = None
    newest_created_at: datetime | None = None
    newest_seen_ids: frozenset[str] = frozenset()
    last_polled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PollSnapshot:
    """One project's poll state as read for a cycle (see ``Store.poll_snapshots``).

    ``revision`` changes with every write of the project's state or job states (None: no
    row, or not written since the column exists). ``jobs`` is None when ``revision`` is the
    one the caller said its copy of the job states has: that copy is what is stored.
    """

    state: ProjectState | None
    revision: str | None
    jobs: dict[str, JobState] | None


@dataclass(frozen=True, slots=True)
class PollResult:
    """One project's changes from one poll cycle (see ``Store.save_poll_results``).

    ``upsert`` these job states, ``delete`` these job ids, then save ``state`` (None: leave
    the project state as it is).
    """

    project_id: str
    upsert: tuple[JobState, ...] = ()
    delete: frozenset[str] = frozenset()
    state: ProjectState | None = None

    @property
    def writes(self) -> bool:
        """Whether saving it writes anything (else the save leaves the project as it is)."""
        return bool(self.upsert or self.delete or self.state is not None)


@dataclass(frozen=True, slots=True)
class AlertKey:
    """One alert: ``job_id`` reached ``status``, for ``target`` (a channel id or ``dm:U123``)."""

    job_id: str
    status: Status
    target: str

    def __post_init__(self) -> None:
        if not self.job_id or not isinstance(self.job_id, str):
            raise ValueError("an alert key needs a non-empty job id")
        if not self.target or not isinstance(self.target, str):
            raise ValueError("an alert key needs a non-empty target (channel id or dm:USER)")
        status = Status(self.status)  # ValueError for an empty status
        object.__setattr__(self, "status", status)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A row of the alert log."""

    key: AlertKey
    project_id: str
    state: AlertState
    claimed_by: str
    claimed_at: datetime
    slack_channel: str | None
    slack_ts: str | None
    sent_at: datetime | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class LinkedKey:
    """A user's Peaka key, encrypted by the caller (``KeyCipher``); the store never decrypts."""

    slack_user_id: str
    ciphertext: bytes = field(repr=False)
    key_prefix: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class OwnerDmSettings:
    """What decides whether a job's owner gets a proactive DM (see ``owner_dm_settings``).

    ``dm_enabled``: not turned off with ``/exports dm off``. ``linked``: has a linked Peaka
    key. ``invited``: the one-time "connect your key" invitation was already logged.
    """

    user_id: str
    dm_enabled: bool = True
    linked: bool = False
    invited: bool = False
