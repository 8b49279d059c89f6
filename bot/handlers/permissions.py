"""Who may do what: bot admins, alert changes and cancelling someone's export.

A *bot admin* is a user listed in EXPORTS_ADMINS or a Slack workspace admin or owner
(``users.info`` is_admin / is_owner). Everyone may look; changes that affect other people
(a channel's alerts, another person's export) need the right person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.handlers.people import caller

if TYPE_CHECKING:
    from bot.app import Services
    from bot.peaka import ExportJob
    from bot.slack_users import SlackUser

__all__ = ["CancelPermission", "is_bot_admin", "may_cancel", "may_change_alerts"]


async def is_bot_admin(services: Services, user_id: str) -> bool:
    """True for EXPORTS_ADMINS and live workspace admins/owners (users.info, cached)."""
    if user_id and user_id in services.settings.admins:
        return True
    return _workspace_admin(await caller(services, user_id))


async def may_change_alerts(services: Services, user_id: str) -> bool:
    """True when the user may change a channel's alerts (anyone, if no admins are set)."""
    return not services.settings.admins or await is_bot_admin(services, user_id)


@dataclass(frozen=True, slots=True)
class CancelPermission:
    """Whether a user may cancel a job, and whether Slack told us their e-mail."""

    allowed: bool
    email_known: bool


async def may_cancel(services: Services, user_id: str, job: ExportJob) -> CancelPermission:
    """The job's owner (Slack e-mail == Peaka userName, any case) or a bot admin may cancel.

    The bot cancels with its own Peaka key, which could stop anyone's export: this is the
    check that keeps one person from stopping another's work.
    """
    if user_id and user_id in services.settings.admins:
        return CancelPermission(allowed=True, email_known=True)
    user = await caller(services, user_id)
    email = user.email if user is not None and not user.deleted else None
    owner = (job.user_name or "").strip().lower()
    is_owner = email is not None and owner != "" and email.strip().lower() == owner
    return CancelPermission(allowed=is_owner or _workspace_admin(user), email_known=bool(email))


def _workspace_admin(user: SlackUser | None) -> bool:
    return user is not None and user.is_admin and not user.deleted
