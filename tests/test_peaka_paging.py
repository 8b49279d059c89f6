"""Keyset paging of PeakaClient against tiny real List servers (strict and inclusive cursors).

The simulator implements one cursor semantics; these servers implement both, shuffle jobs that
share a createdAt differently on every request, and mix micro- and nanosecond timestamps, so
the client's "neither skip nor repeat" promise is checked against the hard cases.
"""

from __future__ import annotations

import logging
import random
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.peaka import (
    ExportJob,
    ExportPage,
    PageCursor,
    PeakaClient,
    RetryPolicy,
    Status,
    format_timestamp,
    parse_timestamp,
)
from bot.peaka._paging import KeysetScan, PageRequest

PROJECT = "mtKDhe1U"
KEY = "pk_test_paging_key_0123456789"
BASE_NS = int(datetime(2026, 6, 10, 12, 0, tzinfo=UTC).timestamp()) * 10**9
FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, total_timeout=10.0)
_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def to_ns(text: str) -> int:
    """Parse a timestamp to integer nanoseconds (the server's own precision)."""
    m = _TS.match(text)
    if not m:
        raise ValueError(text)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + tz).timestamp())
    return seconds * 10**9 + int((m.group(2) or "").ljust(9, "0"))


def from_ns(ns: int, *, nanos: bool, suffix: str = "Z") -> str:
    seconds, frac = divmod(ns, 10**9)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}" if nanos else f"{frac // 1000:06d}"
    return f"{base}.{digits}{suffix}"


@dataclass
class ListServer:
    """GET /api/v1/data/projects/{id}/exports with keyset paging, like Peaka's, plus options."""

    rows: Sequence[tuple[int, Mapping[str, object]]]  # (createdAt in ns, job JSON)
    inclusive: bool = False
    shuffle_ties: bool = True
    seed: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append(query)
        limit = max(1, min(int(query.get("limit", "50")), 200))
        wanted: set[str] | None = None
        if "status" in query:
            wanted = set(query["status"].split(","))
            allowed = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"}
            if not wanted <= allowed:
                return web.json_response({"message": "invalid status filter"}, status=400)
        rows = self.rows
        if "createdBefore" in query:
            cut = to_ns(query["createdBefore"])
            rows = [r for r in rows if (r[0] <= cut if self.inclusive else r[0] < cut)]
        if wanted is not None:
            # Like the real API: EXPIRED rows leak through a SUCCEEDED filter.
            rows = [
                r
                for r in rows
                if r[1]["status"] in wanted
                or (r[1]["status"] == "EXPIRED" and "SUCCEEDED" in wanted)
            ]
        rng = random.Random(f"{self.seed}-{len(self.requests)}")
        if self.shuffle_ties:
            keyed = [(-r[0], rng.random(), r[1]) for r in rows]
        else:
            keyed = [(-r[0], 0.0, r[1]) for r in rows]
        keyed.sort(key=lambda k: (k[0], k[1]))
        return web.json_response([k[2] for k in keyed[:limit]])


@asynccontextmanager
async def serving(server: ListServer) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/api/v1/data/projects/{project}/exports", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/api/v1"
    finally:
        await runner.cleanup()


STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"]


def make_rows(count: int, seed: int) -> list[tuple[int, dict[str, object]]]:
    """`count` jobs, newest first, with many same-createdAt groups and ns-only differences."""
    rng = random.Random(seed)
    rows: list[tuple[int, dict[str, object]]] = []
    ns = BASE_NS
    while len(rows) < count:
        step = rng.choice([0, 0, 0, 300, 1_000, 7_000_123, 2_000_000_000])
        ns -= step  # 0: same instant; 300 ns: same microsecond on the wire
        nanos = rng.random() < 0.3
        suffix = rng.choice(["Z", "+00:00"])
        rows.append(
            (
                ns if nanos else ns - ns % 1000,
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "status": rng.choice(STATUSES),
                    "createdAt": from_ns(ns, nanos=nanos, suffix=suffix),
                    "downloadable": False,
                },
            )
        )
    return rows


def expected_ids(rows: list[tuple[int, dict[str, object]]], statuses: set[str] | None) -> set[str]:
    return {str(r[1]["id"]) for r in rows if statuses is None or r[1]["status"] in statuses}


