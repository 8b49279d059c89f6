"""What the bot's buttons carry in their ``value``: everything needed to act on a click.

No server memory: a click may land on another replica, so the "Older" button carries the
whole list query (project, statuses, limit, whose jobs, shared or not) and the keyset
cursor; a job button carries the project and the job id (``bot.core.cards.job_button_value``).

Decoding never trusts the text: anything malformed raises ``ValueError`` with a short reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.core.blocks import MAX_BUTTON_VALUE, compact_json, slack_len
from bot.core.command_types import ListJobs
from bot.peaka._models import Status

__all__ = [
    "JobRef",
    "OlderPage",
    "decode_job_value",
    "decode_older_value",
    "encode_older_value",
]

_VERSION = 1
# One letter per status keeps the value short; the order is the display order.
_LETTERS: dict[Status, str] = {
    Status.PENDING: "P",
    Status.RUNNING: "R",
    Status.SUCCEEDED: "S",
    Status.FAILED: "F",
    Status.CANCELLED: "C",
    Status.EXPIRED: "E",
}
_STATUS_OF = {letter: status for status, letter in _LETTERS.items()}
_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")
_MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class JobRef:
    """A job a button points at."""

    project_id: str
    job_id: str


@dataclass(frozen=True, slots=True)
class OlderPage:
    """The next page of a list: the query, whose jobs (``mine_user``) and where to start.

    ``cursor`` is ``bot.peaka.PageCursor.encode()`` text, kept opaque here (core does not
    page); ``mine_user`` is the Slack user id whose jobs ``mine`` meant when it was typed,
    so the pages after it stay that person's even when someone else clicks.
    """

    query: ListJobs
    cursor: str
    mine_user: str | None = None


def encode_older_value(page: OlderPage) -> str | None:
    """The Older button's value, or None if it would not fit Slack's 2,000 characters."""
    query = page.query
    body: dict[str, Any] = {
        "v": _VERSION,
        "p": query.project_id,
        "s": "".join(_LETTERS[s] for s in _LETTERS if s in query.statuses),
        "l": query.limit,
        "c": page.cursor,
    }
    if query.mine and page.mine_user:
        body["m"] = page.mine_user
    if query.share:
        body["sh"] = 1
    value = compact_json(body)
    return value if slack_len(value) <= MAX_BUTTON_VALUE else None


def decode_older_value(value: str) -> OlderPage:
    """Parse an Older button's value; ValueError says what is wrong with it."""
    body = _object(value)
    if body.get("v") != _VERSION:
        raise ValueError("the button is from another version of the bot")
    project_id = _text(body, "p", _PROJECT_ID)
    letters = body.get("s")
    if not isinstance(letters, str) or not letters or any(c not in _STATUS_OF for c in letters):
        raise ValueError("the status filter is missing or unknown")
    limit = body.get("l")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= _MAX_LIMIT:
        raise ValueError("the page size is missing or out of range")
    cursor = body.get("c")
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_BUTTON_VALUE:
        raise ValueError("the page cursor is missing")
    mine_user = body.get("m")
    if mine_user is not None and not (isinstance(mine_user, str) and _USER_ID.fullmatch(mine_user)):
        raise ValueError("the user of a `mine` list is not a Slack user id")
    share = body.get("sh", 0)
    if share not in (0, 1):
        raise ValueError("the share flag is not 0 or 1")
    query = ListJobs(
        statuses=frozenset(_STATUS_OF[c] for c in letters),
        project_id=project_id,
        limit=limit,
        mine=mine_user is not None,
        share=bool(share),
    )
    return OlderPage(query=query, cursor=cursor, mine_user=mine_user)


def decode_job_value(value: str) -> JobRef:
    """Parse a job button's ``{"p": project, "j": job}`` value; ValueError if malformed."""
    body = _object(value)
    return JobRef(project_id=_text(body, "p", _PROJECT_ID), job_id=_text(body, "j", _JOB_ID))


def _object(value: str) -> dict[str, Any]:
    if not isinstance(value, str) or not value or slack_len(value) > MAX_BUTTON_VALUE:
        raise ValueError("the button value is empty or too long")
    try:
        body = json.loads(value)
    except ValueError:
        raise ValueError("the button value is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the button value is not a JSON object")
    return body


def _text(body: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    text = body.get(key)
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise ValueError(f"the button value's {key!r} is missing or malformed")
    return text
