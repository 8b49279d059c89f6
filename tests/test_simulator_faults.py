"""Fault injection and request counters, each knob observed over real HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bot.simulator import FaultConfig, ManualClock, Simulator, SimulatorServer
from tests.simulator_support import ANALYTICS, CHARGES_VIEW, api, plain

pytest_plugins = ["tests.simulator_support"]

LIST = f"/data/projects/{ANALYTICS}/exports"
QUERY_EXPORT = f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports"


def owned_success(sim: Simulator) -> str:
    ana = sim.seed_users["ana@example.com"]
    return next(
        j.id
        for j in sim.jobs.values()
        if j.project_id == ANALYTICS and j.user == ana and sim.job_status(j.id) == "SUCCEEDED"
    )


async def test_server_errors(sim: Simulator, ana: httpx.AsyncClient) -> None:
    sim.faults = FaultConfig(error_rate=1.0, error_statuses=(500,))
    internal = await ana.get(LIST)
    assert internal.status_code == 500 and "simulated" in internal.json()["message"]
    sim.faults.error_statuses = (503,)  # mutable at runtime
    unavailable = await ana.get(LIST)
    assert unavailable.status_code == 503
    assert unavailable.headers["content-type"].startswith("text/html")  # a gateway's page
    sim.faults.error_rate = 0.0
    assert (await ana.get(LIST)).status_code == 200


async def test_rate_limit_sends_retry_after(sim: Simulator, ana: httpx.AsyncClient) -> None:
    sim.faults.rate_limit_rate = 1.0
    sim.faults.retry_after = 2
    limited = await ana.get(LIST)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert "retry after 2" in limited.json()["message"]
    sim.faults.retry_after = None
    assert "Retry-After" not in (await ana.get(LIST)).headers


async def test_latency_delays_responses(sim: Simulator, ana: httpx.AsyncClient) -> None:
    # Timing is the behaviour here: a lower bound only.
    sim.faults.latency_seconds = 0.3
    started = time.monotonic()
    response = await ana.get(LIST)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_dropped_connections(sim: Simulator, ana: httpx.AsyncClient) -> None:
    sim.faults.drop_rate = 1.0
    with pytest.raises(httpx.RemoteProtocolError):
        await ana.get(LIST)
    assert sim.counters["listExports"] == 1  # it reached the handler and was counted


async def test_timeouts_hang_until_the_client_gives_up(
    sim: Simulator, server: SimulatorServer
) -> None:
    sim.faults.timeout_rate = 1.0
    sim.faults.timeout_seconds = 30  # closing the server releases the hang
    async with plain(base_url=server.base_url, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(
                LIST, headers={"Authorization": f"Bearer {sim.seed_keys['ana-partner']}"}
            )


async def test_malformed_bodies(sim: Simulator, ana: httpx.AsyncClient) -> None:
    sim.faults.malformed_rate = 1.0
    listed = await ana.get(LIST)
    assert listed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(listed.content)
    before = len(sim.jobs)
    created = await ana.post(QUERY_EXPORT, json={})
    assert created.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(created.content)
    assert len(sim.jobs) == before + 1  # documented: the real handler ran, its body was cut


async def test_operations_restrict_faults(sim: Simulator, ana: httpx.AsyncClient) -> None:
    sim.faults = FaultConfig(error_rate=1.0, error_statuses=(500,), operations={"readExport"})
    assert (await ana.get(LIST)).status_code == 200
    assert (await ana.get(f"{LIST}/{owned_success(sim)}")).status_code == 500
    assert (await ana.post(QUERY_EXPORT, json={})).status_code == 202


async def test_downloads_only_faulted_when_asked(sim: Simulator, ana: httpx.AsyncClient) -> None:
    url = (await ana.get(f"{LIST}/{owned_success(sim)}")).json()["files"][0]["url"]
    sim.faults = FaultConfig(error_rate=1.0, error_statuses=(500,))
    async with plain() as downloader:
        assert (await downloader.get(url)).status_code == 200
        sim.faults.include_downloads = True
        assert (await downloader.get(url)).status_code == 500
        sim.faults = FaultConfig(malformed_rate=1.0, operations={"download"})
        with pytest.raises(httpx.RemoteProtocolError):  # cut short: fewer bytes than promised
            await downloader.get(url)


async def test_faults_are_deterministic_for_a_seed(clock: ManualClock) -> None:
    async def statuses(seed: int) -> list[int]:
        sim = Simulator.seeded(clock=clock, seed=seed)
        sim.faults = FaultConfig(error_rate=0.5, error_statuses=(500,))
        async with (
            SimulatorServer(sim) as server,
            api(server.base_url, sim.seed_keys["ana-partner"]) as client,
        ):
            return [(await client.get(LIST, params={"limit": 1})).status_code for _ in range(16)]

    first = await statuses(11)
    assert first == await statuses(11)
    assert set(first) == {200, 500}


def test_fault_config_check() -> None:
    FaultConfig(error_rate=0.5, drop_rate=0.1).check()
    with pytest.raises(ValueError, match="error_rate"):
        FaultConfig(error_rate=1.5).check()
    with pytest.raises(ValueError, match="latency_seconds"):
        FaultConfig(latency_seconds=-1).check()


async def test_counters(sim: Simulator, server: SimulatorServer, ana: httpx.AsyncClient) -> None:
    job_id = owned_success(sim)
    url = (await ana.get(f"{LIST}/{job_id}")).json()["files"][0]["url"]
    await ana.get(LIST)
    await ana.get(LIST, params={"limit": "abc"})  # a 400 still counts
    await ana.delete(f"{LIST}/{job_id}")
    await ana.post(QUERY_EXPORT, json={})
    await ana.post(f"/data/projects/{ANALYTICS}/catalogs/1/schemas/s/tables/t/exports", json={})
    async with plain() as downloader:
        await downloader.get(url)
    async with api(server.base_url, None) as anonymous:
        await anonymous.get(LIST)  # a 401 still counts
    await ana.get("/data/projects/x/unknown")  # no operation: not counted
    await ana.put(LIST)  # wrong method: not counted
    assert sim.counters == {
        "listExports": 3,
        "readExport": 1,
        "cancelExport": 1,
        "exportQuery": 1,
        "exportTable": 1,
        "download": 1,
    }
    sim.reset_counters()
    assert sum(sim.counters.values()) == 0
