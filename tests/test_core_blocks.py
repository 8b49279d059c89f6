from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock

from bot.core.blocks import (
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_SECTION_TEXT,
    Reply,
    _section_dict,
    actions,
    button,
    button_element,
    check_message,
    compact_json,
    confirm_dialog,
    context,
    divider,
    escape_mrkdwn,
    escape_truncated,
    header,
    inline_code,
    pack_lines,
    section,
    slack_len,
    split_code,
    truncate,
    wrap_code,
)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a & b", "a &amp; b"),
        ("<!channel> boom", "&lt;!channel&gt; boom"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("&amp;", "&amp;amp;"),
        ("x\x00y\x1b[0m\tz\n", "xy[0m\tz\n"),
        ("plain *bold* `code`", "plain *bold* `code`"),
    ],
)
def test_escape_mrkdwn(raw: str, escaped: str) -> None:
    assert escape_mrkdwn(raw) == escaped


def test_slack_len_counts_utf16_units() -> None:
    assert slack_len("abc") == 3
    assert slack_len("😀") == 2
    assert slack_len("\ud800") == 1  # a lone surrogate does not crash


def test_truncate_keeps_short_text_and_cuts_long_text_with_a_note() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("x" * 5000, 3000)
    assert len(cut) <= 3000
    assert cut.endswith("more characters)")
    n = int(cut.rsplit("truncated, ", 1)[1].split()[0])
    assert cut.startswith("x" * (5000 - n)) and cut.count("x") == 5000 - n


def test_truncate_never_splits_an_entity_or_a_token() -> None:
    text = "a" * 95 + "&amp;" + "b" * 100
    for limit in range(60, 140):
        cut = truncate(text, limit, note="…")
        assert "&am…" not in cut and "&a…" not in cut and "&…" not in cut
        assert slack_len(cut) <= limit
    token = "x" * 50 + "<!date^1^{time}|12:00>" + "y" * 100
    for limit in range(52, 80):
        cut = truncate(token, limit, note="…")
        assert "<" not in cut or "<!date^1^{time}|12:00>" in cut


def test_truncate_with_a_tiny_limit() -> None:
    assert slack_len(truncate("x" * 100, 5)) <= 5


def test_escape_truncated_counts_raw_characters() -> None:
    raw = "<" * 2000
    cut = escape_truncated(raw, 3000)
    assert slack_len(cut) <= 3000
    shown = cut.count("&lt;")
    assert f"{2000 - shown} more characters" in cut
    assert "&l…" not in cut and not cut.split("…")[0].endswith(("&", "&l", "&lt"))


def test_inline_code() -> None:
    assert inline_code('peaka.query."x"') == '`peaka.query."x"`'
    assert inline_code("a`b<c>") == "`aˋb&lt;c&gt;`"
    assert inline_code("") == "—"
    assert inline_code("line1\nline2") == "`line1 line2`"
    assert slack_len(inline_code("x" * 1000, 50)) <= 50


def test_wrap_code_escapes_and_cannot_be_closed_early() -> None:
    code = wrap_code("<!here> ``` *not bold*")
    assert code.startswith("```\n") and code.endswith("\n```")
    body = code[4:-4]
    assert "```" not in body
    assert "&lt;!here&gt;" in body


def test_wrap_code_truncates_with_a_visible_note() -> None:
    code = wrap_code("e" * 10_000)
    assert slack_len(code) <= MAX_SECTION_TEXT
    assert code.endswith("more characters)_")
    assert "```\n_… (truncated, " in code


def test_split_code_keeps_a_50k_error_whole_across_blocks() -> None:
    error = "".join(f"line {i}: <bad> & worse\n" for i in range(2500))  # ~60k chars
    parts = split_code(error, max_parts=40)
    assert all(slack_len(p) <= MAX_SECTION_TEXT for p in parts)
    assert "truncated" not in parts[-1]
    joined = "".join(p[4:-4] for p in parts)
    assert joined.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == error
    # Chunks end at line breaks when one is near.
    assert all(p[4:-4].endswith("\n") for p in parts[:-1])


