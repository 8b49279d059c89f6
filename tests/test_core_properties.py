"""Property tests: any command text parses without raising and renders into a valid
message; any ExportJob (hostile strings, huge errors, unknown statuses, missing fields)
renders into messages within Block Kit's limits, with no unescaped ``<!`` from API data.

The assertion helpers here are independent of ``check_message`` (they re-check the
limits themselves and run slack_sdk's validators) and are reused by the other core tests.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.blocks import Reply, check_message
from bot.core.cards import MAX_LIST_LIMIT, render_job_card, render_job_list
from bot.core.command_types import (
    CancelJob,
    GetLink,
    Help,
    ListJobs,
    Mute,
    ShowJob,
    Subscribe,
    Unsubscribe,
)
from bot.core.commands import parse_command
from bot.core.messages import (
    render_alert,
    render_command_error,
    render_digest,
    render_help,
    render_job_state_for_link,
    render_link_dm,
    render_not_owner,
    render_subscriptions,
)
from bot.core.projects import ProjectDirectory
from bot.core.statuses import STATUS_WORDS
from bot.core.usage import USAGE, CommandError
from bot.peaka import ExportFile, ExportJob, Status

PROJECTS = ProjectDirectory.parse("mtKDhe1U,analytics=x7Pq2,ops=Op5_x")
HOSTILE = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0123ABC>",
    "<!subteam^S123>",
    "<https://evil.example|click>",
    "&",
    "&amp;",
    "&lt;!channel&gt;",
    "```",
    "`",
    "*_~",
    "\x00\x1b[31m",
    "😀",
    "\u202e",
    "{",
    "{0}",
    "{n}}",
)
_ALLOWED_TOKEN = re.compile(
    r"<!date\^-?\d+\^[^|<>]*\|[^<>]*>|<@[UW][A-Z0-9]+>|<https?://[^|<>\s]+\|[^<>]*>"
)
_UNRENDERED = frozenset({"value", "action_id", "block_id", "url", "type", "style"})


# ---------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------


def _len16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def rendered_strings(obj: Any) -> Iterator[str]:
    """Every string Slack would render (not button values, ids, urls)."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            if key not in _UNRENDERED:
                yield from rendered_strings(value)
    elif isinstance(obj, list | tuple):
        for value in obj:
            yield from rendered_strings(value)


def assert_no_raw_tokens(text: str) -> None:
    """Every ``<`` starts a token the bot made on purpose: a date, a user mention, a link."""
    for m in re.finditer("<", text):
        assert _ALLOWED_TOKEN.match(text, m.start()), (
            f"raw token at: {text[m.start() : m.start() + 80]!r}"
        )


def _assert_button(element: Mapping[str, Any]) -> None:
    assert element["type"] == "button"
    assert 0 < _len16(element["text"]["text"]) <= 75
    if "value" in element:
        assert _len16(element["value"]) <= 2000
    confirm = element.get("confirm")
    if confirm:
        assert _len16(confirm["title"]["text"]) <= 100
        assert _len16(confirm["text"]["text"]) <= 300


