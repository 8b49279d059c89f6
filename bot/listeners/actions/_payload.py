"""Reading a ``block_actions`` payload defensively: it comes from the network."""

from __future__ import annotations

from typing import Any

__all__ = ["action_value", "clicked_channel", "clicked_message_ts", "clicking_user"]


def action_value(body: dict[str, Any], action: dict[str, Any] | None) -> str:
    """The clicked button's ``value`` ("" when absent)."""
    if isinstance(action, dict) and isinstance(action.get("value"), str):
        return str(action["value"])
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        value = actions[0].get("value")
        return value if isinstance(value, str) else ""
    return ""


def clicking_user(body: dict[str, Any]) -> str:
    """The Slack user id of whoever clicked ("" when absent)."""
    return _first_string(body, ("user", "id")) or ""


def clicked_channel(body: dict[str, Any]) -> str | None:
    """The channel the clicked message is in."""
    return _first_string(body, ("container", "channel_id"), ("channel", "id"))


def clicked_message_ts(body: dict[str, Any]) -> str | None:
    """The ``ts`` of the clicked message."""
    return _first_string(body, ("container", "message_ts"), ("message", "ts"))


def _first_string(body: dict[str, Any], *paths: tuple[str, str]) -> str | None:
    """``body[outer][inner]`` for the first ``(outer, inner)`` that holds a string."""
    for outer, inner in paths:
        part = body.get(outer)
        if isinstance(part, dict) and isinstance(part.get(inner), str):
            return str(part[inner])
    return None
