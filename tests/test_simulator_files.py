"""Presigned downloads: real rows behind the links, honest sizes, and S3-like refusals."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.peaka import format_timestamp, parse_timestamp
from bot.simulator import ManualClock, Simulator, SimulatorServer
from tests.simulator_support import ANALYTICS, CHARGES_VIEW, TABLE_PATH, api, plain

pytest_plugins = ["tests.simulator_support"]

LIST = f"/data/projects/{ANALYTICS}/exports"
QUERY_EXPORT = f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports"
TABLE_EXPORT = f"/data/projects/{ANALYTICS}/{TABLE_PATH}/exports"


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    sim = Simulator(clock=clock, seed=5)
    sim.api_failure_rate = 0.0
    sim.add_project(ANALYTICS)
    ana = sim.add_user("ana@example.com")
    ben = sim.add_user("ben@example.com")
    sim.add_key(ana, value="anaKey01-partner-key-for-tests")
    sim.add_key(ben, project_id=ANALYTICS, value="benKey01-project-key-for-tests")
    return sim


@pytest.fixture
async def ana(server: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with api(server.base_url, "anaKey01-partner-key-for-tests") as client:
        yield client


async def finished(
    client: httpx.AsyncClient, clock: ManualClock, path: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Submit an export, let an hour pass, and read it back."""
    response = await client.post(path, json=body)
    assert response.status_code == 202, response.text
    clock.advance(3600)
    job = (await client.get(f"{LIST}/{response.json()['id']}")).json()
    assert job["status"] == "SUCCEEDED"
    return dict(job)


async def download(url: str) -> bytes:
    async with plain() as downloader:  # presigned: no Authorization header
        response = await downloader.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def test_csv_download_has_header_and_every_row(
    clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    job = await finished(ana, clock, TABLE_EXPORT, {"format": "CSV", "limit": 1234})
    [file] = job["files"]
    assert file["name"] == "table_payment_charges.csv"
    body = await download(file["url"])
    assert len(body) == file["bytes"] == job["bytes"]
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["_id", "_version", "id", "created", "amount", "currency", "status",
                       "customer_email", "description"]  # fmt: skip
    assert len(rows) - 1 == job["rowCount"] == 1234
    assert [int(r[2]) for r in rows[1:]] == list(range(1, 1235))
    assert any("," in r[8] for r in rows[1:])  # quoted cells survive the round trip


async def test_jsonl_gzip_download(clock: ManualClock, ana: httpx.AsyncClient) -> None:
    body = {"format": "JSONL", "compression": "GZIP", "columns": ["id", "amount"]}
    job = await finished(ana, clock, QUERY_EXPORT, body)
    [file] = job["files"]
    assert file["name"].endswith(".jsonl.gz")
    packed = await download(file["url"])
    assert len(packed) == file["bytes"] == job["bytes"]
    lines = gzip.decompress(packed).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == job["rowCount"] == 993
    assert all(set(r) == {"id", "amount"} for r in records)


async def test_csv_gzip_and_csv_options(clock: ManualClock, ana: httpx.AsyncClient) -> None:
    options = {"delimiter": ";", "includeHeader": False, "nullValue": "NULL"}
    body = {"compression": "GZIP", "csvOptions": options, "includeSystemColumns": False}
    job = await finished(ana, clock, TABLE_EXPORT, body)
    [file] = job["files"]
    assert file["name"] == "table_payment_charges.csv.gz"
    text = gzip.decompress(await download(file["url"])).decode()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == job["rowCount"] == 25_000
    assert rows[0][0] == "1" and len(rows[0]) == 7  # no header, no _id/_version
    assert any(r[6] == "NULL" for r in rows)


async def test_large_results_split_into_parts(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    sim.rows_per_file = 400
    job = await finished(ana, clock, QUERY_EXPORT, {})
    names = [f["name"] for f in job["files"]]
    assert names == [f"query_{CHARGES_VIEW}_charges_view_part{i:03d}.csv" for i in (1, 2, 3)]
    total_rows = 0
    for file in job["files"]:
        body = await download(file["url"])
        assert len(body) == file["bytes"]
        rows = list(csv.reader(io.StringIO(body.decode())))
        assert rows[0][0] == "id"
        total_rows += len(rows) - 1
    assert total_rows == job["rowCount"] == 993
    assert sum(f["bytes"] for f in job["files"]) == job["bytes"]


async def test_each_read_mints_fresh_links(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    job = await finished(ana, clock, QUERY_EXPORT, {})
    assert parse_timestamp(job["expiresAt"]) == clock.now() + timedelta(minutes=15)
    clock.advance(60)
    again = (await ana.get(f"{LIST}/{job['id']}")).json()
    assert again["expiresAt"] == format_timestamp(clock.now() + timedelta(minutes=15))
    first, second = (urlsplit(j["files"][0]["url"]) for j in (job, again))
    assert first.path == second.path
    assert parse_qs(first.query)["X-Amz-Signature"] != parse_qs(second.query)["X-Amz-Signature"]
    assert await download(job["files"][0]["url"]) == await download(again["files"][0]["url"])
    sim.link_lifetime_seconds = 30
    short = (await ana.get(f"{LIST}/{job['id']}")).json()
    assert parse_timestamp(short["expiresAt"]) == clock.now() + timedelta(seconds=30)


async def test_links_expire_on_the_simulator_clock(
    clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    job = await finished(ana, clock, QUERY_EXPORT, {})
    url = job["files"][0]["url"]
    clock.advance(15 * 60 - 0.001)
    await download(url)
    clock.advance(0.001)
    async with plain() as downloader:
        refused = await downloader.get(url)
    assert refused.status_code == 403
    assert "<Code>AccessDenied</Code>" in refused.text and "expired" in refused.text


async def test_tampered_links_are_refused(clock: ManualClock, ana: httpx.AsyncClient) -> None:
    job = await finished(ana, clock, QUERY_EXPORT, {})
    url = job["files"][0]["url"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    later = str(int(query["X-Amz-Expires"][0]) + 3_600_000_000)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    async with plain() as downloader:
        bad_signature = await downloader.get(url[:-4] + "0000")
        extended = await downloader.get(url.replace(query["X-Amz-Expires"][0], later))
        unsigned = await downloader.get(base)
        other_file = await downloader.get(url.replace(".csv?", ".jsonl?"))
    for response in (bad_signature, extended, other_file):
        assert response.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in response.text
    assert unsigned.status_code == 403 and "Signature" in unsigned.text


async def test_expired_artifacts_are_gone(
    sim: Simulator, clock: ManualClock, ana: httpx.AsyncClient
) -> None:
    sim.artifact_lifetime_seconds = 3600
    sim.link_lifetime_seconds = 7200  # a link that outlives the file it points at
    job = await finished(ana, clock, QUERY_EXPORT, {})
    clock.advance(3600)
    async with plain() as downloader:
        gone = await downloader.get(job["files"][0]["url"])
    assert gone.status_code == 404 and "<Code>NoSuchKey</Code>" in gone.text


async def test_non_owner_gets_no_files(
    clock: ManualClock, server: SimulatorServer, ana: httpx.AsyncClient
) -> None:
    job = await finished(ana, clock, QUERY_EXPORT, {})
    async with api(server.base_url, "benKey01-project-key-for-tests") as ben:
        seen = (await ben.get(f"{LIST}/{job['id']}")).json()
    assert seen["status"] == "SUCCEEDED" and seen["downloadable"] is False
    assert "files" not in seen and "expiresAt" not in seen
    assert seen["bytes"] == job["bytes"]
