"""Who may cancel an export: its owner (Slack e-mail == Peaka userName) or a bot admin
(EXPORTS_ADMINS, or a workspace admin/owner per users.info). End to end over signed HTTP
against the simulator; a refusal cancels nothing and leaves the clicked card alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.core.cards import ACTION_CANCEL
from bot.core.job_replies import render_cancel_refused
from bot.simulator import SimJob
from tests.conftest import ADMIN_USER, PROJECT_ID, SIGNING_SECRET, RunningSimulator, settings_env
from tests.e2e_support import all_text, bot_with, button, buttons, click, job_ids, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import ResponsePost, SlackStandIn
from tests.test_core_cards import RUNNING
from tests.test_core_properties import assert_reply_valid


def _running(simulator: RunningSimulator, owner: str = "ana@example.com") -> SimJob:
    """A fresh export that stays running for the whole test (the clock is manual)."""
    job = simulator.sim.create_job(PROJECT_ID, owner, pending_seconds=1, run_seconds=3_600)
    simulator.clock.advance(2)
    assert simulator.sim.job_status(job.id) == "RUNNING"
    simulator.sim.reset_counters()
    return job


def _assert_cancelled(simulator: RunningSimulator, job: SimJob, reply: ResponsePost) -> None:
    assert simulator.sim.job_status(job.id) == "CANCELLED"
    assert simulator.sim.counters["cancelExport"] == 1
    assert "was cancelled" in all_text(reply)


def _assert_refused(simulator: RunningSimulator, job: SimJob, reply: ResponsePost) -> None:
    assert simulator.sim.job_status(job.id) == "RUNNING"
    assert simulator.sim.counters["cancelExport"] == 0
    assert reply.response_type == "ephemeral"
    assert not reply.replace_original  # the shared card stays as it was
    assert "didn't cancel it" in all_text(reply)
    assert "was cancelled" not in all_text(reply)


async def test_owner_cancels_with_the_command(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = _running(simulator)
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0ANA")).post
    _assert_cancelled(simulator, job, reply)


async def test_owner_cancels_with_the_button(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = _running(simulator)
    card = (await run(signed, slack, f"show {job.id}", user_id="U0ANA")).post
    cancel = button(card, ACTION_CANCEL)
    assert cancel is not None
    simulator.sim.reset_counters()
    done = (await click(signed, slack, cancel, user_id="U0ANA")).post
    _assert_cancelled(simulator, job, done)
    assert done.replace_original
    assert "<@U0ANA>" in all_text(done)


async def test_someone_else_is_refused_by_the_command(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = _running(simulator)
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0BEN")).post
    _assert_refused(simulator, job, reply)
    shown = all_text(reply)
    assert "was started by <@U0ANA>" in shown  # the owner, mentioned
    assert f"<@{ADMIN_USER}>" in shown and "workspace admins" in shown  # who else may
    assert "the person who started it" in shown
    assert "can't see your e-mail" not in shown


async def test_someone_else_is_refused_by_the_button(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = _running(simulator)
    # Everyone sees the Cancel button on a shared card: Slack can't tailor it per viewer.
    card = (await run(signed, slack, f"show {job.id} share", user_id="U0ANA")).post
    cancel = button(card, ACTION_CANCEL)
    assert cancel is not None
    simulator.sim.reset_counters()
    refused = (await click(signed, slack, cancel, user_id="U0BEN")).post
    _assert_refused(simulator, job, refused)
    assert "<@U0ANA>" in all_text(refused)
    assert not buttons(refused)
    # The owner can still use the same button afterwards.
    done = (await click(signed, slack, cancel, user_id="U0ANA")).post
    _assert_cancelled(simulator, job, done)


async def test_exports_admin_cancels_someone_elses_job(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    # U0DEE is neither the owner nor a workspace admin; only EXPORTS_ADMINS lets her.
    env = {**settings_env(slack, simulator, tmp_path), "EXPORTS_ADMINS": "U0DEE"}
    async with bot_with(env, SIGNING_SECRET) as signed:
        job = _running(simulator)
        reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0DEE")).post
        _assert_cancelled(simulator, job, reply)
        assert "<@U0DEE>" in all_text(reply)
        # Listed but unknown to Slack (users.info says no such user): still an admin.
        job = _running(simulator, "ben@example.com")
        env["EXPORTS_ADMINS"] = "U0DEE,U0LISTED"
    async with bot_with(env, SIGNING_SECRET) as signed:
        reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0LISTED")).post
        _assert_cancelled(simulator, job, reply)


async def test_workspace_admin_or_owner_cancels_someone_elses_job(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    slack.add_user("U0WSADMIN", "boss@example.com", is_admin=True)
    slack.add_user("U0WSOWNER", "founder@example.com", is_owner=True)
    for user_id in ("U0WSADMIN", "U0WSOWNER"):
        job = _running(simulator)
        reply = (await run(signed, slack, f"cancel {job.id}", user_id=user_id)).post
        _assert_cancelled(simulator, job, reply)
    # A deactivated admin is nobody's admin.
    slack.add_user("U0GONE", "gone@example.com", is_admin=True, deleted=True)
    job = _running(simulator)
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0GONE")).post
    _assert_refused(simulator, job, reply)


async def test_workspace_admin_may_cancel_without_exports_admins(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {**settings_env(slack, simulator, tmp_path), "EXPORTS_ADMINS": ""}
    async with bot_with(env, SIGNING_SECRET) as signed:
        job = _running(simulator)
        refused = (await run(signed, slack, f"cancel {job.id}", user_id="U0BEN")).post
        _assert_refused(simulator, job, refused)
        assert "<@U0" not in all_text(refused).replace("<@U0ANA>", "")  # no admins to list
        assert "workspace admins" in all_text(refused)
        reply = (await run(signed, slack, f"cancel {job.id}", user_id=ADMIN_USER)).post
        _assert_cancelled(simulator, job, reply)


async def test_owner_match_ignores_case(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    owner = simulator.sim.add_user("Eve.Case@Example.COM")
    slack.add_user("U0EVE", "eve.case@example.com")
    job = _running(simulator, owner.email)
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0EVE")).post
    _assert_cancelled(simulator, job, reply)


async def test_refusal_without_a_visible_email_or_a_slack_owner(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    slack.add_user("U0NOMAIL", None)  # e-mail hidden (or no users:read.email scope)
    simulator.sim.add_user("zed@elsewhere.test")
    job = _running(simulator, "zed@elsewhere.test")  # nobody in Slack has this e-mail
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0NOMAIL")).post
    _assert_refused(simulator, job, reply)
    shown = all_text(reply)
    assert "was started by zed@elsewhere.test" in shown
    assert "can't see your e-mail" in shown
    # Nobody Slack knows (users.info: user_not_found) is refused too.
    ghost = (await run(signed, slack, f"cancel {job.id}", user_id="U0GHOST")).post
    _assert_refused(simulator, job, ghost)


async def test_finished_job_is_nothing_to_cancel_for_anyone(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    job = _running(simulator)
    simulator.clock.advance(3_600)
    assert simulator.sim.job_status(job.id) == "SUCCEEDED"
    reply = (await run(signed, slack, f"cancel {job.id}", user_id="U0BEN")).post
    assert "nothing to cancel" in all_text(reply)
    assert simulator.sim.counters["cancelExport"] == 0
    assert job_ids(reply) == [job.id]


def test_refusal_escapes_the_owner_and_lists_only_valid_admin_ids() -> None:
    job = replace(RUNNING, user_name="<!channel>@example.com")
    reply = render_cancel_refused(job, None, ["U0ADMIN", "<!here>"], email_known=True)
    assert_reply_valid(reply)
    text = all_text(ResponsePost("x", {"text": reply.text, "blocks": reply.blocks}, b"", {}))
    assert "&lt;!channel&gt;@example.com" in text
    assert "<@U0ADMIN>" in text and "<!here>" not in text
