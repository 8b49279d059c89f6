"""PeakaClient errors, retries, headers and secrecy against a scripted real HTTP server.

The simulator answers like Peaka; this tiny aiohttp server answers whatever a test scripts
(HTML error pages, JSON of the wrong shape, Retry-After dates, a server echoing the key), so
every branch of the client's error handling runs over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

import bot
from bot.metrics import REGISTRY
from bot.peaka import (
    AuthError,
    BadRequestError,
    Compression,
    ExportFormat,
    ExportJobCreated,
    ExportRequest,
    ForbiddenError,
    InvalidKeyError,
    MalformedResponseError,
    NotFoundError,
    PeakaAPIError,
    PeakaClient,
    PeakaConnectionError,
    PeakaError,
    PeakaTimeoutError,
    PeakaTransportError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    Status,
)
from bot.peaka._paths import list_target

KEY = "pk_live_S3CR3T-abcdefghijklmnopqrstuvwxyz"
PROJECT = "mtKDhe1U"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=2.0, total_timeout=10.0)
JOB: dict[str, Any] = {
    "id": "4c9fcb44-126a-45f8-99a0-f1d245083d78",
    "status": "SUCCEEDED",
    "createdAt": "2026-06-10T12:24:08Z",
    "downloadable": True,
}


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless `text` is given
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class Seen:
    method: str
    raw_path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float


class ScriptedServer:
    """Answers each request with the next scripted Reply; the last one repeats."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [Reply(body=[])]
        self.seen: list[Seen] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.raw_path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
                time.monotonic(),
            )
        )
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=499)
        if reply.text is not None:
            return web.Response(status=reply.status, text=reply.text, headers=reply.headers)
        if reply.status == 204:
            return web.Response(status=204, headers=reply.headers)
        return web.Response(
            status=reply.status,
            text=json.dumps(reply.body),
            content_type="application/json",
            headers=reply.headers,
        )


@asynccontextmanager
async def serving(server: ScriptedServer, port: int = 0) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{bound}/api/v1"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def scripted(
    *replies: Reply, retry: RetryPolicy = FAST, client_timeout: float = 5.0
) -> AsyncIterator[tuple[PeakaClient, ScriptedServer]]:
    server = ScriptedServer(*replies)
    async with (
        serving(server) as base_url,
        PeakaClient(KEY, base_url, retry=retry, timeout=client_timeout) as client,
    ):
        yield client, server


def requests_counted(operation: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "exports_bot_peaka_requests_total", {"operation": operation, "outcome": outcome}
    )
    return value or 0.0


# --- operations, paths, headers, bodies ------------------------------------------------------


async def test_every_request_carries_the_headers() -> None:
    created = Reply(status=202, body={"id": "new", "status": "PENDING"})
    async with scripted(
        Reply(body=[JOB]), Reply(body=JOB), Reply(status=204), created, created
    ) as (client, server):
        await client.list_exports(PROJECT)
        await client.read_export(PROJECT, JOB["id"])
        await client.cancel_export(PROJECT, JOB["id"])
        await client.export_query(PROJECT, "709922802836177297")
        await client.export_table(PROJECT, "367189801096446904", "payment", "charges")
    assert [s.method for s in server.seen] == ["GET", "GET", "DELETE", "POST", "POST"]
    for seen in server.seen:
        assert seen.headers["Authorization"] == f"Bearer {KEY}"
        assert seen.headers["User-Agent"] == f"peaka-exports-bot/{bot.__version__}"
        assert seen.headers["X-Trino-Source"] == "peaka-exports-bot"
        assert seen.headers["Accept"] == "application/json"


