"""PeakaClient: the async client for Peaka's export-jobs API, on httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
from prometheus_client import Counter

from bot import __version__
from bot.metrics import PEAKA_REQUESTS
from bot.peaka._exceptions import (
    MalformedResponseError,
    PeakaConnectionError,
    PeakaError,
    PeakaTimeoutError,
)
from bot.peaka._models import (
    ExportJob,
    ExportJobCreated,
    ExportRequest,
    JobSummary,
    Status,
    format_timestamp,
    parse_timestamp,
)
from bot.peaka._paging import (
    MAX_SERVER_LIMIT,
    ExportPage,
    KeysetScan,
    Listed,
    PageCursor,
    StatusFilter,
)
from bot.peaka._paths import (
    DEFAULT_BASE_URL,
    check_limit,
    export_path,
    list_path,
    list_target,
    normalize_base_url,
    query_export_path,
    request_body,
    table_export_path,
)
from bot.peaka._responses import (
    error_for_response,
    outcome_for_status,
    parse_created,
    parse_job,
    parse_job_list,
    parse_nothing,
    parse_summary_list,
)
from bot.peaka._retry import RetryPolicy, parse_retry_after
from bot.peaka._transport import default_transport

__all__ = ["DEFAULT_BASE_URL", "PeakaClient"]

_LOG = logging.getLogger("bot.peaka")
_T = TypeVar("_T")
_J = TypeVar("_J", bound=Listed)

CLIENT_SOURCE = "peaka-exports-bot"
# One list_page call reads at most this many server pages, then hands back a cursor.
MAX_PAGES_PER_CALL = 20
# Worth another try for a GET or DELETE; a 501 or 505 will not get better.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

Statuses = Iterable[Status | str] | str | None


class PeakaClient:
    """Async client for the Peaka export-jobs API.

    Every request carries the bearer key, a ``peaka-exports-bot/<version>`` User-Agent and
    ``X-Trino-Source: peaka-exports-bot``. ``transport`` defaults to an aiohttp-backed one
    (``bot.peaka._transport``: a third of httpx's own CPU per request). GET and DELETE are
    retried on 429, 500, 502, 503, 504, timeouts and connection errors per ``retry``; POST
    only when the connection was never made (so a job is never started twice).
    Use as ``async with PeakaClient(key) as client:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key or api_key != "".join(api_key.split()):
            raise ValueError("api_key must be a non-empty string without spaces or line breaks")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._api_key = api_key
        self._base_url = normalize_base_url(base_url)
        self._timeout = float(timeout)
        self._retry = retry or RetryPolicy()
        self._rng = random.Random()
        self._http = httpx.AsyncClient(
            transport=transport if transport is not None else default_transport(self._base_url),
            timeout=self._timeout,
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"{CLIENT_SOURCE}/{__version__}",
                "X-Trino-Source": CLIENT_SOURCE,
                "Accept": "application/json",
            },
        )
        # Not the public ``cookies=``/setter: both copy the jar into a plain httpx.Cookies.
        self._http._cookies = _Cookies()

    def __repr__(self) -> str:
        return f"PeakaClient(base_url={self._base_url!r}, api_key={self._api_key[:4] + '…'!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> PeakaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- operations ---------------------------------------------------------------------------

    async def list_exports(
        self,
        project_id: str,
        *,
        statuses: Statuses = None,
        limit: int | None = None,
        created_before: str | datetime | None = None,
    ) -> list[ExportJob]:
        """One List Exports call, newest first, holding exactly the statuses asked for.

        ``created_before`` as a string is sent as it is (echo the server's ``createdAt``).
        """
        status_filter = StatusFilter.of(statuses)
        if limit is not None:
            check_limit("limit", limit)
        if isinstance(created_before, datetime):
            created_before = format_timestamp(created_before)
        elif created_before is not None:
            parse_timestamp(created_before)  # ValueError names the bad value
        jobs = await self._list(project_id, status_filter, limit, created_before, parse_job_list)
        return [job for job in jobs if status_filter.keeps(job)]

    async def list_page(
        self,
        project_id: str,
        *,
        statuses: Statuses = None,
        limit: int = 10,
        cursor: PageCursor | None = None,
    ) -> ExportPage[ExportJob]:
        """Up to ``limit`` jobs with exactly the statuses asked for, newest first.

        ``next_cursor`` is None once no older matching job exists. A page may be shorter than
        ``limit`` with a cursor when matching jobs are sparse (the server-page budget ran out).
        """
        return await self._page(project_id, statuses, limit, cursor, parse_job_list)

    async def list_summaries(
        self,
        project_id: str,
        *,
        statuses: Statuses = None,
        limit: int = 10,
        cursor: PageCursor | None = None,
    ) -> ExportPage[JobSummary]:
        """:meth:`list_page` with each job as a ``JobSummary``: only its id, status and createdAt
        are checked; ``details()`` builds (and checks) the full job. For callers that need the
        full job of only a few of those listed (the poller)."""
        return await self._page(project_id, statuses, limit, cursor, parse_summary_list)

    def iter_exports(
        self,
        project_id: str,
        *,
        statuses: Statuses = None,
        page_size: int = MAX_SERVER_LIMIT,
        cursor: PageCursor | None = None,
    ) -> AsyncIterator[ExportJob]:
        """Every job with the statuses asked for, newest first, each exactly once."""
        check_limit("page_size", page_size)
        status_filter = StatusFilter.of(statuses)
        list_path(project_id)  # validates the id now, not at the first iteration
        return self._iter(project_id, status_filter, page_size, cursor, parse_job_list)

    def iter_summaries(
        self,
        project_id: str,
        *,
        statuses: Statuses = None,
        page_size: int = MAX_SERVER_LIMIT,
        cursor: PageCursor | None = None,
    ) -> AsyncIterator[JobSummary]:
        """:meth:`iter_exports` with each job as a ``JobSummary`` (see :meth:`list_summaries`)."""
        check_limit("page_size", page_size)
        status_filter = StatusFilter.of(statuses)
        list_path(project_id)
        return self._iter(project_id, status_filter, page_size, cursor, parse_summary_list)

    async def read_export(self, project_id: str, export_id: str) -> ExportJob:
        """One job; for the key owner's SUCCEEDED job ``files`` carries fresh download URLs."""
        return await self._call(
            "readExport",
            "GET",
            export_path(project_id, export_id),
            doing=f"reading export {export_id!r} of project {project_id!r}",
            parse=parse_job,
        )

    async def cancel_export(self, project_id: str, export_id: str) -> None:
        """Cancel a PENDING/RUNNING job; a no-op on a finished one (idempotent)."""
        await self._call(
            "cancelExport",
            "DELETE",
            export_path(project_id, export_id),
            doing=f"cancelling export {export_id!r} of project {project_id!r}",
            parse=parse_nothing,
        )

    async def export_query(
        self, project_id: str, query_id: str, request: ExportRequest | None = None
    ) -> ExportJobCreated:
        """Start an export of a saved query; returns the new job's id (status PENDING)."""
        return await self._call(
            "exportQuery",
            "POST",
            query_export_path(project_id, query_id),
            doing=f"exporting query {query_id!r} of project {project_id!r}",
            parse=parse_created,
            body=request_body(request),
        )

    async def export_table(
        self,
        project_id: str,
        catalog_id: str,
        schema_name: str,
        table_name: str,
        request: ExportRequest | None = None,
    ) -> ExportJobCreated:
        """Start an export of a table; returns the new job's id (status PENDING)."""
        return await self._call(
            "exportTable",
            "POST",
            table_export_path(project_id, catalog_id, schema_name, table_name),
            doing=(
                f"exporting table {schema_name}.{table_name} of catalog {catalog_id!r} "
                f"in project {project_id!r}"
            ),
            parse=parse_created,
            body=request_body(request),
        )

    # -- internals ----------------------------------------------------------------------------

    async def _page(
        self,
        project_id: str,
        statuses: Statuses,
        limit: int,
        cursor: PageCursor | None,
        parse: Callable[[httpx.Response, str, str], list[_J]],
    ) -> ExportPage[_J]:
        check_limit("limit", limit)
        status_filter = StatusFilter.of(statuses)
        list_path(project_id)  # validates the id before any request
        scan = KeysetScan(cursor)
        kept: list[_J] = []
        # Ask for one job more than shown (to know whether there is a next page), plus the
        # already-shown jobs the cursor will bring back.
        request_limit = limit + 1 + scan.carried
        wanted = status_filter.wanted
        while not scan.done and scan.pages < MAX_PAGES_PER_CALL:
            request = scan.next_request(request_limit)
            page = await self._list(
                project_id, status_filter, request.limit, request.created_before, parse
            )
            fresh = scan.absorb(page, request)
            if wanted is not None:
                fresh = [job for job in fresh if job.status in wanted]
            room = limit - len(kept)
            taken = fresh[:room] if len(fresh) > room else fresh
            kept += taken
            scan.deliver_all(taken)
            if len(fresh) > room:  # a matching job beyond the page asked for: there is more
                return ExportPage(kept, scan.cursor_after(kept[-1]))
            request_limit = MAX_SERVER_LIMIT
        if scan.done:
            return ExportPage(kept, None)
        return ExportPage(kept, scan.position_cursor() or cursor)

    async def _iter(
        self,
        project_id: str,
        status_filter: StatusFilter,
        page_size: int,
        cursor: PageCursor | None,
        parse: Callable[[httpx.Response, str, str], list[_J]],
    ) -> AsyncIterator[_J]:
        scan = KeysetScan(cursor)
        while not scan.done:
            request = scan.next_request(page_size)
            page = await self._list(
                project_id, status_filter, request.limit, request.created_before, parse
            )
            for job in scan.absorb(page, request):
                if status_filter.keeps(job):
                    yield job

    async def _list(
        self,
        project_id: str,
        status_filter: StatusFilter,
        limit: int | None,
        created_before: str | None,
        parse: Callable[[httpx.Response, str, str], list[_J]],
    ) -> list[_J]:
        """One raw List call (no client-side status filtering)."""
        return await self._call(
            "listExports",
            "GET",
            list_target(project_id, status_filter.server_param, limit, created_before),
            doing=f"listing exports of project {project_id!r}",
            parse=parse,
        )

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        doing: str,
        parse: Callable[[httpx.Response, str, str], _T],
        body: dict[str, Any] | None = None,
    ) -> _T:
        """Send one operation, retrying per the policy; raise a typed PeakaError."""
        idempotent = method in ("GET", "DELETE")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry.total_timeout
        url = self._base_url + path
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(
                operation, method, url, doing, parse, body, deadline - loop.time()
            )
            if not isinstance(outcome, _Failure):
                return outcome
            retryable = outcome.retryable_for_post or (idempotent and outcome.retryable)
            if not retryable or attempt >= self._retry.max_attempts:
                raise outcome.error
            wait = self._retry.wait_before_retry(attempt, outcome.retry_after, self._rng)
            if wait is None or loop.time() + wait >= deadline:
                raise outcome.error
            _LOG.warning(
                "%s attempt %d of %d failed (%s); retrying in %.2f s",
                operation,
                attempt,
                self._retry.max_attempts,
                outcome.error,
                wait,
            )
            await asyncio.sleep(wait)

    async def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        doing: str,
        parse: Callable[[httpx.Response, str, str], _T],
        body: dict[str, Any] | None,
        remaining: float,
    ) -> _T | _Failure:
        """One HTTP exchange, counted once in the metrics. Raises what is never retried."""
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                timeout=max(0.001, min(self._timeout, remaining)),
            )
        except httpx.TimeoutException as exc:
            _count(operation, "timeout")
            message = f"Peaka did not answer in time ({type(exc).__name__}) while {doing}"
            return _Failure(PeakaTimeoutError(message, operation=operation), retryable=True)
        except httpx.DecodingError:
            _count(operation, "malformed")
            raise MalformedResponseError(
                f"Peaka sent a body that could not be decoded while {doing}", operation=operation
            ) from None
        except httpx.RequestError as exc:
            _count(operation, "connection")
            message = (
                f"could not reach Peaka at {httpx.URL(url).host} while {doing}: "
                f"{type(exc).__name__}"
            )
            return _Failure(
                PeakaConnectionError(message, operation=operation),
                retryable=True,
                # A ConnectError means nothing was sent, so even a POST is safe to repeat.
                retryable_for_post=isinstance(exc, httpx.ConnectError),
            )
        _LOG.debug("%s %s -> HTTP %d", operation, method, response.status_code)
        if not response.is_success:
            _count(operation, outcome_for_status(response.status_code))
            return _Failure(
                error_for_response(
                    response, operation=operation, doing=doing, secrets=(self._api_key,)
                ),
                retryable=response.status_code in RETRYABLE_STATUSES,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        try:
            result = parse(response, operation, doing)
        except MalformedResponseError:
            _count(operation, "malformed")
            raise
        _count(operation, "ok")
        return result


@dataclass(frozen=True, slots=True)
class _Failure:
    """A failed attempt: the error to raise, and whether another attempt may help."""

    error: PeakaError
    retryable: bool = False  # for GET and DELETE
    retryable_for_post: bool = False  # only when the request certainly never left
    retry_after: float | None = None


class _Cookies(httpx.Cookies):
    """httpx's cookie handling, minus its work on answers that set no cookie.

    httpx hands every response to ``http.cookiejar`` through urllib-style wrappers (~30 us,
    a tenth of what the client spends on a List) even without a ``Set-Cookie`` header, when
    there is nothing to store. Answers that set one are stored as before.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


# Each (operation, outcome) counter, looked up once: ``labels()`` costs ~4 us a request.
_COUNTERS: dict[tuple[str, str], Counter] = {}


def _count(operation: str, outcome: str) -> None:
    counter = _COUNTERS.get((operation, outcome))
    if counter is None:
        counter = PEAKA_REQUESTS.labels(operation=operation, outcome=outcome)
        _COUNTERS[(operation, outcome)] = counter
    counter.inc()
