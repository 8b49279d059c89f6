"""PeakaClient against the real Peaka simulator over loopback HTTP: every operation."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.metrics import REGISTRY
from bot.peaka import (
    AuthError,
    BadRequestError,
    Compression,
    ExportFormat,
    ExportJob,
    ExportRequest,
    ForbiddenError,
    InvalidKeyError,
    MalformedResponseError,
    NotFoundError,
    PageCursor,
    PeakaClient,
    PeakaConnectionError,
    PeakaError,
    PeakaTimeoutError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    Status,
)
from bot.simulator import FaultConfig, ManualClock, Simulator, SimulatorServer, SimUser

ANALYTICS = "mtKDhe1U"
BILLING = "Xr7pQ2Lm"
CHARGES_VIEW = "709922802836177297"
CATALOG = "367189801096446904"
START = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=1.0, total_timeout=10.0)


@dataclass
class World:
    sim: Simulator
    clock: ManualClock
    base_url: str
    ana: SimUser
    ben: SimUser
    ana_key: str  # partner key
    ben_key: str  # project key for analytics only

    def client(self, key: str | None = None, **options: object) -> PeakaClient:
        options.setdefault("retry", FAST)
        return PeakaClient(key or self.ana_key, self.base_url, **options)  # type: ignore[arg-type]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = ManualClock(start=START)
    sim = Simulator(clock=clock, seed=1)
    ana = sim.add_user("ana@example.com")
    ben = sim.add_user("ben@example.com")
    sim.add_project(ANALYTICS)
    sim.add_project(BILLING)
    ana_key = sim.add_key(ana)
    ben_key = sim.add_key(ben, project_id=ANALYTICS)
    async with SimulatorServer(sim, host="127.0.0.1", port=0) as server:
        yield World(sim, clock, server.base_url, ana, ben, ana_key, ben_key)


def make_job_in(world: World, status: Status, *, project: str = ANALYTICS, ago: float = 0) -> str:
    """A job that is in ``status`` now (the clock does not move)."""
    now = world.clock.now()
    created = now - timedelta(seconds=ago)
    kwargs: dict[str, object] = {"rows": 3, "created_at": created}
    if status is Status.PENDING:
        kwargs |= {"pending_seconds": ago + 60}
    elif status is Status.RUNNING:
        kwargs |= {"pending_seconds": 0, "run_seconds": ago + 60}
    elif status is Status.SUCCEEDED:
        kwargs |= {
            "pending_seconds": 0,
            "run_seconds": 0,
            "created_at": now - timedelta(seconds=ago + 1),
        }
    elif status is Status.EXPIRED:
        kwargs |= {
            "pending_seconds": 0,
            "run_seconds": 0,
            "created_at": created - timedelta(days=2),
        }
    elif status is Status.FAILED:
        kwargs |= {"pending_seconds": 0, "run_seconds": 0, "outcome": "FAILED"}
    job = world.sim.create_job(project, world.ana, **kwargs)  # type: ignore[arg-type]
    if status is Status.CANCELLED:
        job.pending_seconds = ago + 60
        world.sim.cancel_job(job.id)
    assert world.sim.job_status(job.id) == status.value
    return job.id


def counted(operation: str, outcome: str) -> float:
    labels = {"operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("exports_bot_peaka_requests_total", labels) or 0.0


# --- single-job operations -----------------------------------------------------------------


async def test_read_export_follows_the_job_and_gives_files_to_the_owner(world: World) -> None:
    job = world.sim.create_job(
        ANALYTICS, world.ana, source=CHARGES_VIEW, rows=993, pending_seconds=2, run_seconds=5
    )
    async with world.client() as ana, world.client(world.ben_key) as ben:
        assert (await ana.read_export(ANALYTICS, job.id)).status is Status.PENDING
        world.clock.advance(3)
        assert (await ana.read_export(ANALYTICS, job.id)).status is Status.RUNNING
        world.clock.advance(5)
        done = await ana.read_export(ANALYTICS, job.id)
        seen_by_ben = await ben.read_export(ANALYTICS, job.id)
        world.clock.advance(25 * 3600)
        expired = await ana.read_export(ANALYTICS, job.id)
    assert done.status is Status.SUCCEEDED and done.downloadable
    assert done.row_count == 993 and done.query_id == CHARGES_VIEW
    assert done.files and done.files[0].url.startswith(world.base_url.rsplit("/api/v1", 1)[0])
    assert done.expires_at == world.clock.now() - timedelta(hours=25) + timedelta(minutes=15)
    assert done.user_name == "ana@example.com"
    assert seen_by_ben.status is Status.SUCCEEDED
    assert not seen_by_ben.downloadable and seen_by_ben.files == ()
    assert expired.status is Status.EXPIRED and expired.files == ()
    assert world.sim.counters["readExport"] == 5


async def test_read_export_of_an_unknown_job_is_not_found(world: World) -> None:
    async with world.client() as client:
        with pytest.raises(NotFoundError, match="Export job 'nope' not found") as caught:
            await client.read_export(ANALYTICS, "nope")
    assert caught.value.status_code == 404
    assert world.sim.counters["readExport"] == 1  # a 404 is not retried


async def test_cancel_export_is_idempotent(world: World) -> None:
    running = make_job_in(world, Status.RUNNING, ago=5)
    finished = make_job_in(world, Status.SUCCEEDED, ago=5)
    async with world.client() as client:
        await client.cancel_export(ANALYTICS, running)
        assert world.sim.job_status(running) == "CANCELLED"
        await client.cancel_export(ANALYTICS, running)  # again: still fine
        await client.cancel_export(ANALYTICS, finished)  # a no-op on a finished job
        assert world.sim.job_status(finished) == "SUCCEEDED"
        assert (await client.read_export(ANALYTICS, running)).status is Status.CANCELLED
        with pytest.raises(NotFoundError):
            await client.cancel_export(ANALYTICS, "no-such-job")
    assert world.sim.counters["cancelExport"] == 4


async def test_export_query_and_export_table_start_jobs(world: World) -> None:
    ok_before = counted("exportQuery", "ok")
    async with world.client() as client:
        by_query = await client.export_query(
            ANALYTICS,
            CHARGES_VIEW,
            ExportRequest(format=ExportFormat.JSONL, compression=Compression.GZIP),
        )
        by_table = await client.export_table(
            ANALYTICS, CATALOG, "payment", "charges", ExportRequest(columns=("id", "amount"))
        )
        listed = await client.list_exports(ANALYTICS)
    assert by_query.status is Status.PENDING and by_table.status is Status.PENDING
    query_job = world.sim.get_job(by_query.id)
    assert (query_job.format, query_job.compression) == ("JSONL", "GZIP")
    assert query_job.client_source == "peaka-exports-bot"  # from X-Trino-Source
    assert query_job.api_key_prefix == world.ana_key[:8]
    table_job = world.sim.get_job(by_table.id)
    assert [c.name for c in table_job.columns] == ["id", "amount"]
    assert table_job.source.table_name == "charges"
    assert {j.id for j in listed} == {by_query.id, by_table.id}
    assert world.sim.counters["exportQuery"] == 1 and world.sim.counters["exportTable"] == 1
    assert counted("exportQuery", "ok") == ok_before + 1


async def test_export_rejections_carry_the_server_message(world: World) -> None:
    async with world.client() as client:
        with pytest.raises(BadRequestError, match="Unknown column 'nope'"):
            await client.export_table(
                ANALYTICS, CATALOG, "payment", "charges", ExportRequest(columns=("nope",))
            )
        with pytest.raises(NotFoundError, match="Query '42' not found"):
            await client.export_query(ANALYTICS, "42")
    assert world.sim.jobs == {}


# --- auth ------------------------------------------------------------------------------------


async def test_auth_errors(world: World) -> None:
    async with world.client("wrong-key-000000") as stranger:
        with pytest.raises(InvalidKeyError, match="Invalid API key") as invalid:
            await stranger.list_exports(ANALYTICS)
    async with world.client(world.ben_key) as ben:
        with pytest.raises(ForbiddenError, match="limited to project 'mtKDhe1U'") as forbidden:
            await ben.list_page(BILLING)
        assert await ben.list_exports(ANALYTICS) == []
    async with world.client() as ana:
        with pytest.raises(NotFoundError, match="Project 'elsewhere' not found"):
            await ana.list_exports("elsewhere")
    assert isinstance(invalid.value, AuthError) and invalid.value.status_code == 401
    assert isinstance(forbidden.value, AuthError) and forbidden.value.status_code == 403
    assert "project key for another project" in str(forbidden.value)


async def test_a_project_id_with_a_slash_stays_one_path_segment(world: World) -> None:
    world.sim.add_project("team/one")
    job = make_job_in(world, Status.FAILED, project="team/one")
    async with world.client() as client:
        assert [j.id for j in await client.list_exports("team/one")] == [job]
        assert (await client.read_export("team/one", job)).status is Status.FAILED
        with pytest.raises(NotFoundError):
            await client.list_exports("team")


@pytest.mark.parametrize("suffix", ["", "/"])
async def test_base_url_with_or_without_trailing_slash(world: World, suffix: str) -> None:
    job = make_job_in(world, Status.RUNNING)
    async with PeakaClient(world.ana_key, world.base_url + suffix) as client:
        assert (await client.read_export(ANALYTICS, job)).id == job


# --- listing ---------------------------------------------------------------------------------


def mixed_jobs(world: World, per_status: int) -> dict[Status, set[str]]:
    made: dict[Status, set[str]] = {s: set() for s in Status}
    rng = random.Random(4)
    for i in range(per_status * len(made)):
        status = list(made)[i % len(made)]
        made[status].add(make_job_in(world, status, ago=rng.randrange(0, 3000)))
    return made


async def test_list_exports_is_one_call_with_exact_statuses(world: World) -> None:
    made = mixed_jobs(world, per_status=4)
    async with world.client() as client:
        succeeded = await client.list_exports(ANALYTICS, statuses=[Status.SUCCEEDED])
        expired = await client.list_exports(ANALYTICS, statuses=["EXPIRED"])
        everything = await client.list_exports(ANALYTICS, limit=200)
        first_five = await client.list_exports(ANALYTICS, limit=5)
        older = await client.list_exports(
            ANALYTICS, created_before=first_five[-1].created_at, limit=200
        )
    assert world.sim.counters["listExports"] == 5
    assert {j.id for j in succeeded} == made[Status.SUCCEEDED]  # EXPIRED rows dropped
    assert {j.id for j in expired} == made[Status.EXPIRED]
    assert len(everything) == 24 and len(first_five) == 5
    assert {j.id for j in first_five + older} == {j.id for j in everything}


@pytest.mark.parametrize(
    "wanted",
    [
        {Status.EXPIRED},
        {Status.SUCCEEDED},
        {Status.SUCCEEDED, Status.EXPIRED},
        {Status.FAILED, Status.CANCELLED},
        {Status.PENDING, Status.RUNNING},
        None,
    ],
    ids=["expired", "succeeded", "succ+exp", "unsuccessful", "active", "all"],
)
async def test_list_page_returns_exactly_the_statuses_asked(
    world: World, wanted: set[Status] | None
) -> None:
    made = mixed_jobs(world, per_status=9)
    expected = set().union(*(ids for s, ids in made.items() if wanted is None or s in wanted))
    shown: list[ExportJob] = []
    cursor: PageCursor | None = None
    async with world.client() as client:
        for _ in range(60):
            page = await client.list_page(ANALYTICS, statuses=wanted, limit=7, cursor=cursor)
            assert len(page.jobs) <= 7
            shown += page.jobs
            if page.next_cursor is None:
                break
            assert len(page.jobs) == 7
            cursor = PageCursor.decode(page.next_cursor.encode())
    ids = [j.id for j in shown]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    assert all(wanted is None or j.status in wanted for j in shown)


def tied_jobs(world: World, count: int) -> list[str]:
    """``count`` jobs whose createdAt values come in groups of 1-5 equal instants."""
    rng = random.Random(9)
    ids: list[str] = []
    at = world.clock.now()
    while len(ids) < count:
        at -= timedelta(microseconds=rng.choice([1, 2, 250_000]))
        for _ in range(min(rng.randint(1, 5), count - len(ids))):
            outcome = rng.choice(["SUCCEEDED", "FAILED"])
            job = world.sim.create_job(
                ANALYTICS,
                world.ana,
                source=CHARGES_VIEW,
                rows=0,
                created_at=at,
                pending_seconds=rng.choice([0, 10**6]),
                run_seconds=0,
                outcome=outcome,
            )
            ids.append(job.id)
    return ids


@pytest.mark.parametrize("inclusive", [False, True], ids=["strict", "inclusive"])
async def test_iterating_1050_jobs_with_ties_loses_and_repeats_nothing(
    world: World, inclusive: bool
) -> None:
    world.sim.cursor_inclusive = inclusive
    ids = tied_jobs(world, 1_050)
    failed = {i for i in ids if world.sim.job_status(i) == "FAILED"}
    async with world.client() as client:
        everything = [j.id async for j in client.iter_exports(ANALYTICS, page_size=50)]
        only_failed = [j.id async for j in client.iter_exports(ANALYTICS, statuses=[Status.FAILED])]
        pages: list[str] = []
        cursor: PageCursor | None = None
        while True:
            page = await client.list_page(ANALYTICS, limit=100, cursor=cursor)
            pages += [j.id for j in page.jobs]
            if page.next_cursor is None:
                break
            cursor = PageCursor.decode(page.next_cursor.encode())
    assert len(everything) == len(set(everything)) == 1_050
    assert set(everything) == set(ids)
    assert sorted(only_failed) == sorted(failed)
    assert len(pages) == len(set(pages)) == 1_050


# --- faults ----------------------------------------------------------------------------------


async def test_server_errors_are_retried_for_reads_but_never_for_exports(world: World) -> None:
    world.sim.faults = FaultConfig(error_rate=1.0, error_statuses=(503,))
    before = counted("listExports", "server_error")
    async with world.client() as client:
        with pytest.raises(ServerError, match="503"):
            await client.list_exports(ANALYTICS)
        with pytest.raises(ServerError):
            await client.export_query(ANALYTICS, CHARGES_VIEW)
        with pytest.raises(ServerError):
            await client.export_table(ANALYTICS, CATALOG, "payment", "charges")
    assert world.sim.counters["listExports"] == FAST.max_attempts
    assert counted("listExports", "server_error") == before + FAST.max_attempts
    assert world.sim.counters["exportQuery"] == 1 and world.sim.counters["exportTable"] == 1
    assert world.sim.jobs == {}


async def test_rate_limits_are_retried_then_reported(world: World) -> None:
    world.sim.faults = FaultConfig(rate_limit_rate=1.0, retry_after=0.05)
    async with world.client() as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.read_export(ANALYTICS, "x")
    assert caught.value.retry_after == pytest.approx(0.05)
    assert world.sim.counters["readExport"] == FAST.max_attempts


async def test_malformed_dropped_and_hanging_answers(world: World) -> None:
    job = make_job_in(world, Status.RUNNING)
    async with world.client(timeout=0.2) as client:
        world.sim.faults = FaultConfig(malformed_rate=1.0)
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await client.read_export(ANALYTICS, job)
        assert world.sim.counters["readExport"] == 1
        world.sim.faults = FaultConfig(drop_rate=1.0)
        with pytest.raises(PeakaConnectionError):
            await client.read_export(ANALYTICS, job)
        assert world.sim.counters["readExport"] == 1 + FAST.max_attempts
        with pytest.raises(PeakaConnectionError):
            await client.export_query(ANALYTICS, CHARGES_VIEW)
        assert world.sim.counters["exportQuery"] == 1
        world.sim.faults = FaultConfig(timeout_rate=1.0, timeout_seconds=0.5)
        with pytest.raises(PeakaTimeoutError):
            await client.cancel_export(ANALYTICS, job)
        assert world.sim.counters["cancelExport"] == FAST.max_attempts
        world.sim.faults = FaultConfig()
        await client.cancel_export(ANALYTICS, job)
    assert world.sim.job_status(job) == "CANCELLED"


async def test_the_key_stays_out_of_logs_errors_and_reprs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (None, "httpx", "httpcore", "bot.peaka"):
        caplog.set_level(logging.DEBUG, logger=name)
    job = make_job_in(world, Status.SUCCEEDED)
    errors: list[PeakaError] = []
    async with world.client() as client:
        await client.read_export(ANALYTICS, job)
        await client.list_page(ANALYTICS, statuses=[Status.EXPIRED])
        world.sim.faults = FaultConfig(error_rate=0.5, drop_rate=0.3, retry_after=0)
        for _ in range(6):
            try:
                await client.read_export(ANALYTICS, job)
            except PeakaError as exc:
                errors.append(exc)
        client_repr = repr(client)
    world.sim.faults = FaultConfig()
    async with world.client("wrong" + world.ana_key[5:]) as wrong:
        try:
            await wrong.list_exports(ANALYTICS)
        except InvalidKeyError as exc:
            errors.append(exc)
    assert errors and caplog.records
    assert world.ana_key[:4] + "…" in client_repr
    for secret in (world.ana_key, "wrong" + world.ana_key[5:]):
        assert secret not in client_repr
        assert secret not in caplog.text
        assert all(secret not in str(e) and secret not in repr(e) for e in errors)
