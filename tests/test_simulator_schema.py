"""Every kind of simulator response validates against the published OpenAPI schemas."""

from __future__ import annotations

import re

from bot.peaka import Status
from bot.simulator import Simulator, SimulatorServer
from tests.simulator_support import (
    ANALYTICS,
    CHARGES_VIEW,
    TABLE_PATH,
    api,
    openapi,
    operation_schema,
    validator,
)

pytest_plugins = ["tests.simulator_support"]

PROJECT_PATH = "/data/projects/{projectId}"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_status_enum_is_the_models_status() -> None:
    enum = openapi()["components"]["schemas"]["ExportJobResponse"]["properties"]["status"]["enum"]
    assert set(enum) == {s.value for s in Status}


async def test_list_validates_and_covers_every_status(
    sim: Simulator, server: SimulatorServer
) -> None:
    schema = validator(operation_schema(f"{PROJECT_PATH}/exports", "get", "200"))
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        everything = (await client.get(f"/data/projects/{ANALYTICS}/exports?limit=200")).json()
        filtered = (
            await client.get(f"/data/projects/{ANALYTICS}/exports", params={"status": "SUCCEEDED"})
        ).json()
    for page in (everything, filtered):
        schema.validate(page)
        assert all("files" not in job and "expiresAt" not in job for job in page)
        assert all(TIMESTAMP.match(job["createdAt"]) for job in page)
    assert {job["status"] for job in everything} == {s.value for s in Status}


async def test_read_responses_validate(sim: Simulator, server: SimulatorServer) -> None:
    schema = validator(operation_schema(f"{PROJECT_PATH}/exports/{{exportId}}", "get", "200"))
    ana = sim.seed_users["ana@example.com"]
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        listed = (await client.get(f"/data/projects/{ANALYTICS}/exports?limit=200")).json()
        reads = [
            (await client.get(f"/data/projects/{ANALYTICS}/exports/{job['id']}")).json()
            for job in listed
        ]
    for job in reads:
        schema.validate(job)
    owned = [j for j in reads if j["status"] == "SUCCEEDED" and j["userId"] == ana.id]
    others = [j for j in reads if j["status"] == "SUCCEEDED" and j["userId"] != ana.id]
    assert owned and others
    for job in owned:  # the owner gets presigned files
        assert job["downloadable"] is True and job["files"]
        assert TIMESTAMP.match(job["expiresAt"])
        assert sum(f["bytes"] for f in job["files"]) == job["bytes"]
    for job in others:  # a non-owner gets the row without files
        assert job["downloadable"] is False
        assert "files" not in job and "expiresAt" not in job
    failed = [j for j in reads if j["status"] == "FAILED"]
    assert failed and all(j["error"] for j in failed)


async def test_created_responses_validate(sim: Simulator, server: SimulatorServer) -> None:
    query = validator(
        operation_schema(f"{PROJECT_PATH}/queries/{{queryId}}/exports", "post", "202")
    )
    table_path = (
        f"{PROJECT_PATH}/catalogs/{{catalogId}}/schemas/{{schemaName}}/tables/{{tableName}}/exports"
    )
    table = validator(operation_schema(table_path, "post", "202"))
    async with api(server.base_url, sim.seed_keys["ben-analytics"]) as client:
        by_query = await client.post(
            f"/data/projects/{ANALYTICS}/queries/{CHARGES_VIEW}/exports", json={"format": "JSONL"}
        )
        by_table = await client.post(
            f"/data/projects/{ANALYTICS}/{TABLE_PATH}/exports",
            json={"format": "CSV", "compression": "GZIP"},
        )
    assert by_query.status_code == by_table.status_code == 202
    query.validate(by_query.json())
    table.validate(by_table.json())
    assert by_query.json()["status"] == by_table.json()["status"] == "PENDING"
    assert by_query.json()["id"] != by_table.json()["id"]


async def test_not_found_validates(sim: Simulator, server: SimulatorServer) -> None:
    schema = operation_schema(f"{PROJECT_PATH}/exports/{{exportId}}", "get", "404")
    # springdoc renders Java's Map<String, Object> values as {"type": "object"}; the real
    # service sends {"message": "..."}, so a value may be any JSON type.
    assert schema["additionalProperties"] == {"type": "object"}
    schema = {**schema, "additionalProperties": {}}
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        response = await client.get(f"/data/projects/{ANALYTICS}/exports/no-such-job")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    validator(schema).validate(response.json())
    assert "no-such-job" in response.json()["message"]