async def test_paths_follow_the_spec_and_quote_every_segment() -> None:
    created = Reply(status=202, body={"id": "new", "status": "PENDING"})
    async with scripted(Reply(body=[]), Reply(body=JOB), Reply(status=204), created, created) as (
        client,
        server,
    ):
        await client.list_exports("team/one")
        await client.read_export("a b", "../../x")
        await client.cancel_export("p?x=1", "e#1")
        await client.export_query("p", "q/../../admin")
        await client.export_table("p", "c/1", "my schema", "t%20")
    assert [s.raw_path for s in server.seen] == [
        "/api/v1/data/projects/team%2Fone/exports",
        "/api/v1/data/projects/a%20b/exports/..%2F..%2Fx",
        "/api/v1/data/projects/p%3Fx%3D1/exports/e%231",
        "/api/v1/data/projects/p/queries/q%2F..%2F..%2Fadmin/exports",
        "/api/v1/data/projects/p/catalogs/c%2F1/schemas/my%20schema/tables/t%2520/exports",
    ]


@pytest.mark.parametrize("suffix", ["", "/"])
async def test_base_url_with_or_without_trailing_slash(suffix: str) -> None:
    server = ScriptedServer(Reply(body=[JOB]))
    async with serving(server) as base_url, PeakaClient(KEY, base_url + suffix) as client:
        jobs = await client.list_exports(PROJECT, limit=5, created_before=JOB["createdAt"])
    assert [j.id for j in jobs] == [JOB["id"]]
    assert server.seen[0].raw_path.startswith("/api/v1/data/projects/mtKDhe1U/exports?")
    # A string cursor is echoed exactly as the server wrote it.
    assert server.seen[0].query == {"limit": "5", "createdBefore": "2026-06-10T12:24:08Z"}


async def test_the_list_query_is_the_one_httpx_builds_from_params() -> None:
    cursor = "2026-06-10T12:24:08.5+05:30"  # ":" and "+" are escaped on the way
    async with scripted(Reply(body=[])) as (client, server):
        await client.list_exports(
            "team/one", statuses="FAILED,RUNNING", limit=7, created_before=cursor
        )
        await client.list_summaries(PROJECT, limit=3)
    params = {"status": "RUNNING,FAILED", "limit": "7", "createdBefore": cursor}
    expected = httpx.URL("http://h/api/v1/data/projects/team%2Fone/exports", params=params)
    assert server.seen[0].raw_path == expected.raw_path.decode()
    assert server.seen[0].query == params
    assert (
        server.seen[1].raw_path == "/api/v1/data/projects/mtKDhe1U/exports?limit=4"
    )  # one more than shown


@given(
    st.sampled_from([None, "FAILED", "PENDING,RUNNING"]),
    st.none() | st.integers(1, 200),
    st.none() | st.text(max_size=30),
)
def test_list_target_encodes_as_httpx_params_do(
    status: str | None, limit: int | None, created_before: str | None
) -> None:
    params = {"status": status, "limit": limit, "createdBefore": created_before}
    expected = httpx.URL(
        "http://h/x/data/projects/p%20q/exports",
        params={k: v for k, v in params.items() if v is not None},
    )
    built = httpx.URL("http://h/x" + list_target("p q", status, limit, created_before))
    assert built == expected


async def test_cookies_a_server_sets_come_back_on_the_next_requests() -> None:
    # The client skips httpx's cookie bookkeeping on answers without Set-Cookie (the fast
    # path); one that sets a cookie is still stored, and an answer without one keeps it.
    async with scripted(
        Reply(body=[]), Reply(body=[], headers={"Set-Cookie": "lb=node-2; Path=/"}), Reply(body=[])
    ) as (client, server):
        for _ in range(4):
            await client.list_summaries(PROJECT)
    assert [s.headers.get("Cookie") for s in server.seen] == [
        None,
        None,
        "lb=node-2",
        "lb=node-2",
    ]


async def test_export_bodies_come_from_export_request() -> None:
    request = ExportRequest(
        format=ExportFormat.JSONL,
        compression=Compression.GZIP,
        limit=100,
        columns=("id", "amount"),
        include_system_columns=False,
        csv_options={"delimiter": ";"},
    )
    created = Reply(status=202, body={"id": "j1", "status": "PENDING"})
    async with scripted(created) as (client, server):
        assert await client.export_query(PROJECT, "q1", request) == ExportJobCreated(
            "j1", Status.PENDING
        )
        await client.export_table(PROJECT, "c", "s", "t")
    assert json.loads(server.seen[0].body) == request.to_api()
    assert json.loads(server.seen[1].body) == {"format": "CSV", "compression": "NONE"}
    assert server.seen[0].headers["Content-Type"] == "application/json"