def assert_newest_first(jobs: Sequence[ExportJob]) -> None:
    stamps = [job.created_at for job in jobs]
    assert stamps == sorted(stamps, reverse=True)


ROWS = make_rows(1_050, seed=11)


@pytest.mark.parametrize("inclusive", [False, True], ids=["strict", "inclusive"])
@pytest.mark.parametrize("page_size", [200, 7])
@pytest.mark.parametrize(
    "statuses", [None, {"SUCCEEDED"}, {"EXPIRED", "FAILED"}], ids=["all", "succ", "exp+fail"]
)
async def test_iter_exports_neither_skips_nor_repeats(
    inclusive: bool, page_size: int, statuses: set[str] | None
) -> None:
    server = ListServer(ROWS, inclusive=inclusive)
    async with serving(server) as base_url, PeakaClient(KEY, base_url, retry=FAST) as client:
        jobs = [
            job
            async for job in client.iter_exports(PROJECT, statuses=statuses, page_size=page_size)
        ]
    ids = [job.id for job in jobs]
    assert len(ids) == len(set(ids)), "a job was delivered twice"
    assert set(ids) == expected_ids(ROWS, statuses)
    assert_newest_first(jobs)
    if statuses == {"SUCCEEDED"}:
        assert all(q.get("status") == "SUCCEEDED" for q in server.requests)
    if statuses is not None and "EXPIRED" in statuses:
        assert all("status" not in q for q in server.requests)


async def walk_pages(
    client: PeakaClient, statuses: set[str] | None, limit: int
) -> tuple[list[ExportPage], list[str]]:
    pages: list[ExportPage] = []
    cursor: PageCursor | None = None
    while True:
        page = await client.list_page(PROJECT, statuses=statuses, limit=limit, cursor=cursor)
        pages.append(page)
        if page.next_cursor is None:
            break
        # Through text, as a Slack button value would carry it between processes.
        text = page.next_cursor.encode()
        assert len(text) <= 1500
        cursor = PageCursor.decode(text)
        assert len(pages) < 500, "paging does not end"
    return pages, [job.id for page in pages for job in page.jobs]


@pytest.mark.parametrize("inclusive", [False, True], ids=["strict", "inclusive"])
@pytest.mark.parametrize(
    "statuses", [None, {"SUCCEEDED"}, {"EXPIRED"}], ids=["all", "succ", "expired"]
)
async def test_list_page_walk_is_exact(inclusive: bool, statuses: set[str] | None) -> None:
    server = ListServer(ROWS, inclusive=inclusive, seed=5)
    async with serving(server) as base_url, PeakaClient(KEY, base_url, retry=FAST) as client:
        pages, ids = await walk_pages(client, statuses, limit=10)
    assert len(ids) == len(set(ids)), "a job was shown on two pages"
    assert set(ids) == expected_ids(ROWS, statuses)
    assert all(len(page.jobs) == 10 for page in pages[:-1])
    assert 1 <= len(pages[-1].jobs) <= 10
    for page in pages:
        assert {job.status.value for job in page.jobs} <= (statuses or set(STATUSES))


async def test_equal_created_at_across_the_page_boundary() -> None:
    """Jobs 10 and 11 (and 12) share one instant: page 1 ends inside the group."""
    rows = [
        (BASE_NS - i * 10**9, {"id": f"job-{i:02d}", "status": "FAILED", "createdAt": ""})
        for i in range(10)
    ]
    same = BASE_NS - 10 * 10**9
    rows += [(same, {"id": f"tie-{i}", "status": "FAILED", "createdAt": ""}) for i in range(3)]
    rows += [(BASE_NS - 20 * 10**9, {"id": "last", "status": "FAILED", "createdAt": ""})]
    for ns, job in rows:
        job["createdAt"] = from_ns(ns, nanos=False)
    for inclusive in (False, True):
        server = ListServer(rows, inclusive=inclusive)
        async with serving(server) as base_url, PeakaClient(KEY, base_url) as client:
            first = await client.list_page(PROJECT, limit=11)
            assert [j.id for j in first.jobs][:10] == [f"job-{i:02d}" for i in range(10)]
            assert first.jobs[-1].id.startswith("tie-")
            assert first.next_cursor is not None
            # The cursor comes from the last job shown, not from the look-ahead job.
            assert first.next_cursor.seen_ids == (first.jobs[-1].id,)
            second = await client.list_page(PROJECT, limit=11, cursor=first.next_cursor)
            ids = [j.id for j in first.jobs + second.jobs]
            assert sorted(ids) == sorted(str(r[1]["id"]) for r in rows)
            assert second.next_cursor is None


