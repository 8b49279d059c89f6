"""Slack user id <-> email, cached: who to mention for a Peaka job owner, and whose job is whose.

Peaka knows job owners by email; Slack knows people by user id. ``EmailDirectory`` asks Slack
(``users.info`` and ``users.lookupByEmail``) and keeps answers, including "nobody", for a while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics

__all__ = ["EmailDirectory", "SlackUser"]

log = logging.getLogger(__name__)

# Slack's answers when there is simply no such user (not failures).
_NO_SUCH_USER = frozenset({"user_not_found", "users_not_found", "user_not_visible"})


@dataclass(frozen=True)
class SlackUser:
    """The parts of a Slack user the bot cares about."""

    id: str
    email: str | None
    name: str
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False

    @classmethod
    def from_api(cls, user: dict[str, Any]) -> SlackUser:
        profile = user.get("profile") or {}
        email = profile.get("email") or None
        return cls(
            id=str(user["id"]),
            email=email.lower() if isinstance(email, str) else None,
            name=str(profile.get("display_name") or user.get("real_name") or user.get("name", "")),
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
            is_bot=bool(user.get("is_bot")),
            deleted=bool(user.get("deleted")),
        )


class EmailDirectory:
    """Maps Slack user ids to emails and back, with a TTL cache on both directions.

    Errors other than "no such user" (rate limits past the client's retries, auth problems)
    propagate as ``SlackApiError`` and are not cached.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 600.0,
        maxsize: int = 10_000,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._by_id: TTLCache[str, SlackUser | None] = TTLCache(maxsize, ttl, timer=timer)
        self._by_email: TTLCache[str, str | None] = TTLCache(maxsize, ttl, timer=timer)

    async def user(self, user_id: str) -> SlackUser | None:
        """The Slack user with this id, or None when Slack has no such user."""
        if user_id in self._by_id:
            return self._by_id[user_id]
        found = await self._ask("users.info", self._client.users_info(user=user_id))
        self._remember(user_id, found)
        return found

    async def email_for(self, user_id: str) -> str | None:
        """The user's email (lower-cased), or None for bots, unknown users and hidden emails."""
        found = await self.user(user_id)
        return found.email if found else None

    async def user_id_for(self, email: str) -> str | None:
        """The Slack user id registered with ``email``, or None when nobody has it."""
        key = email.strip().lower()
        if key in self._by_email:
            return self._by_email[key]
        found = await self._ask("users.lookupByEmail", self._client.users_lookupByEmail(email=key))
        if found is None:
            self._by_email[key] = None
            return None
        self._remember(found.id, found)
        self._by_email[key] = found.id
        return found.id

    def forget(self, user_id: str) -> None:
        """Drop what is cached about one user (e.g. after a user_change event)."""
        cached = self._by_id.pop(user_id, None)
        if cached is not None and cached.email:
            self._by_email.pop(cached.email, None)

    async def _ask(self, method: str, call: Awaitable[Any]) -> SlackUser | None:
        """The user Slack answers ``call`` with; None when it says there is no such user.

        Any other error is counted in ``SLACK_API_ERRORS`` under ``method`` and raised.
        """
        try:
            response = await call
        except SlackApiError as exc:
            error = _error_code(exc)
            if error not in _NO_SUCH_USER:
                metrics.SLACK_API_ERRORS.labels(method, error).inc()
                raise
            return None
        return SlackUser.from_api(response["user"])

    def _remember(self, user_id: str, found: SlackUser | None) -> None:
        self._by_id[user_id] = found
        if found is not None and found.email:
            self._by_email[found.email] = found.id


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:
        return "unknown"
