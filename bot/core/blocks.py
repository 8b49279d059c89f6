"""Block Kit primitives: Slack's limits, block builders and a message checker.

The text helpers (escaping, truncation, code blocks) live in :mod:`bot.core.mrkdwn`
and are re-exported here, so ``bot.core.blocks`` is the one import renderers need.

Blocks are built with ``slack_sdk.models.blocks`` (which validates many limits in
``to_dict()``) and returned as plain dicts ready for the Web API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    BlockElement,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InteractiveElement,
    MarkdownTextObject,
    SectionBlock,
    TextObject,
)

from bot.core.mrkdwn import (
    MAX_SECTION_TEXT,
    TRUNCATION_NOTE,
    escape_mrkdwn,
    escape_truncated,
    inline_code,
    slack_len,
    split_code,
    strip_control,
    truncate,
    wrap_code,
)

__all__ = [
    "MAX_ACTIONS_ELEMENTS",
    "MAX_ACTION_ID",
    "MAX_BLOCKS",
    "MAX_BLOCK_ID",
    "MAX_BUTTON_TEXT",
    "MAX_BUTTON_VALUE",
    "MAX_CONFIRM_BUTTON",
    "MAX_CONFIRM_TEXT",
    "MAX_CONFIRM_TITLE",
    "MAX_CONTEXT_ELEMENTS",
    "MAX_FALLBACK_TEXT",
    "MAX_FIELDS",
    "MAX_FIELD_TEXT",
    "MAX_HEADER_TEXT",
    "MAX_MESSAGE_TEXT",
    "MAX_SECTION_TEXT",
    "MAX_TEXT_OBJECT",
    "TRUNCATION_NOTE",
    "Reply",
    "actions",
    "button",
    "button_element",
    "check_message",
    "compact_json",
    "confirm_dialog",
    "confirm_object",
    "context",
    "divider",
    "escape_mrkdwn",
    "escape_truncated",
    "header",
    "inline_code",
    "pack_lines",
    "section",
    "slack_len",
    "split_code",
    "strip_control",
    "truncate",
    "wrap_code",
]

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks and the
# pages of each block/element); slack_sdk.models enforces most of them too.
MAX_BLOCKS = 50  # per message (modals and Home tabs allow 100)
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_TEXT_OBJECT = 3000  # any text object, e.g. a context element
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_MESSAGE_TEXT = 40000  # Slack truncates a message's top-level text beyond this
# Our own budget for the notification/fallback text: it is a summary, not the message.
MAX_FALLBACK_TEXT = 3000

# Special tokens that notify many people; only <!date^...> is ever produced on purpose.
_SPECIAL = re.compile(r"<!(?!date\^)")
# Keys whose strings Slack never renders as text (no mention can come from them).
_UNRENDERED_KEYS = frozenset({"value", "action_id", "block_id", "url", "type", "style"})


# ---------------------------------------------------------------------------
# Builders (slack_sdk models -> plain dicts)
# ---------------------------------------------------------------------------


def section(
    text: str | None = None,
    *,
    fields: Sequence[str] = (),
    accessory: Mapping[str, Any] | BlockElement | None = None,
) -> dict[str, Any]:
    """A section block of formatted mrkdwn ``text`` and/or ``fields`` (already escaped).

    ``accessory``: an element's dict, or its model (e.g. ``button_element``), which saves
    slack_sdk a parse and a second validation.
    """
    block = SectionBlock(
        text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)) if text else None,
        fields=[MarkdownTextObject(text=truncate(f, MAX_FIELD_TEXT)) for f in fields][:MAX_FIELDS]
        or None,
        accessory=_element(accessory) if accessory else None,
    )
    return _section_dict(block)


def _section_dict(block: SectionBlock) -> dict[str, Any]:
    """``block.to_dict()`` for a section of mrkdwn text objects, for a fraction of the cost.

    slack_sdk's ``to_dict`` walks every nested model generically (validate, then serialize,
    then walk the result again), most of a card's rendering time. This runs the section's
    own validators the same way, then writes the dict directly: the same keys, in the same
    (sorted) order, the same omissions (None and empty values). Text objects have no
    validators of their own; anything else (plain_text, ``verbatim``, ``emoji``, a
    ``block_id``, ``expand``) takes slack_sdk's path.
    """
    text, fields = block.text, block.fields
    if block.block_id is not None or block.expand is not None or not _plain_mrkdwn(text, fields):
        return _as_dict(block)
    block.validate_json()
    out: dict[str, Any] = {}
    if block.accessory is not None:
        out["accessory"] = block.accessory.to_dict()
    if fields:
        out["fields"] = [_mrkdwn_dict(f.text) for f in fields]
    if text is not None:
        out["text"] = _mrkdwn_dict(text.text)
    out["type"] = block.type
    return out


def _plain_mrkdwn(text: TextObject | None, fields: Sequence[TextObject] | None) -> bool:
    """Whether every text object is a bare MarkdownTextObject (no verbatim, no emoji)."""
    return all(
        type(t) is MarkdownTextObject and t.verbatim is None and t.emoji is None
        for t in (*([text] if text is not None else ()), *(fields or ()))
    )


def _mrkdwn_dict(text: str) -> dict[str, Any]:
    # MarkdownTextObject.to_dict(): an empty text is left out, like every empty value.
    return {"text": text, "type": "mrkdwn"} if text else {"type": "mrkdwn"}


def pack_lines(
    lines: Sequence[str], *, max_blocks: int, limit: int = MAX_SECTION_TEXT
) -> tuple[list[dict[str, Any]], int]:
    """Formatted lines packed into as few section blocks as fit, at most ``max_blocks``.

    Returns the blocks and how many lines did not fit (for an "and N more" note).
    A single line longer than ``limit`` is cut with a note.
    """
    blocks: list[dict[str, Any]] = []
    current = ""
    for n, raw_line in enumerate(lines):
        line = truncate(raw_line, limit)
        if current and slack_len(current) + 1 + slack_len(line) <= limit:
            current += "\n" + line
            continue
        if current:
            blocks.append(section(current))
        if len(blocks) >= max_blocks:
            return blocks, len(lines) - n
        current = line
    if current:
        blocks.append(section(current))
    return blocks, 0


def context(*texts: str) -> dict[str, Any]:
    """A context block (small grey text) of formatted mrkdwn strings."""
    elements = [MarkdownTextObject(text=truncate(t, MAX_TEXT_OBJECT)) for t in texts if t]
    return _as_dict(ContextBlock(elements=elements[:MAX_CONTEXT_ELEMENTS]))


def divider() -> dict[str, Any]:
    return dict(_DIVIDER)  # a copy: callers own the blocks they get


_DIVIDER: dict[str, Any] = DividerBlock().to_dict()  # always the same; lists have up to 24


def header(text: str) -> dict[str, Any]:
    """A header block; ``text`` is plain text (no escaping needed), cut to Slack's limit."""
    return _as_dict(HeaderBlock(text=truncate(strip_control(text), MAX_HEADER_TEXT, note="…")))


