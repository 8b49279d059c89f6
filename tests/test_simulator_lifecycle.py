"""Job lifecycle on the simulated clock: progress, cancel, expiry, failures, seeded data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.simulator import (
    ROW_LIMIT_ERROR,
    TRINO_ERRORS,
    Column,
    ManualClock,
    ScaledClock,
    SimSource,
    Simulator,
)
from tests.simulator_support import ANALYTICS, CHARGES_VIEW

pytest_plugins = ["tests.simulator_support"]

LIST = f"/data/projects/{ANALYTICS}/exports"
BIG_QUERY = "900000000000000001"


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    sim = Simulator.seeded(clock=clock, seed=7)
    sim.api_failure_rate = 0.0
    # 1.5 million rows of one small column: over the export limit, yet cheap to render.
    sim.add_source(
        ANALYTICS, SimSource.query(BIG_QUERY, "big_ids", (Column("id", "row_id"),), 1_500_000)
    )
    return sim


async def read(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    response = await client.get(f"{LIST}/{job_id}")
    assert response.status_code == 200
    return dict(response.json())


async def test_status_follows_the_clock(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    job = sim.create_job(
        ANALYTICS,
        "ana@example.com",
        source=CHARGES_VIEW,
        rows=50,
        pending_seconds=2,
        run_seconds=10,
    )
    assert (await read(ana, job.id))["status"] == "PENDING"
    clock.advance(2)
    running = await read(ana, job.id)
    assert running["status"] == "RUNNING"
    assert "rowCount" not in running and "bytes" not in running and "durationMs" not in running
    clock.advance(9.999)
    assert (await read(ana, job.id))["status"] == "RUNNING"
    clock.advance(0.001)
    done = await read(ana, job.id)
    assert done["status"] == "SUCCEEDED"
    assert (done["rowCount"], done["durationMs"]) == (50, 10_000)
    assert isinstance(done["bytes"], int) and done["bytes"] > 0
    assert sim.job_status(job.id) == "SUCCEEDED"


async def test_api_job_runs_to_success(clock: ManualClock, ana: httpx.AsyncClient) -> None:
    path = f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports"
    created = (await ana.post(path, json={"format": "CSV", "limit": 100})).json()
    assert (await read(ana, created["id"]))["status"] == "PENDING"
    clock.advance(3600)
    done = await read(ana, created["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["rowCount"] == 100
    assert done["downloadable"] is True


async def test_api_failure_rate(sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient) -> None:
    sim.api_failure_rate = 1.0
    path = f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports"
    created = (await ana.post(path, json={})).json()
    clock.advance(3600)
    failed = await read(ana, created["id"])
    assert failed["status"] == "FAILED"
    assert failed["error"] in {
        e.replace("{source}", 'peaka.query."charges_view"') for e in TRINO_ERRORS
    }
    assert "rowCount" not in failed and failed["downloadable"] is False


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"queries/{BIG_QUERY}/exports", {}),  # 1.5M rows, no limit
        ("catalogs/367189801096446904/schemas/web/tables/pageviews/exports", {"format": "JSONL"}),
    ],
)
async def test_over_a_million_rows_fails(
    clock: ManualClock, ana: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    created = (await ana.post(f"/data/projects/{ANALYTICS}/{path}", json=body)).json()
    clock.advance(3600)
    failed = await read(ana, created["id"])
    assert failed["status"] == "FAILED"
    assert failed["error"] == ROW_LIMIT_ERROR == "Query exceeded the 1,000,000 row export limit"


async def test_limit_is_clamped_to_a_million(clock: ManualClock, ana: httpx.AsyncClient) -> None:
    path = f"/data/projects/{ANALYTICS}/queries/{BIG_QUERY}/exports"
    over = (await ana.post(path, json={"limit": 5_000_000})).json()
    under = (await ana.post(path, json={"limit": -3})).json()
    clock.advance(3600)
    assert (await read(ana, over["id"]))["rowCount"] == 1_000_000
    assert (await read(ana, under["id"]))["rowCount"] == 1


async def test_cancel(sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient) -> None:
    pending = sim.create_job(ANALYTICS, "ana@example.com", pending_seconds=5, run_seconds=5)
    running = sim.create_job(ANALYTICS, "ana@example.com", pending_seconds=0, run_seconds=60)
    finished = sim.create_job(ANALYTICS, "ana@example.com", pending_seconds=0, run_seconds=1)
    clock.advance(2)
    for job in (pending, running, finished):
        assert (await ana.delete(f"{LIST}/{job.id}")).status_code == 204
        assert (await ana.delete(f"{LIST}/{job.id}")).status_code == 204  # idempotent
    clock.advance(3600)
    assert (await read(ana, pending.id))["status"] == "CANCELLED"
    assert (await read(ana, running.id))["status"] == "CANCELLED"
    assert (await read(ana, finished.id))["status"] == "SUCCEEDED"  # a no-op once finished
    failed = next(j for j in sim.jobs.values() if j.error == ROW_LIMIT_ERROR)
    assert (
        await ana.delete(f"/data/projects/{failed.project_id}/exports/{failed.id}")
    ).status_code == 204
    assert sim.job_status(failed.id) == "FAILED"
    assert (await ana.delete(f"{LIST}/00000000-0000-4000-8000-000000000000")).status_code == 404


async def test_success_expires_after_the_artifact_lifetime(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    job = sim.create_job(ANALYTICS, "ana@example.com", rows=20, pending_seconds=1, run_seconds=1)
    clock.advance(2)
    done = await read(ana, job.id)
    assert done["status"] == "SUCCEEDED" and done["files"]
    clock.advance(24 * 3600 - 0.000001)
    assert (await read(ana, job.id))["status"] == "SUCCEEDED"
    clock.advance(0.000001)
    expired = await read(ana, job.id)
    assert expired["status"] == "EXPIRED"
    assert expired["downloadable"] is False
    assert "files" not in expired and "expiresAt" not in expired
    assert (expired["rowCount"], expired["bytes"]) == (done["rowCount"], done["bytes"])


async def test_artifact_lifetime_is_configurable(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    sim.artifact_lifetime_seconds = 60
    job = sim.create_job(ANALYTICS, "ana@example.com", rows=20, pending_seconds=0, run_seconds=1)
    clock.advance(60)
    assert (await read(ana, job.id))["status"] == "SUCCEEDED"
    clock.advance(1)
    assert (await read(ana, job.id))["status"] == "EXPIRED"


def test_create_job_over_the_limit_fails_with_the_limit_error(
    sim: Simulator, clock: ManualClock
) -> None:
    job = sim.create_job(ANALYTICS, "ben@example.com", rows=1_000_001, run_seconds=1)
    clock.advance(10)
    assert sim.job_status(job.id) == "FAILED"
    assert job.error == ROW_LIMIT_ERROR


def test_create_job_rejects_bad_arguments(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="outcome"):
        sim.create_job(ANALYTICS, "ana@example.com", outcome="CANCELLED")
    with pytest.raises(ValueError, match="project"):
        sim.create_job("nope", "ana@example.com")
    with pytest.raises(ValueError, match="user"):
        sim.create_job(ANALYTICS, "nobody@example.com")
    with pytest.raises(ValueError, match="source"):
        sim.create_job(ANALYTICS, "ana@example.com", source="no_such_thing")


def test_empty_simulator_interface() -> None:
    clock = ManualClock(start=datetime(2026, 6, 10, 12, 0, tzinfo=UTC))
    sim = Simulator(clock=clock, seed=1)
    user = sim.add_user("ana@example.com")
    project = sim.add_project("mtKDhe1U")
    assert sim.add_project("mtKDhe1U") is project  # adding it again is harmless
    key = sim.add_key(user, project_id=None)
    scoped = sim.add_key(user, project_id="mtKDhe1U")
    assert sim.keys[key].project_id is None and sim.keys[scoped].project_id == "mtKDhe1U"
    assert key not in repr(sim.keys[key])
    job = sim.create_job("mtKDhe1U", user, rows=993, pending_seconds=1.0, run_seconds=5.0)
    assert (job.id, job.project_id, job.created_at) == (job.id, "mtKDhe1U", clock.now())
    assert job.api_key_prefix == key[:8]
    assert sim.job_status(job.id) == "PENDING"
    clock.advance(1)
    assert sim.job_status(job.id) == "RUNNING"
    clock.advance(5)
    assert sim.job_status(job.id) == "SUCCEEDED"
    assert sim.cancel_job(job.id) is False


def test_manual_clock_only_moves_forward() -> None:
    clock = ManualClock()
    assert clock.now() == datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(start=datetime(2026, 1, 1))


def test_scaled_clock_runs_faster_than_real_time() -> None:
    # Timing is the behaviour here: a lower bound only.
    start = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    clock = ScaledClock(speed=60, start=start)
    time.sleep(0.05)
    assert clock.now() - start >= timedelta(seconds=3)
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(speed=0)


def test_seeded_data(sim: Simulator, clock: ManualClock) -> None:
    statuses = {sim.job_status(j.id) for j in sim.jobs.values()}
    assert statuses == {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"}
    errors = {j.error for j in sim.jobs.values() if sim.job_status(j.id) == "FAILED"}
    assert ROW_LIMIT_ERROR in errors and len(errors) >= 3
    assert sim.seed_projects["analytics"] == ANALYTICS and len(sim.seed_projects) == 3
    assert {"ana@example.com", "ben@example.com", "cy@example.com"} <= set(sim.seed_users)
    assert sim.keys[sim.seed_keys["ana-partner"]].project_id is None
    assert sim.keys[sim.seed_keys["ben-analytics"]].project_id == ANALYTICS
    running = [j for j in sim.jobs.values() if sim.job_status(j.id) == "RUNNING"]
    assert any(j.finished_at - clock.now() >= timedelta(minutes=5) for j in running)
    clock.advance(15 * 60)
    assert all(sim.job_status(j.id) == "SUCCEEDED" for j in running)


def test_seeding_is_deterministic() -> None:
    a = Simulator.seeded(clock=ManualClock(), seed=3)
    b = Simulator.seeded(clock=ManualClock(), seed=3)
    c = Simulator.seeded(clock=ManualClock(), seed=4)
    summary = [(j.id, j.created_at, j.outcome, j.rows) for j in a.jobs.values()]
    assert summary == [(j.id, j.created_at, j.outcome, j.rows) for j in b.jobs.values()]
    assert summary != [(j.id, j.created_at, j.outcome, j.rows) for j in c.jobs.values()]
    assert a.seed_keys == c.seed_keys  # well-known keys do not depend on the seed
