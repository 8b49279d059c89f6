from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.blocks import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.core.cards import (
    ACTION_CANCEL,
    ACTION_LINK,
    ACTION_OLDER,
    EXPIRED_NOTE,
    MAX_LIST_LIMIT,
    human_bytes,
    human_duration,
    human_rows,
    job_button_value,
    mention_for,
    render_job_card,
    render_job_list,
    slack_date,
    status_label,
)
from bot.core.command_types import ListJobs
from bot.core.statuses import ALL_STATUSES
from bot.peaka import ExportJob, Status
from tests.test_core_properties import assert_reply_valid, assert_slack_valid, rendered_strings

# The API spec's own example jobs.
SUCCEEDED = ExportJob.from_api(
    {
        "id": "4c9fcb44-126a-45f8-99a0-f1d245083d78",
        "status": "SUCCEEDED",
        "format": "JSONL",
        "compression": "NONE",
        "rowCount": 993,
        "bytes": 3706920,
        "durationMs": 1055,
        "downloadable": True,
        "queryId": "709922802836177297",
        "source": 'peaka.query."charges_view"',
        "userName": "user@example.com",
        "apiKeyPrefix": "hBWIQxjc",
        "clientSource": "peaka-studio",
        "createdAt": "2026-06-10T12:24:08Z",
    }
)
RUNNING = ExportJob.from_api(
    {
        "id": "2f1a9c77-8b3e-4d21-9a5c-1e7f0b2d4a90",
        "status": "RUNNING",
        "format": "CSV",
        "compression": "GZIP",
        "catalogId": "367189801096446904",
        "schemaName": "payment",
        "tableName": "charges",
        "source": 'peaka.payment."charges"',
        "userName": "user@example.com",
        "clientSource": "peaka-api",
        "createdAt": "2026-06-10T12:20:31Z",
    }
)
FAILED = ExportJob.from_api(
    {
        "id": "9d8c7b6a-5e4f-3210-bca9-87654321fedc",
        "status": "FAILED",
        "format": "CSV",
        "error": "Query exceeded the 1,000,000 row export limit",
        "source": 'peaka.query."charges_view"',
        "userName": "user@example.com",
        "clientSource": "peaka-studio",
        "createdAt": "2026-06-10T12:11:02Z",
    }
)
EXPIRED = replace(SUCCEEDED, status=Status.EXPIRED)
CANCELLED = replace(RUNNING, status=Status.CANCELLED)
PROJECT = "x7Pq2"


def card(job: ExportJob, **kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("owner_mention", None)
    blocks = render_job_card(job, project_id=PROJECT, project_label="analytics", **kwargs)
    assert_slack_valid(blocks)
    return blocks


def all_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(rendered_strings(blocks))


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [b["accessory"] for b in blocks if b.get("accessory")]
    found += [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found


# -- units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "—"),
        (0, "0 B"),
        (1, "1 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1500, "1.5 kB"),
        (999_949, "999.9 kB"),
        (999_950, "1.0 MB"),
        (3_500_000, "3.5 MB"),
        (3_706_920, "3.7 MB"),
        (1_234_567_890, "1.2 GB"),
        (5 * 10**12, "5.0 TB"),
        (10**15, "1.0 PB"),
        (10**18, "1,000.0 PB"),
    ],
)
def test_human_bytes(n: int | None, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(None, "—"), (0, "0 rows"), (1, "1 row"), (993, "993 rows"), (1_234_567, "1,234,567 rows")],
)
def test_human_rows(n: int | None, text: str) -> None:
    assert human_rows(n) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0, "0.0 s"),
        (400, "0.4 s"),
        (1055, "1.1 s"),
        (59_949, "59.9 s"),
        (59_950, "1 min"),
        (60_000, "1 min"),
        (125_000, "2 min 5 s"),
        (3_599_000, "59 min 59 s"),
        (3_599_600, "1 h"),
        (3_600_000, "1 h"),
        (3_780_000, "1 h 3 min"),
        (86_400_000, "1 d"),
        (90_000_000, "1 d 1 h"),
        (-5, "-5 ms"),
    ],
)
def test_human_duration(ms: int | None, text: str) -> None:
    assert human_duration(ms) == text


def test_slack_date_token() -> None:
    moment = datetime(2026, 6, 10, 12, 24, 8, tzinfo=UTC)
    ts = int(moment.timestamp())
    assert (
        slack_date(moment) == f"<!date^{ts}^{{date_short_pretty}} at {{time}}|2026-06-10 12:24 UTC>"
    )
    assert slack_date(moment.replace(tzinfo=None)) == slack_date(moment)  # naive = UTC


def test_status_labels() -> None:
    assert status_label(Status.FAILED) == ":x: *Failed*"
    assert status_label(Status.SUCCEEDED) == ":white_check_mark: *Succeeded*"
    assert status_label(Status("PAUSED")) == ":grey_question: *PAUSED*"
    assert status_label(Status("<!here>")) == ":grey_question: *&lt;!HERE&gt;*"