async def test_status_filter_sent_to_the_server() -> None:
    rows = [
        {**JOB, "id": "s", "status": "SUCCEEDED"},
        {**JOB, "id": "e", "status": "EXPIRED"},
        {**JOB, "id": "f", "status": "FAILED"},
    ]
    async with scripted(Reply(body=rows)) as (client, server):
        succeeded = await client.list_exports(PROJECT, statuses=[Status.SUCCEEDED])
        expired = await client.list_exports(PROJECT, statuses=["expired", "FAILED"])
        unknown = await client.list_exports(PROJECT, statuses="PAUSED")
        both = await client.list_exports(PROJECT, statuses="FAILED,SUCCEEDED")
    assert [j.id for j in succeeded] == ["s"]
    assert [j.id for j in expired] == ["e", "f"]
    assert unknown == []
    assert [j.id for j in both] == ["s", "f"]
    assert [s.query.get("status") for s in server.seen] == [
        "SUCCEEDED",
        None,
        None,
        "SUCCEEDED,FAILED",
    ]


# --- each error class ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error_class", "in_message"),
    [
        (Reply(400, {"message": "Unknown column 'x'"}), BadRequestError, "Unknown column 'x'"),
        (Reply(401, {"error": "Invalid API key"}), InvalidKeyError, "Invalid API key"),
        (
            Reply(403, {"message": "This project API key is limited to project 'other'"}),
            ForbiddenError,
            "project key for another project",
        ),
        (Reply(404, {"message": "Export job 'x' not found"}), NotFoundError, "not found"),
        (Reply(429, {"message": "slow down"}), RateLimitedError, "rate limiting"),
        (Reply(500, text="<html><h1>500 oops</h1></html>"), ServerError, "Peaka said: 500 oops"),
        (
            Reply(503, text="<html><head><title>503 Unavailable</title></head><body/></html>"),
            ServerError,
            "Peaka said: 503 Unavailable",
        ),
        (Reply(418, text="I'm a teapot"), PeakaAPIError, "teapot"),
    ],
)
async def test_http_errors_map_to_classes(
    reply: Reply, error_class: type[PeakaAPIError], in_message: str
) -> None:
    async with scripted(reply, retry=RetryPolicy(max_attempts=1)) as (client, _):
        with pytest.raises(error_class) as caught:
            await client.read_export(PROJECT, "x")
    error = caught.value
    assert type(error) is error_class
    assert error.status_code == reply.status
    assert in_message in str(error)
    assert f"HTTP {reply.status}" in str(error)
    assert "reading export 'x' of project 'mtKDhe1U'" in str(error)
    assert error.operation == "readExport"


def test_the_hierarchy() -> None:
    assert issubclass(InvalidKeyError, AuthError) and issubclass(ForbiddenError, AuthError)
    for api in (BadRequestError, AuthError, NotFoundError, RateLimitedError, ServerError):
        assert issubclass(api, PeakaAPIError)
    assert issubclass(PeakaTimeoutError, PeakaTransportError)
    assert issubclass(PeakaConnectionError, PeakaTransportError)
    for base in (PeakaAPIError, PeakaTransportError, MalformedResponseError):
        assert issubclass(base, PeakaError)


async def test_long_server_messages_are_truncated() -> None:
    async with scripted(Reply(400, {"message": "x" * 5000})) as (client, _):
        with pytest.raises(BadRequestError) as caught:
            await client.list_exports(PROJECT)
    assert len(str(caught.value)) < 500
    assert str(caught.value).endswith("…")