def test_split_code_cuts_only_what_does_not_fit() -> None:
    parts = split_code("z" * 20_000, max_parts=3)
    assert len(parts) == 3
    shown = sum(p.count("z") for p in parts)
    assert f"{20_000 - shown} more characters" in parts[-1]


def test_builders_produce_valid_blocks() -> None:
    confirm = confirm_dialog(title="Sure?", text="It *stops*.", confirm="Yes", deny="No")
    blocks = [
        header("A header " * 40),
        section("*hi*", fields=["a", "b"], accessory=button("Go", action_id="go", value="1")),
        divider(),
        context("small", "print"),
        actions(
            button("x" * 200, action_id="a1", style="danger", confirm=confirm),
            button("B", action_id="a2"),
        ),
    ]
    assert check_message(blocks, "fallback") == []
    assert len(blocks[0]["text"]["text"]) <= 150
    assert len(blocks[4]["elements"][0]["text"]["text"]) <= 75


def test_button_value_over_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="2000"):
        button("x", action_id="a", value="v" * 2001)


def test_compact_json() -> None:
    assert compact_json({"p": "a", "j": "b"}) == '{"j":"b","p":"a"}'
    assert json.loads(compact_json({"p": "é"})) == {"p": "é"}


def test_pack_lines_fills_sections_and_counts_what_is_left() -> None:
    lines = [f"line {i} " + "x" * 900 for i in range(20)]
    blocks, hidden = pack_lines(lines, max_blocks=3)
    assert len(blocks) == 3 and hidden == 20 - 9
    assert check_message(blocks) == []
    blocks, hidden = pack_lines(["a", "b"], max_blocks=3)
    assert hidden == 0 and blocks[0]["text"]["text"] == "a\nb"


def test_reply_to_slack() -> None:
    reply = Reply(text="t", blocks=[divider()], response_type="in_channel")
    assert reply.to_slack() == {
        "text": "t",
        "blocks": [{"type": "divider"}],
        "response_type": "in_channel",
    }


# -- check_message finds each kind of problem --------------------------------------


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.parametrize(
    ("blocks", "fragment"),
    [
        ([{"type": "divider"}] * (MAX_BLOCKS + 1), "51 blocks"),
        ([_section("x" * 3001)], "3000"),
        ([_section("")], "empty"),
        ([_section("hi <!channel>")], "special"),
        ([_section("hi <!here|here>")], "special"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "11 fields"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "2000"),
        ([{"type": "section"}], "neither text nor fields"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "context elements",
        ),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3001}]}], "3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "150"),
        ([{"type": "bogus"}], "unknown block type"),
        (
            [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}],
            "duplicate block_id",
        ),
    ],
)
def test_check_message_reports_problems(blocks: list[dict[str, object]], fragment: str) -> None:
    problems = check_message(blocks)
    assert any(fragment in p for p in problems), problems


def _button(**overrides: object) -> dict[str, object]:
    element: dict[str, object] = {
        "type": "button",
        "text": {"type": "plain_text", "text": "ok"},
        "action_id": "a",
    }
    element.update(overrides)
    return element


@pytest.mark.parametrize(
    ("element", "fragment"),
    [
        (_button(text={"type": "plain_text", "text": "b" * 76}), "75"),
        (_button(value="v" * 2001), "2000"),
        (_button(action_id=""), "action_id"),
        (
            _button(
                confirm={
                    "title": {"type": "plain_text", "text": "t" * 101},
                    "text": {"type": "mrkdwn", "text": "x"},
                    "confirm": {"type": "plain_text", "text": "y"},
                    "deny": {"type": "plain_text", "text": "n"},
                }
            ),
            "100",
        ),
    ],
)
def test_check_message_reports_button_problems(element: dict[str, object], fragment: str) -> None:
    problems = check_message([{"type": "actions", "elements": [element]}])
    assert any(fragment in p for p in problems), problems


