"""Who may get an export's download links, and with which Peaka key (pure).

Peaka's Read Export returns ``files`` only to the job's owner, so the bot can fetch links for
a Slack user only with a key that user owns. Two questions, two functions:

- :func:`decide_link_access`: is this Slack user the job's owner?
  Yes when their Slack profile e-mail equals the job's ``userName``, or when the job came back
  ``downloadable=true`` under the key they linked.
- :func:`choose_key`: which key may fetch their links? Their linked key; or the bot's own key,
  but only for an export the bot started on their behalf (the job's ``apiKeyPrefix`` is the
  bot key's prefix and its ``userName`` is their e-mail).
"""

from __future__ import annotations

from enum import Enum

from bot.peaka import ExportJob

__all__ = [
    "KEY_PREFIX_LENGTH",
    "Access",
    "KeyChoice",
    "choose_key",
    "decide_link_access",
    "key_prefix",
    "same_email",
]

# Peaka shows this many leading characters of a key as its public ``apiKeyPrefix``.
KEY_PREFIX_LENGTH = 8


class Access(Enum):
    """The answer to "may this Slack user have this job's links?"."""

    OWNER = "owner"
    NOT_OWNER = "not_owner"
    # No Slack e-mail and no linked key that proves it: the bot cannot tell.
    UNKNOWN = "unknown"


class KeyChoice(Enum):
    """Which key fetches an owner's links."""

    LINKED = "linked"  # the key the user linked with /exports connect
    BOT = "bot"  # the bot's key: it started this export on the user's behalf
    NONE = "none"  # no key the user owns: they need to link theirs


def key_prefix(api_key: str) -> str:
    """The public part of a key (what Peaka shows as ``apiKeyPrefix``); safe to display."""
    return api_key.strip()[:KEY_PREFIX_LENGTH]


def same_email(a: str | None, b: str | None) -> bool:
    """Whether two e-mail addresses are the same person's (trimmed, case-insensitive)."""
    if not a or not b:
        return False
    left, right = a.strip().lower(), b.strip().lower()
    return bool(left) and "@" in left and left == right


def decide_link_access(job: ExportJob, slack_email: str | None, via_linked_key: bool) -> Access:
    """Whether the Slack user with ``slack_email`` owns ``job``.

    ``via_linked_key``: the job came back ``downloadable=true`` when read with the user's own
    linked key (Peaka itself says they own it).
    """
    if via_linked_key or same_email(slack_email, job.user_name):
        return Access.OWNER
    if slack_email is None or not slack_email.strip():
        return Access.UNKNOWN
    return Access.NOT_OWNER


def choose_key(
    job: ExportJob, slack_email: str | None, *, has_linked_key: bool, bot_key_prefix: str
) -> KeyChoice:
    """The key that may fetch ``job``'s links for its owner (call after the owner check).

    The bot's key is used only for an export it started for this very person: a bot key
    reading someone else's export would hand out links that are not the caller's to have.
    """
    if has_linked_key:
        return KeyChoice.LINKED
    started_by_bot = bool(job.api_key_prefix) and job.api_key_prefix == bot_key_prefix
    if started_by_bot and same_email(slack_email, job.user_name):
        return KeyChoice.BOT
    return KeyChoice.NONE
