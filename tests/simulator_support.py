"""Helpers for the simulator tests: the OpenAPI schemas, an authenticated httpx client, and
the fixtures those tests share (load them with ``pytest_plugins = ["tests.simulator_support"]``):

- ``sim``: ``Simulator.seeded(seed=7)`` on the ``clock`` fixture; a module may override it.
- ``server``: ``sim`` served on a loopback port.
- ``ana``: an httpx client on ``server`` with ana's seeded partner key.

PYTEST_DONT_REWRITE: no asserts here, and test modules import it before pytest_plugins
"""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from bot.simulator import ManualClock, Simulator, SimulatorServer

REPO = Path(__file__).resolve().parent.parent
SPEC_PATHS = (
    REPO.parent / "shared" / "peaka" / "exports-openapi.json",  # CI: shared/ beside the clone
    REPO.parent.parent / "shared" / "peaka" / "exports-openapi.json",
)
ANALYTICS = "mtKDhe1U"
CHARGES_VIEW = "709922802836177297"
CATALOG = "367189801096446904"
TABLE_PATH = f"catalogs/{CATALOG}/schemas/payment/tables/charges"


@cache
def openapi() -> dict[str, Any]:
    for path in SPEC_PATHS:
        if path.exists():
            return dict(json.loads(path.read_text()))
    raise FileNotFoundError(f"exports-openapi.json not found; looked in {SPEC_PATHS}")


def validator(schema: dict[str, Any], *, strict: bool = True) -> jsonschema.Validator:
    """A validator for ``schema`` whose ``#/components/...`` refs resolve into the spec.

    ``strict`` forbids properties the spec does not list in ExportJobResponse/ExportFile,
    so the simulator cannot invent fields.
    """
    components = copy.deepcopy(openapi()["components"])
    if strict:
        for name in ("ExportJobResponse", "ExportFile", "ExportJobCreated"):
            components["schemas"][name]["additionalProperties"] = False
    root = {**schema, "components": components}
    cls = jsonschema.validators.validator_for(root, default=jsonschema.Draft202012Validator)
    cls.check_schema(root)
    return cls(root)


def operation_schema(path: str, method: str, status: str) -> dict[str, Any]:
    """The response schema the spec gives for one operation and status code."""
    content = openapi()["paths"][path][method]["responses"][status]["content"]
    return dict(next(iter(content.values()))["schema"])


@cache
def _tls() -> ssl.SSLContext:
    # Building a context loads the CA bundle (~0.1 s); every loopback client can share one.
    return httpx.create_ssl_context()


def plain(**options: Any) -> httpx.AsyncClient:
    """An httpx client without credentials (presigned downloads need none)."""
    options.setdefault("timeout", 10.0)
    return httpx.AsyncClient(verify=_tls(), **options)


def api(base_url: str, key: str | None, **headers: str) -> httpx.AsyncClient:
    """An httpx client on the simulator's API, authenticated with ``key`` (None: no header)."""
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return plain(base_url=base_url, headers=headers)


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.seeded(clock=clock, seed=7)


@pytest.fixture
async def server(sim: Simulator) -> AsyncIterator[SimulatorServer]:
    async with SimulatorServer(sim, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
async def ana(sim: Simulator, server: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with api(server.base_url, sim.seed_keys["ana-partner"]) as client:
        yield client
