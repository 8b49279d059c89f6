from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.blocks import MAX_BLOCKS
from bot.core.cards import ACTION_NOTIFY_DONE, ACTION_REFRESH_LINKS, EXPIRED_NOTE
from bot.core.commands import HELP_TOPICS, parse_command
from bot.core.messages import (
    API_FAILURES,
    MAX_DIGEST_LINES,
    render_alert,
    render_api_failure,
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
from bot.core.usage import EXAMPLES, USAGE, CommandError
from bot.peaka import ExportFile, Status
from tests.test_core_cards import CANCELLED, EXPIRED, FAILED, RUNNING, SUCCEEDED
from tests.test_core_properties import assert_reply_valid, rendered_strings

PROJECTS = ProjectDirectory.parse("mtKDhe1U,analytics=x7Pq2")


def text_of(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(rendered_strings(blocks))


def button_values(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    found = {}
    for b in blocks:
        for e in [b.get("accessory"), *b.get("elements", [])]:
            if isinstance(e, dict) and e.get("type") == "button":
                found[e["action_id"]] = json.loads(e["value"])
    return found


# -- help and errors ------------------------------------------------------------------


def test_help_lists_every_form_status_word_and_example() -> None:
    reply = render_help(projects=PROJECTS)
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    for form, what in USAGE.values():
        assert f"/exports {form}" in text and what in text
    for word, (_, meaning) in STATUS_WORDS.items():
        assert f"`{word}` — {meaning}" in text
    for example, _ in EXAMPLES:
        assert f"/exports {example}".strip() in text
    assert "`analytics` → x7Pq2" in text and "`mtKDhe1U` (default)" in text


@pytest.mark.parametrize("topic", HELP_TOPICS)
def test_help_for_each_topic(topic: str) -> None:
    reply = render_help(topic, projects=PROJECTS)
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    if topic in USAGE:
        assert USAGE[topic][0] in text
    if topic == "statuses":
        assert "`unsuccessful` — failed or cancelled" in text
    if topic == "projects":
        assert "`analytics` → x7Pq2" in text


def test_help_topic_examples_belong_to_the_topic() -> None:
    text = text_of(render_help("mute").blocks)
    assert "/exports mute 2h" in text
    assert "/exports show" not in text


def test_command_error_shows_problem_suggestion_and_usage() -> None:
    err = parse_command("faild project analytics", PROJECTS, max_limit=16)
    assert isinstance(err, CommandError)
    reply = render_command_error(err)
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert ":warning: I don't know the word `faild`" in text
    assert "Did you mean `/exports failed project analytics`?" in text
    assert "```\n/exports [STATUS...]" in text
    assert "/exports help" in text
    assert reply.response_type == "ephemeral"


def test_command_error_escapes_user_text() -> None:
    err = CommandError("`<!channel>` is not a status", "<!here>", "/exports <x>")
    reply = render_command_error(err)
    assert_reply_valid(reply)
    text = text_of(reply.blocks) + reply.text
    assert "<!channel" not in text and "<!here" not in text and "<x>" not in text


@pytest.mark.parametrize("kind", [*API_FAILURES, "something_else"])
def test_api_failures_say_what_to_do_next(kind: str) -> None:
    reply = render_api_failure(kind, "HTTP 503 <!channel>")
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert "Details: HTTP 503 &lt;!channel&gt;" in text
    assert len(text.split("\n")) >= 2  # what happened, then what to do


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("peaka_down", "Try again in a minute"),
        ("bad_key", "PEAKA_API_KEY"),
        ("rate_limited", "Wait a few seconds"),
        ("not_found", "Check the id"),
    ],
)
def test_api_failure_next_steps(kind: str, fragment: str) -> None:
    assert fragment in text_of(render_api_failure(kind, "").blocks)


# -- alerts and digests ------------------------------------------------------------


def test_alert_has_outcome_mention_and_full_error() -> None:
    job = replace(FAILED, error="boom\n" * 3000)
    reply = render_alert(job, "analytics", "<@U0123ABC>", project_id="x7Pq2")
    assert_reply_valid(reply)
    assert reply.response_type == "in_channel"
    first = reply.blocks[0]["text"]["text"]
    assert "Export failed in *analytics*" in first and "<@U0123ABC>" in first
    assert "truncated" not in text_of(reply.blocks)
    assert text_of(reply.blocks).count("boom") == 3000
    assert reply.text.startswith("Export failed in analytics: peaka.query.")
    assert "<@U0123ABC>" in reply.text


def test_alert_for_success_offers_the_download_button() -> None:
    reply = render_alert(SUCCEEDED, "analytics", None, project_id="x7Pq2")
    assert_reply_valid(reply)
    assert "Export succeeded" in reply.text and "user@example.com" in reply.text
    assert button_values(reply.blocks) == {"job_link": {"p": "x7Pq2", "j": SUCCEEDED.id}}


def test_digest_lists_each_alert_compactly() -> None:
    alerts = [
        (FAILED, "analytics", "<@U0123ABC>"),
        (SUCCEEDED, "mtKDhe1U", None),
        (CANCELLED, "ops", None),
    ]
    alerts = alerts * 3
    reply = render_digest(alerts)
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert "*9 export alerts: 3 failed, 3 succeeded, 3 cancelled*" in text
    assert text.count(":x: *Failed*") == 3
    assert text.count(f"`{FAILED.id}`") == 3 and text.count("<@U0123ABC>") == 3
    assert "more" not in text


def test_digest_says_and_n_more_when_too_many() -> None:
    alerts = [(replace(FAILED, source="s" * 500), "analytics", None)] * (MAX_DIGEST_LINES + 25)
    reply = render_digest(alerts)
    assert_reply_valid(reply)
    assert len(reply.blocks) <= MAX_BLOCKS
    assert "…and 25 more." in text_of(reply.blocks)


# -- links ------------------------------------------------------------------------


def test_link_dm_lists_files_with_sizes_links_expiry_and_refresh() -> None:
    expires = datetime(2026, 6, 10, 12, 39, tzinfo=UTC)
    files = (
        ExportFile("part-0.jsonl", "https://files.example/a?X-Sig=1&X-Exp=2", 3_000_000),
        ExportFile("part-1.jsonl", "https://files.example/b", None),
    )
    job = replace(SUCCEEDED, files=files, expires_at=expires)
    reply = render_link_dm(job, "analytics", project_id="x7Pq2")
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert "• <https://files.example/a?X-Sig=1&amp;X-Exp=2|Download part-0.jsonl> (3.0 MB)" in text
    assert "• <https://files.example/b|Download part-1.jsonl>" in text
    assert f"<!date^{int(expires.timestamp())}^" in text and "|2026-06-10 12:39 UTC>" in text
    assert button_values(reply.blocks) == {ACTION_REFRESH_LINKS: {"p": "x7Pq2", "j": SUCCEEDED.id}}
    assert "https://" not in reply.text  # presigned URLs stay out of notifications


def test_link_dm_never_links_unsafe_urls() -> None:
    files = (ExportFile("<!here>", "!channel", 1), ExportFile("x", "javascript:alert(1)", 1))
    reply = render_link_dm(replace(SUCCEEDED, files=files), "analytics", project_id="x7Pq2")
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert "<!channel" not in text and "javascript" not in text
    assert text.count("can't be shown in Slack") == 2


def test_link_dm_with_many_files_fits() -> None:
    files = tuple(
        ExportFile(f"part-{i}.csv", "https://f.example/" + "a" * 1500, 10) for i in range(200)
    )
    reply = render_link_dm(replace(SUCCEEDED, files=files), "analytics", project_id="x7Pq2")
    assert_reply_valid(reply)
    assert "more files" in text_of(reply.blocks)


def test_link_dm_without_files() -> None:
    reply = render_link_dm(SUCCEEDED, "analytics", project_id="x7Pq2")
    assert_reply_valid(reply)
    assert "no files" in text_of(reply.blocks)


def test_not_owner() -> None:
    reply = render_not_owner(SUCCEEDED, "<@U0123ABC>")
    assert_reply_valid(reply)
    assert "Only the person who started" in text_of(reply.blocks) and "<@U0123ABC>" in reply.text
    reply = render_not_owner(SUCCEEDED, "<!channel>")
    assert_reply_valid(reply)
    assert "&lt;!channel&gt;" in text_of(reply.blocks)


@pytest.mark.parametrize(
    ("job", "fragments", "buttons"),
    [
        (RUNNING, ["still running"], {ACTION_NOTIFY_DONE}),
        (replace(RUNNING, status=Status.PENDING), ["still pending"], {ACTION_NOTIFY_DONE}),
        (FAILED, ["failed", "```\nQuery exceeded the 1,000,000 row export limit\n```"], set()),
        (EXPIRED, [EXPIRED_NOTE], set()),
        (CANCELLED, ["was cancelled"], set()),
        (SUCCEEDED, ["returned no files"], set()),
        (replace(RUNNING, status=Status("PAUSED")), ["is now PAUSED"], set()),
    ],
)
def test_job_state_for_link(job: Any, fragments: list[str], buttons: set[str]) -> None:
    reply = render_job_state_for_link(job, project_id="x7Pq2")
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    for fragment in fragments:
        assert fragment in text
    values = button_values(reply.blocks)
    assert set(values) == buttons
    for value in values.values():
        assert value == {"p": "x7Pq2", "j": job.id}


# -- subscriptions ----------------------------------------------------------------------


def test_subscriptions_with_broken_one_and_mute() -> None:
    muted = datetime(2026, 6, 11, tzinfo=UTC)
    reply = render_subscriptions(
        [
            ("analytics", frozenset({Status.FAILED, Status.CANCELLED}), None),
            ("ops", frozenset({Status.FAILED}), "the API key was revoked <!channel>"),
        ],
        muted,
    )
    assert_reply_valid(reply)
    text = text_of(reply.blocks)
    assert "muted until <!date^" in text and "/exports unmute" in text
    assert "• *analytics*: failed or cancelled" in text
    assert ":warning: paused: the API key was revoked &lt;!channel&gt;" in text


def test_no_subscriptions() -> None:
    reply = render_subscriptions([], None)
    assert_reply_valid(reply)
    assert "No alert subscriptions here" in text_of(reply.blocks)
    assert "/exports subscribe" in text_of(reply.blocks)


@pytest.mark.parametrize(
    ("count", "summary"), [(1, "1 alert subscription here."), (2, "2 alert subscriptions here.")]
)
def test_subscriptions_count_is_singular_or_plural(count: int, summary: str) -> None:
    subs = [(f"p{i}", frozenset({Status.FAILED}), None) for i in range(count)]
    reply = render_subscriptions(subs, None)
    assert_reply_valid(reply)
    assert reply.text == summary


def test_many_subscriptions_fit() -> None:
    subs = [(f"p{i}", frozenset({Status.FAILED}), "x" * 900) for i in range(300)]
    reply = render_subscriptions(subs, None)
    assert_reply_valid(reply)
    assert "more" in text_of(reply.blocks)
