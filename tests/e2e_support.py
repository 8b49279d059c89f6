"""Helpers for the end-to-end tests (tests/test_e2e_*.py): run a command, click a button,
read what came back, and check every reply against Slack's limits.

    reply = await run(signed, slack, "failed limit 5")          # -> Exchange
    ids = job_ids(reply.post)
    older = button(reply.post, ACTION_OLDER)
    page2 = await click(signed, slack, older)
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bot.app import Services, build_app
from bot.core.blocks import check_message
from bot.server import start_http
from bot.settings import Settings, load_settings
from bot.simulator import SimJob, Simulator
from tests.slack_requests import SignedSlack
from tests.slack_standin import ResponsePost, SlackStandIn

__all__ = [
    "ACK_LIMIT",
    "Acked",
    "Exchange",
    "all_text",
    "assert_no_special_tokens",
    "assert_well_formed",
    "bot_serving",
    "bot_with",
    "button",
    "buttons",
    "click",
    "expected_ids",
    "job_ids",
    "run",
    "send_click",
    "send_command",
]

# "Well under" Slack's 3 s: the ack must not wait for Peaka or Slack's Web API. The margin
# covers a loaded 2-core CI machine; a 5 s Peaka latency would blow through it if acks waited.
ACK_LIMIT = 2.0
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SPECIAL = re.compile(r"<!(?!date\^)")
_ids = itertools.count(1)


@dataclass(frozen=True)
class Exchange:
    """One request and its reply: the HTTP ack, how long it took and the response_url post."""

    ack: httpx.Response
    ack_seconds: float
    post: ResponsePost
    posted_before_ack: bool


def _next_id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


@dataclass(frozen=True)
class Acked:
    """A request Slack would consider delivered: its ack, timed; the reply may follow."""

    ack: httpx.Response
    ack_seconds: float
    response_id: str
    posted_before_ack: bool

    async def reply(self, slack: SlackStandIn, *, within: float = 10.0) -> Exchange:
        """Wait for the one reply to this request and check it against Slack's rules."""
        posts = await slack.wait_for(lambda: slack.responses(self.response_id), within=within)
        await asyncio.sleep(0)  # a second post would be a bug; give it a moment to show
        assert len(posts) == 1, [p.body for p in posts]
        assert_well_formed(posts[0])
        return Exchange(self.ack, self.ack_seconds, posts[0], self.posted_before_ack)


async def _acked(slack: SlackStandIn, response_id: str, send: Any) -> Acked:
    started = time.monotonic()
    ack = await send
    ack_seconds = time.monotonic() - started
    posted_before_ack = bool(slack.responses(response_id))
    assert ack.status_code == 200, (ack.status_code, ack.text)
    assert not ack.content, ack.text  # an empty ack: the reply goes to the response_url
    assert ack_seconds < ACK_LIMIT, f"ack took {ack_seconds:.2f} s"
    return Acked(ack, ack_seconds, response_id, posted_before_ack)


async def send_command(
    signed: SignedSlack,
    slack: SlackStandIn,
    text: str,
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
) -> Acked:
    """Send ``/exports text`` signed over HTTP and return once it is acked."""
    response_id = _next_id("cmd")
    send = signed.slash_command(
        text,
        user_id=user_id,
        channel_id=channel_id,
        response_url=slack.response_url(response_id),
    )
    return await _acked(slack, response_id, send)


async def send_click(
    signed: SignedSlack,
    slack: SlackStandIn,
    element: dict[str, Any],
    *,
    user_id: str | None = None,
) -> Acked:
    """Click a button element from a reply (a signed ``block_actions``); return once acked."""
    response_id = _next_id("act")
    action = {
        "action_id": element["action_id"],
        "value": element.get("value", ""),
        "text": element.get("text", {"type": "plain_text", "text": "?"}),
        "action_ts": f"{time.time():.6f}",
    }
    send = signed.block_actions(
        [action], user_id=user_id, response_url=slack.response_url(response_id)
    )
    return await _acked(slack, response_id, send)


