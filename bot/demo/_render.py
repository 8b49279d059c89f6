"""Block Kit and mrkdwn, made readable in a terminal with ``rich``.

``BlockRenderer.render(blocks, text, first_button=N)`` returns the lines to print and the
buttons it numbered (``[N] Older``, ``[N+1] Cancel``...). Lines come already wrapped and
indented; a line holding a URL is never wrapped, so the URL stays whole and clickable.

mrkdwn: ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, code blocks, quotes, emoji
codes, ``&amp;``-escapes, and the ``<...>`` tokens: ``<@U123>`` becomes ``@ana``,
``<#C123|name>`` becomes ``#name``, ``<!date^...>`` a date in the local time zone and
``<url|text>`` becomes ``text <url>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.emoji import Emoji
from rich.text import Text

__all__ = ["BlockRenderer", "Rendered", "mrkdwn_text"]

_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_TOKENS = re.compile(r"`[^`\n]+`|<[^<>\n]+>")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "bold"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "italic"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "strike"),
)
_URL = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
_DATE_TOKEN = re.compile(r"\{(\w+)\}")
_STYLE_FOR_BUTTON = {"primary": "bold green", "danger": "bold red"}


@dataclass
class Rendered:
    """Printable lines of one message, and the buttons numbered in it (in order)."""

    lines: list[Text] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)


def mrkdwn_text(
    text: str,
    *,
    names: Mapping[str, str] | None = None,
    now: Callable[[], datetime] | None = None,
    base_style: str = "",
) -> Text:
    """Slack mrkdwn as a rich ``Text`` (see the module docstring for what is understood)."""
    out = Text(style=base_style)
    position = 0
    for block in _CODE_BLOCK.finditer(text):
        _inline(out, text[position : block.start()], names or {}, now)
        code = _unescape(block.group(1))
        if out.plain and not out.plain.endswith("\n"):
            out.append("\n")
        out.append("\n".join("│ " + line for line in code.split("\n")), style="cyan")
        position = block.end()
    _inline(out, text[position:], names or {}, now)
    return _quotes(out)


class BlockRenderer:
    """Turns messages into terminal lines; ``names`` maps Slack ids to readable names."""

    def __init__(
        self,
        names: Mapping[str, str],
        *,
        now: Callable[[], datetime] | None = None,
        width: Callable[[], int] | None = None,
        indent: int = 2,
    ) -> None:
        self.names = names
        self.now = now
        self._width = width or (lambda: 80)
        self.indent = indent

    def render(
        self, blocks: Sequence[Mapping[str, Any]], text: str = "", *, first_button: int = 1
    ) -> Rendered:
        """Every block of a message (or its fallback ``text`` when it has none)."""
        result = Rendered()
        if not blocks:
            self._add(result, self._mrkdwn(text or "(empty message)"))
            return result
        for block in blocks:
            if isinstance(block, Mapping):
                self._block(block, result, first_button)
        return result

    # --- blocks ------------------------------------------------------------------------------

    def _block(self, block: Mapping[str, Any], out: Rendered, first: int) -> None:
        kind = block.get("type")
        if kind == "header":
            self._add(out, Text(_plain(block.get("text")), style="bold underline"))
        elif kind == "section":
            if block.get("text"):
                self._add(out, self._text_object(block["text"]))
            self._fields(block.get("fields") or [], out)
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping):
                self._elements([accessory], out, first)
        elif kind == "context":
            parts = [self._context_element(e) for e in block.get("elements") or []]
            self._add(out, Text("  ").join(p for p in parts if p.plain), style="dim")
        elif kind == "divider":
            self._add(out, Text("─" * min(40, self._usable()), style="dim"))
        elif kind == "actions":
            self._elements(block.get("elements") or [], out, first)
        elif kind == "input":
            label = _plain(block.get("label"))
            hint = " (optional)" if block.get("optional") else ""
            element = block.get("element") or {}
            placeholder = _plain(element.get("placeholder")) if isinstance(element, dict) else ""
            line = Text(f"{label}{hint}: ", style="bold")
            line.append(f"[{placeholder or 'type here'}]", style="dim")
            self._add(out, line)
            if block.get("hint"):
                self._add(out, self._text_object(block["hint"]), style="dim")
        elif kind == "image":
            self._add(out, Text(f"[image: {block.get('alt_text', '')}]", style="dim"))
        elif kind == "rich_text":
            self._add(out, Text(_rich_text_plain(block)))
        else:
            self._add(out, Text(f"[{kind} block]", style="dim"))

    def _fields(self, fields: Sequence[Any], out: Rendered) -> None:
        texts = [self._text_object(f) for f in fields]
        flat = [_one_line(t) for t in texts]
        column = max((t.cell_len for t in flat), default=0) + 3
        if column * 2 > self._usable():
            for t in flat:
                self._add(out, t)
            return
        for i in range(0, len(flat), 2):
            row = flat[i].copy()
            if i + 1 < len(flat):
                row.pad_right(column - row.cell_len)
                row.append_text(flat[i + 1])
            self._add(out, row)

    def _elements(self, elements: Sequence[Any], out: Rendered, first: int) -> None:
        line = Text()
        for element in elements:
            if not isinstance(element, Mapping):
                continue
            if line.plain:
                line.append("  ")
            if element.get("type") == "button":
                number = first + len(out.buttons)
                out.buttons.append(dict(element))
                style = _STYLE_FOR_BUTTON.get(str(element.get("style")), "bold")
                line.append(f"[{number}] ", style="bold magenta")
                line.append(_plain(element.get("text")), style=style)
                if element.get("url"):
                    line.append(f" <{element['url']}>", style="underline blue")
                if element.get("confirm"):
                    line.append(" (asks to confirm)", style="dim")
            else:
                placeholder = _plain(element.get("placeholder")) or str(element.get("type"))
                line.append(f"[{placeholder}: not available in the demo]", style="dim")
        if line.plain:
            self._add(out, line)

    # --- text --------------------------------------------------------------------------------

    def _text_object(self, obj: Any) -> Text:
        if isinstance(obj, Mapping) and obj.get("type") == "plain_text":
            return Text(Emoji.replace(str(obj.get("text", ""))))
        return self._mrkdwn(_plain(obj))

    def _context_element(self, element: Any) -> Text:
        if isinstance(element, Mapping) and element.get("type") == "image":
            return Text(f"[{element.get('alt_text', 'image')}]")
        return self._text_object(element)

    def _mrkdwn(self, text: str) -> Text:
        return mrkdwn_text(text, names=self.names, now=self.now)

    def _usable(self) -> int:
        return max(20, self._width() - self.indent)

    def _add(self, out: Rendered, text: Text, *, style: str = "") -> None:
        """Wrap ``text`` to the width and indent it; lines with URLs stay whole."""
        if style:
            text = text.copy()
            text.stylize(style)
        prefix = " " * self.indent
        for raw_line in text.split("\n", allow_blank=True):
            if _URL.search(raw_line.plain):
                pieces = [raw_line]
            else:
                pieces = list(raw_line.wrap(Console(width=self._usable()), self._usable()))
            for piece in pieces or [Text()]:
                piece.rstrip()
                out.lines.append(Text(prefix) + piece)


# ---------------------------------------------------------------------------
# mrkdwn internals
# ---------------------------------------------------------------------------


def _inline(
    out: Text, text: str, names: Mapping[str, str], now: Callable[[], datetime] | None
) -> None:
    position = 0
    for token in _TOKENS.finditer(text):
        _styled(out, text[position : token.start()])
        raw = token.group(0)
        if raw.startswith("`"):
            out.append(_unescape(raw[1:-1]), style="cyan")
        else:
            shown, style = _angle(raw[1:-1], names, now)
            out.append(shown, style=style)
        position = token.end()
    _styled(out, text[position:])


def _styled(out: Text, text: str) -> None:
    """Plain mrkdwn (no tokens): emphasis, emoji, then unescaping."""
    spans: list[tuple[int, int, str, int, int]] = []  # start, end, style, inner start, end
    for pattern, style in _STYLES:
        for match in pattern.finditer(text):
            spans.append((match.start(), match.end(), style, match.start(1), match.end(1)))
    spans.sort()
    position = 0
    for start, end, style, inner_start, inner_end in spans:
        if start < position:
            continue  # overlaps an earlier span: keep the earlier one
        out.append(_plain_text(text[position:start]))
        out.append(_plain_text(text[inner_start:inner_end]), style=style)
        position = end
    out.append(_plain_text(text[position:]))


def _plain_text(text: str) -> str:
    return Emoji.replace(_unescape(text))


def _angle(
    inner: str, names: Mapping[str, str], now: Callable[[], datetime] | None
) -> tuple[str, str]:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + (names.get(user_id) or label or user_id), "bold cyan"
    if target.startswith("#"):
        channel_id = target[1:]
        return "#" + (label or names.get(channel_id) or channel_id), "bold cyan"
    if target.startswith("!date^"):
        return _date_token(target, label, now), "yellow"
    if target.startswith("!subteam^"):
        return _unescape(label) or "@group", "bold cyan"
    if target.startswith("!"):
        return "@" + target[1:].split("^")[0], "bold red"
    url = _unescape(target)
    shown = _unescape(label)
    if not shown or shown == url:
        return url, "underline blue"
    if url.lower().startswith("mailto:"):
        return shown, "underline blue"
    return f"{shown} <{url}>", "underline blue"


def _date_token(target: str, fallback: str, now: Callable[[], datetime] | None) -> str:
    parts = target.split("^")
    try:
        stamp = datetime.fromtimestamp(int(parts[1]), tz=UTC).astimezone()
    except (IndexError, ValueError, OverflowError, OSError):
        return _unescape(fallback) or "(a date)"
    template = parts[2] if len(parts) > 2 else "{date_short} {time}"
    current = (now() if now else datetime.now(UTC)).astimezone()

    def one(match: re.Match[str]) -> str:
        return _date_part(match.group(1), stamp, current) or match.group(0)

    return _DATE_TOKEN.sub(one, template)


def _date_part(name: str, stamp: datetime, current: datetime) -> str | None:
    pretty = name.endswith("_pretty")  # date_pretty, date_short_pretty, date_long_pretty
    base = name.removesuffix("_pretty")
    if pretty:
        relative = _relative_day(stamp.date(), current.date())
        if relative:
            return relative
    if base == "ago":
        return _ago(current - stamp)
    year = f", {stamp.year}" if stamp.year != current.year else ""
    month, weekday, day = f"{stamp:%B}", f"{stamp:%A}", _ordinal(stamp.day)
    formats = {
        "date_num": f"{stamp:%Y-%m-%d}",
        "date": f"{month} {day}, {stamp.year}",
        "date_short": f"{stamp:%b} {stamp.day}{year}",
        "date_long": f"{weekday}, {month} {day}, {stamp.year}",
        "time": f"{stamp:%H:%M}",
        "time_secs": f"{stamp:%H:%M:%S}",
    }
    return formats.get(base)


def _relative_day(day: date, today: date) -> str | None:
    return {0: "today", -1: "yesterday", 1: "tomorrow"}.get((day - today).days)


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            words = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _quotes(text: Text) -> Text:
    """Lines starting with ``>`` (or the escaped ``&gt;``, already unescaped) as a bar."""
    lines = text.split("\n", allow_blank=True)
    if not any(line.plain.startswith(">") for line in lines):
        return text
    out = Text(style=text.style)
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        if line.plain.startswith(">"):
            out.append("│ ", style="dim")
            out.append_text(line[1:].copy() if not line.plain.startswith("> ") else line[2:])
        else:
            out.append_text(line)
    return out


def _one_line(text: Text) -> Text:
    """A field (``*Label*\\nvalue``) on one line: ``Label value``."""
    parts = text.split("\n")
    return Text(" ").join(parts) if len(parts) > 1 else text


def _plain(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def _rich_text_plain(block: Mapping[str, Any]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            elif node.get("type") == "link":
                out.append(str(node.get("url", "")))
            for child in node.get("elements") or []:
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(block)
    return "".join(out)
