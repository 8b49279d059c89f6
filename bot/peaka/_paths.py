"""Validating caller input and building the API's URL paths (every id URL-quoted)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import httpx

from bot.peaka._models import ExportRequest
from bot.peaka._paging import MAX_SERVER_LIMIT

__all__ = [
    "DEFAULT_BASE_URL",
    "check_limit",
    "export_path",
    "list_path",
    "list_target",
    "normalize_base_url",
    "query_export_path",
    "request_body",
    "table_export_path",
]

DEFAULT_BASE_URL = "https://partner.peaka.studio/api/v1"


def list_path(project_id: str) -> str:
    return f"/data/projects/{_segment('project_id', project_id)}/exports"


def list_target(
    project_id: str, status: str | None, limit: int | None, created_before: str | None
) -> str:
    """The List call's path and query, encoded as httpx encodes ``params=`` (``urlencode``).

    Built here rather than handed to httpx as ``params``: httpx would parse, merge and
    re-serialise the URL for them, three times what parsing a finished URL costs.
    """
    query: list[tuple[str, str]] = []
    if status:
        query.append(("status", status))
    if limit is not None:
        query.append(("limit", str(limit)))
    if created_before is not None:
        query.append(("createdBefore", created_before))
    path = list_path(project_id)
    return f"{path}?{urlencode(query)}" if query else path


def export_path(project_id: str, export_id: str) -> str:
    return f"{list_path(project_id)}/{_segment('export_id', export_id)}"


def query_export_path(project_id: str, query_id: str) -> str:
    return (
        f"/data/projects/{_segment('project_id', project_id)}"
        f"/queries/{_segment('query_id', query_id)}/exports"
    )


def table_export_path(project_id: str, catalog_id: str, schema_name: str, table_name: str) -> str:
    return (
        f"/data/projects/{_segment('project_id', project_id)}"
        f"/catalogs/{_segment('catalog_id', catalog_id)}"
        f"/schemas/{_segment('schema_name', schema_name)}"
        f"/tables/{_segment('table_name', table_name)}/exports"
    )


def normalize_base_url(base_url: str) -> str:
    problem = "base_url must be an http(s) URL such as " + repr(DEFAULT_BASE_URL)
    if not isinstance(base_url, str):
        raise ValueError(problem)
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError):
        raise ValueError(f"{problem}, got {base_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        raise ValueError(f"{problem}, got {base_url!r}")
    return str(url).rstrip("/")


def _segment(name: str, value: str) -> str:
    """URL-quote one path segment so no id can reach outside its place in the path."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # saved-query ids are often written as numbers
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{name} cannot be {value!r}")
    return quote(value, safe="")


def check_limit(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number from 1 to {MAX_SERVER_LIMIT}")
    if not 1 <= value <= MAX_SERVER_LIMIT:
        raise ValueError(f"{name} must be from 1 to {MAX_SERVER_LIMIT}, got {value}")


def request_body(request: ExportRequest | None) -> dict[str, Any]:
    if request is None:
        request = ExportRequest()
    if not isinstance(request, ExportRequest):
        raise ValueError(f"request must be an ExportRequest, got {type(request).__name__}")
    try:
        return request.to_api()
    except ValueError as exc:
        raise ValueError(
            f"invalid export request: {exc}; format must be CSV or JSONL, compression NONE or GZIP"
        ) from None