async def test_last_page_has_no_cursor_and_exact_fit_does() -> None:
    rows = [
        (BASE_NS - i * 10**6, {"id": f"j{i}", "status": "RUNNING", "createdAt": ""})
        for i in range(11)
    ]
    for ns, job in rows:
        job["createdAt"] = from_ns(ns, nanos=False)
    server = ListServer(rows)
    async with serving(server) as base_url, PeakaClient(KEY, base_url) as client:
        page = await client.list_page(PROJECT, limit=10)
        assert len(page.jobs) == 10 and page.next_cursor is not None
        rest = await client.list_page(PROJECT, limit=10, cursor=page.next_cursor)
        assert [j.id for j in rest.jobs] == ["j10"] and rest.next_cursor is None
        whole = await client.list_page(PROJECT, limit=11)
        assert len(whole.jobs) == 11 and whole.next_cursor is None
        empty = await client.list_page("other", statuses=[Status.PENDING])
        assert empty.jobs == [] and empty.next_cursor is None


@pytest.mark.parametrize("inclusive", [False, True], ids=["strict", "inclusive"])
async def test_more_ties_than_a_page_terminates_with_a_warning(
    inclusive: bool, caplog: pytest.LogCaptureFixture
) -> None:
    same = BASE_NS - 5 * 10**9
    rows = [(same, {"id": f"tie-{i:03d}", "status": "FAILED"}) for i in range(250)]
    rows += [(same - (i + 1) * 10**9, {"id": f"old-{i}", "status": "FAILED"}) for i in range(20)]
    for ns, job in rows:
        job["createdAt"] = from_ns(ns, nanos=False)
    server = ListServer(rows, inclusive=inclusive, shuffle_ties=False)
    caplog.set_level(logging.WARNING, logger="bot.peaka")
    async with serving(server) as base_url, PeakaClient(KEY, base_url) as client:
        ids = [job.id async for job in client.iter_exports(PROJECT, page_size=50)]
    assert len(ids) == len(set(ids))
    assert {f"old-{i}" for i in range(20)} <= set(ids)
    assert sum(i.startswith("tie-") for i in ids) >= 200
    assert len(server.requests) < 15
    assert any("share createdAt" in r.getMessage() for r in caplog.records)


async def test_a_group_of_ties_larger_than_the_page_walks_exactly() -> None:
    same = BASE_NS - 5 * 10**9
    rows = [(BASE_NS, {"id": "newest", "status": "FAILED"})]
    rows += [(same, {"id": f"tie-{i:02d}", "status": "FAILED"}) for i in range(35)]
    rows += [(same - 10**9, {"id": "oldest", "status": "FAILED"})]
    for ns, job in rows:
        job["createdAt"] = from_ns(ns, nanos=True)
    for inclusive in (False, True):
        server = ListServer(rows, inclusive=inclusive, seed=3)
        async with serving(server) as base_url, PeakaClient(KEY, base_url) as client:
            _, ids = await walk_pages(client, None, limit=4)
        assert sorted(ids) == sorted(str(r[1]["id"]) for r in rows)


async def test_sparse_matches_stop_at_the_page_budget_and_hand_back_a_cursor() -> None:
    rows = [
        (BASE_NS - i * 10**6, {"id": f"f{i}", "status": "FAILED", "createdAt": ""})
        for i in range(4_100)
    ]
    rows.append((BASE_NS - 5_000 * 10**6, {"id": "gone", "status": "EXPIRED", "createdAt": ""}))
    for ns, job in rows:
        job["createdAt"] = from_ns(ns, nanos=False)
    server = ListServer(rows)
    async with serving(server) as base_url, PeakaClient(KEY, base_url) as client:
        first = await client.list_page(PROJECT, statuses=["EXPIRED"], limit=5)
        assert first.jobs == [] and first.next_cursor is not None
        assert len(server.requests) == 20
        second = await client.list_page(PROJECT, statuses=["EXPIRED"], cursor=first.next_cursor)
    assert [j.id for j in second.jobs] == ["gone"]
    assert second.next_cursor is None


