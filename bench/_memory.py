"""Memory of the poller's state at N tracked jobs, measured with ``tracemalloc``.

- *job-state table*: it lives in SQL, and the poller keeps a copy of every polled project's
  rows between cycles (``TrackedCopies``: a cycle then reads only the projects someone else
  wrote). Measured: what that copy holds once every project was read, batch by batch as a
  cycle reads them (``Store.poll_snapshots``, ``BATCH_SIZE`` projects each), and the traced
  peak while reading.
- *dedup cache*: ``AlertDeduplicator``'s ``TTLCache`` of ``AlertKey``, filled to its cap
  (``AlertDeduplicator.DEFAULT_MAXSIZE``): its size depends on the alerts, not the jobs.
- *claimed-jobs cache*: the poller keeps the ``ExportJob`` of each claimed alert not sent
  yet (TTLCache, maxsize 20,000) so a retry needs no Read; measured full, as a long Slack
  outage would leave it.

Floors: the information itself, packed (16-byte id, 1-byte status, 8-byte time; plus an
8-byte channel reference for the dedup key).
"""

from __future__ import annotations

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
from bot.peaka import ExportJob, Status
from bot.poller import Poller
from bot.poller._poller import BATCH_SIZE
from bot.poller._tracked import TrackedCopies
from bot.store import AlertDeduplicator, AlertKey, Store

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
        table, peak, db_bytes = await _job_state_table(path, tracked)
    dedup_keys = AlertDeduplicator.DEFAULT_MAXSIZE
    dedup = _dedup_cache(dedup_keys)
    claimed, claimed_json = _claimed_jobs_cache(CLAIMED_CACHE)
    packed_state = tracked * (16 + 1 + 8) / _MB
    packed_key = dedup_keys * (16 + 1 + 8) / _MB
    return [
        Row(SECTION, f"job-state table in memory at {tracked:,} tracked jobs", "MB", table,
            floor=packed_state, samples=1,
            note=f"the poller's copy of every project's rows (TrackedCopies), tracemalloc; "
            f"peak while reading them, {BATCH_SIZE} projects a query: {peak:.1f} MB; "
            f"on disk (SQLite) {db_bytes / _MB:.1f} MB"),
        Row(SECTION, f"dedup cache at its {dedup_keys:,}-key cap", "MB", dedup,
            floor=packed_key, samples=1,
            note=f"AlertDeduplicator's TTLCache of AlertKey, tracemalloc; "
            f"{dedup * _MB / dedup_keys:.0f} bytes a key, whatever the tracked jobs"),
        Row(SECTION, f"claimed-jobs cache at its {CLAIMED_CACHE:,} cap", "MB", claimed,
            floor=claimed_json, samples=1,
            note="the poller's TTLCache of ExportJob for claimed alerts not sent yet (a Slack "
            "outage's backlog; FAILED jobs with a Trino error); floor: the jobs' compact JSON"),
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
        # A revision, as any poller's save leaves: the poller keeps a copy only then.
        db.executemany(
            "INSERT INTO project_states (project_id, newest_seen_ids, revision) "
            "VALUES (?, '[]', ?)",
            [(f"bench{n:05d}", uuid.uuid4().hex) for n in range(projects)],
        )
    del rows
    db_bytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    store = await Store.open(f"sqlite+aiosqlite:///{path}")
    try:
        held, peak = await _copied(store, projects, tracked)
        return held, peak, db_bytes
    finally:
        await store.close()


async def _copied(store: Store, projects: int, tracked: int) -> tuple[float, float]:
    """(MB the poller's copies hold, MB traced at the peak) after reading every project."""
    ids = [f"bench{n:05d}" for n in range(projects)]
    copies = TrackedCopies()
    loaded = 0
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for start in range(0, projects, BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            for project_id, snapshot in (await store.poll_snapshots(copies.held(batch))).items():
                loaded += len(copies.known(project_id, snapshot))
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = copies.held(ids)
    if None in held.values() or loaded != tracked:
        raise RuntimeError("the poller's copy did not take every tracked job")
    return (after - before) / _MB, (peak - before) / _MB


def _dedup_cache(keys: int) -> float:
    ids = _job_ids(keys)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        # AlertDeduplicator's cache is private: this is the same structure, filled as its
        # already_handled/claim fill it (AlertKey -> True), minus the database.
        cache: TTLCache[AlertKey, bool] = TTLCache(maxsize=max(keys, 1), ttl=24 * 3600.0)
        for n, job_id in enumerate(ids):
            cache[AlertKey(job_id, Status.FAILED, f"CB{n % 2000:05d}")] = True
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (after - before) / _MB


def fill_caches(poller: Poller) -> int:
    """Fill the poller's dedup cache to its cap, as ten cycles of the scale world's alerts
    would (~1,000 FAILED alerts a cycle, within the cache's 24 h TTL). The keys are new job
    ids, so no decision changes. Returns the keys held.

    The other cache that fills with alerts, the claimed-jobs cache, holds only the jobs of
    alerts not sent yet (``Poller.jobs_awaiting_delivery``): it stays empty while Slack
    takes every post, as the stand-in does, and is measured full on its own
    (``measure_memory``)."""
    # Private: filled here as claims fill it, without the database.
    handled = poller._dedup._handled
    for n, job_id in enumerate(_job_ids(int(handled.maxsize) - len(handled))):
        handled[AlertKey(job_id, Status.FAILED, f"CB{n % 2000:05d}")] = True
    return len(handled)


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
