"""Slack mrkdwn text: escaping, Slack-length counting, truncation with a note, code.

Every value that comes from the Peaka API (or from a user) goes through
:func:`escape_mrkdwn` (or a helper built on it) before it lands in a message, so an
error text such as ``<!channel> boom`` can never ping a channel.

Cutting works on the raw text and measures its escaped length (``str.count`` in C plus
a binary search), so a 50,000-character error costs a few string scans, and a cut can
never split an ``&amp;`` entity.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = [
    "MAX_SECTION_TEXT",
    "TRUNCATION_NOTE",
    "escape_mrkdwn",
    "escape_truncated",
    "inline_code",
    "slack_len",
    "split_code",
    "strip_control",
    "truncate",
    "wrap_code",
]

# Slack's limit for a section block's text, the largest single piece of mrkdwn.
MAX_SECTION_TEXT = 3000
TRUNCATION_NOTE = "… (truncated, {n} more characters)"

# C0/C1 control characters other than tab and newline render as garbage (or not at all).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BACKTICK_RUN = re.compile(r"`{3,}")
_CODE_FENCE = "```"


def slack_len(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units); never less than ``len(text)``."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def strip_control(text: str) -> str:
    """Drop control characters other than tab and newline (for plain_text fields too)."""
    return _CONTROL.sub("", text)


def escape_mrkdwn(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` the way Slack requires (``&amp;``, ``&lt;``, ``&gt;``).

    Also drops control characters other than tab and newline. After this, the text
    cannot form a mention, a special token such as ``<!channel>`` or a link.
    """
    return _escape(strip_control(text))


def _escape(raw: str) -> str:
    # Chained replace runs in C; "&" goes first so the entities stay intact.
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_len(raw: str) -> int:
    """``slack_len(escape_mrkdwn(raw))`` for text without control characters, cheaply."""
    return slack_len(raw) + 4 * raw.count("&") + 3 * (raw.count("<") + raw.count(">"))


def _fit(text: str, start: int, budget: int, measure: Callable[[str], int]) -> int:
    """The most characters of ``text`` from ``start`` whose measure is within ``budget``."""
    # Every character measures at least 1, so no more than `budget` of them can fit.
    lo, hi = 0, max(0, min(len(text) - start, budget))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[start : start + mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _safe_cut(text: str, end: int) -> str:
    """``text[:end]``, backed off so it never ends inside an entity or a ``<...>`` token."""
    head = text[:end]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and end - amp <= 6:
        head = head[:amp]
    lt = head.rfind("<")
    if lt != -1 and ">" not in head[lt:]:
        head = head[:lt]
    return head


def truncate(text: str, limit: int, note: str = TRUNCATION_NOTE) -> str:
    """Cut already-formatted ``text`` to ``limit`` Slack characters, ending with a visible note.

    ``note`` may contain ``{n}``, the number of characters left out. The cut never ends
    inside an ``&amp;``-style entity or an unclosed ``<...>`` token.
    """
    if slack_len(text) <= limit:
        return text
    widest = note.format(n=len(text))
    if slack_len(widest) >= limit:
        return _safe_cut(widest, limit)  # the limit is tiny: the note alone says it
    head = _safe_cut(text, _fit(text, 0, limit - slack_len(widest), slack_len))
    return head + note.format(n=len(text) - len(head))


def escape_truncated(text: str, limit: int, note: str = TRUNCATION_NOTE) -> str:
    """Escape raw ``text`` and cut it to ``limit`` Slack characters with a visible note.

    Unlike ``truncate(escape_mrkdwn(text))`` this counts the left-out characters of the
    raw text and never splits an entity.
    """
    raw = strip_control(text)
    if _escaped_len(raw) <= limit:
        return _escape(raw)
    widest = note.format(n=len(raw))
    if slack_len(widest) >= limit:
        return _safe_cut(widest, limit)
    keep = _fit(raw, 0, limit - slack_len(widest), _escaped_len)
    return _escape(raw[:keep]) + note.format(n=len(raw) - keep)


def inline_code(text: str, limit: int = 200) -> str:
    """Raw ``text`` as escaped inline code (backticks inside are swapped so they can't close it)."""
    raw = strip_control(text).replace("\n", " ").replace("`", "ˋ")
    if not raw.strip():
        return "—"
    return "`" + escape_truncated(raw, max(limit - 2, 8), note="…") + "`"


def _fence(body: str) -> str:
    return f"{_CODE_FENCE}\n{body or ' '}\n{_CODE_FENCE}"


_FENCE_COST = slack_len(_fence("x")) - 1


def _break_fences(raw: str) -> str:
    # A zero-width space after every second backtick of a run: the text can never close
    # the surrounding code block early.
    return _BACKTICK_RUN.sub(lambda m: "\u200b".join(re.findall("``?", m.group())), raw)


def wrap_code(text: str, limit: int = MAX_SECTION_TEXT, note: str = TRUNCATION_NOTE) -> str:
    """Raw ``text`` as an escaped code block of at most ``limit`` Slack characters.

    If it does not fit, it is cut and the note (``{n}`` = characters left out) follows
    the block in italics.
    """
    return split_code(text, max_parts=1, part_limit=limit, note=note)[0]


def split_code(
    text: str, *, max_parts: int, part_limit: int = MAX_SECTION_TEXT, note: str = TRUNCATION_NOTE
) -> list[str]:
    """Raw ``text`` as up to ``max_parts`` escaped code blocks, each within ``part_limit``.

    Long text (an error of 50,000 characters) is spread over several blocks; only what
    does not fit in ``max_parts`` blocks is cut, with a visible note after the last one.
    Blocks break after a newline when one is near the end of a chunk.
    """
    raw = _break_fences(strip_control(text))
    budget = part_limit - _FENCE_COST
    parts: list[str] = []
    start = 0
    while start < len(raw) and len(parts) < max(max_parts, 1) - 1:
        end = start + max(_fit(raw, start, budget, _escaped_len), 1)
        if end < len(raw):
            newline = raw.rfind("\n", start + (end - start) * 4 // 5, end)
            if newline != -1:
                end = newline + 1
        parts.append(_fence(_escape(raw[start:end])))
        start = end
    rest = raw[start:]
    if rest or not parts:
        if _escaped_len(rest) <= budget:
            parts.append(_fence(_escape(rest)))
        else:
            widest = "\n_" + escape_mrkdwn(note.format(n=len(rest))) + "_"
            keep = _fit(rest, 0, budget - slack_len(widest), _escaped_len)
            tail = "\n_" + escape_mrkdwn(note.format(n=len(rest) - keep)) + "_"
            parts.append(_fence(_escape(rest[:keep])) + tail)
    return parts