@pytest.mark.parametrize(
    ("reply", "in_message"),
    [
        (Reply(text="<html>not json</html>"), "not JSON"),
        (Reply(body={"items": []}), "expected an array of export jobs, got dict"),
        (Reply(body=[{"id": "x", "status": "FAILED"}]), "item 0 is not an export job"),
        (Reply(body=[JOB, "oops"]), "item 1"),
        (Reply(body=[{**JOB, "createdAt": "yesterday"}]), "ISO-8601"),
        (Reply(body=[{**JOB, "createdAt": "0001-01-01T00:00:00+05:00"}]), "out of range"),
        (Reply(301, text="", headers={"Location": "https://elsewhere"}), "redirect"),
    ],
)
async def test_malformed_lists(reply: Reply, in_message: str) -> None:
    before = requests_counted("listExports", "malformed")
    async with scripted(reply) as (client, server):
        with pytest.raises(MalformedResponseError, match=in_message) as caught:
            await client.list_exports(PROJECT)
    assert len(server.seen) == 1  # a malformed answer is not retried
    assert caught.value.status_code == reply.status
    assert requests_counted("listExports", "malformed") == before + 1


@pytest.mark.parametrize(
    ("reply", "in_message"),
    [
        (Reply(body={"items": []}), "expected an array of export jobs, got dict"),
        (Reply(body=[{"id": "x", "status": "FAILED"}]), "item 0 is not an export job"),
        (Reply(body=[JOB, {**JOB, "id": ""}]), "item 1"),
        (Reply(body=[{**JOB, "status": None}]), "status must be"),
        (Reply(body=[{**JOB, "createdAt": "yesterday"}]), "ISO-8601"),
        (Reply(body=[{**JOB, "createdAt": "9999-12-31T23:59:59.9-01:00"}]), "out of range"),
    ],
)
async def test_summaries_check_id_status_and_created_at(reply: Reply, in_message: str) -> None:
    async with scripted(reply) as (client, _):
        with pytest.raises(MalformedResponseError, match=in_message):
            await client.list_summaries(PROJECT)


async def test_a_summary_checks_the_other_fields_when_expanded() -> None:
    bad = {**JOB, "id": "bad", "rowCount": "many"}
    async with scripted(Reply(body=[bad, JOB])) as (client, _):
        page = await client.list_summaries(PROJECT)
    assert [job.id for job in page.jobs] == ["bad", JOB["id"]]
    with pytest.raises(MalformedResponseError, match="is not an export job") as caught:
        page.jobs[0].details()
    assert caught.value.operation == "listExports"
    assert page.jobs[1].details().downloadable


async def test_a_body_that_cannot_be_decoded_is_malformed() -> None:
    bad_gzip = Reply(text="this is not gzip", headers={"Content-Encoding": "gzip"})
    before = requests_counted("readExport", "malformed")
    async with scripted(bad_gzip) as (client, server):
        with pytest.raises(MalformedResponseError, match="could not be decoded"):
            await client.read_export(PROJECT, "x")
    assert len(server.seen) == 1
    assert requests_counted("readExport", "malformed") == before + 1


async def test_malformed_single_objects() -> None:
    async with scripted(Reply(body=[JOB]), Reply(status=202, body=[])) as (client, _):
        with pytest.raises(MalformedResponseError, match="expected an export job object"):
            await client.read_export(PROJECT, "x")
        with pytest.raises(MalformedResponseError, match="acknowledgement"):
            await client.export_query(PROJECT, "q")


# --- retries --------------------------------------------------------------------------------


async def test_get_retries_5xx_then_succeeds_and_counts_each_attempt() -> None:
    ok = requests_counted("listExports", "ok")
    failed = requests_counted("listExports", "server_error")
    async with scripted(
        Reply(503, text="<html>503 Service Temporarily Unavailable</html>"),
        Reply(502, text="bad gateway"),
        Reply(body=[JOB]),
    ) as (client, server):
        jobs = await client.list_exports(PROJECT)
    assert len(jobs) == 1 and len(server.seen) == 3
    assert requests_counted("listExports", "server_error") == failed + 2
    assert requests_counted("listExports", "ok") == ok + 1


async def test_statuses_that_will_not_get_better_are_not_retried() -> None:
    async with scripted(Reply(501, text="Not Implemented")) as (client, server):
        with pytest.raises(ServerError, match="HTTP 501"):
            await client.list_exports(PROJECT)
    assert len(server.seen) == 1