def assert_slack_valid(blocks: Sequence[Mapping[str, Any]], text: str | None = None) -> None:
    """Block Kit's limits, checked without relying on ``check_message`` alone."""
    assert check_message(blocks, text) == []
    assert 0 < len(blocks) <= 50
    for block in blocks:  # check_message ran slack_sdk's validators; re-check the limits
        kind = block["type"]
        if kind == "section":
            if "text" in block:
                assert 0 < _len16(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(0 < _len16(f["text"]) <= 2000 for f in fields)
            if block.get("accessory"):
                _assert_button(block["accessory"])
        elif kind == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                _assert_button(element)
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(_len16(e["text"]) <= 3000 for e in block["elements"])
        elif kind == "header":
            assert _len16(block["text"]["text"]) <= 150
    for s in rendered_strings(list(blocks)):
        assert_no_raw_tokens(s)
    if text is not None:
        assert 0 < _len16(text) <= 40000
        assert_no_raw_tokens(text)


def assert_reply_valid(reply: Reply) -> None:
    assert reply.response_type in ("ephemeral", "in_channel")
    assert_slack_valid(reply.blocks, reply.text)
    json.dumps(reply.to_slack())  # serialisable as is


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(HOSTILE),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), max_size=6).map("".join),
)
long_text = st.builds(
    lambda head, unit, n: head + unit * n,
    hostile_text,
    st.sampled_from(["x", "<!channel> & ", "é😀", "```\n", "line\n"]),
    st.integers(0, 50_000).flatmap(lambda n: st.integers(0, max(1, n // 4))),
)
maybe_text = st.one_of(st.none(), hostile_text)
maybe_int = st.one_of(st.none(), st.integers(0, 10**13), st.integers(-(10**20), 10**20))
statuses = st.one_of(
    st.sampled_from(list(Status)),
    hostile_text.filter(bool).map(Status),
    st.text(min_size=500, max_size=2000).map(Status),
)
uuids = st.uuids().map(str)
job_ids = st.one_of(uuids, uuids, hostile_text.filter(bool), st.text(min_size=1900, max_size=2100))
urls = st.one_of(
    st.builds(lambda q: "https://files.example/x?" + q, hostile_text),
    hostile_text,
    st.just("!channel"),
    st.builds(lambda n: "https://files.example/" + "a" * n, st.integers(0, 4000)),
)
files = st.builds(ExportFile, name=hostile_text, url=urls, bytes=maybe_int)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@st.composite
def export_jobs(draw: st.DrawFn, job_id: str | None = None) -> ExportJob:
    created = draw(moments)
    return ExportJob(
        id=job_id if job_id is not None else draw(job_ids),
        status=draw(statuses),
        created_at=created,
        created_at_raw=created.isoformat(),
        format=draw(st.one_of(st.none(), st.sampled_from(["CSV", "JSONL"]), hostile_text)),
        compression=draw(st.one_of(st.none(), st.sampled_from(["NONE", "GZIP"]), hostile_text)),
        row_count=draw(maybe_int),
        bytes=draw(maybe_int),
        duration_ms=draw(maybe_int),
        files=tuple(draw(st.lists(files, max_size=4))),
        expires_at=draw(st.one_of(st.none(), moments)),
        downloadable=draw(st.booleans()),
        error=draw(st.one_of(st.none(), hostile_text, long_text)),
        query_id=draw(maybe_text),
        catalog_id=draw(maybe_text),
        schema_name=draw(maybe_text),
        table_name=draw(maybe_text),
        source=draw(st.one_of(maybe_text, long_text)),
        user_id=draw(maybe_text),
        user_name=draw(st.one_of(maybe_text, st.just("ana@example.com"))),
        api_key_prefix=draw(maybe_text),
        client_source=draw(st.one_of(maybe_text, long_text)),
    )


mentions = st.one_of(st.none(), st.just("<@U0123ABC>"), hostile_text, st.just("<@U1> <!channel>"))
labels = st.one_of(st.sampled_from(["analytics", "mtKDhe1U"]), hostile_text.filter(bool))
_ID = "4c9fcb44-126a-45f8-99a0-f1d245083d78"
GRAMMAR_TOKENS = (
    *USAGE,
    *STATUS_WORDS,
    "project",
    "limit",
    "mine",
    "share",
    "analytics",
    "ANALYTICS",
    "x7Pq2",
    "mtKDhe1U",
    "nope",
    "0",
    "5",
    "16",
    "9999",
    "-1",
    _ID,
    _ID.upper(),
    "4c9fcb44",
    f"`{_ID}`",
    f"<https://app.peaka.com/exports/{_ID}|my export>",
    "30m",
    "1h30m",
    "31d",
    "on",
    "off",
    "faild",
    "<!channel>",
    "project=analytics",
    "limit=3",
    ",",
)
command_texts = st.one_of(
    st.text(),
    st.text(alphabet=string.printable),
    st.lists(st.sampled_from(GRAMMAR_TOKENS), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(GRAMMAR_TOKENS), st.text(max_size=6)), max_size=8).flatmap(
        lambda ws: st.sampled_from([" ", ",", "\t", "  \n"]).map(lambda sep: sep.join(ws))
    ),
    st.builds(lambda s, n: s * n, st.text(max_size=4), st.integers(0, 20_000)),
)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


def _render(
    command: object, jobs: list[ExportJob], job: ExportJob, older: str | None
) -> list[Reply]:
    if isinstance(command, CommandError):
        return [render_command_error(command)]
    if isinstance(command, Help):
        return [render_help(command.topic, projects=PROJECTS)]
    if isinstance(command, ListJobs):
        label = PROJECTS.label(command.project_id)
        return [render_job_list(jobs, command, project_label=label, mentions={}, older_value=older)]
    if isinstance(command, ShowJob | CancelJob | GetLink):
        label = PROJECTS.label(command.project_id)
        card = render_job_card(
            job, project_id=command.project_id, project_label=label, owner_mention=None
        )
        return [
            Reply(text="card", blocks=card),
            render_link_dm(job, label, project_id=command.project_id),
            render_job_state_for_link(job, project_id=command.project_id),
        ]
    if isinstance(command, Subscribe):
        return [
            render_subscriptions(
                [(PROJECTS.label(command.project_id), command.statuses, None)], None
            )
        ]
    if isinstance(command, Mute):
        return [render_subscriptions([], datetime(2026, 6, 10, tzinfo=UTC) + command.duration)]
    if isinstance(command, Unsubscribe):
        return [render_subscriptions([], None)]
    return [render_help(None, projects=PROJECTS)]


def _sample_job(status: str, **fields: Any) -> ExportJob:
    created = datetime(2026, 6, 10, 12, 24, 8, tzinfo=UTC)
    return ExportJob(
        id=_ID, status=Status(status), created_at=created, created_at_raw="x", **fields
    )


# Arbitrary jobs are covered by the properties below; here a fixed, hostile set keeps
# 2,000 examples fast while every command still renders with real cards.
SAMPLE_JOBS = (
    _sample_job("FAILED", error="<!channel> boom & " * 3000, source="<!here>", user_name="<@U1>"),
    _sample_job("SUCCEEDED", files=(ExportFile("a<b>.csv", "https://f.example/a?x=1&y=2", 10),)),
    _sample_job("RUNNING", source='peaka.q."x"', row_count=5, bytes=10**9, duration_ms=3_780_000),
    _sample_job("EXPIRED"),
    _sample_job("<!everyone>", error=""),
)


@settings(max_examples=2000, deadline=None)
@given(
    text=command_texts,
    jobs=st.lists(st.sampled_from(SAMPLE_JOBS), max_size=MAX_LIST_LIMIT + 1),
    job=st.sampled_from(SAMPLE_JOBS),
    older=st.one_of(st.none(), st.text(max_size=50)),
)
def test_any_command_text_parses_and_renders(
    text: str, jobs: list[ExportJob], job: ExportJob, older: str | None
) -> None:
    command = parse_command(text, PROJECTS, max_limit=MAX_LIST_LIMIT)
    if isinstance(command, ListJobs):
        assert 1 <= command.limit <= MAX_LIST_LIMIT and command.statuses
        assert PROJECTS.label(command.project_id) in ("mtKDhe1U", "analytics", "ops")
    if isinstance(command, Mute):
        assert timedelta(minutes=1) <= command.duration <= timedelta(days=30)
    if isinstance(command, CommandError):
        assert command.message and len(command.message) < 2000
    for reply in _render(command, jobs, job, older):
        assert_reply_valid(reply)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    job=export_jobs(), label=labels, mention=mentions, project_id=st.text(min_size=1, max_size=300)
)
def test_any_job_renders_within_limits(
    job: ExportJob, label: str, mention: str | None, project_id: str
) -> None:
    for actions_shown in (True, False):
        card = render_job_card(
            job,
            project_id=project_id,
            project_label=label,
            owner_mention=mention,
            show_actions=actions_shown,
        )
        assert_slack_valid(card)
    assert_reply_valid(render_alert(job, label, mention, project_id=project_id))
    assert_reply_valid(render_link_dm(job, label, project_id=project_id))
    assert_reply_valid(render_not_owner(job, mention))
    assert_reply_valid(render_job_state_for_link(job, project_id=project_id))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    jobs=st.lists(export_jobs(), max_size=MAX_LIST_LIMIT + 3),
    query_statuses=st.frozensets(st.sampled_from(list(Status)), min_size=1),
    mine=st.booleans(),
    share=st.booleans(),
    label=labels,
    email_map=st.dictionaries(
        st.one_of(hostile_text, st.just("ana@example.com")),
        st.one_of(hostile_text, st.just("U0123ABC")),
    ),
    older=st.one_of(st.none(), st.text(max_size=1999), st.text(min_size=2001, max_size=2100)),
)
def test_any_job_list_fits_one_message(
    jobs: list[ExportJob],
    query_statuses: frozenset[Status],
    mine: bool,
    share: bool,
    label: str,
    email_map: dict[str, str],
    older: str | None,
) -> None:
    query = ListJobs(query_statuses, "x7Pq2", MAX_LIST_LIMIT, mine, share)
    reply = render_job_list(jobs, query, project_label=label, mentions=email_map, older_value=older)
    assert_reply_valid(reply)
    assert reply.response_type == ("in_channel" if share else "ephemeral")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    alerts=st.lists(st.tuples(export_jobs(), labels, mentions), max_size=80),
)
def test_any_digest_fits_one_message(alerts: list[tuple[ExportJob, str, str | None]]) -> None:
    assert_reply_valid(render_digest(alerts))


@settings(max_examples=100, deadline=None)
@given(
    subs=st.lists(
        st.tuples(
            labels,
            st.frozensets(statuses, min_size=1, max_size=3),
            st.one_of(st.none(), hostile_text, long_text),
        ),
        max_size=60,
    ),
    muted=st.one_of(st.none(), moments),
)
def test_any_subscription_list_fits_one_message(
    subs: list[tuple[str, frozenset[Status], str | None]], muted: datetime | None
) -> None:
    assert_reply_valid(render_subscriptions(subs, muted))


@settings(max_examples=200, deadline=None)
@given(
    kind=st.one_of(
        st.sampled_from(["peaka_down", "bad_key", "rate_limited", "not_found"]), hostile_text
    ),
    detail=st.one_of(hostile_text, long_text),
)
def test_any_api_failure_renders(kind: str, detail: str) -> None:
    from bot.core.messages import render_api_failure

    assert_reply_valid(render_api_failure(kind, detail))