def test_cursor_round_trip() -> None:
    ids = tuple(str(uuid.UUID(int=i, version=4)) for i in range(30))
    for cursor in (
        PageCursor("2026-06-10T15:23:26.893986Z"),
        PageCursor("2026-06-10T15:23:26.893986Z", ("a",)),
        PageCursor("2026-06-10T15:23:26.893986123+00:00", ids),
    ):
        text = cursor.encode()
        assert len(text) < 1500
        assert re.fullmatch(r"[A-Za-z0-9._-]+", text)
        assert PageCursor.decode(text) == cursor


def test_cursor_with_too_many_ids_still_fits(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(1)
    ids = tuple(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(200))
    text = PageCursor("2026-06-10T15:23:26.893986Z", ids).encode()
    assert len(text) <= 1500
    decoded = PageCursor.decode(text)
    assert decoded.seen_ids == ids[-len(decoded.seen_ids) :]  # the latest ids are kept
    assert any("shown twice" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "c1.",
        "c1.!!!!",
        "c1." + "A" * 40,
        "c1.eJzLSM3JyVcozy_KSQEAGgQEXQ",  # zlib("hello world"): not JSON
        PageCursor("2026-06-10T00:00:00Z").encode()[:-3],
        "c1." + "A" * 10_000,
    ],
)
def test_cursor_decode_rejects_garbage(garbage: str) -> None:
    with pytest.raises(ValueError, match="not an export page cursor"):
        PageCursor.decode(garbage)


def test_cursor_decode_rejects_wrong_contents() -> None:
    import base64
    import json
    import zlib

    def pack(value: object) -> str:
        raw = zlib.compress(json.dumps(value).encode())
        return "c1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for value in ({"b": 1}, ["yesterday", []], ["2026-06-10T00:00:00Z", [1]], [1, 2, 3]):
        with pytest.raises(ValueError, match="not an export page cursor"):
            PageCursor.decode(pack(value))
    bomb = "c1." + base64.urlsafe_b64encode(zlib.compress(b"[" * 1_000_000)).decode()
    with pytest.raises(ValueError, match="not an export page cursor"):
        PageCursor.decode(bomb)


def test_cursor_rejects_bad_fields() -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        PageCursor("not a time")
    with pytest.raises(ValueError, match="seen_ids"):
        PageCursor("2026-06-10T00:00:00Z", ("",))


# --- the pure keyset walk, property-tested -----------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    stamps=st.lists(st.integers(min_value=0, max_value=12), min_size=0, max_size=80),
    page_size=st.integers(min_value=1, max_value=6),
    inclusive=st.booleans(),
    shuffle_seed=st.integers(min_value=0, max_value=2**16),
    resume_every=st.integers(min_value=1, max_value=4),
)
def test_keyset_scan_yields_every_job_once(
    stamps: list[int], page_size: int, inclusive: bool, shuffle_seed: int, resume_every: int
) -> None:
    """Any createdAt pattern (ties up to 80 deep, 1 µs apart), either cursor semantics, any
    tie order per request, and a walk resumed from a cursor every few jobs: exact."""
    base = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    jobs = [
        ExportJob(
            id=f"job-{i}",
            status=Status.FAILED,
            created_at=base + timedelta(microseconds=us),
            created_at_raw=format_timestamp(base + timedelta(microseconds=us)),
        )
        for i, us in enumerate(stamps)
    ]
    rng = random.Random(shuffle_seed)

    def list_call(request: PageRequest) -> list[ExportJob]:
        rows = jobs
        if request.created_before is not None:
            cut = parse_timestamp(request.created_before)
            rows = [j for j in rows if (j.created_at <= cut if inclusive else j.created_at < cut)]
        keyed = sorted(rows, key=lambda j: (-j.created_at.timestamp(), rng.random()))
        return keyed[: request.limit]

    delivered: list[str] = []
    scan = KeysetScan()
    steps = 0
    while not scan.done:
        steps += 1
        assert steps < 1000, "the walk does not end"
        request = scan.next_request(page_size)
        for job in scan.absorb(list_call(request), request):
            delivered.append(job.id)
            scan.deliver(job)
            if len(delivered) % resume_every == 0:
                # Hand over to a fresh walk (another process) through the encoded cursor.
                cursor = PageCursor.decode(scan.cursor_after(job).encode())
                scan = KeysetScan(cursor)
                break
    assert sorted(delivered) == sorted(j.id for j in jobs)
