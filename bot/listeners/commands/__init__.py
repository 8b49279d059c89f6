"""Slash commands: ``/exports``. Acks at once with no body, then works after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers import CommandContext
from bot.listeners.after_ack import ack_at_once
from bot.listeners.commands.exports import run_command

__all__ = ["register"]


def register(app: AsyncApp) -> None:
    """Attach the ``/exports`` listener, acked by its middleware before it starts."""
    app.command("/exports", middleware=[ack_at_once])(on_exports)


async def on_exports(
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Parse and dispatch (``ack_at_once`` has already acked)."""
    services = context["services"]
    ctx = CommandContext(
        services=services,
        user_id=str(command.get("user_id", "")),
        channel_id=str(command.get("channel_id", "")),
        team_id=str(command.get("team_id", "")),
        text=str(command.get("text", "")),
        respond=respond,
        client=client,
        trigger_id=command.get("trigger_id"),
    )
    async with services.in_flight.track():
        await run_command(ctx)
