"""The connect modal: open it (``views.open``), and handle what people submit in it.

The submission is checked before the ack (Slack wants it within 3 s): a key Peaka refuses
is answered in the modal itself (``response_action: errors``), a good one is stored
encrypted and the modal turns into a confirmation showing only the key's prefix.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot import metrics
from bot.links._keys import clean_key_text, remember_key, validate_key
from bot.links._replies import CONNECT_BLOCK, connect_modal, connected_modal, modal_error
from bot.links._rules import key_prefix
from bot.logging_setup import register_secret

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["open_connect_modal", "submit_connect"]

log = logging.getLogger(__name__)


async def open_connect_modal(services: Services, trigger_id: str | None) -> str | None:
    """Open the modal; None when it opened, else Slack's error code (e.g. expired_trigger_id)."""
    if not trigger_id or services.slack is None:
        return "no_trigger_id"
    view = connect_modal(services.projects.default.label)
    try:
        await services.slack.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "unknown") if exc.response else "unknown"
        metrics.SLACK_API_ERRORS.labels("views.open", code).inc()
        log.warning("views.open failed: %s", code)
        return code
    except SlackClientError as exc:
        log.warning("views.open failed: %s", type(exc).__name__)
        return "unreachable"
    return None


async def submit_connect(services: Services, user_id: str, raw: object) -> dict[str, Any]:
    """The ``ack`` arguments for a connect-modal submission of ``raw`` by ``user_id``."""
    if not services.settings.linking_enabled:
        return _errors(modal_error("disabled"))
    if services.store is None:
        return _errors(modal_error("no_store"))
    if isinstance(raw, str) and raw.strip():
        register_secret(raw.strip())  # before anything can log it, even a malformed one
    cleaned, problem = clean_key_text(raw)
    if cleaned is None:
        metrics.COMMANDS.labels("Connect", "rejected").inc()
        return _errors(modal_error(problem or "malformed"))
    check = await validate_key(services, cleaned)
    if check.problem is not None:
        metrics.COMMANDS.labels("Connect", "rejected").inc()
        message = modal_error(
            check.problem, project_labels=check.project_labels, prefix=key_prefix(cleaned)
        )
        return _errors(message)
    prefix = await remember_key(services, user_id, cleaned)
    metrics.COMMANDS.labels("Connect", "ok").inc()
    return {"response_action": "update", "view": connected_modal(prefix)}


def _errors(message: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {CONNECT_BLOCK: message}}
