"""Reading a ``block_actions`` payload defensively: it comes from the network."""

from __future__ import annotations

from typing import Any

__all__ = ["action_value", "clicking_user"]


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
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        return str(user["id"])
    return ""
