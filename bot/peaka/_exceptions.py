"""The exceptions this client raises: one hierarchy, each with a human message.

::

    PeakaError
    ├── PeakaAPIError (status_code)
    │   ├── BadRequestError          400
    │   ├── AuthError
    │   │   ├── InvalidKeyError      401
    │   │   └── ForbiddenError       403
    │   ├── NotFoundError            404
    │   ├── RateLimitedError         429 (retry_after)
    │   └── ServerError              5xx
    ├── PeakaTransportError
    │   ├── PeakaTimeoutError
    │   └── PeakaConnectionError
    └── MalformedResponseError

Messages say what was being done and what Peaka said, and never carry the API key.
"""

from __future__ import annotations

import json
import re

__all__ = [
    "AuthError",
    "BadRequestError",
    "ForbiddenError",
    "InvalidKeyError",
    "MalformedResponseError",
    "NotFoundError",
    "PeakaAPIError",
    "PeakaConnectionError",
    "PeakaError",
    "PeakaTimeoutError",
    "PeakaTransportError",
    "RateLimitedError",
    "ServerError",
    "api_error",
    "server_message",
]

# Long enough for any real error message, short enough for a Slack reply or a log line.
MAX_SERVER_MESSAGE = 300
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")


class PeakaError(Exception):
    """Base class of every error raised by the Peaka client."""

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation

    def __str__(self) -> str:
        return self.message


class PeakaAPIError(PeakaError):
    """Peaka answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        operation: str | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message, operation=operation)
        self.status_code = status_code
        self.server_message = server_message


class BadRequestError(PeakaAPIError):
    """400: Peaka rejected the request (bad status filter, unknown column, ...)."""


class AuthError(PeakaAPIError):
    """401 or 403: the API key cannot be used for this request."""


class InvalidKeyError(AuthError):
    """401: the API key is wrong, revoked or expired."""


class ForbiddenError(AuthError):
    """403: the key is valid but may not do this (e.g. a project key for another project)."""


class NotFoundError(PeakaAPIError):
    """404: no such project or export job (or not visible to this key)."""


class RateLimitedError(PeakaAPIError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        operation: str | None = None,
        server_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, operation=operation, server_message=server_message
        )
        self.retry_after = retry_after


class ServerError(PeakaAPIError):
    """5xx: Peaka (or a proxy in front of it) failed."""


class PeakaTransportError(PeakaError):
    """The request did not get an HTTP answer."""


class PeakaTimeoutError(PeakaTransportError):
    """Peaka did not answer in time."""


class PeakaConnectionError(PeakaTransportError):
    """The connection to Peaka could not be made or broke."""


class MalformedResponseError(PeakaError):
    """Peaka answered, but not with the JSON this client expects."""

    def __init__(
        self, message: str, *, operation: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message, operation=operation)
        self.status_code = status_code


def server_message(body: str, *, secrets: tuple[str, ...] = ()) -> str | None:
    """The human part of an error body: JSON ``message``/``error``/``detail``, else the text.

    Whitespace is collapsed, the result truncated, and every secret replaced by ``[redacted]``
    (a server that echoes the Authorization header must not leak it into our messages).
    """
    text = body.strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for field in ("message", "error", "detail", "title"):
            value = parsed.get(field)
            if isinstance(value, str) and value.strip():
                text = value
                break
    elif text.startswith("<"):
        # A gateway's HTML error page: its title says it all; else drop the tags.
        title = _HTML_TITLE.search(text)
        text = title.group(1) if title else _HTML_TAG.sub(" ", text)
    text = " ".join(text.split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    if len(text) > MAX_SERVER_MESSAGE:
        text = text[: MAX_SERVER_MESSAGE - 1] + "…"
    return text


_HUMAN: dict[int, tuple[type[PeakaAPIError], str]] = {
    400: (BadRequestError, "Peaka rejected the request as invalid"),
    401: (InvalidKeyError, "Peaka rejected the API key: it is wrong, revoked or expired"),
    403: (
        ForbiddenError,
        "the API key may not do this (for example, it is a project key for another project)",
    ),
    404: (NotFoundError, "Peaka found no such project or export job for this key"),
}


def api_error(
    status_code: int,
    *,
    operation: str,
    doing: str,
    server_said: str | None,
    retry_after: float | None = None,
) -> PeakaAPIError:
    """Build the typed exception for an HTTP error answer.

    ``doing`` completes "... while <doing>", e.g. "reading export 'abc' of project 'p'".
    """
    said = f". Peaka said: {server_said}" if server_said else ""
    if status_code == 429:
        hint = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return RateLimitedError(
            f"Peaka is rate limiting this API key (HTTP 429) while {doing}{hint}{said}",
            operation=operation,
            server_message=server_said,
            retry_after=retry_after,
        )
    if status_code >= 500:
        return ServerError(
            f"Peaka had a server error (HTTP {status_code}) while {doing}{said}",
            status_code=status_code,
            operation=operation,
            server_message=server_said,
        )
    cls, human = _HUMAN.get(
        status_code, (PeakaAPIError, "Peaka answered with an unexpected HTTP status")
    )
    return cls(
        f"{human} (HTTP {status_code}) while {doing}{said}",
        status_code=status_code,
        operation=operation,
        server_message=server_said,
    )
