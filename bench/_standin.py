"""The Slack stand-in from the tests, timing each alert's and each response_url post's arrival."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.slack_standin import SlackStandIn

__all__ = ["AlertPost", "TimedStandIn", "alerts_in"]


@dataclass(frozen=True, slots=True)
class AlertPost:
    """One ``chat.postMessage``: when it arrived (``time.monotonic``), where, what it covers."""

    arrived: float
    channel: str
    alerts: tuple[tuple[str, str], ...]  # (job id, status), from the message metadata


def alerts_in(metadata: Any) -> tuple[tuple[str, str], ...]:
    """The (job id, status) pairs an alert's metadata names: one job, or a digest's list."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return ()
    if not isinstance(metadata, dict):
        return ()
    payload = metadata.get("event_payload") or {}
    if not isinstance(payload, dict):
        return ()
    if isinstance(payload.get("alerts"), list):
        pairs = []
        for item in payload["alerts"]:
            job_id, _, status = str(item).rpartition(":")
            if job_id:
                pairs.append((job_id, status))
        return tuple(pairs)
    if payload.get("job_id") and payload.get("status"):
        return ((str(payload["job_id"]), str(payload["status"])),)
    return ()


class TimedStandIn(SlackStandIn):
    """``posts``: every accepted chat.postMessage; ``response_arrivals``: first post per id."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.posts: list[AlertPost] = []
        self.response_arrivals: dict[str, float] = {}
        self._arrived: dict[str, asyncio.Event] = {}

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        arrived = time.monotonic()
        answer = super()._m_chat_postMessage(body)
        self.posts.append(AlertPost(arrived, answer["channel"], alerts_in(body.get("metadata"))))
        return answer

    async def _response_url(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        response_id = request.match_info["id"]
        self.response_arrivals.setdefault(response_id, arrived)
        answer = await super()._response_url(request)
        self._arrived.setdefault(response_id, asyncio.Event()).set()
        return answer

    async def response_arrival(self, response_id: str) -> float:
        """Wait for the first post to ``response_id``'s URL; when it arrived."""
        await self._arrived.setdefault(response_id, asyncio.Event()).wait()
        return self.response_arrivals[response_id]
