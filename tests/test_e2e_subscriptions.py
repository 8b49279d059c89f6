"""`/exports subscribe|unsubscribe|subscriptions|mute|unmute` end to end, with the real
store (SQLite under tmp_path), signed HTTP, and admins checked through users.info."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.peaka import Status
from bot.server import start_bot
from bot.settings import Settings, load_settings
from bot.store import Store
from tests.conftest import ADMIN_USER, SIGNING_SECRET, RunningSimulator, settings_env
from tests.e2e_support import all_text, bot_with, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

CHANNEL = "C0GENERAL"
F, S, C, E = Status.FAILED, Status.SUCCEEDED, Status.CANCELLED, Status.EXPIRED


@pytest.fixture
async def bot_services(bot_settings: Settings) -> AsyncIterator[Services]:
    """The app's services with the store open, as ``bot.server.start_bot`` makes them."""
    services = Services.from_settings(
        bot_settings, store=await Store.open(bot_settings.database_url)
    )
    yield services
    await services.aclose()


async def _subs(services: Services, channel: str = CHANNEL) -> dict[str, frozenset[Status]]:
    rows = await services.store.list_subscriptions(channel)
    return {row.project_id: frozenset(row.statuses) for row in rows}


async def test_subscribe_defaults_to_failed_in_the_default_project(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    reply = (await run(signed, slack, "subscribe", user_id=ADMIN_USER)).post
    assert reply.response_type == "ephemeral"
    assert "now gets alerts for *failed* exports in *analytics*" in all_text(reply)
    assert await _subs(bot_services) == {"mtKDhe1U": frozenset({F})}
    [row] = await bot_services.store.list_subscriptions(CHANNEL)
    assert row.created_by == ADMIN_USER


async def test_subscribe_to_outcomes_per_project_and_replace(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services, simulator: RunningSimulator
) -> None:
    billing = simulator.sim.seed_projects["billing"]
    await run(
        signed, slack, "subscribe succeeded,cancelled EXPIRED project billing", user_id=ADMIN_USER
    )
    await run(signed, slack, "subscribe unsuccessful", user_id=ADMIN_USER)
    assert await _subs(bot_services) == {
        billing: frozenset({S, C, E}),
        "mtKDhe1U": frozenset({F, C}),
    }
    again = (
        await run(signed, slack, f"subscribe finished project {billing}", user_id=ADMIN_USER)
    ).post
    assert "It got succeeded, cancelled or expired before" in all_text(again)
    assert (await _subs(bot_services))[billing] == frozenset({S, F, C})


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("subscribe active", "can't be subscribed to"),
        ("subscribe running project billing", "can't be subscribed to"),
        ("subscribe failed pending", "can't be subscribed to"),
        ("subscribe all", "can't be subscribed to"),
        ("subscribe faild", "/exports subscribe failed"),
        ("subscribe failed project nope", "Unknown project `nope`"),
        ("subscribe failed limit 5", "I don't know the word `limit`"),
        ("subscribe project", "`project` needs a value"),
        ("unsubscribe failed", "`unsubscribe` takes `project ALIAS|ID` or nothing"),
        ("unsubscribe project nope", "Unknown project `nope`"),
        ("subscriptions please", "`subscriptions` takes no arguments"),
        ("mute", "Say how long to mute for"),
        ("mute 2", "needs a unit"),
        ("mute 0m", "out of range"),
        ("mute 31d", "out of range"),
        ("mute forever", "not a duration I understand"),
        ("unmute now", "`unmute` takes no arguments"),
    ],
)
async def test_bad_subscription_commands_say_what_is_valid(
    text: str, says: str, signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    reply = (await run(signed, slack, text, user_id=ADMIN_USER)).post
    shown = all_text(reply)
    assert reply.response_type == "ephemeral"
    assert says in shown, shown
    assert "/exports " in shown  # the valid forms (or a ready-to-paste suggestion)
    assert await _subs(bot_services) == {}
    assert await bot_services.store.muted_until(CHANNEL) is None


async def test_active_statuses_error_suggests_the_outcomes(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    reply = (
        await run(signed, slack, "subscribe failed running project billing", user_id=ADMIN_USER)
    ).post
    assert "/exports subscribe failed project billing" in all_text(reply)
    assert "/exports subscribe [STATUS...] [project ALIAS|ID]" in all_text(reply)


async def test_only_admins_may_change_subscriptions(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    for text in (
        "subscribe",
        "unsubscribe",
        "mute 2h",
        "unmute",
        "subscribe failed project billing",
    ):
        reply = (await run(signed, slack, text, user_id="U0ANA")).post
        assert (
            f"Only <@{ADMIN_USER}> and workspace admins can change"
            in reply.blocks[0]["text"]["text"]
        )
        assert reply.response_type == "ephemeral"
    assert await _subs(bot_services) == {}
    assert await bot_services.store.muted_until(CHANNEL) is None
    # Looking is allowed; workspace admins and owners (users.info) may change things.
    assert (
        "No alert subscriptions here"
        in (await run(signed, slack, "subscriptions", user_id="U0ANA")).post.text
    )
    slack.add_user("U0WSADMIN", "boss@example.com", is_admin=True)
    slack.add_user("U0OWNER", "owner@example.com", is_owner=True)
    await run(signed, slack, "subscribe failed", user_id="U0WSADMIN")
    await run(signed, slack, "subscribe expired project billing", user_id="U0OWNER")
    assert len(await _subs(bot_services)) == 2
    # Someone Slack doesn't know is refused too.
    refused = (await run(signed, slack, "unsubscribe", user_id="U0GHOST")).post
    assert "Only <@" in all_text(refused)


async def test_without_admins_configured_anyone_may_subscribe(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = {**settings_env(slack, simulator, tmp_path), "EXPORTS_ADMINS": ""}
    async with bot_with(env, SIGNING_SECRET, with_store=True) as signed:
        reply = (await run(signed, slack, "subscribe failed", user_id="U0ANA")).post
        assert "now gets alerts" in all_text(reply)


async def test_without_a_store_each_command_says_so(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = settings_env(slack, simulator, tmp_path)
    async with bot_with(env, SIGNING_SECRET) as signed:
        for text in ("subscribe", "unsubscribe", "subscriptions", "mute 1h", "unmute"):
            reply = (await run(signed, slack, text, user_id=ADMIN_USER)).post
            assert "database" in all_text(reply), text


async def test_subscriptions_lists_this_channel_and_flags_broken_ones(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    await run(signed, slack, "subscribe failed cancelled", user_id=ADMIN_USER)
    await run(signed, slack, "subscribe succeeded project marketing", user_id=ADMIN_USER)
    await run(
        signed, slack, "subscribe expired project billing", user_id=ADMIN_USER, channel_id="C0OTHER"
    )
    listing = (await run(signed, slack, "subscriptions", user_id="U0BEN")).post
    shown = all_text(listing)
    assert "*analytics*: failed or cancelled" in shown
    assert "*marketing*: succeeded" in shown
    assert "billing" not in shown  # another channel's
    assert "paused" not in shown
    await bot_services.store.mark_subscription_broken(CHANNEL, "not_in_channel")
    broken = all_text((await run(signed, slack, "subscriptions")).post)
    assert broken.count(":warning: paused") == 2
    assert "the bot is not a member of this channel (Slack said not_in_channel)" in broken
    assert "/invite @Peaka Exports" in broken
    # Subscribing again (after inviting the bot) clears the flag for that project.
    await run(signed, slack, "subscribe succeeded project marketing", user_id=ADMIN_USER)
    again = all_text((await run(signed, slack, "subscriptions")).post)
    assert again.count(":warning: paused") == 1


async def test_unsubscribe_one_project_or_all(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    for text in (
        "subscribe",
        "subscribe failed project billing",
        "subscribe done project marketing",
    ):
        await run(signed, slack, text, user_id=ADMIN_USER)
    one = (await run(signed, slack, "unsubscribe project billing", user_id=ADMIN_USER)).post
    assert "no longer gets alerts for *billing*" in all_text(one)
    assert set(await _subs(bot_services)) == {"mtKDhe1U", "Gh3sV9tB"}
    none = (await run(signed, slack, "unsubscribe project billing", user_id=ADMIN_USER)).post
    assert "had no alerts for *billing*" in all_text(none)
    every = (await run(signed, slack, "unsubscribe all", user_id=ADMIN_USER)).post
    assert "Removed all 2 alert subscriptions" in all_text(every)
    assert await _subs(bot_services) == {}


async def test_mute_and_unmute(
    signed: SignedSlack, slack: SlackStandIn, bot_services: Services
) -> None:
    before = datetime.now(UTC)
    muted = (await run(signed, slack, "mute 1h30m", user_id=ADMIN_USER)).post
    assert "muted until <!date^" in all_text(muted)
    until = await bot_services.store.muted_until(CHANNEL)
    assert until is not None
    assert before + timedelta(minutes=89) < until < before + timedelta(minutes=91)
    assert await bot_services.store.muted_until("C0OTHER") is None
    listing = all_text((await run(signed, slack, "subscriptions")).post)
    assert "muted until" in listing
    back = (await run(signed, slack, "unmute", user_id=ADMIN_USER)).post
    assert "back on" in back.text
    assert await bot_services.store.muted_until(CHANNEL) is None
    again = (await run(signed, slack, "unmute", user_id=ADMIN_USER)).post
    assert "weren't muted" in again.text


async def test_the_started_bot_opens_its_store_for_subscriptions(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """``start_bot`` (what ``exports-bot run`` uses) opens DATABASE_URL: subscriptions persist."""
    settings = load_settings(settings_env(slack, simulator, tmp_path))
    bot = await start_bot(settings)
    try:
        async with SignedSlack(bot.url + "/slack/events", SIGNING_SECRET) as signed:
            await run(signed, slack, "subscribe failed project billing", user_id=ADMIN_USER)
            listing = all_text((await run(signed, slack, "subscriptions")).post)
            assert "*billing*: failed" in listing
    finally:
        await bot.stop()
    async with await Store.open(settings.database_url) as store:
        [row] = await store.list_subscriptions(CHANNEL)
        assert row.project_id == simulator.sim.seed_projects["billing"]
