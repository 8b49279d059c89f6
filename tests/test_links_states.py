"""A job that is not SUCCEEDED gets a clear answer: still running (with "DM me when it's
done", remembered durably and delivered when it ends), failed (the error), expired (removed,
never regenerated), cancelled, not found. Mistyped ids and DMs get a helpful answer."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.app import Services
from bot.core.cards import ACTION_NOTIFY_DONE
from bot.links import proactive
from bot.settings import Settings
from bot.simulator import TRINO_ERRORS
from bot.store import Store
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import all_text, button, run
from tests.links_support import (
    ANA,
    ANA_KEY,
    CHANNEL,
    anas_job,
    assert_no_links_outside_dms,
    click_element,
    dm_channel_messages,
    dm_event,
    file_urls,
    link_key,
    message_text,
    stored_services,  # noqa: F401  (bot_services with a store)
    wait_for_dm,
)
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

UNKNOWN_ID = "0d8f9c1e-5b7a-4c3d-9e2f-1a2b3c4d5e6f"


async def test_running_offers_a_dm_when_done_remembered_and_delivered_with_links(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    bot_settings: Settings,
) -> None:
    job = anas_job(simulator, run_seconds=600)
    await link_key(signed, ANA_KEY, user_id=ANA)
    reply = (await run(signed, slack, f"link {job.id}", user_id=ANA)).post
    assert "is still running" in all_text(reply)
    element = button(reply, ACTION_NOTIFY_DONE)
    assert element is not None
    response_id = await click_element(signed, slack, element, user_id=ANA, channel_id=CHANNEL)
    [saved] = await slack.wait_for(lambda: slack.responses(response_id))
    assert "I'll DM you when export" in all_text(saved)
    async with await Store.open(bot_settings.database_url) as reopened:  # durable
        assert await reopened.done_requests(PROJECT_ID) == [(ANA, job.id)]

    report = await proactive.sweep_done_requests(bot_services)
    assert report.sent == [] and dm_channel_messages(slack, ANA) == []  # not done yet
    simulator.clock.advance(700)
    report = await proactive.sweep_done_requests(bot_services)
    assert report.sent == [(job.id, "SUCCEEDED", ANA)]
    dm = await wait_for_dm(slack, ANA)
    urls = file_urls(dm["blocks"])
    assert urls and "succeeded" in dm["text"]
    async with httpx.AsyncClient() as client:
        for url in urls:
            assert (await client.get(url)).status_code == 200
    assert await bot_services.store.done_requests(PROJECT_ID) == []
    await proactive.sweep_done_requests(bot_services)
    assert len(dm_channel_messages(slack, ANA)) == 1
    assert_no_links_outside_dms(slack, simulator, allowed_dms=(ANA,))


async def test_pending_says_so_and_offers_the_same(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, created_at=simulator.clock.now(), pending_seconds=120)
    reply = (await run(signed, slack, f"link {job.id}", user_id=ANA)).post
    assert "is still pending" in all_text(reply)
    assert button(reply, ACTION_NOTIFY_DONE) is not None


async def test_a_done_request_for_a_failure_gets_the_error(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, run_seconds=600, outcome="FAILED", error=TRINO_ERRORS[1])
    reply = (await run(signed, slack, f"link {job.id}", user_id=ANA)).post
    element = button(reply, ACTION_NOTIFY_DONE)
    assert element is not None
    response_id = await click_element(signed, slack, element, user_id=ANA)
    await slack.wait_for(lambda: slack.responses(response_id))
    simulator.clock.advance(700)
    await proactive.sweep_done_requests(bot_services)
    dm = await wait_for_dm(slack, ANA)
    assert "maximum execution time limit" in message_text(dm)


async def test_failed_shows_the_error(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    error = TRINO_ERRORS[0]
    job = anas_job(simulator, outcome="FAILED", error=error)
    text = all_text((await run(signed, slack, f"link {job.id}", user_id=ANA)).post)
    assert "failed, so there is nothing to download" in text
    assert "Query exceeded per-node memory limit of 2GB" in text


async def test_expired_says_the_files_are_gone_for_good(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, created_at=simulator.clock.now() - timedelta(days=2))
    await link_key(signed, ANA_KEY, user_id=ANA)
    text = all_text((await run(signed, slack, f"link {job.id}", user_id=ANA)).post)
    assert "has expired" in text
    assert "removed" in text and "never regenerated" in text
    assert dm_channel_messages(slack, ANA) == []


async def test_cancelled_says_there_is_nothing(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, run_seconds=600)
    simulator.sim.cancel_job(job.id)
    text = all_text((await run(signed, slack, f"link {job.id}", user_id=ANA)).post)
    assert "was cancelled" in text


async def test_unknown_id_is_not_found_in_any_project(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    simulator.sim.reset_counters()
    text = all_text((await run(signed, slack, f"link {UNKNOWN_ID}", user_id=ANA)).post)
    assert f"There is no export `{UNKNOWN_ID}`" in text
    assert "/exports link ID" in text
    assert simulator.sim.counters["readExport"] == 3  # looked in all three projects


async def test_an_id_from_another_project_is_found_there(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    billing = simulator.sim.seed_projects["billing"]
    now = simulator.clock.now()
    job = simulator.sim.create_job(
        billing, "cy@example.com", created_at=now - timedelta(seconds=30),
        pending_seconds=1, run_seconds=600,
    )  # fmt: skip
    text = all_text((await run(signed, slack, f"link {job.id}", user_id="U0CY")).post)
    assert "is still running" in text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("link 4c9fcb44", "looks like part of an export id (8 of 36 characters)"),
        ("link 4c9fcb44-126a-45f8", "looks like part of an export id"),
        ("link hello", "is not an export id"),
        ("link https://peaka.studio/projects", "is not an export id"),
        ("link", "needs an export id"),
        (f"link {UNKNOWN_ID} {UNKNOWN_ID}", "takes one export id"),
    ],
)
async def test_mistyped_link_commands_say_what_is_wrong(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services, typed: str, says: str
) -> None:
    text = all_text((await run(signed, slack, typed, user_id=ANA)).post)
    assert says in text
    assert "/exports link ID" in text  # and the valid form


@pytest.mark.parametrize(
    "wrapped",
    [
        "  {id}  ",
        "`{id}`",
        "<https://partner.peaka.studio/projects/mtKDhe1U/exports/{id}>",
        "https://partner.peaka.studio/projects/mtKDhe1U/exports/{id}?tab=files",
        "{upper}",
    ],
)
async def test_ids_pasted_in_other_forms_still_work(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    bot_services: Services,
    wrapped: str,
) -> None:
    job = anas_job(simulator, outcome="FAILED", error="boom")
    typed = "link " + wrapped.format(id=job.id, upper=job.id.upper())
    text = all_text((await run(signed, slack, typed, user_id=ANA)).post)
    assert f"Export `{job.id}` failed" in text


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        (" \n\t ", "Your message was empty"),
        ("4c9fcb44", "looks like part of an export id (8 of 36 characters)"),
        ("link 4c9fcb44…", "looks like part of an export id"),
        ("hello there, can you get my file?", "is not an export id"),
        ("<https://partner.peaka.studio/projects/mtKDhe1U>", "is not an export id"),
        ("link", "needs an export id"),
        ("help", "Send me `link ID` or just an export id"),
    ],
)
async def test_mistyped_dms_get_a_helpful_answer(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services, typed: str, says: str
) -> None:
    await dm_event(signed, slack, ANA, typed)
    dm = await wait_for_dm(slack, ANA)
    text = message_text(dm)
    assert says in text
    assert "Send me `link ID` or just an export id" in text


async def test_dm_with_a_url_holding_the_id_is_understood(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator, run_seconds=600)
    url = f"<https://partner.peaka.studio/projects/{PROJECT_ID}/exports/{job.id}>"
    await dm_event(signed, slack, ANA, f"can you link {url} please")
    dm = await wait_for_dm(slack, ANA)
    assert "is still running" in message_text(dm)


async def test_bot_messages_edits_and_other_subtypes_are_ignored(
    signed: SignedSlack, slack: SlackStandIn, simulator: RunningSimulator, bot_services: Services
) -> None:
    job = anas_job(simulator)
    await dm_event(signed, slack, ANA, job.id, subtype="message_changed")
    await dm_event(signed, slack, ANA, job.id, bot_id="B0OTHER")
    await dm_event(signed, slack, "U0BOT", job.id)  # the bot's own message
    await dm_event(signed, slack, ANA, job.id, channel_type="channel")
    await dm_event(signed, slack, ANA, "hello")  # then one real message
    await wait_for_dm(slack, ANA)
    await bot_services.in_flight.wait_idle()
    assert len(dm_channel_messages(slack, ANA)) == 1
    assert dm_channel_messages(slack, "U0BOT") == []
