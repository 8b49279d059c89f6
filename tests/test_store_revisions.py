"""``project_states.revision``: every writer of a project's rows changes it, so a reader that
holds the job states of one revision can skip re-reading them while it is still current."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.peaka import Status
from bot.store import JobState, PollResult, ProjectState, Store
from tests.store_fixtures import Backend

pytest_plugins = ["tests.store_fixtures"]

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
R = Status.RUNNING


def job(job_id: str, seconds: float, project: str = "p1", status: Status = R) -> JobState:
    return JobState(project, job_id, status, T0 + timedelta(seconds=seconds), f"user-{job_id}")


def mark(project: str, seconds: float) -> ProjectState:
    at = T0 + timedelta(seconds=seconds)
    return ProjectState(project, baseline_at=T0, newest_created_at=at, last_polled_at=at)


async def seeded(store: Store) -> str:
    """p1 with a watermark and two tracked jobs; its revision."""
    await store.save_poll_results(
        [PollResult("p1", upsert=(job("a", 1), job("b", 2)), state=mark("p1", 2))]
    )
    revision = (await store.poll_snapshots({"p1": None}))["p1"].revision
    assert revision is not None
    return revision


Writer = Callable[[Store], Awaitable[object]]
WRITERS: dict[str, Writer] = {
    "upsert_job_states": lambda s: s.upsert_job_states([job("c", 3)]),
    "delete_job_states": lambda s: s.delete_job_states("p1", ["a"]),
    "prune_job_states": lambda s: s.prune_job_states("p1", T0 + timedelta(seconds=2)),
    "save_project_state": lambda s: s.save_project_state(mark("p1", 9)),
    "forget (empty state)": lambda s: s.save_project_state(ProjectState("p1")),
    "save_poll_result upsert": lambda s: s.save_poll_result(
        "p1", upsert=[job("a", 1, status=Status.FAILED)]
    ),
    "save_poll_result delete": lambda s: s.save_poll_result("p1", delete=["b"]),
    "save_poll_results state": lambda s: s.save_poll_results(
        [PollResult("p1", state=mark("p1", 5))]
    ),
    "save_poll_results, other project's job": lambda s: s.upsert_job_states(
        [job("x", 1, project="p2"), job("c", 3)]
    ),
}


@pytest.mark.parametrize("name", list(WRITERS))
async def test_every_writer_changes_the_revision(state_store: Store, name: str) -> None:
    revision = await seeded(state_store)
    held = await state_store.poll_snapshots({"p1": revision, "p2": None})
    assert held["p1"].jobs is None  # still current: the rows are not read
    assert held["p2"].jobs == {} and held["p2"].revision is None
    await WRITERS[name](state_store)
    after = (await state_store.poll_snapshots({"p1": revision}))["p1"]
    assert after.revision is not None and after.revision != revision
    assert after.jobs == (await state_store.poll_state("p1"))[1]  # read again, as stored


async def test_a_save_without_changes_keeps_the_revision(state_store: Store) -> None:
    revision = await seeded(state_store)
    assert await state_store.save_poll_results([PollResult("p1")], expected={"p1": revision}) == {}
    assert await state_store.prune_job_states("p9", T0) == 0  # another project
    assert (await state_store.poll_snapshots({"p1": revision}))["p1"].jobs is None


async def test_job_rows_without_a_state_read_as_no_state(state_store: Store) -> None:
    # A job writer makes an empty state row (its revision); readers still see no state.
    await state_store.upsert_job_states([job("c", 3, project="p2")])
    snapshot = (await state_store.poll_snapshots({"p2": None}))["p2"]
    assert snapshot.state is None and snapshot.revision is not None
    assert snapshot.jobs == {"c": job("c", 3, project="p2")}
    assert await state_store.project_state("p2") is None


async def test_a_save_confirms_the_revision_only_if_nothing_wrote_since(
    state_store: Store,
) -> None:
    r1 = await seeded(state_store)
    await state_store.save_poll_results([PollResult("p2", state=mark("p2", 1))])
    r2 = (await state_store.poll_snapshots({"p2": None}))["p2"].revision
    # Another writer changes p1 between this reader's read and its save.
    await state_store.upsert_job_states([job("c", 3)])
    saved = await state_store.save_poll_results(
        [
            PollResult("p1", upsert=(job("d", 4),)),
            PollResult("p2", upsert=(job("e", 5, project="p2"),)),
        ],
        expected={"p1": r1, "p2": r2},
    )
    now = await state_store.poll_snapshots({"p1": None, "p2": None})
    assert set(saved) == {"p2"}  # p1's copy would miss job c
    assert saved["p2"] == now["p2"].revision != r2
    assert now["p1"].revision not in (r1, None)
    assert now["p1"].jobs is not None and set(now["p1"].jobs) == {"a", "b", "c", "d"}
    # Without ``expected`` nothing is confirmed.
    assert await state_store.save_poll_results([PollResult("p2", delete=frozenset("e"))]) == {}


async def test_a_database_from_before_revisions_is_read_afresh(store_backend: Backend) -> None:
    store = await store_backend.open()
    await seeded(store)
    async with store.engine.begin() as conn:  # back to schema version 1
        await conn.execute(text("ALTER TABLE project_states DROP COLUMN revision"))
        await conn.execute(text("DELETE FROM schema_version WHERE version = 2"))
    reopened = await store_backend.open()  # migration 2 adds the column back, empty
    snapshot = (await reopened.poll_snapshots({"p1": None}))["p1"]
    assert snapshot.revision is None and snapshot.state == mark("p1", 2)
    assert snapshot.jobs is not None and set(snapshot.jobs) == {"a", "b"}
    # A save of a project at no revision confirms nothing (nobody can hold a copy of it).
    assert (
        await reopened.save_poll_results(
            [PollResult("p1", delete=frozenset({"a"}))], expected={"p1": None}
        )
        == {}
    )
    assert (await reopened.poll_snapshots({"p1": None}))["p1"].revision is not None


async def test_a_first_save_confirms_only_a_row_nobody_else_made(state_store: Store) -> None:
    read = await state_store.poll_snapshots({"p1": None, "p2": None})
    assert read["p1"].revision is None and read["p2"].revision is None  # no rows yet
    await state_store.upsert_job_states([job("x", 1, project="p2")])  # another writer, p2
    saved = await state_store.save_poll_results(
        [PollResult("p1", state=mark("p1", 1)), PollResult("p2", state=mark("p2", 1))],
        expected={"p1": None, "p2": None},
    )
    assert set(saved) == {"p1"}  # p2's read missed job x
    assert saved["p1"] == (await state_store.poll_snapshots({"p1": None}))["p1"].revision


@pytest.mark.postgres
async def test_a_concurrent_writer_is_waited_for_and_its_change_seen(pg_backend: Backend) -> None:
    store, other = await pg_backend.open(), await pg_backend.open()
    r1 = await seeded(store)
    async with other.engine.connect() as conn:
        # Another replica's transaction, in flight: it changed p1's rows and made p2's.
        writing = await conn.begin()
        await conn.execute(text("UPDATE project_states SET revision = 'x' WHERE project_id = 'p1'"))
        await conn.execute(text("DELETE FROM job_states WHERE job_id = 'a'"))
        await conn.execute(
            text(
                "INSERT INTO project_states (project_id, newest_seen_ids, revision) "
                "VALUES ('p2', '[]', 'y')"
            )
        )
        save = asyncio.create_task(
            store.save_poll_results(
                [PollResult("p1", upsert=(job("d", 4),)), PollResult("p2", state=mark("p2", 1))],
                expected={"p1": r1, "p2": None},
            )
        )
        await asyncio.sleep(0.5)
        assert not save.done()  # waiting for the other transaction's row locks
        await writing.commit()
    assert await save == {}  # neither project's read is what is stored now
    now = await store.poll_snapshots({"p1": None, "p2": None})
    assert now["p1"].jobs is not None and set(now["p1"].jobs) == {"b", "d"}
    assert now["p1"].revision not in (r1, "x") and now["p2"].revision not in (None, "y")
