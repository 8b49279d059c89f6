"""Status words people type (``failed``, ``active``, ``done`` ...) and the statuses they mean."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from bot.peaka._models import Status

__all__ = [
    "ALL_STATUSES",
    "STATUS_WORDS",
    "describe_statuses",
    "lookup_status_word",
    "parse_statuses",
    "suggest_status_word",
    "unknown_status_message",
]

P, R, S, F, C, E = (
    Status.PENDING,
    Status.RUNNING,
    Status.SUCCEEDED,
    Status.FAILED,
    Status.CANCELLED,
    Status.EXPIRED,
)
# The order statuses are listed in, everywhere.
_ORDER = (P, R, S, F, C, E)
ALL_STATUSES: frozenset[Status] = frozenset(_ORDER)

# word -> (statuses, what it means). Also the table the help text shows.
STATUS_WORDS: dict[str, tuple[frozenset[Status], str]] = {
    "pending": (frozenset({P}), "accepted, not started yet"),
    "queued": (frozenset({P}), "same as pending"),
    "running": (frozenset({R}), "running now"),
    "succeeded": (frozenset({S}), "finished with files to download"),
    "done": (frozenset({S}), "same as succeeded"),
    "success": (frozenset({S}), "same as succeeded"),
    "completed": (frozenset({S}), "same as succeeded"),
    "failed": (frozenset({F}), "ended with an error"),
    "cancelled": (frozenset({C}), "stopped on request"),
    "canceled": (frozenset({C}), "same as cancelled"),
    "expired": (frozenset({E}), "succeeded, but the files were removed by the lifecycle rule"),
    "active": (frozenset({P, R}), "pending or running"),
    "unsuccessful": (frozenset({F, C}), "failed or cancelled"),
    "finished": (frozenset({S, F, C}), "succeeded, failed or cancelled"),
    "all": (ALL_STATUSES, "every status, expired included"),
}

_SEPARATORS = re.compile(r"[\s,]+")


def lookup_status_word(word: str) -> frozenset[Status] | None:
    """The statuses a word means (case-insensitive), or None if it is not a status word."""
    entry = STATUS_WORDS.get(word.strip().lower())
    return entry[0] if entry else None


def suggest_status_word(word: str) -> str | None:
    """The closest status word to a misspelt one (``faild`` -> ``failed``), if any is close."""
    matches = difflib.get_close_matches(word.strip().lower()[:40], STATUS_WORDS, n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_status_message(word: str) -> str:
    """A message for an unknown status word: a "did you mean" plus every valid word."""
    shown = word if len(word) <= 40 else word[:40] + "…"
    suggestion = suggest_status_word(word)
    hint = f" Did you mean '{suggestion}'?" if suggestion else ""
    return f"'{shown}' is not a status.{hint} Valid status words: {', '.join(STATUS_WORDS)}."


def parse_statuses(text: str) -> frozenset[Status]:
    """Parse comma- or space-separated status words into statuses.

    Empty text means no filter (an empty set). Raises ValueError for an unknown word,
    with a "did you mean" suggestion and the list of valid words.
    """
    statuses: set[Status] = set()
    for word in _SEPARATORS.split(text.strip()):
        if not word:
            continue
        found = lookup_status_word(word)
        if found is None:
            raise ValueError(unknown_status_message(word))
        statuses |= found
    return frozenset(statuses)


def describe_statuses(statuses: Iterable[Status]) -> str:
    """Human words for a status filter: ``failed or cancelled``; ``all`` for none/every."""
    chosen = set(statuses)
    if not chosen or chosen >= ALL_STATUSES:
        return "all"
    words = [s.value.lower() for s in _ORDER if s in chosen]
    words += sorted(s.value.lower() for s in chosen if s not in ALL_STATUSES)
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]
