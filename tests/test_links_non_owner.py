"""Someone else's export: the click, the command and the DM each get "only the owner can
download" naming the owner, and no presigned URL appears anywhere in Slack's traffic: not in
any Web API request body, not in any response_url post."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Services
from bot.core.cards import ACTION_LINK, ACTION_REFRESH_LINKS
from bot.core.cards import job_button_value as value_for
from bot.simulator import SimJob
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import all_text, button, run
from tests.links_support import (
    ANA,
    BEN,
    BEN_KEY,
    CHANNEL,
    anas_job,
    assert_no_links_outside_dms,
    click_element,
    dm_channel_messages,
    dm_event,
    link_key,
    message_text,
    stored_services,  # noqa: F401  (bot_services with a store)
    wait_for_dm,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn


async def _all_ways(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, job: SimJob
) -> list[str]:
    """Ben asks for ana's links by command, button and DM; returns the three answers."""
    command = (await run(signed, slack, f"link {job.id}", user_id=BEN)).post
    card = (await run(signed, slack, f"show {job.id}", user_id=ANA)).post
    element = button(card, ACTION_LINK)
    assert element is not None
    response_id = await click_element(signed, slack, element, user_id=BEN, channel_id=CHANNEL)
    [clicked] = await slack.wait_for(lambda: slack.responses(response_id))
    await dm_event(signed, slack, BEN, f"link {job.id}")
    dm = await wait_for_dm(slack, BEN)
    answers = [all_text(command), clicked.text + str(clicked.blocks), message_text(dm)]
    for answer in answers:
        assert "Only the person who started" in answer, answer
        assert "<@U0ANA>" in answer, "the owner is mentioned (their e-mail maps to Slack)"
    assert command.response_type == "ephemeral" and clicked.response_type == "ephemeral"
    return answers


async def test_non_owner_without_a_key_never_sees_a_link(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await _all_ways(signed, slack, simulator, job)
    assert dm_channel_messages(slack, ANA) == []
    assert_no_links_outside_dms(slack, simulator)  # no DM may hold one either


async def test_non_owner_with_their_own_linked_key_never_sees_a_link(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    ack = await link_key(signed, BEN_KEY, user_id=BEN)
    assert ack.json()["response_action"] == "update", ack.text
    await _all_ways(signed, slack, simulator, job)
    assert_no_links_outside_dms(slack, simulator)


async def test_a_forged_refresh_click_by_a_non_owner_gets_no_link(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    bens_dm = slack.dm_channel(BEN)
    slack.post_as_user(bens_dm, BEN, "hello")  # a message in Ben's DM to "refresh"
    [message] = slack.messages(bens_dm)
    value = value_for(PROJECT_ID, job.id)
    refresh = {"action_id": ACTION_REFRESH_LINKS, "value": value}
    await click_element(
        signed, slack, refresh, user_id=BEN, channel_id=bens_dm, message_ts=message["ts"]
    )
    [update] = await slack.wait_for(lambda: slack.calls("chat.update"))
    assert "Only the person who started" in str(update.body)
    assert_no_links_outside_dms(slack, simulator)


async def test_owner_name_is_shown_when_their_email_is_not_in_slack(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    sim = simulator.sim
    sim.add_user("outsider@example.com")
    now = simulator.clock.now()
    job = sim.create_job(
        PROJECT_ID, "outsider@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2,
    )  # fmt: skip
    text = all_text((await run(signed, slack, f"link {job.id}", user_id=BEN)).post)
    assert "outsider@example.com" in text and "Only the person who started" in text
    assert_no_links_outside_dms(slack, simulator)
