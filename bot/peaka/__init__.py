"""Async client for Peaka's export-jobs API.

Usage::

    async with PeakaClient(api_key) as client:
        page = await client.list_page("mtKDhe1U", statuses=[Status.FAILED], limit=10)
"""

from bot.peaka._client import DEFAULT_BASE_URL, PeakaClient
from bot.peaka._exceptions import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    InvalidKeyError,
    MalformedResponseError,
    NotFoundError,
    PeakaAPIError,
    PeakaConnectionError,
    PeakaError,
    PeakaTimeoutError,
    PeakaTransportError,
    RateLimitedError,
    ServerError,
)
from bot.peaka._models import (
    SERVER_FILTERABLE,
    TERMINAL,
    Compression,
    ExportFile,
    ExportFormat,
    ExportJob,
    ExportJobCreated,
    ExportRequest,
    JobSummary,
    Status,
    format_timestamp,
    parse_timestamp,
)
from bot.peaka._paging import ExportPage, PageCursor
from bot.peaka._retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "SERVER_FILTERABLE",
    "TERMINAL",
    "AuthError",
    "BadRequestError",
    "Compression",
    "ExportFile",
    "ExportFormat",
    "ExportJob",
    "ExportJobCreated",
    "ExportPage",
    "ExportRequest",
    "ForbiddenError",
    "InvalidKeyError",
    "JobSummary",
    "MalformedResponseError",
    "NotFoundError",
    "PageCursor",
    "PeakaAPIError",
    "PeakaClient",
    "PeakaConnectionError",
    "PeakaError",
    "PeakaTimeoutError",
    "PeakaTransportError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "Status",
    "format_timestamp",
    "parse_timestamp",
]
