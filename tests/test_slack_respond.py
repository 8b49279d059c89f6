"""SharedSessionRespond: Bolt's respond() body, over one reused aiohttp session."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import DividerBlock

from bot.slack_respond import SharedSessionRespond
from tests.slack_standin import SlackStandIn

BLOCKS: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
CALLS: list[dict[str, Any]] = [
    {"text": "hi", "blocks": BLOCKS, "response_type": "ephemeral", "replace_original": False},
    {"text": "no blocks", "blocks": [], "response_type": "in_channel"},
    {"text": "objects", "blocks": [DividerBlock()], "replace_original": True},
    {"text": "", "delete_original": True},
    {"text": "threaded", "thread_ts": "1.2", "unfurl_links": False, "unfurl_media": True},
]


async def test_posts_what_bolts_respond_posts(slack: SlackStandIn) -> None:
    async with aiohttp.ClientSession() as session:
        for n, call in enumerate(CALLS):
            bolt = await AsyncRespond(response_url=slack.response_url(f"bolt{n}"))(**call)
            ours = await SharedSessionRespond(
                response_url=slack.response_url(f"ours{n}"), session=session
            )(**call)
            assert (bolt.status_code, ours.status_code) == (200, 200)
            [expected] = slack.responses(f"bolt{n}")
            [got] = slack.responses(f"ours{n}")
            assert got.body == expected.body, call


async def test_replies_reuse_the_sessions_connection(slack: SlackStandIn) -> None:
    opened: list[object] = []

    async def on_connection(*args: object) -> None:
        opened.append(args)

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_connection)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        for n in range(5):
            respond = SharedSessionRespond(
                response_url=slack.response_url(f"r{n}"), session=session
            )
            assert (await respond(text=f"reply {n}")).status_code == 200
        assert not session.closed  # the caller owns it
    assert [slack.responses(f"r{n}")[0].text for n in range(5)] == [f"reply {n}" for n in range(5)]
    assert len(opened) == 1  # Bolt's own respond opens one connection (and session) per reply
