"""Slack mrkdwn text: escaping, Slack-length counting, truncation with a note, code.

Every value that comes from the Peaka API (or from a user) goes through
:func:`escape_mrkdwn` (or a helper built on it) before it lands in a message, so an
error text such as ``<!channel> boom`` can never ping a channel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# C0/C1 control characters other than tab and newline render as garbage (or not at all).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
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
    return "".join(_ESCAPES.get(ch, ch) for ch in strip_control(text))


def _fit(pieces: Sequence[str], budget: int) -> int:
    """How many leading pieces fit in ``budget`` Slack characters."""
    used = 0
    for i, piece in enumerate(pieces):
        used += slack_len(piece)
        if used > budget:
            return i
    return len(pieces)


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
    keep = _fit(text, limit - slack_len(widest))
    head = _safe_cut(text, keep)
    return head + note.format(n=len(text) - len(head))


def escape_truncated(text: str, limit: int, note: str = TRUNCATION_NOTE) -> str:
    """Escape raw ``text`` and cut it to ``limit`` Slack characters with a visible note.

    Unlike ``truncate(escape_mrkdwn(text))`` this counts the left-out characters of the
    raw text and never splits an entity.
    """
    raw = strip_control(text)
    pieces = [_ESCAPES.get(ch, ch) for ch in raw]
    escaped = "".join(pieces)
    if slack_len(escaped) <= limit:
        return escaped
    widest = note.format(n=len(raw))
    if slack_len(widest) >= limit:
        return _safe_cut(widest, limit)
    keep = _fit(pieces, limit - slack_len(widest))
    return "".join(pieces[:keep]) + note.format(n=len(raw) - keep)


def inline_code(text: str, limit: int = 200) -> str:
    """Raw ``text`` as escaped inline code (backticks inside are swapped so they can't close it)."""
    raw = strip_control(text).replace("\n", " ").replace("`", "ˋ")
    if not raw.strip():
        return "—"
    return "`" + escape_truncated(raw, max(limit - 2, 8), note="…") + "`"


def _code_pieces(raw: str) -> list[str]:
    # Escape per character and break every third backtick in a row, so the text can
    # never close the surrounding code fence early.
    pieces: list[str] = []
    run = 0
    for ch in raw:
        run = run + 1 if ch == "`" else 0
        if run == 3:
            pieces.append("\u200b`")
            run = 1
        else:
            pieces.append(_ESCAPES.get(ch, ch))
    return pieces


def _fence(body: str) -> str:
    return f"{_CODE_FENCE}\n{body or ' '}\n{_CODE_FENCE}"


_FENCE_COST = slack_len(_fence("x")) - 1


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
    """
    pieces = _code_pieces(strip_control(text))
    budget = part_limit - _FENCE_COST
    parts: list[str] = []
    start = 0
    while start < len(pieces) and len(parts) < max_parts - 1:
        end = start + max(_fit(pieces[start:], budget), 1)
        if end < len(pieces):
            # Prefer to break after a newline in the last fifth of the chunk.
            newline = _newline_index(pieces, start + (end - start) * 4 // 5, end)
            if newline is not None:
                end = newline + 1
        parts.append(_fence("".join(pieces[start:end])))
        start = end
    rest = pieces[start:]
    if rest or not parts:
        body = "".join(rest)
        if slack_len(body) <= budget:
            parts.append(_fence(body))
        else:
            shown = note.format(n=len(rest))
            tail = "\n_" + escape_mrkdwn(shown) + "_"
            keep = _fit(rest, budget - slack_len(tail))
            tail = "\n_" + escape_mrkdwn(note.format(n=len(rest) - keep)) + "_"
            parts.append(_fence("".join(rest[:keep])) + tail)
    return parts


def _newline_index(pieces: Sequence[str], start: int, end: int) -> int | None:
    for i in range(end - 1, start - 1, -1):
        if pieces[i] == "\n":
            return i
    return None
