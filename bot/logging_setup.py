"""Process logging: readable text by default, JSON lines with ``LOG_FORMAT=json``.

Every root handler carries :class:`RedactSecretsFilter`, the last line of defence that keeps
Slack tokens, bearer tokens, presigned-URL signatures and registered secret values out of the
output, whether they arrive in the message, its arguments, extras or an exception's text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

__all__ = [
    "LEVEL_CHECKED_LOGGERS",
    "JsonFormatter",
    "RedactSecretsFilter",
    "configure_logging",
    "redact",
    "register_secret",
]

REDACTED = "[REDACTED]"
# Shorter registered values would blank out ordinary words.
_MIN_SECRET_LENGTH = 6

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bxox[a-z]-[0-9A-Za-z-]+"), REDACTED),
    (re.compile(r"\bxapp-[0-9A-Za-z-]+"), REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"(?i)\b((?:X-Amz-)?(?:Signature|Security-Token|Credential)|sig|signature)"
            r"=[^&\s\"'<>]+"
        ),
        rf"\1={REDACTED}",
    ),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None

# LogRecord attributes that are not user extras.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears in log output from now on."""
    global _secret_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """``text`` with every known kind of secret replaced by ``[REDACTED]``."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record so that no secret reaches a handler's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: keep the pieces, redacted, rather than lose the line
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _redact_value(value))
        return True


def _redact_value(value: Any) -> Any:
    # Extras end up in JSON lines, so strings nested in dicts and lists are redacted too.
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extras, and exc when raised."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class _BotHandler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installed, so reconfiguring replaces it."""


def configure_logging(
    format: Literal["text", "json"] = "text",
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install one root handler (stderr unless ``stream``) and redact on every root handler.

    Safe to call again: the previous handler installed here is replaced. Returns the handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BotHandler)]:
        root.removeHandler(old)
    handler = _BotHandler(stream if stream is not None else sys.stderr)
    if format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for each in root.handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in each.filters):
            each.addFilter(RedactSecretsFilter())
    # One line per health probe is noise; access problems still show as warnings.
    logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, root.level))
    # httpx logs every request at INFO: one line per Peaka call (~70 a second at 2,000
    # projects). Kept at DEBUG, where it helps; failures reach our own logs either way.
    debugging = root.level <= logging.DEBUG
    logging.getLogger("httpx").setLevel(logging.NOTSET if debugging else logging.WARNING)
    # slack_sdk and Bolt test their own logger's ``level``, not the effective one, before
    # building a debug line: NOTSET passes, so every Web API call formatted its whole
    # request and answer for nothing (~4% of a poll cycle's CPU). Give them the root's level.
    for name in LEVEL_CHECKED_LOGGERS:
        logging.getLogger(name).setLevel(root.level)
    return handler


# The loggers slack_sdk's clients and Bolt's app use by default (``logging.getLogger``
# of their module or class), all of which compare ``logger.level`` with DEBUG themselves.
LEVEL_CHECKED_LOGGERS = (
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.base_client",
    "slack_sdk.webhook.async_client",
    "slack_sdk.webhook.client",
    "slack_bolt.AsyncApp",
    "slack_bolt.App",
)
