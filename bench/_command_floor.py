"""Section 3's required-stack floor: the least app the bot's stack allows for ``/exports failed``.

What it keeps, because the project requires it: a slack_bolt ``AsyncApp`` with the same token,
client and signing secret, signature verification on, ``process_before_response=False``,
served over aiohttp exactly as ``bot.server`` serves the bot (``to_bolt_request`` ->
``async_dispatch`` -> ``to_aiohttp_response``); one ``/exports`` command listener acked by
the bot's own listener middleware (``ack_at_once``); the same List request
(``status=FAILED&limit=11``) through httpx on the bot's transport
(``bot.peaka._transport.AiohttpTransport``), JSON-decoded; the same reply shape as the bot's
(a header section, per job a card section and an error section, dividers between jobs, an
actions block with the "Older" button, a context line: 32 blocks for 10 failed jobs) built
with slack_sdk's Block Kit models; one post to the response_url over one shared aiohttp
session.

What it leaves out, because the bot chooses it rather than the stack requiring it: the
command parser, the project directory, ``ExportJob`` models, the e-mail -> user mention
lookup (cached after warm-up in the bot), in-flight tracking, metrics, logging, error
replies, the message checks. The difference between the bot's row and this one is what the
bot's own code costs per command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.after_ack import ack_at_once
from bot.peaka._transport import AiohttpTransport
from bot.server import EVENTS_PATH

__all__ = ["FloorApp", "render_failed"]

PAGE = 10  # jobs shown; the List asks for one more to know whether "Older" is needed


def render_failed(project: str, jobs: list[dict[str, Any]]) -> tuple[str, list[Block]]:
    """The fallback text and blocks of a FAILED page, shaped as the bot's (32 blocks for 10)."""
    shown = jobs[:PAGE]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*Failed exports in {project}* (newest first)"))
    ]
    for index, job in enumerate(shown):
        if index:
            blocks.append(DividerBlock())
        table = f'{job.get("catalogId")}.{job.get("schemaName")}."{job.get("tableName")}"'
        seconds = (job.get("durationMs") or 0) / 1000
        card = (
            f":x: *Failed* · `{table}`\n`{job['id']}` · {job.get('format')} · {seconds:.1f} s\n"
            f"{job.get('createdAt')} · {job.get('userName')} · {job.get('clientSource')}"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=card)))
        error = f"```\n{job.get('error')}\n```"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=error)))
    if len(jobs) > PAGE:
        value = json.dumps({"c": shown[-1]["createdAt"], "l": PAGE, "p": project, "s": "F"})
        older = ButtonElement(text="Older", action_id="list_older", value=value)
        blocks.append(ActionsBlock(elements=[older]))
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=f"Showing {len(shown)} · `/exports help`")])
    )
    return f"Failed exports in {project}: {len(shown)} shown", blocks


@dataclass(eq=False)
class FloorApp:
    """The floor app, served on loopback: ``url`` is its events URL once started."""

    peaka_url: str
    api_key: str
    project: str
    slack_url: str
    token: str
    signing_secret: str
    url: str = ""

    async def start(self) -> FloorApp:
        self._peaka = httpx.AsyncClient(
            base_url=self.peaka_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            transport=AiohttpTransport(),
            timeout=30.0,
        )
        self._session = aiohttp.ClientSession()
        bolt = AsyncApp(
            token=self.token,
            client=AsyncWebClient(token=self.token, base_url=self.slack_url),
            signing_secret=self.signing_secret,
            request_verification_enabled=True,
            process_before_response=False,
        )
        bolt.command("/exports", middleware=[ack_at_once])(self._on_exports)

        async def events(request: web.Request) -> web.Response:
            answer = await bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(answer)

        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, events)
        self._runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{EVENTS_PATH}"
        return self

    async def _on_exports(self, command: dict[str, Any]) -> None:
        response = await self._peaka.get(
            f"/data/projects/{self.project}/exports", params={"status": "FAILED", "limit": "11"}
        )
        response.raise_for_status()
        text, blocks = render_failed(self.project, response.json())
        message = {
            "text": text,
            "blocks": [block.to_dict() for block in blocks],
            "response_type": "ephemeral",
        }
        async with self._session.post(command["response_url"], json=message) as posted:
            posted.raise_for_status()

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self._peaka.aclose()
        await self._session.close()