def test_check_message_allows_dates_mentions_links_and_values() -> None:
    blocks: list[dict[str, object]] = [
        _section("<!date^1781093462^{date_short_pretty}|2026-06-10> <@U123> <https://x.example|x>"),
        {"type": "actions", "elements": [_button(value='{"j":"<!channel>"}')]},  # never rendered
    ]
    assert check_message(blocks, "<@U1> done") == []
    assert check_message([], "<!everyone>") != []


def test_check_message_uses_slack_sdk_validation() -> None:
    # A too-long section text is reported by slack_sdk's own validator as well.
    problems = check_message([_section("x" * 3001)])
    assert any(p.startswith("block 0 (section): slack_sdk:") for p in problems)
    with pytest.raises(SlackObjectFormationError):
        from slack_sdk.models.blocks import Block

        parsed = Block.parse(_section("x" * 3001))
        assert parsed is not None
        parsed.to_dict()


# -- section's direct serialization equals slack_sdk's to_dict ------------------------

_TEXTS = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.text(alphabet="ab<&>*\n", min_size=2995, max_size=3005),
)
_ACCESSORIES = st.one_of(
    st.none(),
    st.builds(
        lambda text, value: button_element(text or "b", action_id="a", value=value),
        st.text(max_size=10),
        st.one_of(st.none(), st.text(max_size=10)),
    ),
    st.builds(
        lambda text: {
            "type": "button",
            "text": {"type": "plain_text", "text": text or "b"},
            "action_id": "d",
        },
        st.text(max_size=10),
    ),
)


def _sdk(block: SectionBlock) -> str | type[Exception]:
    """slack_sdk's own serialization, as JSON (key order included), or the error it raises."""
    try:
        return json.dumps(block.to_dict())
    except SlackObjectFormationError:
        return SlackObjectFormationError


def _fast(block: SectionBlock) -> str | type[Exception]:
    try:
        return json.dumps(_section_dict(block))
    except SlackObjectFormationError:
        return SlackObjectFormationError


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.none(), _TEXTS),
    fields=st.lists(_TEXTS, max_size=12),
    accessory=_ACCESSORIES,
)
def test_section_equals_slack_sdks_to_dict(
    text: str | None, fields: list[str], accessory: Any
) -> None:
    plain = SectionBlock(
        text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)) if text else None,
        fields=[MarkdownTextObject(text=truncate(f, MAX_FIELD_TEXT)) for f in fields][:MAX_FIELDS]
        or None,
        accessory=accessory or None,
    )
    try:
        got: str | type[Exception] = json.dumps(section(text, fields=fields, accessory=accessory))
    except SlackObjectFormationError:
        got = SlackObjectFormationError
    assert got == _sdk(plain)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.none(), _TEXTS, st.builds(lambda t: PlainTextObject(text=t), _TEXTS)),
    fields=st.lists(
        st.one_of(
            _TEXTS,
            st.builds(lambda t: MarkdownTextObject(text=t, verbatim=True), _TEXTS),
            st.builds(lambda t: PlainTextObject(text=t, emoji=True), _TEXTS),
        ),
        max_size=12,
    ),
    accessory=_ACCESSORIES,
    block_id=st.one_of(st.none(), st.text(max_size=3), st.just("i" * 256)),
    expand=st.one_of(st.none(), st.booleans()),
)
def test_direct_section_dict_equals_to_dict_or_raises_the_same(
    text: Any, fields: list[Any], accessory: Any, block_id: str | None, expand: bool | None
) -> None:
    # Any section slack_sdk can hold, valid or not: the same JSON, or the same error.
    block = SectionBlock(
        text=text, fields=fields, accessory=accessory, block_id=block_id, expand=expand
    )
    assert _fast(block) == _sdk(block)
