"""Load generation for section 3, run in the host process that also plays Slack.

Closed loops: each of ``concurrency`` workers sends a request and waits for its answer (for a
command: the response_url post) before sending the next. Times are ``time.monotonic`` seconds.

What Slack's infrastructure sends (the signed commands, and the ``/healthz`` round trip that is
the ack's floor) goes through aiohttp, the lightest client at hand: this process shares the two
cores with the bot, and httpx costs it several times the CPU per request. The baseline List is a
bare httpx call, as issue 8 defines it; the bare post after it (the least any reply needs) goes
through aiohttp like the bot's own response_url posts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx

from bench._standin import TimedStandIn
from bench._world import BOT_TOKEN, OWNERS
from tests.slack_requests import sign, slash_command_fields

__all__ = ["SlackSide"]


async def closed_loop(concurrency: int, total: int, once: Callable[[], Awaitable[None]]) -> None:
    """``total`` calls of ``once()``, ``concurrency`` at a time, each worker sequential."""
    numbers = itertools.count()

    async def worker() -> None:
        while next(numbers) < total:
            await once()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


class SlackSide:
    """The Slack stand-in, plus a load generator sending what Slack (or a bare client) sends."""

    sim = None

    def __init__(self, params: dict[str, Any]) -> None:
        self.slack = TimedStandIn(token=BOT_TOKEN)
        for index, email in enumerate(OWNERS):
            self.slack.add_user(f"U0BENCH{index}", email, name=email.split("@")[0])
        self._ids = itertools.count()
        self._last_command = ""  # the last command's response id

    def describe(self) -> dict[str, Any]:
        return {}

    async def load(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one closed loop; ``body``: kind (command, list, list_then_post: a List then a
        response_url post, or health), url, concurrency, total. Returns the times (``total``,
        and ``ack`` for commands); for commands also ``shape``, the block types of the last
        reply, so that two apps' replies can be compared."""
        kind, url = body["kind"], body["url"]
        concurrency, total = int(body["concurrency"]), int(body["total"])
        firsts: list[float] = []
        totals: list[float] = []
        timeout = aiohttp.ClientTimeout(total=30.0)
        async with (
            aiohttp.ClientSession(timeout=timeout) as slack_side,
            httpx.AsyncClient(timeout=30.0) as bare,
        ):
            if kind == "command":
                await closed_loop(
                    concurrency,
                    total,
                    lambda: self._command(slack_side, url, body, firsts, totals),
                )
                return {"ack": firsts, "total": totals, "shape": self._shape(self._last_command)}

            headers = body.get("headers") or {}
            params = body.get("params") or {}

            async def call() -> None:
                started = time.monotonic()
                if kind == "health":
                    async with slack_side.get(url) as health:
                        await health.read()
                    totals.append(time.monotonic() - started)
                    return
                response = await bare.get(url, params=params, headers=headers)
                response.raise_for_status()
                jobs = response.json()
                if kind == "list_then_post":  # what a command must do at least
                    reply = {"text": f"{len(jobs)} jobs", "response_type": "ephemeral"}
                    target = self.slack.response_url(f"bare{next(self._ids)}")
                    async with slack_side.post(target, json=reply) as posted:
                        posted.raise_for_status()
                totals.append(time.monotonic() - started)

            await closed_loop(concurrency, total, call)
        return {"total": totals}

    async def _command(
        self,
        session: aiohttp.ClientSession,
        url: str,
        body: dict[str, Any],
        acks: list[float],
        totals: list[float],
    ) -> None:
        """One signed ``/exports`` (form-encoded and signed as Slack does, see
        ``tests.slack_requests``), timed to its ack and to its response_url post."""
        response_id = f"cmd{next(self._ids)}"
        self._last_command = response_id
        form = slash_command_fields(
            body["text"],
            response_url=self.slack.response_url(response_id),
            trigger_id=f"1.{response_id}.bench",
        )
        payload = urlencode(form)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **sign(payload, body["signing_secret"]),
        }
        started = time.monotonic()
        async with session.post(url, data=payload.encode(), headers=headers) as response:
            await response.read()
            status = response.status
        acked = time.monotonic()
        if status != 200:
            raise RuntimeError(f"the command was answered HTTP {status}")
        arrived = await asyncio.wait_for(self.slack.response_arrival(response_id), 30)
        acks.append(acked - started)
        totals.append(arrived - started)

    def _shape(self, response_id: str) -> list[str]:
        """The block types of one command's reply, in order (to compare two apps' replies)."""
        blocks = self.slack.responses(response_id)[0].blocks or []
        return [str(block.get("type")) for block in blocks]

    def first_reply(self) -> dict[str, Any]:
        """The first response_url post, to check that the command really listed jobs."""
        first = next(iter(self.slack.response_arrivals), None)
        if first is None:
            return {}
        post = self.slack.responses(first)[0]
        return {"text": post.text, "blocks": post.blocks or []}

    def check(self) -> dict[str, Any]:
        return self.first_reply()