def test_button_value_is_compact_json_and_bounded() -> None:
    value = job_button_value("x7Pq2", "4c9f")
    assert value == '{"j":"4c9f","p":"x7Pq2"}'
    assert job_button_value("p", "j" * 2000) is None


def test_mention_for_maps_email_case_insensitively() -> None:
    assert mention_for(SUCCEEDED, {"USER@Example.com": "U0123ABC"}) == "<@U0123ABC>"
    assert mention_for(SUCCEEDED, {}) is None
    assert mention_for(SUCCEEDED, {"user@example.com": "<!channel>"}) is None  # not a user id


# -- cards ------------------------------------------------------------------------


def test_succeeded_card_shows_every_fact_and_a_link_button() -> None:
    blocks = card(SUCCEEDED, owner_mention="<@U0123ABC>")
    text = all_text(blocks)
    for fragment in (
        ":white_check_mark: *Succeeded*",
        '`peaka.query."charges_view"`',
        "`4c9fcb44-126a-45f8-99a0-f1d245083d78`",
        "*analytics*",
        "JSONL",
        "993 rows",
        "3.7 MB",
        "1.1 s",
        "|2026-06-10 12:24 UTC>",
        "<@U0123ABC>",
        "peaka-studio",
    ):
        assert fragment in text, fragment
    [link] = buttons(blocks)
    assert link["action_id"] == ACTION_LINK
    assert json.loads(link["value"]) == {"p": PROJECT, "j": SUCCEEDED.id}


def test_running_card_has_a_cancel_button_with_a_danger_confirm() -> None:
    blocks = card(RUNNING)
    text = all_text(blocks)
    assert ":gear: *Running*" in text and "CSV · GZIP" in text
    assert "user@example.com" in text  # no Slack mention known: the escaped name
    [cancel] = buttons(blocks)
    assert cancel["action_id"] == ACTION_CANCEL
    assert cancel["style"] == "danger"
    assert cancel["confirm"]["style"] == "danger"
    assert RUNNING.id in cancel["confirm"]["text"]["text"]
    assert json.loads(cancel["value"]) == {"p": PROJECT, "j": RUNNING.id}


def test_show_actions_false_has_no_buttons() -> None:
    assert buttons(card(RUNNING, show_actions=False)) == []
    assert buttons(card(SUCCEEDED, show_actions=False)) == []


def test_failed_card_shows_the_error_in_a_code_block() -> None:
    blocks = card(FAILED)
    assert blocks[1]["text"]["text"] == "```\nQuery exceeded the 1,000,000 row export limit\n```"
    assert buttons(blocks) == []


def test_huge_error_is_shown_in_full_across_blocks() -> None:
    error = "".join(f"at line {i}: <!channel> & more\n" for i in range(1700))  # ~50k chars
    blocks = card(replace(FAILED, error=error))
    assert len(blocks) <= MAX_BLOCKS
    codes = [b["text"]["text"] for b in blocks[1:]]
    assert all(len(c) <= MAX_SECTION_TEXT for c in codes)
    body = "".join(c.removeprefix("```\n").removesuffix("\n```") for c in codes)
    assert body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == error
    assert "truncated" not in all_text(blocks)


def test_error_beyond_the_block_budget_is_cut_with_a_note() -> None:
    blocks = card(replace(FAILED, error="e" * 200_000))
    assert len(blocks) <= MAX_BLOCKS
    assert "more characters)_" in blocks[-1]["text"]["text"]


def test_expired_card_explains_files_are_gone_for_good() -> None:
    text = all_text(card(EXPIRED))
    assert ":wastebasket: *Expired*" in text
    assert EXPIRED_NOTE in text
    assert "never regenerated" in text and "re-run the export" in text
    assert buttons(card(EXPIRED)) == []


def test_unknown_status_and_missing_fields() -> None:
    job = ExportJob(
        id="x",
        status=Status("PAUSED"),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        created_at_raw="x",
    )
    text = all_text(card(job))
    assert ":grey_question: *PAUSED*" in text
    assert "unknown source" in text and "someone (unknown user)" in text
    assert "Rows" not in text  # unknown facts are left out, not shown as None


def test_injection_is_escaped_everywhere() -> None:
    evil = replace(
        FAILED,
        error="<!channel> boom",
        source="<!here> & <@U999>",
        user_name="<!everyone>",
        client_source="<https://evil.example|click>",
    )
    blocks = card(evil)
    text = all_text(blocks)
    assert "&lt;!channel&gt; boom" in text
    assert "&lt;!here&gt; &amp; &lt;@U999&gt;" in text
    assert "&lt;!everyone&gt;" in text
    assert "&lt;https://evil.example|click&gt;" in text
    for raw in ("<!channel", "<!here", "<!everyone", "<@U999", "<https://evil"):
        assert raw not in text


def test_table_source_without_display_name() -> None:
    job = replace(RUNNING, source=None)
    assert "`367189801096446904.payment.charges`" in all_text(card(job))
    assert "`query 1`" in all_text(card(replace(FAILED, source=None, query_id="1")))


# -- lists ------------------------------------------------------------------------