async def test_get_gives_up_after_max_attempts() -> None:
    async with scripted(Reply(500, {"message": "boom"})) as (client, server):
        with pytest.raises(ServerError, match="boom"):
            await client.read_export(PROJECT, "x")
    assert len(server.seen) == FAST.max_attempts


async def test_delete_retries_and_is_idempotent() -> None:
    async with scripted(Reply(504, text="gateway timeout"), Reply(status=204)) as (client, server):
        await client.cancel_export(PROJECT, "x")
        await client.cancel_export(PROJECT, "x")
    assert [s.method for s in server.seen] == ["DELETE"] * 3


async def test_retry_after_seconds_is_honoured() -> None:
    async with scripted(
        Reply(429, {"message": "Rate limit exceeded"}, headers={"Retry-After": "1"}),
        Reply(body=[JOB]),
    ) as (client, server):
        await client.list_exports(PROJECT)
    first, second = server.seen
    assert second.at - first.at >= 0.99


async def test_retry_after_longer_than_max_delay_raises_at_once() -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    date = format_datetime(later, usegmt=True)
    async with scripted(Reply(429, text="slow down", headers={"Retry-After": date})) as (
        client,
        server,
    ):
        with pytest.raises(RateLimitedError) as caught:
            await client.list_exports(PROJECT)
    assert len(server.seen) == 1
    assert caught.value.retry_after is not None
    assert 110 <= caught.value.retry_after <= 120
    assert "retry after" in str(caught.value)


async def test_retry_after_seconds_attribute() -> None:
    async with scripted(
        Reply(429, text="", headers={"Retry-After": "7"}), retry=RetryPolicy(max_attempts=1)
    ) as (client, _):
        with pytest.raises(RateLimitedError) as caught:
            await client.read_export(PROJECT, "x")
    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_post_is_never_retried_on_an_answer(status: int) -> None:
    async with scripted(Reply(status, {"message": "nope"}, headers={"Retry-After": "0"})) as (
        client,
        server,
    ):
        with pytest.raises(PeakaAPIError):
            await client.export_query(PROJECT, "q")
        with pytest.raises(PeakaAPIError):
            await client.export_table(PROJECT, "c", "s", "t")
    assert [s.method for s in server.seen] == ["POST", "POST"]


async def test_post_is_not_retried_after_a_timeout_or_a_dropped_connection() -> None:
    async with scripted(Reply(delay=0.5, body={}), client_timeout=0.1) as (client, server):
        with pytest.raises(PeakaTimeoutError, match="did not answer in time"):
            await client.export_query(PROJECT, "q")
    assert len(server.seen) == 1
    async with scripted(Reply(drop=True)) as (client, server):
        with pytest.raises(PeakaConnectionError):
            await client.export_table(PROJECT, "c", "s", "t")
    assert len(server.seen) == 1


async def test_get_retries_timeouts_and_dropped_connections() -> None:
    timeouts = requests_counted("readExport", "timeout")
    async with scripted(Reply(delay=0.5, body=JOB), Reply(body=JOB), client_timeout=0.1) as (
        client,
        server,
    ):
        job = await client.read_export(PROJECT, "x")
    assert job.id == JOB["id"] and len(server.seen) == 2
    assert requests_counted("readExport", "timeout") == timeouts + 1
    async with scripted(Reply(drop=True), Reply(body=[JOB])) as (client, server):
        assert len(await client.list_exports(PROJECT)) == 1
    assert len(server.seen) == 2


async def test_total_timeout_bounds_the_retries() -> None:
    policy = RetryPolicy(max_attempts=50, base_delay=0.05, max_delay=0.05, total_timeout=0.5)
    async with scripted(Reply(503, text="busy"), retry=policy) as (client, server):
        started = time.monotonic()
        with pytest.raises(ServerError):
            await client.list_exports(PROJECT)
    assert time.monotonic() - started < 2.0
    assert 2 <= len(server.seen) < 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused_is_a_connection_error() -> None:
    port = free_port()
    policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
    async with PeakaClient(KEY, f"http://127.0.0.1:{port}/api/v1", retry=policy) as client:
        with pytest.raises(PeakaConnectionError, match=r"could not reach Peaka at 127\.0\.0\.1"):
            await client.list_exports(PROJECT)


