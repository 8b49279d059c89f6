"""Slack people for Peaka jobs: the caller's e-mail (for ``mine``) and owners' mentions.

Peaka knows a job's initiator by e-mail (``userName``); ``services.users`` (the cached
``bot.slack_users.EmailDirectory``) maps e-mails to Slack user ids and back. A Slack failure
here never fails the reply: the job then shows the owner's name instead of a mention.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.peaka import ExportJob

if TYPE_CHECKING:
    from bot.app import Services
    from bot.slack_users import SlackUser

__all__ = ["caller", "caller_email", "mentions_for"]

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+")


async def caller(services: Services, user_id: str) -> SlackUser | None:
    """The Slack user behind ``user_id`` (users.info, cached), or None if unknown/unreachable."""
    if services.users is None or not user_id:
        return None
    try:
        return await services.users.user(user_id)
    except Exception:
        log.warning("users.info failed for the caller", exc_info=True)
        return None


async def caller_email(services: Services, user_id: str) -> str | None:
    """The caller's e-mail (lower-case), or None when Slack does not tell us."""
    found = await caller(services, user_id)
    return found.email if found is not None else None


async def mentions_for(services: Services, jobs: Iterable[ExportJob]) -> dict[str, str]:
    """``{e-mail: Slack user id}`` for the jobs' initiators that Slack knows (lookupByEmail)."""
    directory = services.users
    if directory is None:
        return {}
    names = (job.user_name.strip().lower() for job in jobs if job.user_name)
    emails = sorted({name for name in names if _is_email(name)})

    async def lookup(email: str) -> str | None:
        try:
            return await directory.user_id_for(email)
        except Exception:
            log.warning("users.lookupByEmail failed; showing the name instead", exc_info=True)
            return None

    found = await asyncio.gather(*(lookup(email) for email in emails))
    return {email: user_id for email, user_id in zip(emails, found, strict=True) if user_id}


def _is_email(name: str) -> bool:
    # Only plausible addresses are looked up: no spaces or angle brackets, at most 254 chars.
    return len(name) <= 254 and _EMAIL.fullmatch(name) is not None