async def run(
    signed: SignedSlack,
    slack: SlackStandIn,
    text: str,
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
    within: float = 10.0,
) -> Exchange:
    """Send ``/exports text`` signed over HTTP; return the ack and the one reply it got."""
    acked = await send_command(signed, slack, text, user_id=user_id, channel_id=channel_id)
    return await acked.reply(slack, within=within)


async def click(
    signed: SignedSlack,
    slack: SlackStandIn,
    element: dict[str, Any],
    *,
    user_id: str | None = None,
    within: float = 10.0,
) -> Exchange:
    """Click a button element from a reply (a signed ``block_actions``); return its reply."""
    acked = await send_click(signed, slack, element, user_id=user_id)
    return await acked.reply(slack, within=within)


@asynccontextmanager
async def bot_with(
    env: Mapping[str, str],
    signing_secret: str,
    *,
    services_type: type[Services] = Services,
    with_store: bool = False,
) -> AsyncIterator[SignedSlack]:
    """Another bot process on loopback, configured by ``env``; yields a signed client for it.

    ``with_store`` opens the store at DATABASE_URL, as ``bot.server.start_bot`` does.
    """
    settings = load_settings(env)
    store = None
    if with_store:
        from bot.store import Store

        store = await Store.open(settings.database_url)
    services = services_type.from_settings(settings, store=store)
    async with bot_serving(settings, services, signing_secret) as client:
        yield client


@asynccontextmanager
async def bot_serving(
    settings: Settings, services: Services, signing_secret: str
) -> AsyncIterator[SignedSlack]:
    """The app for ``settings`` served on loopback with ``services``; yields a signed client.

    On exit it stops serving, waits (10 s at most) for work in flight, and closes ``services``.
    """
    running = await start_http(build_app(settings, services=services), services)
    try:
        async with SignedSlack(running.url + "/slack/events", signing_secret) as client:
            yield client
    finally:
        await running.stop()
        async with asyncio.timeout(10):
            await services.in_flight.wait_idle()
        await services.aclose()


def assert_well_formed(post: ResponsePost) -> None:
    """The reply has text, valid blocks within Slack's limits, and pings nobody."""
    assert post.text.strip(), post.body
    problems = check_message(post.blocks or [], post.text)
    assert not problems, problems
    assert post.response_type in ("ephemeral", "in_channel"), post.body
    assert "something went wrong on my side" not in post.text, post.body


def assert_no_special_tokens(texts: list[str]) -> None:
    """No recorded body contains ``<!channel>``-like tokens (dates are fine)."""
    for text in texts:
        assert not _SPECIAL.search(text), text[:500]


def all_text(post: ResponsePost) -> str:
    """Every rendered string of a reply, joined (fallback text and all block texts)."""
    out = [post.text]

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key == "text" and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(post.blocks or [])
    return "\n".join(out)


def job_ids(post: ResponsePost) -> list[str]:
    """The export ids a reply shows, in order, each once (from section texts only)."""
    seen: list[str] = []
    for block in post.blocks or []:
        text = (block.get("text") or {}).get("text", "") if block.get("type") == "section" else ""
        for found in _UUID.findall(text):
            if found not in seen:
                seen.append(found)
    return seen


def buttons(post: ResponsePost) -> list[dict[str, Any]]:
    """Every button element in a reply (section accessories and actions blocks)."""
    found: list[dict[str, Any]] = []
    for block in post.blocks or []:
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append(element)
    return found


def button(post: ResponsePost, action_id: str) -> dict[str, Any] | None:
    """The first button with ``action_id``, or None."""
    return next((b for b in buttons(post) if b["action_id"] == action_id), None)


def expected_ids(
    sim: Simulator, project_id: str, statuses: frozenset[str], *, email: str | None = None
) -> list[str]:
    """Ids of the project's jobs with these statuses right now, newest first (the API order)."""
    jobs: list[SimJob] = [
        job
        for job in sim.jobs.values()
        if job.project_id == project_id
        and sim.status(job).value in statuses
        and (email is None or job.user.email == email)
    ]
    jobs.sort(key=lambda job: (job.created_at, job.id), reverse=True)
    return [job.id for job in jobs]
