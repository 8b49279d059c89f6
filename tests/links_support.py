"""Helpers for the download-link tests (tests/test_links_*.py).

Import ``stored_services`` into a test module to run the bot with a store (it is the
``bot_services`` fixture); ``link_key`` links a key through the connect modal,
``wait_for_dm`` waits for the bot's DM with someone, ``file_urls`` reads a link DM's URLs
and ``assert_no_links_outside_dms`` checks every recorded Slack request for presigned URLs.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.app import Services
from bot.links import CONNECT_BLOCK, CONNECT_CALLBACK, CONNECT_INPUT
from bot.settings import Settings
from bot.simulator import SimJob
from bot.store import Store
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

__all__ = [
    "ANA",
    "ANA_KEY",
    "BEN",
    "BEN_KEY",
    "CHANNEL",
    "CY",
    "anas_job",
    "assert_no_links_outside_dms",
    "click_element",
    "date_epochs",
    "dm_channel_messages",
    "dm_event",
    "file_urls",
    "link_key",
    "message_text",
    "stored_services",
    "wait_for_dm",
]

ANA, BEN, CY = "U0ANA", "U0BEN", "U0CY"
# The seeded simulator's keys: ana's partner key (every project), ben's for analytics only.
ANA_KEY = "hBWIQxjcAnaPartnerDemoKey00000000000001"
BEN_KEY = "bEnAnLytBenAnalyticsDemoKey000000000002"
CHANNEL = "C0GENERAL"
_URL = re.compile(r"<(https?://[^|>]+)\|")
_DATE = re.compile(r"<!date\^(\d+)\^")
_ids = itertools.count(1)


def anas_job(simulator: RunningSimulator, **options: Any) -> SimJob:
    """Ana's job in the default project, created 30 s ago with her key; unless ``options``
    say otherwise it was pending 1 s and ran 2 s, so it has succeeded by now."""
    job: dict[str, Any] = {
        "created_at": simulator.clock.now() - timedelta(seconds=30),
        "pending_seconds": 1,
        "run_seconds": 2,
        "api_key": ANA_KEY,
        **options,
    }
    return simulator.sim.create_job(PROJECT_ID, "ana@example.com", **job)


@pytest.fixture(name="bot_services")
async def stored_services(bot_settings: Settings) -> AsyncIterator[Services]:
    """The app's services with the store open on the test's SQLite file."""
    services = Services.from_settings(
        bot_settings, store=await Store.open(bot_settings.database_url)
    )
    yield services
    await services.aclose()


async def link_key(
    signed: SignedSlack, key: str, *, user_id: str, view_id: str = "V000001"
) -> httpx.Response:
    """Submit ``key`` in the connect modal as ``user_id``; the ack carries the answer."""
    values = {CONNECT_BLOCK: {CONNECT_INPUT: {"type": "plain_text_input", "value": key}}}
    return await signed.view_submission(
        CONNECT_CALLBACK, values, user_id=user_id, view={"id": view_id}
    )


def dm_channel_messages(slack: SlackStandIn, user_id: str) -> list[dict[str, Any]]:
    """What the bot's DM with ``user_id`` holds now (messages as last updated)."""
    return slack.messages(slack.dm_channel(user_id))


async def wait_for_dm(
    slack: SlackStandIn, user_id: str, *, count: int = 1, within: float = 10.0
) -> dict[str, Any]:
    """Wait until the DM with ``user_id`` has ``count`` messages; return the newest."""
    messages = await slack.wait_for(
        lambda: (
            len(dm_channel_messages(slack, user_id)) >= count
            and dm_channel_messages(slack, user_id)
        ),
        within=within,
    )
    return messages[-1]


def message_text(message: dict[str, Any]) -> str:
    """A message's fallback text and every block text, joined."""
    return message.get("text", "") + "\n" + json.dumps(message.get("blocks") or [])


def file_urls(blocks: list[dict[str, Any]] | None) -> list[str]:
    """The download URLs a link DM's blocks carry, unescaped."""
    found: list[str] = []
    for block in blocks or []:
        text = (block.get("text") or {}).get("text", "")
        found += [html.unescape(url) for url in _URL.findall(text)]
    return found


def date_epochs(blocks: list[dict[str, Any]] | None) -> list[int]:
    """The epoch seconds of every Slack date token in the blocks."""
    return [int(n) for n in _DATE.findall(json.dumps(blocks or []))]


def element_in(blocks: list[dict[str, Any]] | None, action_id: str) -> dict[str, Any] | None:
    """The first button with ``action_id`` in ``blocks``."""
    for block in blocks or []:
        candidates = [block.get("accessory"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


async def click_element(
    signed: SignedSlack,
    slack: SlackStandIn,
    element: dict[str, Any],
    *,
    user_id: str,
    channel_id: str = CHANNEL,
    message_ts: str | None = None,
) -> str:
    """Click ``element`` (signed block_actions) on a message; returns the response_url id."""
    response_id = f"link-click-{next(_ids)}"
    action = {
        "action_id": element["action_id"],
        "value": element.get("value", ""),
        "text": element.get("text", {"type": "plain_text", "text": "?"}),
        "action_ts": f"{time.time():.6f}",
    }
    message = {"ts": message_ts, "type": "message"} if message_ts else None
    ack = await signed.block_actions(
        [action],
        user_id=user_id,
        channel_id=channel_id,
        message=message,
        response_url=slack.response_url(response_id),
    )
    assert ack.status_code == 200, ack.text
    return response_id


async def dm_event(
    signed: SignedSlack, slack: SlackStandIn, user_id: str, text: str, **extra: Any
) -> httpx.Response:
    """A person's message to the bot in their DM, as Slack delivers it (message.im)."""
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": slack.dm_channel(user_id),
        "user": user_id,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }
    ack = await signed.event(event)
    assert ack.status_code == 200, ack.text
    return ack


def assert_no_links_outside_dms(
    slack: SlackStandIn, simulator: RunningSimulator, *, allowed_dms: tuple[str, ...] = ()
) -> None:
    """No recorded Slack request or response_url post holds a presigned URL, except
    ``chat.postMessage``/``chat.update`` into the DMs of ``allowed_dms`` (user ids)."""
    host = simulator.base_url.split("//", 1)[1].split("/", 1)[0]
    allowed = {slack.dm_channel(user) for user in allowed_dms}
    for call in slack.calls():
        text = json.dumps(call.body)
        if host not in text and "/files/" not in text:
            continue
        channel = str(call.body.get("channel", ""))
        assert call.method in ("chat.postMessage", "chat.update") and channel in allowed, (
            f"a download link went to {call.method} {channel}"
        )
    # Every body, response_url posts included (form bodies decoded): a link may only be in
    # a call addressed to an allowed DM.
    leaked = [
        text
        for text in slack.all_request_bodies()
        if (host in text or "/files/" in text) and not any(dm in text for dm in allowed)
    ]
    assert not leaked, leaked[0][:300]
