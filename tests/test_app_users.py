"""EmailDirectory: Slack user id <-> email through users.info / users.lookupByEmail, cached."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_users import EmailDirectory
from tests.conftest import BOT_TOKEN
from tests.slack_standin import SlackStandIn


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def directory(slack: SlackStandIn, timer: Ticker) -> EmailDirectory:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url, retry_handlers=[])
    return EmailDirectory(client, ttl=60, timer=timer)


async def test_both_directions_are_cached_until_the_ttl(slack: SlackStandIn) -> None:
    timer = Ticker()
    users = directory(slack, timer)
    assert await users.email_for("U0ANA") == "ana@example.com"
    assert await users.email_for("U0ANA") == "ana@example.com"
    assert await users.user_id_for("ANA@example.com ") == "U0ANA"  # learnt from users.info
    assert len(slack.calls("users.info")) == 1
    assert slack.calls("users.lookupByEmail") == []

    assert await users.user_id_for("ben@example.com") == "U0BEN"
    assert await users.email_for("U0BEN") == "ben@example.com"  # learnt from the lookup
    assert len(slack.calls("users.lookupByEmail")) == 1
    assert len(slack.calls("users.info")) == 1

    timer.now += 61
    assert await users.email_for("U0ANA") == "ana@example.com"
    assert len(slack.calls("users.info")) == 2


async def test_unknown_people_are_none_and_remembered(slack: SlackStandIn) -> None:
    users = directory(slack, Ticker())
    assert await users.user_id_for("stranger@example.com") is None
    assert await users.user_id_for("stranger@example.com") is None
    assert len(slack.calls("users.lookupByEmail")) == 1
    assert await users.email_for("U0NOBODY") is None
    assert (await users.user("U0ADMIN")).is_admin is True  # type: ignore[union-attr]


async def test_real_failures_propagate_and_are_not_cached(slack: SlackStandIn) -> None:
    users = directory(slack, Ticker())
    slack.fail("users.info", "missing_scope")
    with pytest.raises(SlackApiError):
        await users.email_for("U0ANA")
    slack.errors.clear()
    assert await users.email_for("U0ANA") == "ana@example.com"


async def test_forget_drops_both_directions(slack: SlackStandIn) -> None:
    users = directory(slack, Ticker())
    await users.email_for("U0ANA")
    users.forget("U0ANA")
    slack.users["U0ANA"].email = "ana.new@example.com"
    assert await users.user_id_for("ana@example.com") is None
    assert await users.email_for("U0ANA") == "ana.new@example.com"
