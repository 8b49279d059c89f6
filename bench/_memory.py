"""Memory of the poller's state at N tracked jobs, measured with ``tracemalloc``.

- *job-state table*: it lives in SQL; what costs memory is the cycle's in-memory copy. Each
  project's poll loads its rows (``Store.poll_state``) and builds its ``TrackedJob`` map;
  the poller polls ``MAX_PROJECTS_IN_PARALLEL`` projects at once, so that many projects'
  rows are in memory together. Measured: the traced peak while every project's rows are
  loaded and mapped, that many at a time (and, for comparison, all at once: what the poller
  held before it bounded its fan-out).
- *dedup cache*: ``AlertDeduplicator``'s ``TTLCache`` of ``AlertKey`` (default maxsize
  100,000), filled with N keys.
- *claimed-jobs cache*: the poller keeps the ``ExportJob`` of each claimed alert (TTLCache,
  maxsize 20,000) so a retry needs no Read; measured full.

Floors: the information itself, packed (16-byte id, 1-byte status, 8-byte time; plus an
8-byte channel reference for the dedup key).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
import tracemalloc
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from cachetools import TTLCache

from bench._report import Row
from bot.core.alerting import TrackedJob
from bot.peaka import ExportJob, Status
from bot.poller import Poller
from bot.poller._poller import MAX_PROJECTS_IN_PARALLEL
from bot.store import AlertKey, Store

__all__ = ["fill_caches", "measure_memory"]

SECTION = "4 scale"
JOBS_PER_PROJECT = 50
CLAIMED_CACHE = 20_000
_MB = 1024 * 1024


def _job_ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=n + 1, version=4)) for n in range(count)]


async def measure_memory(tracked: int) -> list[Row]:
    """Rows for the job-state table and the caches at ``tracked`` jobs."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.db"
        await (await Store.open(f"sqlite+aiosqlite:///{path}")).close()  # the schema
        table, all_at_once, db_bytes = await _job_state_table(path, tracked)
    dedup = _dedup_cache(tracked)
    claimed, claimed_json = _claimed_jobs_cache(CLAIMED_CACHE)
    packed_state = tracked * (16 + 1 + 8) / _MB
    packed_key = tracked * (16 + 1 + 8) / _MB
    return [
        Row(SECTION, f"job-state table in memory at {tracked:,} tracked jobs", "MB", table,
            floor=packed_state, samples=1,
            note=f"tracemalloc peak while every project's rows are loaded, "
            f"{MAX_PROJECTS_IN_PARALLEL} projects at a time (as a cycle does; all at once: "
            f"{all_at_once:.1f} MB); on disk (SQLite) {db_bytes / _MB:.1f} MB"),
        Row(SECTION, f"dedup cache at {tracked:,} keys", "MB", dedup, floor=packed_key,
            samples=1, note="AlertDeduplicator's TTLCache of AlertKey, tracemalloc"),
        Row(SECTION, f"claimed-jobs cache at its {CLAIMED_CACHE:,} cap", "MB", claimed,
            floor=claimed_json, samples=1,
            note="the poller's TTLCache of ExportJob for claimed alerts (FAILED jobs with a "
            "Trino error); floor: the jobs' compact JSON"),
    ]  # fmt: skip


async def _job_state_table(path: Path, tracked: int) -> tuple[float, float, int]:
    projects = max(1, tracked // JOBS_PER_PROJECT)
    start = datetime(2026, 6, 10, 11, 0)
    # Filled with sqlite3 directly: through the store 100,000 upserts take ~20 s, and the
    # write path is not what this measures. The format is SQLAlchemy's for SQLite DATETIME;
    # reading it back through the store below checks it.
    rows = [
        (
            f"bench{n % projects:05d}",
            job_id,
            Status.RUNNING.value,
            (start + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "ana@example.com",
        )
        for n, job_id in enumerate(_job_ids(tracked))
    ]
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "INSERT INTO job_states (project_id, job_id, status, created_at, user_name) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    del rows
    db_bytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        bounded = await _loaded_peak(store, projects, tracked, MAX_PROJECTS_IN_PARALLEL)
        unbounded = await _loaded_peak(store, projects, tracked, projects)
        return bounded, unbounded, db_bytes
    finally:
        await store.close()


async def _loaded_peak(store: Store, projects: int, tracked: int, at_once: int) -> float:
    gate = asyncio.Semaphore(at_once)

    async def load(project_id: str) -> int:
        async with gate:
            _, rows = await store.poll_state(project_id)
            known = {i: TrackedJob(i, r.status, r.created_at) for i, r in rows.items()}
            await asyncio.sleep(0)  # let the others load theirs while this one is held
            return len(known)

    tracemalloc.start()
    try:
        loaded = await asyncio.gather(*(load(f"bench{n:05d}") for n in range(projects)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if sum(loaded) != tracked:
        raise RuntimeError("the job-state table did not hold every tracked job")
    return peak / _MB


def _dedup_cache(tracked: int) -> float:
    ids = _job_ids(tracked)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        # AlertDeduplicator's cache is private: this is the same structure, filled as its
        # already_handled/claim fill it (AlertKey -> True), minus the database.
        cache: TTLCache[AlertKey, bool] = TTLCache(maxsize=max(tracked, 1), ttl=24 * 3600.0)
        for n, job_id in enumerate(ids):
            cache[AlertKey(job_id, Status.FAILED, f"CB{n % 2000:05d}")] = True
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (after - before) / _MB


def fill_caches(poller: Poller) -> tuple[int, int]:
    """Fill the poller's dedup cache and claimed-jobs cache to their caps, as a day of the
    scale world's alerts would (~1,000 FAILED alerts a cycle: the claimed-jobs cache is full
    after 20 cycles, the dedup cache's 100,000 keys after 100, within its 24 h TTL). The keys
    are new job ids, so no decision changes. Returns (dedup keys, claimed jobs) held."""
    # Both caches are private: filled here as claims fill them, without the database.
    handled = poller._dedup._handled
    for n, job_id in enumerate(_job_ids(int(handled.maxsize) - len(handled))):
        handled[AlertKey(job_id, Status.FAILED, f"CB{n % 2000:05d}")] = True
    jobs = poller._jobs
    for job_id in _job_ids(int(jobs.maxsize) - len(jobs)):
        jobs[job_id] = ExportJob.from_api({**_CLAIMED_TEMPLATE, "id": job_id})
    return len(handled), len(jobs)


_CLAIMED_TEMPLATE = {
    "id": "",
    "status": "FAILED",
    "createdAt": "2026-06-10T11:58:01.123456Z",
    "format": "CSV",
    "compression": "NONE",
    "durationMs": 31000,
    "error": "Query exceeded per-node memory limit of 2GB [Allocated: 2.00GB, Delta: "
    "12.50MB, Top Consumers: {HashBuilderOperator=1.71GB}]",
    "queryId": "709922802836177297",
    "source": 'peaka.query."charges_view"',
    "userId": str(uuid.uuid4()),
    "userName": "ana@example.com",
    "apiKeyPrefix": "AbCdEfGh",
    "clientSource": "peaka-studio",
}


def _claimed_jobs_cache(count: int) -> tuple[float, float]:
    template = _CLAIMED_TEMPLATE
    ids = _job_ids(count)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        cache: TTLCache[str, ExportJob] = TTLCache(maxsize=count, ttl=6 * 3600)
        for job_id in ids:
            cache[job_id] = ExportJob.from_api({**template, "id": job_id})
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    compact = len(json.dumps({**template, "id": ids[0]}, separators=(",", ":")))
    return (after - before) / _MB, count * compact / _MB
