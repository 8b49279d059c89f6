"""`/exports show|cancel ID`, a bare id, and the card's Cancel and Get-download-link buttons,
end to end over signed HTTP against the simulator."""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime, timedelta

from bot.core.cards import ACTION_CANCEL, ACTION_LINK
from bot.core.jobrefs import ID_EXAMPLE
from bot.simulator import Column, SimSource
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import (
    all_text,
    assert_no_special_tokens,
    button,
    buttons,
    click,
    expected_ids,
    job_ids,
    run,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

ACTIVE = frozenset({"PENDING", "RUNNING"})


def _hour_ago(simulator: RunningSimulator) -> datetime:
    return simulator.clock.now() - timedelta(hours=1)


def _first(simulator: RunningSimulator, status: str, project_id: str = PROJECT_ID) -> str:
    return expected_ids(simulator.sim, project_id, frozenset({status}))[0]


async def test_show_one_job_in_full(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job_id = _first(simulator, "SUCCEEDED")
    job = simulator.sim.jobs[job_id]
    reply = (await run(signed, slack, f"show {job_id}")).post
    assert reply.response_type == "ephemeral"
    assert job_ids(reply) == [job_id]
    shown = all_text(reply)
    for fact in ("Format", "Rows", "Size", "Duration", "Created", "Started by", "Client"):
        assert f"*{fact}*" in shown, fact
    assert f"{job.rows:,} rows" in shown
    assert "<!date^" in shown
    assert "<@U0" in shown  # the initiator is a Slack user with the same e-mail
    assert button(reply, ACTION_LINK) is not None
    assert button(reply, ACTION_CANCEL) is None


async def test_show_accepts_pasted_forms_and_share(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job_id = _first(simulator, "FAILED")
    for text in (job_id, f"show `{job_id.upper()}`", f"show <https://x.test/exports/{job_id}>"):
        reply = (await run(signed, slack, text)).post
        assert job_ids(reply) == [job_id], text
    shared = (await run(signed, slack, f"show {job_id} share")).post
    assert shared.response_type == "in_channel"


async def test_show_in_another_project(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    billing = simulator.sim.seed_projects["billing"]
    job_id = _first(simulator, "FAILED", billing)
    reply = (await run(signed, slack, f"show {job_id} project billing")).post
    assert job_ids(reply) == [job_id]
    # Without the project it is looked up in the default one, where it doesn't exist.
    missing = (await run(signed, slack, f"show {job_id}")).post
    assert "There is no export" in missing.text
    assert "project ALIAS" in all_text(missing)


async def test_unknown_and_malformed_export_ids(signed: SignedSlack, slack: SlackStandIn) -> None:
    unknown = str(uuid.uuid4())
    assert unknown != ID_EXAMPLE
    for verb in ("show", "cancel"):
        reply = (await run(signed, slack, f"{verb} {unknown}")).post
        assert reply.response_type == "ephemeral"
        assert f"There is no export {unknown}" in reply.text
        assert ID_EXAMPLE in all_text(reply)  # what a valid id looks like
        assert f"/exports {verb} ID [project ALIAS|ID]" in all_text(reply)
    partial = (await run(signed, slack, "show 4c9fcb44")).post
    assert "part of an export id" in all_text(partial)
    junk = (await run(signed, slack, "cancel not-an-id")).post
    assert "is not an export id" in all_text(junk)
    missing = (await run(signed, slack, "show")).post
    assert "needs an export id" in all_text(missing)


async def test_failed_job_shows_the_whole_error(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    lines = [f"line {n}: Query failed <at> stage {n} & retried" for n in range(600)]
    error = "\n".join(lines)  # ~25,000 characters: several section blocks
    job = simulator.sim.create_job(
        PROJECT_ID,
        "ana@example.com",
        outcome="FAILED",
        error=error,
        created_at=_hour_ago(simulator),
    )
    reply = (await run(signed, slack, f"show {job.id}")).post
    code = [
        block["text"]["text"]
        for block in reply.blocks or []
        if block.get("type") == "section" and block["text"]["text"].startswith("```")
    ]
    assert len(code) > 5
    rebuilt = "".join(html.unescape(part[4:-4]) for part in code)
    assert rebuilt == error
    assert "&lt;at&gt;" in code[0]


async def test_cancel_button_confirms_cancels_and_updates_the_card(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    listing = (await run(signed, slack, "active")).post
    cancel = button(listing, ACTION_CANCEL)
    assert cancel is not None
    assert cancel["confirm"]["confirm"]["text"] == "Cancel export"  # Slack asks first
    job_id = job_ids(listing)[0]
    # Only its owner (or an admin) may cancel: tests/test_e2e_cancel_permissions.py.
    assert simulator.sim.jobs[job_id].user.email == "ana@example.com"
    simulator.sim.reset_counters()
    done = (await click(signed, slack, cancel, user_id="U0ANA")).post
    assert simulator.sim.job_status(job_id) == "CANCELLED"
    assert simulator.sim.counters["cancelExport"] == 1
    assert done.replace_original
    assert "was cancelled by <@U0ANA>" in done.text or "<@U0ANA>" in all_text(done)
    assert job_ids(done) == [job_id]
    assert ":no_entry_sign: *Cancelled*" in all_text(done)
    assert not buttons(done)  # nothing left to cancel
    # Clicking the stale button again: it says the job already ended, and cancels nothing.
    again = (await click(signed, slack, cancel)).post
    assert "nothing to cancel" in all_text(again)
    assert simulator.sim.counters["cancelExport"] == 1


async def test_cancel_command(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    running = _first(simulator, "RUNNING")
    assert simulator.sim.jobs[running].user.email == "ana@example.com"  # the default caller
    reply = (await run(signed, slack, f"cancel {running}", user_id="U0ANA")).post
    assert simulator.sim.job_status(running) == "CANCELLED"
    assert reply.response_type == "ephemeral"
    assert "was cancelled" in all_text(reply)
    for status in ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"):
        job_id = _first(simulator, status)
        simulator.sim.reset_counters()
        finished = (await run(signed, slack, f"cancel {job_id}")).post
        assert "nothing to cancel" in all_text(finished), status
        assert "Only pending or running exports can be cancelled" in all_text(finished)
        assert simulator.sim.counters["cancelExport"] == 0
        assert simulator.sim.job_status(job_id) == status


async def test_cancel_after_the_job_finished_on_its_own(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = simulator.sim.create_job(PROJECT_ID, "cy@example.com", pending_seconds=1, run_seconds=2)
    listing = (await run(signed, slack, f"show {job.id}")).post
    cancel = button(listing, ACTION_CANCEL)
    assert cancel is not None
    simulator.clock.advance(10)
    reply = (await click(signed, slack, cancel)).post
    assert "already succeeded" in all_text(reply)
    assert simulator.sim.job_status(job.id) == "SUCCEEDED"


async def test_injected_text_pings_nobody(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    sim = simulator.sim
    evil_source = SimSource.query(
        "990000000000000001",
        "<!here> <@U0ANA> <https://evil.test|click>",
        (Column("c", "text"),),
        5,
    )
    sim.add_source(PROJECT_ID, evil_source)
    evil_user = sim.add_user("<!everyone>@example.com")
    failed = sim.create_job(
        PROJECT_ID,
        evil_user,
        source=evil_source,
        outcome="FAILED",
        created_at=_hour_ago(simulator),
        error="<!channel> boom & <!subteam^S123> <#C0GENERAL>",
        client_source="<!channel>",
    )
    running = sim.create_job(
        PROJECT_ID, evil_user, source=evil_source, pending_seconds=60, run_seconds=60
    )
    replies = [
        (await run(signed, slack, "failed limit 3 share")).post,
        (await run(signed, slack, f"show {failed.id} share")).post,
        (await run(signed, slack, f"cancel {running.id}")).post,
        (await run(signed, slack, "all limit 16")).post,
    ]
    assert failed.id in job_ids(replies[0])
    assert running.id in job_ids(replies[3])
    shown = all_text(replies[1])
    assert "&lt;!channel&gt; boom &amp; &lt;!subteam^S123&gt;" in shown
    assert "&lt;!here&gt;" in shown
    for reply in replies:
        text = all_text(reply)
        assert not re.search(r"<!(?!date\^)", text), text[:300]
        assert "<https://evil" not in text
        assert "<#C0GENERAL>" not in text
    # Nothing the bot sent anywhere (replies, Web API calls) carries a special token.
    assert_no_special_tokens(slack.all_request_bodies())


async def test_forged_or_stale_button_clicks_are_refused(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    listing = (await run(signed, slack, "active")).post
    cancel = button(listing, ACTION_CANCEL)
    assert cancel is not None
    simulator.sim.reset_counters()
    action = {"action_id": ACTION_CANCEL, "value": cancel["value"]}
    for forgery in ({"wrong_secret": True}, {"stale": True}, {"unsigned": True}):
        response = await signed.block_actions(
            [action], response_url=slack.response_url("forged"), **forgery
        )
        assert response.status_code == 401, forgery
    assert simulator.sim.counters["cancelExport"] == 0
    assert not slack.responses("forged")