def actions(*elements: Mapping[str, Any] | InteractiveElement) -> dict[str, Any]:
    """An actions block of elements (dicts, or models such as ``button_element``)."""
    parts = [e if isinstance(e, InteractiveElement) else dict(e) for e in elements]
    return _as_dict(ActionsBlock(elements=parts[:MAX_ACTIONS_ELEMENTS]))


def confirm_object(
    *, title: str, text: str, confirm: str, deny: str, style: str = "danger"
) -> ConfirmObject:
    """``confirm_dialog`` as a slack_sdk model, to hand to ``button_element``."""
    return ConfirmObject(
        title=truncate(title, MAX_CONFIRM_TITLE, note="…"),
        text=MarkdownTextObject(text=truncate(text, MAX_CONFIRM_TEXT, note="…")),
        confirm=truncate(confirm, MAX_CONFIRM_BUTTON, note="…"),
        deny=truncate(deny, MAX_CONFIRM_BUTTON, note="…"),
        style=style,
    )


def confirm_dialog(
    *, title: str, text: str, confirm: str, deny: str, style: str = "danger"
) -> dict[str, Any]:
    """A confirmation dialog; ``text`` is formatted mrkdwn, the rest plain text."""
    obj = confirm_object(title=title, text=text, confirm=confirm, deny=deny, style=style)
    result: dict[str, Any] = obj.to_dict()
    return result


def button_element(
    text: str,
    *,
    action_id: str,
    value: str | None = None,
    style: Literal["primary", "danger"] | None = None,
    confirm: Mapping[str, Any] | ConfirmObject | None = None,
) -> ButtonElement:
    """``button`` as a slack_sdk model: validated once, in the block that holds it."""
    if value is not None and slack_len(value) > MAX_BUTTON_VALUE:
        raise ValueError(
            f"button value is {len(value)} characters; Slack allows {MAX_BUTTON_VALUE}"
        )
    if confirm is not None and not isinstance(confirm, ConfirmObject):
        confirm = ConfirmObject.parse(dict(confirm)) if confirm else None
    return ButtonElement(
        text=truncate(strip_control(text), MAX_BUTTON_TEXT, note="…"),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirm,
    )


def button(
    text: str,
    *,
    action_id: str,
    value: str | None = None,
    style: Literal["primary", "danger"] | None = None,
    confirm: Mapping[str, Any] | ConfirmObject | None = None,
) -> dict[str, Any]:
    """A button element; ``text`` is plain text. ``value`` must fit Slack's 2,000 characters."""
    element = button_element(text, action_id=action_id, value=value, style=style, confirm=confirm)
    result: dict[str, Any] = element.to_dict()
    return result


def _element(element: Mapping[str, Any] | BlockElement) -> dict[str, Any] | BlockElement:
    # slack_sdk parses a dict into a model and validates it again; a model goes in as it is.
    return element if isinstance(element, BlockElement) else dict(element)


