"""Forgetting finished jobs: exactly the pairs given, through the primary key's index.

A poll save deletes the batch's finished jobs from ``job_states``. SQLite matched the
row-value ``IN`` it used by scanning the whole table, once per batch of 16 projects: at
100,000 tracked jobs that scan was a quarter of a poll cycle's CPU.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event

from bot.peaka import Status
from bot.store import JobState, PollResult, Store
from bot.store._poll_state import forget_jobs_params, forget_jobs_statement
from bot.store._schema import METADATA

pytest_plugins = ["tests.store_fixtures"]

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def _plan(keys: list[tuple[str, str]]) -> list[str]:
    """SQLite's query plan for forgetting ``keys``, on the bot's schema: the statement as
    SQLAlchemy sends it (its list parameters expanded), explained."""
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if statement.startswith("DELETE"):
            sent.append((statement, parameters))

    try:
        with engine.begin() as conn:
            conn.execute(forget_jobs_statement(), forget_jobs_params(keys))
            [(statement, parameters)] = sent
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [str(row[3]) for row in plan]
    finally:
        engine.dispose()


def test_sqlite_finds_the_rows_through_the_primary_key() -> None:
    keys = [(f"p{n % 16}", f"job-{n}") for n in range(80)]
    plan = _plan(keys)
    assert any(step.startswith("SEARCH job_states USING INDEX") for step in plan), plan
    assert not any(step.startswith("SCAN job_states") for step in plan), plan


async def test_only_the_given_pairs_go(state_store: Store) -> None:
    # The same job id in two projects: forgetting it in one keeps it in the other.
    def running(project: str, job_id: str) -> JobState:
        return JobState(project, job_id, Status.RUNNING, T0 + timedelta(seconds=1), None)

    await state_store.save_poll_results(
        [
            PollResult("p1", upsert=(running("p1", "shared"), running("p1", "a"))),
            PollResult("p2", upsert=(running("p2", "shared"), running("p2", "b"))),
        ]
    )
    await state_store.save_poll_results(
        [PollResult("p1", delete=frozenset({"shared"})), PollResult("p2", delete=frozenset({"b"}))]
    )
    snapshots = await state_store.poll_snapshots({"p1": None, "p2": None})
    assert sorted(snapshots["p1"].jobs or {}) == ["a"]
    assert sorted(snapshots["p2"].jobs or {}) == ["shared"]
