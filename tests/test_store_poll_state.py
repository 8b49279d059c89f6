"""The poller's memory: job states in bulk, tracked jobs, pruning, the project watermark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.peaka import Status
from bot.store import JobState, PollResult, ProjectState, Store

pytest_plugins = ["tests.store_fixtures"]

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def job(job_id: str, status: Status, seconds: float, project: str = "p1") -> JobState:
    return JobState(project, job_id, status, T0 + timedelta(seconds=seconds), f"user-{job_id}")


async def test_upsert_then_read_back(state_store: Store) -> None:
    states = [
        job("a", Status.RUNNING, 1),
        job("b", Status.PENDING, 2),
        JobState("p1", "c", Status("PAUSED"), T0, None),
        job("a", Status.RUNNING, 1, project="p2"),  # same id, other project
    ]
    assert await state_store.upsert_job_states(states) == 4
    got = await state_store.job_states("p1")
    assert got == {s.job_id: s for s in states[:3]}
    assert got["c"].status.value == "PAUSED"
    assert all(s.created_at.tzinfo is UTC for s in got.values())
    assert await state_store.job_states("p2") == {"a": states[3]}
    assert await state_store.job_states("p3") == {}


async def test_upsert_updates_and_last_entry_wins(state_store: Store) -> None:
    await state_store.upsert_job_states([job("a", Status.PENDING, 1)])
    written = await state_store.upsert_job_states(
        [job("a", Status.RUNNING, 1), job("a", Status.SUCCEEDED, 1), job("b", Status.FAILED, 2)]
    )
    assert written == 2
    got = await state_store.job_states("p1")
    assert got["a"].status is Status.SUCCEEDED
    assert got["b"].status is Status.FAILED
    assert await state_store.upsert_job_states([]) == 0


async def test_thousands_of_jobs_in_batches(state_store: Store) -> None:
    states = [job(f"j{i:05d}", Status.RUNNING, i) for i in range(4321)]
    assert await state_store.upsert_job_states(states) == 4321
    wanted = [f"j{i:05d}" for i in range(0, 5000, 3)]  # some unknown ids too
    got = await state_store.job_states("p1", wanted)
    assert sorted(got) == [w for w in wanted if int(w[1:]) < 4321]
    tracked = await state_store.tracked_jobs("p1", [Status.RUNNING])
    assert len(tracked) == 4321
    assert tracked[0].job_id == "j04320"
    assert await state_store.delete_job_states("p1", [s.job_id for s in states[:2500]]) == 2500
    assert len(await state_store.job_states("p1")) == 4321 - 2500


async def test_job_states_for_given_ids(state_store: Store) -> None:
    await state_store.upsert_job_states([job("a", Status.RUNNING, 1), job("b", Status.FAILED, 2)])
    assert set(await state_store.job_states("p1", ["b", "zzz"])) == {"b"}
    assert await state_store.job_states("p1", []) == {}


async def test_tracked_jobs_newest_first_by_status(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [
            job("old", Status.RUNNING, 1),
            job("new", Status.PENDING, 30),
            job("tie-a", Status.RUNNING, 10),
            job("tie-b", Status.RUNNING, 10),
            job("done", Status.SUCCEEDED, 40),
            job("other", Status.RUNNING, 50, project="p2"),
        ]
    )
    active = await state_store.tracked_jobs("p1", [Status.PENDING, Status.RUNNING])
    assert [s.job_id for s in active] == ["new", "tie-b", "tie-a", "old"]
    assert [s.job_id for s in await state_store.tracked_jobs("p1", {Status.SUCCEEDED})] == ["done"]
    assert await state_store.tracked_jobs("p1", []) == []


async def test_count_jobs_created_between_includes_both_ends(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [job(f"j{i}", Status.SUCCEEDED, i) for i in range(10)] + [job("x", Status.RUNNING, 5, "p2")]
    )
    count = state_store.count_jobs_created_between
    assert await count("p1", T0 + timedelta(seconds=2), T0 + timedelta(seconds=5)) == 4
    assert await count("p1", T0 - timedelta(days=1), T0 + timedelta(days=1)) == 10
    assert await count("p1", T0 + timedelta(seconds=5), T0 + timedelta(seconds=2)) == 0
    # Any offset names the same instants.
    plus2 = timezone(timedelta(hours=2))
    assert await count("p1", (T0 + timedelta(seconds=9)).astimezone(plus2), T0 + timedelta(1)) == 1


async def test_prune_keeps_jobs_created_at_or_after(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [job(f"j{i}", Status.SUCCEEDED, i) for i in range(10)] + [job("x", Status.RUNNING, 0, "p2")]
    )
    assert await state_store.prune_job_states("p1", T0 + timedelta(seconds=7)) == 7
    assert sorted(await state_store.job_states("p1")) == ["j7", "j8", "j9"]
    assert set(await state_store.job_states("p2")) == {"x"}


async def test_microseconds_survive(state_store: Store) -> None:
    exact = T0 + timedelta(microseconds=123457)
    await state_store.upsert_job_states([JobState("p1", "a", Status.RUNNING, exact)])
    assert (await state_store.job_states("p1"))["a"].created_at == exact


async def test_naive_created_at_is_refused(state_store: Store) -> None:
    with pytest.raises(ValueError, match="created_at must be timezone-aware"):
        await state_store.upsert_job_states(
            [JobState("p1", "a", Status.RUNNING, datetime(2026, 1, 1))]
        )
    with pytest.raises(ValueError, match="job_id must be a non-empty string"):
        await state_store.upsert_job_states([JobState("p1", "", Status.RUNNING, T0)])
    assert await state_store.job_states("p1") == {}


async def test_project_state_round_trip(state_store: Store) -> None:
    assert await state_store.project_state("p1") is None
    first = ProjectState("p1", baseline_at=T0)
    await state_store.save_project_state(first)
    assert await state_store.project_state("p1") == first
    later = ProjectState(
        "p1",
        baseline_at=T0,
        newest_created_at=(T0 + timedelta(seconds=5)).astimezone(timezone(timedelta(hours=-4))),
        newest_seen_ids=frozenset({"b", "a"}),
        last_polled_at=T0 + timedelta(seconds=30),
    )
    await state_store.save_project_state(later)
    got = await state_store.project_state("p1")
    assert got == later
    assert got is not None and got.newest_created_at is not None
    assert got.newest_created_at.tzinfo is UTC
    assert await state_store.project_state("p2") is None


async def test_poll_state_reads_project_and_jobs_together(state_store: Store) -> None:
    assert await state_store.poll_state("p1") == (None, {})
    states = [job("a", Status.RUNNING, 1), job("b", Status.PENDING, 2)]
    await state_store.upsert_job_states([*states, job("c", Status.RUNNING, 3, project="p2")])
    watermark = ProjectState("p1", baseline_at=T0, newest_created_at=T0, last_polled_at=T0)
    await state_store.save_project_state(watermark)
    assert await state_store.poll_state("p1") == (watermark, {s.job_id: s for s in states})
    assert await state_store.poll_state("p2") == (None, {"c": job("c", Status.RUNNING, 3, "p2")})


async def test_save_poll_result_writes_jobs_deletions_and_state_at_once(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [job("a", Status.RUNNING, 1), job("b", Status.RUNNING, 2), job("x", Status.RUNNING, 9)]
    )
    await state_store.upsert_job_states([job("a", Status.RUNNING, 1, project="p2")])
    later = ProjectState("p1", baseline_at=T0, newest_seen_ids=frozenset({"c"}), last_polled_at=T0)
    await state_store.save_poll_result(
        "p1",
        upsert=[job("b", Status.FAILED, 2), job("c", Status.PENDING, 3)],
        delete={"a", "never-there"},
        state=later,
    )
    state, rows = await state_store.poll_state("p1")
    assert state == later
    assert rows == {
        "b": job("b", Status.FAILED, 2),
        "c": job("c", Status.PENDING, 3),
        "x": job("x", Status.RUNNING, 9),
    }
    assert list(await state_store.job_states("p2")) == ["a"]  # other projects untouched
    # Nothing to save leaves the state as it was; deletions alone work too.
    await state_store.save_poll_result("p1", delete=["x"])
    assert await state_store.poll_state("p1") == (later, {k: rows[k] for k in ("b", "c")})
    await state_store.save_poll_result("p1")
    assert (await state_store.poll_state("p1"))[0] == later


async def test_save_poll_result_is_all_or_nothing(state_store: Store) -> None:
    await state_store.upsert_job_states([job("a", Status.RUNNING, 1)])
    before = await state_store.poll_state("p1")
    naive = JobState("p1", "late", Status.RUNNING, datetime(2026, 6, 10, 12, 0))
    with pytest.raises(ValueError):
        await state_store.save_poll_result(
            "p1", upsert=[naive], delete=["a"], state=ProjectState("p1", baseline_at=T0)
        )
    with pytest.raises(ValueError, match="of project 'p1'"):
        await state_store.save_poll_result("p1", upsert=[job("z", Status.RUNNING, 1, "p2")])
    with pytest.raises(ValueError, match="of project 'p1'"):
        await state_store.save_poll_result("p1", state=ProjectState("p2"))
    assert await state_store.poll_state("p1") == before


async def test_poll_states_reads_many_projects_at_once(state_store: Store) -> None:
    p1 = [job("a", Status.RUNNING, 1), job("b", Status.PENDING, 2)]
    p2 = [job("a", Status.RUNNING, 5, project="p2")]  # same job id, other project
    await state_store.upsert_job_states([*p1, *p2])
    mark = ProjectState("p1", baseline_at=T0, newest_seen_ids=frozenset({"b"}), last_polled_at=T0)
    await state_store.save_project_state(mark)
    read = await state_store.poll_states(["p2", "p1", "p3", "p1"])
    assert read == {
        "p1": (mark, {s.job_id: s for s in p1}),
        "p2": (None, {"a": p2[0]}),
        "p3": (None, {}),  # never polled: still in the answer
    }
    for project in ("p1", "p2", "p3"):
        assert read[project] == await state_store.poll_state(project)
    assert await state_store.poll_states([]) == {}


async def test_save_poll_results_saves_a_batch_of_projects_in_one_go(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [
            job("a", Status.RUNNING, 1),
            job("a", Status.RUNNING, 1, "p2"),
            job("b", Status.RUNNING, 2, "p2"),
        ]
    )
    s1 = ProjectState("p1", baseline_at=T0, newest_seen_ids=frozenset({"c"}), last_polled_at=T0)
    s3 = ProjectState("p3", baseline_at=T0, last_polled_at=T0)
    await state_store.save_poll_results(
        [
            PollResult(
                "p1", upsert=(job("c", Status.PENDING, 3),), delete=frozenset({"a"}), state=s1
            ),
            # p2 loses "b" only: p1's deletion of "a" must not reach p2's "a".
            PollResult("p2", upsert=(job("a", Status.FAILED, 1, "p2"),), delete=frozenset({"b"})),
            PollResult("p3", state=s3),
        ]
    )
    assert await state_store.poll_state("p1") == (s1, {"c": job("c", Status.PENDING, 3)})
    assert await state_store.poll_state("p2") == (None, {"a": job("a", Status.FAILED, 1, "p2")})
    assert await state_store.poll_state("p3") == (s3, {})
    await state_store.save_poll_results([])
    await state_store.save_poll_results([PollResult("p1")])  # nothing to save
    assert (await state_store.poll_state("p1"))[0] == s1


async def test_save_poll_results_is_all_or_nothing_for_the_batch(state_store: Store) -> None:
    await state_store.upsert_job_states(
        [job("a", Status.RUNNING, 1), job("a", Status.RUNNING, 1, "p2")]
    )
    before = await state_store.poll_states(["p1", "p2"])
    good = PollResult("p1", delete=frozenset({"a"}), state=ProjectState("p1", baseline_at=T0))
    naive = JobState("p2", "late", Status.RUNNING, datetime(2026, 6, 10, 12, 0))
    for bad in (
        PollResult("p2", upsert=(naive,)),
        PollResult("p2", upsert=(job("z", Status.RUNNING, 1, "p1"),)),
        PollResult("p2", state=ProjectState("p1")),
        PollResult("p1", upsert=(job("z", Status.RUNNING, 1),)),  # p1 twice in one batch
    ):
        with pytest.raises(ValueError):
            await state_store.save_poll_results([good, bad])
    assert await state_store.poll_states(["p1", "p2"]) == before
