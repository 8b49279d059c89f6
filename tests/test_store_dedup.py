"""AlertDeduplicator: answers repeats from memory, and the durable log outlives the process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from bot.metrics import REGISTRY
from bot.peaka import Status
from bot.store import AlertDeduplicator, AlertKey, Store
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

KEY = AlertKey("job-1", Status.FAILED, "C1")


class StatementCounter:
    """Counts the SQL statements an engine sends (observes; changes nothing)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


@contextmanager
def counting(store: Store) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(store.engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", counter)


def deduplicated(layer: str) -> float:
    value = REGISTRY.get_sample_value("exports_bot_alerts_deduplicated_total", {"layer": layer})
    return value or 0.0


async def test_repeats_are_answered_from_the_cache(state_store: Store) -> None:
    dedup = AlertDeduplicator(state_store)
    with counting(state_store) as db:
        assert await dedup.already_handled(KEY) is False
        assert len(db.statements) == 1  # asked the log: not there
        assert await dedup.claim(KEY, "p1", "r1") is True
        await dedup.confirm(KEY, "C1", "1.1")
        asked = len(db.statements)
        cache_before = deduplicated("cache")
        for _ in range(5):
            assert await dedup.already_handled(KEY) is True
        assert len(db.statements) == asked  # no round trip at all
    assert deduplicated("cache") == cache_before + 5
    assert (dedup.cache_hits, dedup.cache_misses) == (5, 1)


async def test_negative_answers_are_not_cached(state_store: Store) -> None:
    dedup = AlertDeduplicator(state_store)
    assert await AlertDeduplicator(state_store).claim(KEY, "p1", "other-replica") is True
    # This deduplicator never saw the claim: it asks the log, and remembers the answer.
    database_before = deduplicated("database")
    with counting(state_store) as db:
        assert await dedup.already_handled(KEY) is True
        assert await dedup.already_handled(KEY) is True
        assert len(db.statements) == 1
    assert deduplicated("database") == database_before + 1
    assert (dedup.cache_hits, dedup.cache_misses) == (1, 1)


async def test_a_lost_claim_counts_as_a_database_duplicate(state_store: Store) -> None:
    first, second = AlertDeduplicator(state_store), AlertDeduplicator(state_store)
    assert await first.claim(KEY, "p1", "r1") is True
    before = deduplicated("database")
    assert await second.claim(KEY, "p1", "r2") is False
    assert deduplicated("database") == before + 1
    assert await second.already_handled(KEY) is True
    assert second.cache_hits == 1


async def test_the_log_survives_a_restart(store_backend: Backend) -> None:
    before = await store_backend.open()
    dedup = AlertDeduplicator(before)
    assert await dedup.claim(KEY, "p1", "r1")
    await dedup.confirm(KEY, "C1", "1.1")
    failed = AlertKey("job-2", Status.FAILED, "C1")
    assert await dedup.claim(failed, "p1", "r1")
    await dedup.fail(failed, "channel_not_found")
    await before.close()

    after = await store_backend.open()
    fresh = AlertDeduplicator(after)
    assert len(fresh) == 0
    assert await fresh.already_handled(KEY) is True
    assert await fresh.already_handled(failed) is True
    assert await fresh.claim(KEY, "p1", "r2") is False
    assert await fresh.already_handled(AlertKey("job-3", Status.FAILED, "C1")) is False


async def test_cache_entries_expire_and_then_the_log_answers(state_store: Store) -> None:
    now = [0.0]
    dedup = AlertDeduplicator(state_store, maxsize=10, ttl=60, timer=lambda: now[0])
    await dedup.claim(KEY, "p1", "r1")
    assert await dedup.already_handled(KEY)
    assert dedup.cache_hits == 1
    now[0] = 61.0
    assert len(dedup) == 0
    with counting(state_store) as db:
        assert await dedup.already_handled(KEY) is True
        assert len(db.statements) == 1
    assert dedup.cache_misses == 1


async def test_maxsize_bounds_memory(state_store: Store) -> None:
    dedup = AlertDeduplicator(state_store, maxsize=3)
    for i in range(10):
        await dedup.claim(AlertKey(f"job-{i}", Status.FAILED, "C1"), "p1", "r1")
    assert len(dedup) == 3
    # Evicted keys are still refused: the log answers.
    assert await dedup.already_handled(AlertKey("job-0", Status.FAILED, "C1")) is True


@pytest.mark.parametrize(("maxsize", "ttl", "message"), [(0, 60, "maxsize"), (5, 0, "ttl")])
async def test_bad_settings(state_store: Store, maxsize: int, ttl: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlertDeduplicator(state_store, maxsize=maxsize, ttl=ttl)


async def test_claim_batch_claims_in_one_transaction_and_skips_what_is_cached(
    state_store: Store,
) -> None:
    dedup = AlertDeduplicator(state_store)
    keys = [AlertKey(f"job-{n}", Status.FAILED, "C1") for n in range(4)]
    assert await AlertDeduplicator(state_store).claim(keys[2], "p1", "other-replica") is True
    database_before = deduplicated("database")
    with counting(state_store) as db:
        assert await dedup.claim_batch(dict.fromkeys(keys, "p1"), "r1") == (
            [keys[0], keys[1], keys[3]],
            set(),
        )
        inserts = [s for s in db.statements if s.lstrip().upper().startswith("INSERT")]
        # One multi-row INSERT for all the keys, and no separate "already handled?" reads.
        assert len(inserts) == 1
        assert not [s for s in db.statements if s.lstrip().upper().startswith("SELECT")]
        asked = len(db.statements)
        assert await dedup.claim_batch(dict.fromkeys(keys, "p1"), "r1") == ([], set())
        assert len(db.statements) == asked  # all cached now: no round trip
    assert deduplicated("database") == database_before + 1  # the other replica's claim
    for key in keys:
        assert await dedup.already_handled(key) is True
    # A restarted process's deduplicator: the log refuses every key.
    assert await AlertDeduplicator(state_store).claim_batch(dict.fromkeys(keys, "p1"), "r2") == (
        [],
        set(),
    )
