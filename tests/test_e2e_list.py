"""`/exports [STATUS...] [project X] [limit N] [mine] [share]` end to end: signed HTTP in,
the Peaka simulator behind, replies recorded by the Slack stand-in."""

from __future__ import annotations

import pytest

from bot.core.cards import ACTION_CANCEL, ACTION_LINK, ACTION_OLDER, MAX_LIST_LIMIT
from bot.core.statuses import STATUS_WORDS
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import all_text, button, buttons, expected_ids, job_ids, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

ALL = frozenset({"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"})
_ALIASES = sorted(STATUS_WORDS.items())


@pytest.mark.parametrize(("word", "meaning"), _ALIASES, ids=[w for w, _ in _ALIASES])
async def test_every_status_word_lists_exactly_its_statuses(
    word: str,
    meaning: tuple[frozenset[str], str],
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
) -> None:
    statuses = frozenset(s.value for s in meaning[0])
    want = expected_ids(simulator.sim, PROJECT_ID, statuses)
    assert want, f"the seeded data has no {word} jobs"
    # Upper case and a comma-separated spelling mean the same.
    spelled = word.upper() if len(word) % 2 else f"{word},{word}"
    reply = (await run(signed, slack, f"{spelled} limit {MAX_LIST_LIMIT}")).post
    assert reply.response_type == "ephemeral"
    assert job_ids(reply) == want[:MAX_LIST_LIMIT]
    older = button(reply, ACTION_OLDER)
    assert (older is not None) == (len(want) > MAX_LIST_LIMIT)


async def test_default_is_every_status_ten_newest(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    reply = (await run(signed, slack, "")).post
    assert job_ids(reply) == expected_ids(simulator.sim, PROJECT_ID, ALL)[:10]
    assert button(reply, ACTION_OLDER) is not None


async def test_enum_names_and_mixed_separators(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    reply = (await run(signed, slack, "FAILED, Cancelled  expired limit 16")).post
    want = expected_ids(simulator.sim, PROJECT_ID, frozenset({"FAILED", "CANCELLED", "EXPIRED"}))
    assert job_ids(reply) == want[:16]


async def test_other_project_by_alias_and_by_id(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    billing = simulator.sim.seed_projects["billing"]
    by_alias = (await run(signed, slack, "project BILLING")).post
    by_id = (await run(signed, slack, f"all project={billing}")).post
    want = expected_ids(simulator.sim, billing, ALL)
    assert job_ids(by_alias) == job_ids(by_id) == want
    assert "billing" in by_alias.text


async def test_cards_show_the_job_and_its_buttons(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    reply = (await run(signed, slack, "active")).post
    active = expected_ids(simulator.sim, PROJECT_ID, frozenset({"PENDING", "RUNNING"}))
    assert job_ids(reply) == active
    cancels = [b for b in buttons(reply) if b["action_id"] == ACTION_CANCEL]
    assert len(cancels) == len(active)
    assert all("confirm" in b for b in cancels)
    succeeded = (await run(signed, slack, "succeeded limit 3")).post
    links = [b for b in buttons(succeeded) if b["action_id"] == ACTION_LINK]
    assert len(links) == 3
    assert not [b for b in buttons(succeeded) if b["action_id"] == ACTION_CANCEL]
    expired = (await run(signed, slack, "expired")).post
    assert not [b for b in buttons(expired) if b["action_id"] in (ACTION_LINK, ACTION_CANCEL)]
    assert "never regenerated" in str(expired.blocks)
    failed = (await run(signed, slack, "failed limit 1")).post
    [failed_id] = job_ids(failed)
    error = simulator.sim.jobs[failed_id].error
    assert error and error[:40].replace("&", "&amp;").replace("<", "&lt;") in str(failed.blocks)
    # Owners that Slack knows (same e-mail) are mentioned; the date is a Slack date token.
    assert "<@U0" in str(reply.blocks)
    assert "<!date^" in str(reply.blocks)


async def test_mine_lists_only_the_callers_jobs(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    for user, email in (("U0ANA", "ana@example.com"), ("U0BEN", "ben@example.com")):
        reply = (await run(signed, slack, "all mine limit 16", user_id=user)).post
        want = expected_ids(simulator.sim, PROJECT_ID, ALL, email=email)
        assert job_ids(reply) == want[:16]
        assert "Your" in reply.text
    # users.info told the bot who the callers are; lookups are cached per person.
    assert {c.body["user"] for c in slack.calls("users.info")} == {"U0ANA", "U0BEN"}


async def test_mine_for_someone_without_jobs_or_email(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    slack.add_user("U0NEW", "new@example.com")
    slack.add_user("U0HIDDEN", None)
    empty = (await run(signed, slack, "failed mine", user_id="U0NEW")).post
    assert "No failed exports of yours in analytics" in empty.text
    hidden = (await run(signed, slack, "mine", user_id="U0HIDDEN")).post
    assert "e-mail" in hidden.text
    assert hidden.response_type == "ephemeral"


async def test_share_posts_in_channel(signed: SignedSlack, slack: SlackStandIn) -> None:
    reply = (await run(signed, slack, "failed share limit 2")).post
    assert reply.response_type == "in_channel"
    assert len(job_ids(reply)) == 2


async def test_empty_result_states_the_filter(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator
) -> None:
    marketing = simulator.sim.seed_projects["marketing"]
    assert not expected_ids(simulator.sim, marketing, frozenset({"CANCELLED"}))
    reply = (await run(signed, slack, "cancelled project marketing")).post
    assert "No cancelled exports in marketing" in reply.text
    assert reply.response_type == "ephemeral"
    assert not job_ids(reply)


async def test_limit_bounds_are_checked(signed: SignedSlack, slack: SlackStandIn) -> None:
    for text in ("limit 0", "failed limit 9999", "limit many", "limit"):
        reply = (await run(signed, slack, text)).post
        assert reply.response_type == "ephemeral"
        assert "limit" in reply.text
        shown = all_text(reply)
        assert f"1 to {MAX_LIST_LIMIT}" in shown or "needs a value" in shown
        assert "/exports [STATUS...]" in shown  # the valid forms


async def test_unknown_status_word_suggests_the_right_one(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    reply = (await run(signed, slack, "faild project analytics")).post
    assert "faild" in reply.text
    assert "/exports failed project analytics" in all_text(reply)
    assert "/exports [STATUS...]" in all_text(reply)


async def test_unknown_project_lists_the_configured_ones(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    reply = (await run(signed, slack, "failed project biling")).post
    assert "Unknown project `biling`" in reply.text
    for alias in ("analytics", "billing", "marketing"):
        assert alias in reply.text
    assert "/exports failed project billing" in all_text(reply)  # did you mean
