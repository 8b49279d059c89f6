"""The simulator's API over real HTTP: auth, bad input, and List Exports semantics."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.peaka import format_timestamp, parse_timestamp
from bot.simulator import ManualClock, Simulator, SimulatorServer
from tests.simulator_support import ANALYTICS, CHARGES_VIEW, TABLE_PATH, api

pytest_plugins = ["tests.simulator_support"]

BILLING = "Xr7pQ2Lm"
LIST = f"/data/projects/{ANALYTICS}/exports"
QUERY_EXPORT = f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports"
TABLE_EXPORT = f"/data/projects/{ANALYTICS}/{TABLE_PATH}/exports"


def message_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    message = response.json()["message"]
    assert isinstance(message, str) and message
    return message


# --- authentication and scope --------------------------------------------------------------


async def test_missing_and_unknown_keys_are_401(server: SimulatorServer) -> None:
    async with api(server.base_url, None) as client:
        missing = await client.get(LIST)
        malformed = await client.get(LIST, headers={"Authorization": "Basic abc"})
        unknown = await client.get(LIST, headers={"Authorization": "Bearer not-a-real-key-123"})
    assert missing.status_code == malformed.status_code == unknown.status_code == 401
    assert "Authorization" in message_of(missing)
    assert "Bearer" in message_of(malformed)
    assert "not-a-real-key" not in message_of(unknown)  # never echo a secret


async def test_project_key_only_works_on_its_project(
    sim: Simulator, server: SimulatorServer
) -> None:
    async with api(server.base_url, sim.seed_keys["ben-analytics"]) as client:
        own = await client.get(LIST)
        other = await client.get(f"/data/projects/{BILLING}/exports")
        other_read = await client.get(f"/data/projects/{BILLING}/exports/whatever")
        other_post = await client.post(
            f"/data/projects/{BILLING}/queries/{CHARGES_VIEW}/exports", json={}
        )
    assert own.status_code == 200
    assert other.status_code == other_read.status_code == other_post.status_code == 403
    assert ANALYTICS in message_of(other) and BILLING in message_of(other)


async def test_partner_key_works_on_every_project(sim: Simulator, server: SimulatorServer) -> None:
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        for project_id in sim.seed_projects.values():
            assert (await client.get(f"/data/projects/{project_id}/exports")).status_code == 200
        unknown = await client.get("/data/projects/nOpe1234/exports")
    assert unknown.status_code == 404
    assert "nOpe1234" in message_of(unknown)


# --- bad input -----------------------------------------------------------------------------

BAD_GETS = [
    ({"status": "EXPIRED"}, "PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED"),
    ({"status": "succeeded"}, "PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED"),
    ({"status": "SUCCEEDED,DONE"}, "'DONE'"),
    ({"limit": "abc"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"createdBefore": "yesterday"}, "createdBefore"),
    ({"createdBefore": "2026-13-45T99:00:00Z"}, "createdBefore"),
]


@pytest.mark.parametrize(("params", "hint"), BAD_GETS)
async def test_bad_list_parameters_are_400(
    ana: httpx.AsyncClient, params: dict[str, str], hint: str
) -> None:
    response = await ana.get(LIST, params=params)
    assert response.status_code == 400
    assert hint in message_of(response)


BAD_BODIES = [
    (b"", "required"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"format": "XLSX"}', "CSV, JSONL"),
    (b'{"format": "csv"}', "CSV, JSONL"),
    (b'{"compression": "ZIP"}', "NONE, GZIP"),
    (b'{"limit": "10"}', "limit"),
    (b'{"limit": 1.5}', "limit"),
    (b'{"limit": true}', "limit"),
    (b'{"columns": "id"}', "columns"),
    (b'{"columns": []}', "columns"),
    (b'{"columns": ["id", "nope"]}', "'nope'"),
    (b'{"includeSystemColumns": "yes"}', "includeSystemColumns"),
    (b'{"csvOptions": {"delimiter": ";;"}}', "delimiter"),
    (b'{"csvOptions": {"delimiter": "\\"", "quoteChar": "\\""}}', "differ"),
    (b'{"csvOptions": {"includeHeader": 1}}', "includeHeader"),
]


@pytest.mark.parametrize(("body", "hint"), BAD_BODIES)
async def test_bad_export_bodies_are_400(ana: httpx.AsyncClient, body: bytes, hint: str) -> None:
    for path in (QUERY_EXPORT, TABLE_EXPORT):
        response = await ana.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert hint in message_of(response)


async def test_unknown_column_message_lists_valid_columns(ana: httpx.AsyncClient) -> None:
    response = await ana.post(QUERY_EXPORT, json={"columns": ["amount_usd"]})
    assert response.status_code == 400
    assert "id, created, amount, currency" in message_of(response)


async def test_unknown_sources_and_jobs_are_404(ana: httpx.AsyncClient) -> None:
    responses = [
        await ana.post(f"/data/projects/{ANALYTICS}/queries/123/exports", json={}),
        await ana.post(
            f"/data/projects/{ANALYTICS}/catalogs/1/schemas/payment/tables/nope/exports", json={}
        ),
        await ana.get(f"{LIST}/4c9fcb44-126a-45f8-99a0-f1d245083d78"),
        await ana.delete(f"{LIST}/4c9fcb44-126a-45f8-99a0-f1d245083d78"),
        await ana.get("/data/projects/mtKDhe1U/nothing-here"),
    ]
    for response in responses:
        assert response.status_code == 404
        message_of(response)


async def test_a_job_is_not_found_through_another_project(
    sim: Simulator, ana: httpx.AsyncClient
) -> None:
    job = next(j for j in sim.jobs.values() if j.project_id == BILLING)
    assert (await ana.get(f"/data/projects/{BILLING}/exports/{job.id}")).status_code == 200
    response = await ana.get(f"{LIST}/{job.id}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", LIST), ("POST", LIST), ("POST", f"{LIST}/x"), ("GET", QUERY_EXPORT)],
)
async def test_wrong_method_is_405(ana: httpx.AsyncClient, method: str, path: str) -> None:
    response = await ana.request(method, path)
    assert response.status_code == 405
    assert method in message_of(response)
    assert response.headers["Allow"]


# --- List Exports --------------------------------------------------------------------------


async def test_list_is_newest_first_with_id_tiebreak(ana: httpx.AsyncClient) -> None:
    jobs = (await ana.get(LIST, params={"limit": 200})).json()
    keys = [(parse_timestamp(j["createdAt"]), j["id"]) for j in jobs]
    assert keys == sorted(keys, reverse=True)
    times = [k[0] for k in keys]
    assert len(set(times)) < len(times)  # the seed has a tie, so the id order is exercised


async def test_limit_defaults_to_50_and_is_clamped(sim: Simulator, ana: httpx.AsyncClient) -> None:
    ana_user = sim.seed_users["ana@example.com"]
    for _ in range(200):
        sim.create_job(ANALYTICS, ana_user, rows=10)
    assert len((await ana.get(LIST)).json()) == 50
    assert len((await ana.get(LIST, params={"limit": "0"})).json()) == 1
    assert len((await ana.get(LIST, params={"limit": "-7"})).json()) == 1
    assert len((await ana.get(LIST, params={"limit": "1000"})).json()) == 200
    assert len((await ana.get(LIST, params={"limit": "7"})).json()) == 7


async def test_status_filter(ana: httpx.AsyncClient) -> None:
    def statuses(jobs: list[dict[str, str]]) -> set[str]:
        return {j["status"] for j in jobs}

    both = (await ana.get(LIST, params={"status": "FAILED,CANCELLED", "limit": 200})).json()
    assert statuses(both) == {"FAILED", "CANCELLED"}
    spaced = (await ana.get(LIST, params={"status": "RUNNING, PENDING", "limit": 200})).json()
    assert statuses(spaced) == {"RUNNING", "PENDING"}
    # EXPIRED is derived after filtering, so it comes back under SUCCEEDED.
    done = (await ana.get(LIST, params={"status": "SUCCEEDED", "limit": 200})).json()
    assert statuses(done) == {"SUCCEEDED", "EXPIRED"}


async def test_downloadable_is_for_the_caller(sim: Simulator, server: SimulatorServer) -> None:
    ana_id = sim.seed_users["ana@example.com"].id
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        jobs = (await client.get(LIST, params={"limit": 200})).json()
    for job in jobs:
        assert "files" not in job
        assert job["downloadable"] == (job["status"] == "SUCCEEDED" and job["userId"] == ana_id)
    assert any(j["downloadable"] for j in jobs)


async def test_created_before_is_a_strict_keyset_cursor(
    sim: Simulator, ana: httpx.AsyncClient
) -> None:
    everything = (await ana.get(LIST, params={"limit": 200})).json()
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "7", **({"createdBefore": cursor} if cursor else {})}
        page = (await ana.get(LIST, params=params)).json()
        if not page:
            break
        seen += [j["id"] for j in page]
        cursor = page[-1]["createdAt"]
    ids = [j["id"] for j in everything]
    # Strictly-before skips a job sharing the cursor's timestamp when a page ends between
    # the two: the client has to cope. Everything else comes back exactly once, in order.
    assert len(seen) == len(set(seen))
    assert [i for i in ids if i in seen] == seen
    assert len(ids) - len(seen) <= 1


async def test_cursor_inclusive_knob(sim: Simulator, ana: httpx.AsyncClient) -> None:
    everything = (await ana.get(LIST, params={"limit": 200})).json()
    created = [j["createdAt"] for j in everything]
    tie = next(c for c in created if created.count(c) == 2)
    strict = (await ana.get(LIST, params={"createdBefore": tie, "limit": 200})).json()
    assert all(j["createdAt"] < tie for j in strict)
    sim.cursor_inclusive = True
    inclusive = (await ana.get(LIST, params={"createdBefore": tie, "limit": 200})).json()
    assert [j["createdAt"] for j in inclusive[:2]] == [tie, tie]
    assert len(inclusive) == len(strict) + 2


async def test_created_before_accepts_other_iso_spellings(ana: httpx.AsyncClient) -> None:
    everything = (await ana.get(LIST, params={"limit": 200})).json()
    pivot = parse_timestamp(everything[10]["createdAt"]) + timedelta(microseconds=1)
    offset = pivot.isoformat().replace("+00:00", "+0000")
    nanos = format_timestamp(pivot).replace("Z", "999Z")  # Trino writes nanoseconds
    for cursor in (offset, nanos):
        page = (await ana.get(LIST, params={"createdBefore": cursor, "limit": 200})).json()
        assert page[0]["id"] == everything[10]["id"]


# --- Export Query / Export Table -----------------------------------------------------------


async def test_created_job_carries_caller_and_client(
    sim: Simulator, clock: ManualClock, server: SimulatorServer
) -> None:
    key = sim.seed_keys["ben-analytics"]
    clock.advance(0.123456)
    async with api(server.base_url, key, **{"X-Trino-Source": "exports-bot"}) as client:
        created = (await client.post(QUERY_EXPORT, json={"format": "JSONL"})).json()
        job = (await client.get(f"{LIST}/{created['id']}")).json()
    async with api(server.base_url, key, **{"User-Agent": "curl/8.5"}) as client:
        by_agent = (await client.post(TABLE_EXPORT, json={"limit": 10})).json()
        table_job = (await client.get(f"{LIST}/{by_agent['id']}")).json()
    ben = sim.seed_users["ben@example.com"]
    assert job["clientSource"] == "exports-bot"
    assert table_job["clientSource"] == "curl/8.5"
    assert job["userName"] == table_job["userName"] == "ben@example.com"
    assert job["userId"] == ben.id
    assert job["apiKeyPrefix"] == key[:8]
    assert job["createdAt"] == format_timestamp(clock.now())
    assert job["createdAt"].endswith(".123456Z")
    assert (job["queryId"], job["source"]) == (CHARGES_VIEW, 'peaka.query."charges_view"')
    assert (table_job["catalogId"], table_job["schemaName"], table_job["tableName"]) == (
        "367189801096446904",
        "payment",
        "charges",
    )
    assert table_job["source"] == 'peaka.payment."charges"'
    assert job["status"] == table_job["status"] == "PENDING"