def compact_json(value: Mapping[str, Any]) -> str:
    """Compact JSON for button values (every character counts against 2,000)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _as_dict(block: Block) -> dict[str, Any]:
    result: dict[str, Any] = block.to_dict()
    return result


@dataclass(frozen=True, slots=True)
class Reply:
    """A message ready to send: fallback ``text`` (notifications) plus Block Kit ``blocks``."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"

    def to_slack(self) -> dict[str, Any]:
        """Keyword arguments for ``respond``/``chat.postMessage``."""
        return {"text": self.text, "blocks": self.blocks, "response_type": self.response_type}


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def check_message(blocks: Sequence[Mapping[str, Any]], text: str | None = None) -> list[str]:
    """Every way ``blocks`` (and fallback ``text``) break Slack's rules; empty means fine.

    Runs slack_sdk's own validators (``Block.parse(...).to_dict()``) and adds checks
    they lack: the 50-block limit, field and context lengths, unique block ids, empty
    texts, and special tokens (``<!channel>``, ``<!here>`` ...) that would ping people.
    """
    problems: list[str] = []
    if text is not None:
        if slack_len(text) > MAX_MESSAGE_TEXT:
            problems.append(f"text has {slack_len(text)} characters (max {MAX_MESSAGE_TEXT})")
        problems += [f"text: {p}" for p in _token_problems(text)]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (max {MAX_BLOCKS})")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type', '?')})" if isinstance(block, Mapping) else str(i)
        if not isinstance(block, Mapping):
            problems.append(f"{where}: not an object")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        problems += [f"{where}: {p}" for p in _sdk_problems(block)]
        problems += [f"{where}: {p}" for p in _block_problems(block)]
        for s in _strings(block):
            problems += [f"{where}: {p}" for p in _token_problems(s)]
    return problems


def _sdk_problems(block: Mapping[str, Any]) -> list[str]:
    try:
        parsed = Block.parse(dict(block))
        if parsed is None:
            return [f"unknown block type {block.get('type')!r}"]
        parsed.to_dict()
    except Exception as exc:  # slack_sdk raises several types on malformed input
        return [f"slack_sdk: {exc}"]
    return []


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, Mapping) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return None


def _length_problem(name: str, text: str | None, limit: int) -> list[str]:
    if text is None:
        return [f"{name} has no text"]
    if not text:
        return [f"{name} is empty"]
    if slack_len(text) > limit:
        return [f"{name} has {slack_len(text)} characters (max {limit})"]
    return []


def _block_problems(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    out: list[str] = []
    if kind == "section":
        fields = block.get("fields") or []
        if "text" in block:
            out += _length_problem("text", _text_of(block["text"]), MAX_SECTION_TEXT)
        elif not fields:
            out.append("section has neither text nor fields")
        if len(fields) > MAX_FIELDS:
            out.append(f"{len(fields)} fields (max {MAX_FIELDS})")
        for j, f in enumerate(fields):
            out += _length_problem(f"field {j}", _text_of(f), MAX_FIELD_TEXT)
        if block.get("accessory"):
            out += _element_problems(block["accessory"])
    elif kind == "context":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            out.append(f"{len(elements)} context elements (1..{MAX_CONTEXT_ELEMENTS})")
        for j, e in enumerate(elements):
            if isinstance(e, Mapping) and e.get("type") in ("mrkdwn", "plain_text"):
                out += _length_problem(f"element {j}", _text_of(e), MAX_TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
            out.append(f"{len(elements)} action elements (1..{MAX_ACTIONS_ELEMENTS})")
        ids = [e.get("action_id") for e in elements if isinstance(e, Mapping)]
        if len(ids) != len(set(ids)):
            out.append("action_ids repeat within the block")
        for e in elements:
            out += _element_problems(e)
    elif kind == "header":
        out += _length_problem("header", _text_of(block.get("text")), MAX_HEADER_TEXT)
    return out


def _element_problems(element: Any) -> list[str]:
    if not isinstance(element, Mapping) or element.get("type") != "button":
        return []
    out = _length_problem("button text", _text_of(element.get("text")), MAX_BUTTON_TEXT)
    value = element.get("value")
    if isinstance(value, str) and slack_len(value) > MAX_BUTTON_VALUE:
        out.append(f"button value has {slack_len(value)} characters (max {MAX_BUTTON_VALUE})")
    action_id = element.get("action_id")
    if not isinstance(action_id, str) or not 1 <= len(action_id) <= MAX_ACTION_ID:
        out.append(f"button action_id must be 1..{MAX_ACTION_ID} characters")
    confirm = element.get("confirm")
    if isinstance(confirm, Mapping):
        out += _length_problem("confirm title", _text_of(confirm.get("title")), MAX_CONFIRM_TITLE)
        out += _length_problem("confirm text", _text_of(confirm.get("text")), MAX_CONFIRM_TEXT)
        for key in ("confirm", "deny"):
            out += _length_problem(f"confirm {key}", _text_of(confirm.get(key)), MAX_CONFIRM_BUTTON)
    return out


def _token_problems(text: str) -> list[str]:
    if _SPECIAL.search(text):
        return ["contains a special <!...> token (would notify people)"]
    return []


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if key not in _UNRENDERED_KEYS:
                yield from _strings(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from _strings(value)