def query(statuses: set[Status] | frozenset[Status], **kwargs: Any) -> ListJobs:
    return ListJobs(frozenset(statuses), PROJECT, **kwargs)


@pytest.mark.parametrize(
    ("statuses", "mine", "title"),
    [
        ({Status.FAILED}, False, "*Failed exports in analytics* (newest first)"),
        ({Status.FAILED, Status.CANCELLED}, False, "*Failed or cancelled exports in analytics*"),
        (ALL_STATUSES, False, "*All exports in analytics*"),
        ({Status.FAILED}, True, "*Your failed exports in analytics*"),
        (ALL_STATUSES, True, "*Your exports in analytics*"),
    ],
)
def test_list_title_states_filter_and_project(
    statuses: frozenset[Status], mine: bool, title: str
) -> None:
    reply = render_job_list(
        [FAILED],
        query(statuses, mine=mine),
        project_label="analytics",
        mentions={},
        older_value=None,
    )
    assert_reply_valid(reply)
    assert title in reply.blocks[0]["text"]["text"]


def test_list_of_cards_with_dividers_older_button_and_footer() -> None:
    jobs = [SUCCEEDED, RUNNING, FAILED, EXPIRED, CANCELLED]
    reply = render_job_list(
        jobs,
        query(ALL_STATUSES, share=True),
        project_label="analytics",
        mentions={"user@example.com": "U0123ABC"},
        older_value="cursor-123",
    )
    assert_reply_valid(reply)
    assert reply.response_type == "in_channel"
    kinds = [b["type"] for b in reply.blocks]
    assert kinds.count("divider") == len(jobs) - 1
    text = all_text(reply.blocks)
    assert text.count("<@U0123ABC>") == len(jobs)
    assert EXPIRED_NOTE in text
    assert "Query exceeded" in text
    older = reply.blocks[-2]["elements"][0]
    assert older["action_id"] == ACTION_OLDER and older["value"] == "cursor-123"
    assert "/exports help" in reply.blocks[-1]["elements"][0]["text"]
    actions = [b["action_id"] for b in buttons(reply.blocks)]
    assert actions == [ACTION_LINK, ACTION_CANCEL, ACTION_OLDER]


def test_list_is_ephemeral_unless_shared_and_has_no_older_button_without_value() -> None:
    reply = render_job_list(
        [FAILED], query({Status.FAILED}), project_label="analytics", mentions={}, older_value=None
    )
    assert reply.response_type == "ephemeral"
    assert not any(b["type"] == "actions" for b in reply.blocks)


@pytest.mark.parametrize(
    ("statuses", "mine", "line"),
    [
        ({Status.FAILED, Status.CANCELLED}, False, "No failed or cancelled exports in analytics."),
        (ALL_STATUSES, False, "No exports in analytics."),
        ({Status.RUNNING}, True, "No running exports of yours in analytics."),
    ],
)
def test_empty_list_states_the_filter(statuses: frozenset[Status], mine: bool, line: str) -> None:
    reply = render_job_list(
        [], query(statuses, mine=mine), project_label="analytics", mentions={}, older_value=None
    )
    assert_reply_valid(reply)
    assert reply.text == line
    assert line in reply.blocks[0]["text"]["text"]
    assert "/exports help" in all_text(reply.blocks)


def test_max_list_limit_is_the_largest_worst_case_page_that_fits() -> None:
    worst = replace(
        FAILED, error="<!channel> & " * 5000, source="s" * 5000, client_source="c" * 5000
    )
    jobs = [
        replace(worst, id=f"{n:08d}-126a-45f8-99a0-f1d245083d78") for n in range(MAX_LIST_LIMIT)
    ]
    reply = render_job_list(
        jobs, query({Status.FAILED}), project_label="analytics", mentions={}, older_value="c" * 1999
    )
    assert_reply_valid(reply)
    assert len(reply.blocks) <= MAX_BLOCKS
    # One more worst-case card (its two blocks and a divider) would not fit.
    assert len(reply.blocks) + 3 > MAX_BLOCKS
    assert MAX_LIST_LIMIT >= 10  # the default page fits


def test_more_jobs_than_fit_are_cut_with_a_note() -> None:
    jobs = [FAILED] * (MAX_LIST_LIMIT + 4)
    reply = render_job_list(
        jobs, query({Status.FAILED}), project_label="analytics", mentions={}, older_value=None
    )
    assert_reply_valid(reply)
    assert "4 more not shown" in all_text(reply.blocks)


def test_list_error_preview_with_braces_in_the_id() -> None:
    job = replace(FAILED, id="{n}{0}{", error="x" * 5000)
    reply = render_job_list(
        [job], query({Status.FAILED}), project_label="a", mentions={}, older_value=None
    )
    assert_reply_valid(reply)
    assert "/exports show {n}{0}{" in all_text(reply.blocks)


def test_list_error_preview_points_to_show() -> None:
    job = replace(FAILED, error="x" * 5000)
    reply = render_job_list(
        [job], query({Status.FAILED}), project_label="analytics", mentions={}, older_value=None
    )
    assert f"/exports show {FAILED.id}" in all_text(reply.blocks)
