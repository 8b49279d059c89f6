"""Turning Peaka's HTTP answers into models, or into MalformedResponseError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import orjson

from bot.peaka._exceptions import MalformedResponseError, PeakaError, api_error, server_message
from bot.peaka._models import ExportJob, ExportJobCreated, JobSummary
from bot.peaka._retry import parse_retry_after

__all__ = [
    "decode_json",
    "error_for_response",
    "outcome_for_status",
    "parse_created",
    "parse_job",
    "parse_job_list",
    "parse_nothing",
    "parse_summary_list",
]

_J = TypeVar("_J")

_MAX_ERROR_BODY = 10_000  # enough to find the message in; never log or show more


def error_for_response(
    response: httpx.Response, *, operation: str, doing: str, secrets: tuple[str, ...]
) -> PeakaError:
    """The typed error for a non-2xx answer; ``secrets`` are redacted from the server's text."""
    code = response.status_code
    if 300 <= code < 400:
        return MalformedResponseError(
            f"Peaka answered with a redirect (HTTP {code}) while {doing}; check the base URL",
            operation=operation,
            status_code=code,
        )
    said = server_message(response.text[:_MAX_ERROR_BODY], secrets=secrets)
    retry_after = parse_retry_after(response.headers.get("Retry-After")) if code == 429 else None
    return api_error(
        code, operation=operation, doing=doing, server_said=said, retry_after=retry_after
    )


def outcome_for_status(code: int) -> str:
    """The ``outcome`` metric label for an HTTP status that is not a success."""
    if code in (401, 403):
        return "auth"
    if code == 404:
        return "not_found"
    if code == 429:
        return "rate_limited"
    if code >= 500:
        return "server_error"
    if 400 <= code < 500:
        return "bad_request"
    return "malformed"


def decode_json(body: bytes) -> Any:
    """``json.loads(body)`` at a third of its cost: the same value for every body whose
    integers fit in 64 bits (every integer the API defines is an int64).

    A cycle decodes every project's List page, the largest part of its CPU that is not the
    request itself. orjson reads strict RFC 8259 JSON; what it refuses (NaN, the
    infinities, lone surrogate escapes, or no JSON at all) goes to the stdlib, which
    decides. Past 64 bits orjson reads an integer as the nearest float.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _json(response: httpx.Response, operation: str, doing: str) -> Any:
    try:
        return decode_json(response.content)
    except ValueError:
        raise MalformedResponseError(
            f"Peaka sent a body that is not JSON (HTTP {response.status_code}) while {doing}",
            operation=operation,
            status_code=response.status_code,
        ) from None


def _malformed(
    response: httpx.Response, operation: str, doing: str, what: str
) -> MalformedResponseError:
    return MalformedResponseError(
        f"Peaka sent an unexpected response (HTTP {response.status_code}) while {doing}: {what}",
        operation=operation,
        status_code=response.status_code,
    )


def _reason(exc: Exception) -> str:
    text = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
    return text if len(text) <= 200 else text[:199] + "…"


def parse_job(response: httpx.Response, operation: str, doing: str) -> ExportJob:
    payload = _json(response, operation, doing)
    if not isinstance(payload, dict):
        what = f"expected an export job object, got {type(payload).__name__}"
        raise _malformed(response, operation, doing, what)
    try:
        return ExportJob.from_api(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(response, operation, doing, _reason(exc)) from None


def parse_job_list(response: httpx.Response, operation: str, doing: str) -> list[ExportJob]:
    return _parse_list(response, operation, doing, ExportJob.from_api)


def parse_summary_list(response: httpx.Response, operation: str, doing: str) -> list[JobSummary]:
    """Like :func:`parse_job_list`, checking only each job's id, status and createdAt."""
    return _parse_list(response, operation, doing, JobSummary.from_api)


def _parse_list(
    response: httpx.Response, operation: str, doing: str, build: Callable[[Any], _J]
) -> list[_J]:
    payload = _json(response, operation, doing)
    if not isinstance(payload, list):
        what = f"expected an array of export jobs, got {type(payload).__name__}"
        raise _malformed(response, operation, doing, what)
    items: list[_J] = []
    for index, item in enumerate(payload):
        try:
            items.append(build(item))
        except (KeyError, TypeError, ValueError) as exc:
            what = f"item {index} is not an export job ({_reason(exc)})"
            raise _malformed(response, operation, doing, what) from None
    return items


def parse_created(response: httpx.Response, operation: str, doing: str) -> ExportJobCreated:
    payload = _json(response, operation, doing)
    try:
        return ExportJobCreated.from_api(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(response, operation, doing, _reason(exc)) from None


def parse_nothing(response: httpx.Response, operation: str, doing: str) -> None:
    return None
