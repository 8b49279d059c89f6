"""Owners get working download links in their DM, from every way of asking, and Refresh links
replaces them in place with new working ones. End to end over signed HTTP, with the seeded
simulator (real presigned downloads) and the Slack stand-in."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.app import Services
from bot.core.cards import ACTION_LINK, ACTION_REFRESH_LINKS
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import all_text, button, run
from tests.links_support import (
    ANA,
    ANA_KEY,
    CHANNEL,
    anas_job,
    assert_no_links_outside_dms,
    click_element,
    date_epochs,
    dm_channel_messages,
    dm_event,
    element_in,
    file_urls,
    link_key,
    message_text,
    stored_services,  # noqa: F401  (bot_services with a store)
    wait_for_dm,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn


async def _download(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


async def test_link_command_dms_the_owner_links_that_download(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, rows=5000)
    ack = await link_key(signed, ANA_KEY, user_id=ANA)
    assert ack.json()["response_action"] == "update"

    reply = (await run(signed, slack, f"link {job.id}", user_id=ANA)).post
    assert "sent you a DM" in all_text(reply)
    assert reply.response_type == "ephemeral"
    assert "/files/" not in all_text(reply)

    dm = await wait_for_dm(slack, ANA)
    [open_call] = slack.calls("conversations.open")
    assert open_call.body["users"] == ANA
    urls = file_urls(dm["blocks"])
    assert urls, message_text(dm)
    for url in urls:
        got = await _download(url)
        assert got.status_code == 200, got.text
        assert got.content
    assert "Refresh links" in message_text(dm)
    assert date_epochs(dm["blocks"]), "the expiry is a Slack date token"
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_refresh_replaces_the_links_in_the_same_dm(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await link_key(signed, ANA_KEY, user_id=ANA)
    await run(signed, slack, f"link {job.id}", user_id=ANA)
    first = await wait_for_dm(slack, ANA)
    old_urls = file_urls(first["blocks"])
    [old_expiry] = date_epochs(first["blocks"])

    simulator.clock.advance(10 * 60)
    refresh = element_in(first["blocks"], ACTION_REFRESH_LINKS)
    assert refresh is not None
    dm = slack.dm_channel(ANA)
    response_id = await click_element(
        signed, slack, refresh, user_id=ANA, channel_id=dm, message_ts=first["ts"]
    )
    [update] = await slack.wait_for(lambda: slack.calls("chat.update"))
    assert (update.body["channel"], update.body["ts"]) == (dm, first["ts"])
    [message] = dm_channel_messages(slack, ANA)  # updated in place, not a second DM
    new_urls = file_urls(message["blocks"])
    [new_expiry] = date_epochs(message["blocks"])
    assert new_expiry > old_expiry
    assert len(new_urls) == len(old_urls)

    def signature(url: str) -> str:
        return parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]

    assert {signature(u) for u in new_urls}.isdisjoint(signature(u) for u in old_urls)
    simulator.clock.advance(6 * 60)  # past the first links' 15 minutes, within the new ones'
    for old, new in zip(old_urls, new_urls, strict=True):
        assert (await _download(old)).status_code == 403
        assert (await _download(new)).status_code == 200
    assert slack.responses(response_id) == []  # nothing else said
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_refresh_after_expiry_takes_the_old_links_out_of_the_dm(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await link_key(signed, ANA_KEY, user_id=ANA)
    await run(signed, slack, f"link {job.id}", user_id=ANA)
    first = await wait_for_dm(slack, ANA)
    refresh = element_in(first["blocks"], ACTION_REFRESH_LINKS)
    assert refresh is not None and file_urls(first["blocks"])
    simulator.clock.advance(25 * 3600)  # the artifacts' 24 hours are over
    dm = slack.dm_channel(ANA)
    await click_element(signed, slack, refresh, user_id=ANA, channel_id=dm, message_ts=first["ts"])
    await slack.wait_for(lambda: slack.calls("chat.update"))
    [message] = dm_channel_messages(slack, ANA)
    assert file_urls(message["blocks"]) == []
    assert "has expired" in message_text(message) and "never regenerated" in message_text(message)


async def test_get_download_link_button_on_a_card_in_a_channel(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await link_key(signed, ANA_KEY, user_id=ANA)
    card = (await run(signed, slack, f"show {job.id} share", user_id=ANA)).post
    element = button(card, ACTION_LINK)
    assert element is not None
    response_id = await click_element(signed, slack, element, user_id=ANA, channel_id=CHANNEL)
    [post] = await slack.wait_for(lambda: slack.responses(response_id))
    assert "sent you a DM" in post.text
    assert post.body.get("replace_original") in (False, "false", None)
    dm = await wait_for_dm(slack, ANA)
    assert file_urls(dm["blocks"])
    assert slack.messages(CHANNEL) == []
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_dm_with_link_id_or_the_bare_id_gets_links_in_that_dm(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await link_key(signed, ANA_KEY, user_id=ANA)
    await dm_event(signed, slack, ANA, f"link {job.id}")
    first = await wait_for_dm(slack, ANA)
    assert file_urls(first["blocks"])
    await dm_event(signed, slack, ANA, f"  {job.id.upper()}\n")
    second = await wait_for_dm(slack, ANA, count=2)
    assert file_urls(second["blocks"])
    assert len(dm_channel_messages(slack, ANA)) == 2  # the links are the whole answer
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_slash_command_inside_the_dm_says_nothing_more(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await link_key(signed, ANA_KEY, user_id=ANA)
    response_id = "in-dm"
    ack = await signed.slash_command(
        f"link {job.id}",
        user_id=ANA,
        channel_id=slack.dm_channel(ANA),
        response_url=slack.response_url(response_id),
    )
    assert ack.status_code == 200
    dm = await wait_for_dm(slack, ANA)
    assert file_urls(dm["blocks"])
    await bot_services.in_flight.wait_idle()
    assert slack.responses(response_id) == []


async def test_owner_without_a_linked_key_is_asked_to_connect_and_gets_no_link(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    reply = (await run(signed, slack, f"link {job.id}", user_id=ANA)).post
    text = all_text(reply)
    assert "/exports connect" in text and "is yours" in text
    assert dm_channel_messages(slack, ANA) == []
    assert_no_links_outside_dms(slack, simulator)


async def test_bot_key_serves_only_exports_the_bot_started_for_that_person(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    # Started with the bot's key for ana: the bot's key is one she may use (no linked key).
    sim = simulator.sim
    now = simulator.clock.now()
    for_ana = sim.create_job(
        PROJECT_ID, "ana@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2, api_key=simulator.api_key,
    )  # fmt: skip
    # The simulator, like Peaka, gives files only to the owner's key: this shows the bot asked
    # with its own key (it was allowed to) and says why there are no files, never "connect".
    reply = (await run(signed, slack, f"link {for_ana.id}", user_id=ANA)).post
    assert "/exports connect" not in all_text(reply)
    assert "returned no files" in all_text(reply)
    # The bot's own export (its own user) has files under the bot key, but isn't ana's.
    own = sim.create_job(
        PROJECT_ID, simulator.bot_user, created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=2, api_key=simulator.api_key,
    )  # fmt: skip
    reply = (await run(signed, slack, f"link {own.id}", user_id=ANA)).post
    assert "Only the person who started" in all_text(reply)
    assert_no_links_outside_dms(slack, simulator)
