"""fetch_project builds the full ExportJob only for listed jobs a decision reads, and those
are checked in full: a malformed one is a MalformedResponseError, as from a List."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.alerting import TrackedJob
from bot.core.fetch_plan import Watermark
from bot.peaka import ExportJob, JobSummary, MalformedResponseError, Status, format_timestamp
from bot.poller._fetch import fetch_project
from tests.test_peaka_errors import PROJECT, Reply, scripted

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
BAD = {"rowCount": "many"}  # only a full parse looks at it


def listed(job_id: str, status: Status, seconds: int, **extra: Any) -> dict[str, Any]:
    created = format_timestamp(T0 + timedelta(seconds=seconds))
    return {"id": job_id, "status": status.value, "createdAt": created, **extra}


async def fetch(*jobs: dict[str, Any]) -> dict[str, ExportJob | JobSummary]:
    tracked = {"run": TrackedJob("run", Status.RUNNING, T0 + timedelta(seconds=5))}
    async with scripted(Reply(body=list(jobs))) as (client, _):
        result = await fetch_project(
            client,
            PROJECT,
            watermark=Watermark(T0 + timedelta(seconds=10), ()),
            tracked=tracked,
            check_expiry=False,
        )
    return {job.id: job for job in result.observed}


async def test_unchanged_and_old_jobs_stay_summaries_new_ones_are_full() -> None:
    seen = await fetch(
        listed("new", Status.FAILED, 20, error="boom"),
        listed("run", Status.RUNNING, 5, **BAD),
        listed("old", Status.SUCCEEDED, 1, **BAD),
    )
    assert isinstance(seen["new"], ExportJob) and seen["new"].error == "boom"
    assert isinstance(seen["run"], JobSummary) and isinstance(seen["old"], JobSummary)


@pytest.mark.parametrize(
    "jobs",
    [
        [listed("new", Status.FAILED, 20, **BAD), listed("run", Status.RUNNING, 5)],
        [listed("run", Status.FAILED, 5, **BAD), listed("old", Status.SUCCEEDED, 1)],
    ],
    ids=["a new job", "a tracked job that changed"],
)
async def test_a_malformed_job_that_is_read_in_full_is_a_typed_error(
    jobs: list[dict[str, Any]],
) -> None:
    with pytest.raises(MalformedResponseError, match="is not an export job") as caught:
        await fetch(*jobs)
    assert caught.value.operation == "listExports"
