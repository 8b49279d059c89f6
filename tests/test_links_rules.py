"""The pure parts of download links: who owns a job, which key may fetch its links, what a DM
asks for, what a pasted key must look like, and that every message fits Slack's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.blocks import check_message
from bot.core.projects import ProjectDirectory
from bot.links import (
    Access,
    DmLinkRequest,
    DmUnclear,
    KeyChoice,
    choose_key,
    clean_key_text,
    decide_link_access,
    key_prefix,
    parse_dm_text,
    same_email,
)
from bot.links import _replies as replies
from bot.peaka import ExportFile, ExportJob, Status

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
JOB_ID = "4c9fcb44-126a-45f8-99a0-f1d245083d78"
PROJECTS = ProjectDirectory.parse("analytics=mtKDhe1U,billing=Xr7pQ2Lm")
BOT_PREFIX = "BotKey00"


def _job(status: Status = Status.SUCCEEDED, **fields: object) -> ExportJob:
    values: dict[str, object] = {
        "id": JOB_ID,
        "status": status,
        "created_at": NOW,
        "created_at_raw": "2026-06-10T12:00:00.000000Z",
        "user_name": "Ana@Example.com",
        "api_key_prefix": "hBWIQxjc",
        "source": 'peaka.query."charges"',
    }
    return ExportJob(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("email", "via_linked_key", "expected"),
    [
        ("ana@example.com", False, Access.OWNER),  # e-mails match, case and spaces aside
        (" ANA@example.com ", False, Access.OWNER),
        ("ben@example.com", True, Access.OWNER),  # Peaka said downloadable under their key
        (None, True, Access.OWNER),
        ("ben@example.com", False, Access.NOT_OWNER),
        (None, False, Access.UNKNOWN),
        ("", False, Access.UNKNOWN),
    ],
)
def test_ownership(email: str | None, via_linked_key: bool, expected: Access) -> None:
    assert decide_link_access(_job(), email, via_linked_key) is expected


def test_a_job_without_an_owner_name_belongs_to_nobody_by_email() -> None:
    assert decide_link_access(_job(user_name=None), "ana@example.com", False) is Access.NOT_OWNER
    assert not same_email("not-an-email", "not-an-email")


def test_the_bot_key_only_for_exports_it_started_for_that_person() -> None:
    for_ana = _job(api_key_prefix=BOT_PREFIX)
    choose = choose_key  # shorter lines below
    assert choose(for_ana, "ana@example.com", has_linked_key=False, bot_key_prefix=BOT_PREFIX) is (
        KeyChoice.BOT
    )
    assert choose(for_ana, "ana@example.com", has_linked_key=True, bot_key_prefix=BOT_PREFIX) is (
        KeyChoice.LINKED
    )
    # Started by the bot, but for someone else; or by ana with her own key.
    assert choose(for_ana, "ben@example.com", has_linked_key=False, bot_key_prefix=BOT_PREFIX) is (
        KeyChoice.NONE
    )
    assert choose(_job(), "ana@example.com", has_linked_key=False, bot_key_prefix=BOT_PREFIX) is (
        KeyChoice.NONE
    )
    no_prefix = _job(api_key_prefix=None)
    assert choose(no_prefix, "ana@example.com", has_linked_key=False, bot_key_prefix="") is (
        KeyChoice.NONE
    )


def test_key_prefix_is_peakas_public_part() -> None:
    assert key_prefix("  hBWIQxjcAnaPartnerDemoKey0001 ") == "hBWIQxjc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hBWIQxjcAnaPartnerDemoKey0001\n", ("hBWIQxjcAnaPartnerDemoKey0001", None)),
        ("`hBWIQxjcAnaPartnerDemoKey0001`", ("hBWIQxjcAnaPartnerDemoKey0001", None)),
        ("", (None, "blank")),
        (None, (None, "blank")),
        ("   ", (None, "blank")),
        ("short", (None, "malformed")),
        ("two halves of a key", (None, "malformed")),
        ("kéyWithAccentsInIt", (None, "malformed")),
        ("x" * 600, (None, "malformed")),
    ],
)
def test_pasted_key_text(raw: object, expected: tuple[str | None, str | None]) -> None:
    assert clean_key_text(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"link {JOB_ID}", DmLinkRequest(JOB_ID, "mtKDhe1U")),
        (f"LINK {JOB_ID} project billing", DmLinkRequest(JOB_ID, "Xr7pQ2Lm")),
        (f"  {JOB_ID.upper()}  ", DmLinkRequest(JOB_ID, "mtKDhe1U")),
        (f"`{JOB_ID}`", DmLinkRequest(JOB_ID, "mtKDhe1U")),
        (f"<https://x.example/exports/{JOB_ID}|my export>", DmLinkRequest(JOB_ID, "mtKDhe1U")),
        (f"could you get {JOB_ID} for me?", DmLinkRequest(JOB_ID, "mtKDhe1U")),
        (JOB_ID.replace("-", ""), DmLinkRequest(JOB_ID, "mtKDhe1U")),
    ],
)
def test_dm_requests_are_understood(text: str, expected: DmLinkRequest) -> None:
    assert parse_dm_text(text, PROJECTS) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        (" \t\n", "empty"),
        ("help", None),
        ("4c9fcb44", "8 of 36"),
        ("link 4c9fcb44-126a", "looks like part of an export id"),
        ("hello there", "is not an export id"),
        ("https://partner.peaka.studio/projects/mtKDhe1U", "is not an export id"),
        ("link", "needs an export id"),
        ("hBWIQxjcAnaPartnerDemoKey00000000000001", "looks like an API key"),
        ("link xoxb-1234-5678-abcdefghijkl", "looks like an API key"),
    ],
)
def test_unclear_dms_say_why(text: str, says: str | None) -> None:
    found = parse_dm_text(text, PROJECTS)
    assert isinstance(found, DmUnclear)
    if says is None:
        assert found.problem is None
    else:
        assert found.problem is not None and says in found.problem
        if "API key" in says:
            assert text.split()[-1] not in found.problem  # a pasted secret is never quoted back


@given(st.text(max_size=300))
def test_any_dm_text_parses_without_raising(text: str) -> None:
    found = parse_dm_text(text, PROJECTS)
    assert isinstance(found, DmLinkRequest | DmUnclear)


def test_every_message_is_valid_block_kit_and_carries_no_url_or_key() -> None:
    job = _job(
        files=(ExportFile("a.csv", "http://127.0.0.1:9/files/a.csv?X-Amz-Signature=s", 10),),
        expires_at=NOW + timedelta(minutes=15),
        error="boom",
    )
    failed = _job(Status.FAILED, error="Query exceeded the maximum execution time limit")
    made = [
        replies.render_sent_to_dm(JOB_ID),
        replies.render_connect_needed(job),
        replies.render_can_not_tell(JOB_ID),
        replies.render_key_rejected("hBWIQxjc"),
        replies.render_key_unreadable(),
        replies.render_link_failure("What <@U1> happened & why", "Do this"),
        replies.render_done_request_saved(job),
        replies.render_no_store(),
        replies.render_linking_disabled(),
        replies.render_disconnected("hBWIQxjc"),
        replies.render_disconnected(None),
        replies.render_dm_setting(True, linked=False),
        replies.render_dm_setting(False, linked=True),
        replies.render_failed_dm(failed, "analytics", project_id="mtKDhe1U"),
        replies.render_succeeded_later(job, "analytics", project_id="mtKDhe1U"),
        replies.render_connect_invite(failed, "analytics"),
        replies.render_dm_help("`x` is not an export id <!channel>"),
        replies.render_dm_help(None),
    ]
    for reply in made:
        assert not check_message(reply.blocks, reply.text), reply
        assert "/files/" not in str(reply.blocks) + reply.text
    links = replies.render_succeeded_dm(job, "analytics", project_id="mtKDhe1U")
    assert not check_message(links.blocks, links.text)
    assert "/files/a.csv" in str(links.blocks)
    for view in (replies.connect_modal("analytics"), replies.connected_modal("hBWIQxjc")):
        assert len(view["title"]["text"]) <= 24  # Slack's limit for a modal title
        assert not check_message([b for b in view["blocks"] if b["type"] != "input"])
    for kind in ("blank", "malformed", "invalid", "forbidden", "unreachable", "other"):
        message = replies.modal_error(kind, project_labels="analytics", prefix="hBWIQxjc")
        assert message and len(message) < 300