async def test_post_is_retried_when_the_connection_was_never_made() -> None:
    """Nothing was sent, so repeating is safe: the job is created exactly once."""
    port = free_port()
    policy = RetryPolicy(max_attempts=40, base_delay=0.02, max_delay=0.05, total_timeout=10)
    server = ScriptedServer(Reply(status=202, body={"id": "once", "status": "PENDING"}))
    async with PeakaClient(KEY, f"http://127.0.0.1:{port}/api/v1", retry=policy) as client:
        attempt = asyncio.create_task(client.export_query(PROJECT, "q"))
        await asyncio.sleep(0.15)  # the first attempts find nobody listening
        assert not attempt.done()
        async with serving(server, port=port):
            created = await attempt
    assert created.id == "once"
    assert len(server.seen) == 1


# --- secrecy --------------------------------------------------------------------------------


async def test_the_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "bot", "bot.peaka", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    echo = {"message": f"Invalid API key Bearer {KEY}"}
    errors: list[BaseException] = []
    async with scripted(
        Reply(401, echo),
        Reply(503, text=f"upstream rejected {KEY}"),
        Reply(503, text=f"upstream rejected {KEY}"),
        Reply(503, text=f"upstream rejected {KEY}"),
        Reply(delay=0.3, body=[]),
        Reply(delay=0.3, body=[]),
        Reply(delay=0.3, body=[]),
        Reply(body=[{"id": KEY}]),
        Reply(drop=True),
        client_timeout=0.05,
    ) as (client, _):
        calls = (
            client.list_exports(PROJECT),
            client.read_export(PROJECT, "x"),
            client.list_exports(PROJECT),
            client.list_exports(PROJECT),
            client.export_query(PROJECT, "q"),
        )
        for call in calls:
            try:
                await call
            except PeakaError as exc:
                errors.append(exc)
        assert KEY not in repr(client) and KEY not in str(client)
        assert repr(client).endswith("api_key='pk_l…')")
    assert len(errors) == 5
    for error in errors:
        assert KEY not in str(error) and KEY not in repr(error)
        assert KEY not in str(error.__cause__ or "") and KEY not in str(error.__context__ or "")
    assert "[redacted]" in str(errors[0])
    assert caplog.records, "logging at DEBUG captured nothing"
    assert any(r.name.startswith("httpx") for r in caplog.records)
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in str(record.args)
    assert KEY not in caplog.text


def test_bad_arguments_say_what_is_valid() -> None:
    with pytest.raises(ValueError, match="api_key must be a non-empty string") as caught:
        PeakaClient("bad key with spaces")
    assert "bad key" not in str(caught.value)
    with pytest.raises(ValueError, match="base_url must be an http"):
        PeakaClient(KEY, "ftp://example.com")
    with pytest.raises(ValueError, match="timeout"):
        PeakaClient(KEY, timeout=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


async def test_bad_call_arguments_fail_before_any_request() -> None:
    async with scripted(Reply(body=[])) as (client, server):
        with pytest.raises(ValueError, match="not an export status; valid: PENDING"):
            await client.list_exports(PROJECT, statuses=[""])
        with pytest.raises(ValueError, match="statuses is empty"):
            await client.list_page(PROJECT, statuses=[])
        with pytest.raises(ValueError, match="limit must be from 1 to 200"):
            await client.list_page(PROJECT, limit=0)
        with pytest.raises(ValueError, match="page_size must be from 1 to 200"):
            client.iter_exports(PROJECT, page_size=500)
        with pytest.raises(ValueError, match="project_id must be a non-empty string"):
            await client.read_export("", "x")
        with pytest.raises(ValueError, match=r"export_id cannot be '\.\.'"):
            await client.cancel_export(PROJECT, "..")
        with pytest.raises(ValueError, match="ISO-8601"):
            await client.list_exports(PROJECT, created_before="last tuesday")
        with pytest.raises(ValueError, match="format must be CSV or JSONL"):
            await client.export_query(PROJECT, "q", ExportRequest(format="XML"))  # type: ignore[arg-type]
    assert server.seen == []
