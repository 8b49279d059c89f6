"""Section 4's required-stack floor: the least poll cycle the project's stack allows.

Per project, one List page (``limit=200``: every job of a scale-world project) through
httpx, JSON-decoded as the bot decodes it (``decode_json``: orjson), compared with an
in-memory map of the tracked (active) jobs' statuses. Per batch of ``BATCH`` projects (fetched
concurrently), one SQLAlchemy Core transaction on a SQLite file set up exactly as the bot's
store (``bot.store._engine``: WAL, ``synchronous=NORMAL``, the same pool) writes the changed
job rows and one claim row per FAILED alert, before the alert is posted: the one durable
write per alert that exactly-once delivery needs at the least (the bot also confirms each
alert after its post). Then the batch's FAILED alerts go out through slack_sdk's
``AsyncWebClient`` on one shared aiohttp session: text, one Block Kit section, and the
alert's metadata.

Nothing else: no fetch plan, no ``ExportJob`` models, no state read back from the store
(the map stays in memory), no mutes, digests, DMs, dedup cache, retries or metrics.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.dialects.sqlite import insert

from bench._world import BOT_TOKEN, channel_for
from bot.peaka._responses import decode_json
from bot.peaka._transport import AiohttpTransport
from bot.poller import ALERT_EVENT
from bot.store._engine import build_engine, enable_wal

__all__ = ["ScaleFloor"]

BATCH = 16
ACTIVE = frozenset({"PENDING", "RUNNING"})
_BUSY_TIMEOUT = 30.0

_meta = MetaData()
_jobs = Table(
    "job_state",
    _meta,
    Column("project_id", String, primary_key=True),
    Column("job_id", String, primary_key=True),
    Column("status", String, nullable=False),
)
_claims = Table(
    "alert_claim",
    _meta,
    Column("job_id", String, primary_key=True),
    Column("status", String, primary_key=True),
    Column("channel", String, primary_key=True),
)


class ScaleFloor:
    """The floor's state (tracked map, store, Slack client) and its cycle.

    ``async with ScaleFloor(host.info) as floor: await floor.cycle("aiohttp")`` -> CPU seconds.
    ``"aiohttp"`` fetches through httpx on the bot's transport (``AiohttpTransport``),
    ``"httpx"`` through httpx's own. The first cycle is the baseline (every active job).
    """

    def __init__(self, info: dict[str, Any]) -> None:
        self.projects: list[str] = list(info["projects"])
        self._base = str(info["peaka_url"])
        self._headers = {"Authorization": f"Bearer {info['api_key']}"}
        self._slack_url = str(info["slack_url"])
        self.tracked: dict[str, dict[str, str]] = {p: {} for p in self.projects}
        self.alerts = 0  # FAILED alerts posted, all cycles

    async def __aenter__(self) -> ScaleFloor:
        self._dir = tempfile.TemporaryDirectory()
        path = Path(self._dir.name) / "floor.db"
        await asyncio.to_thread(enable_wal, path, _BUSY_TIMEOUT)
        self.engine = build_engine(
            f"sqlite+aiosqlite:///{path}", schema=None, busy_timeout=_BUSY_TIMEOUT
        )
        async with self.engine.begin() as conn:
            await conn.run_sync(_meta.create_all)
        self._session = aiohttp.ClientSession()
        self.slack = AsyncWebClient(
            token=BOT_TOKEN, base_url=self._slack_url, session=self._session
        )
        timeout = httpx.Timeout(120.0, pool=None)
        self.clients = {
            "aiohttp": httpx.AsyncClient(transport=AiohttpTransport(), timeout=timeout),
            "httpx": httpx.AsyncClient(timeout=timeout),
        }
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients.values():
            await client.aclose()
        await self._session.close()
        await self.engine.dispose()
        self._dir.cleanup()

    async def cycle(self, transport: str) -> float:
        """One cycle over every project; its CPU seconds (``time.process_time``)."""
        client = self.clients[transport]
        began = time.process_time()
        for start in range(0, len(self.projects), BATCH):
            batch = self.projects[start : start + BATCH]
            pages = await asyncio.gather(*(self._fetch(client, p) for p in batch))
            rows: list[dict[str, str]] = []
            alerts: list[tuple[str, str]] = []  # (project, job id)
            for project, page in zip(batch, pages, strict=True):
                self._compare(project, page, rows, alerts)
            if rows:
                claims = [
                    {"job_id": job_id, "status": "FAILED", "channel": channel_for(project)}
                    for project, job_id in alerts
                ]
                async with self.engine.begin() as conn:
                    upsert = insert(_jobs)
                    await conn.execute(
                        upsert.on_conflict_do_update(
                            index_elements=["project_id", "job_id"],
                            set_={"status": upsert.excluded.status},
                        ),
                        rows,
                    )
                    if claims:
                        await conn.execute(insert(_claims), claims)
            if alerts:
                await asyncio.gather(*(self._post(project, job_id) for project, job_id in alerts))
        return time.process_time() - began

    async def _fetch(self, client: httpx.AsyncClient, project: str) -> Any:
        url = f"{self._base}/data/projects/{project}/exports"
        response = await client.get(url, params={"limit": "200"}, headers=self._headers)
        response.raise_for_status()
        return decode_json(response.content)

    def _compare(
        self,
        project: str,
        page: list[dict[str, Any]],
        rows: list[dict[str, str]],
        alerts: list[tuple[str, str]],
    ) -> None:
        """Changed rows and FAILED transitions of one page against the tracked map."""
        tracked = self.tracked[project]
        for job in page:
            job_id, status = job["id"], job["status"]
            before = tracked.get(job_id)
            if before == status:
                continue
            if before is None and status not in ACTIVE:
                continue  # history, or finished before we first saw it
            rows.append({"project_id": project, "job_id": job_id, "status": status})
            if status in ACTIVE:
                tracked[job_id] = status
                continue
            del tracked[job_id]
            if status == "FAILED":
                alerts.append((project, job_id))

    async def _post(self, project: str, job_id: str) -> None:
        text = f":x: Export `{job_id}` in {project} failed"
        await self.slack.chat_postMessage(
            channel=channel_for(project),
            text=text,
            blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
            metadata={
                "event_type": ALERT_EVENT,
                "event_payload": {"project_id": project, "job_id": job_id, "status": "FAILED"},
            },
        )
        self.alerts += 1
