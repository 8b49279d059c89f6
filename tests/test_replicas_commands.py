"""Slash commands and button clicks spread round robin over three replica processes behave
as with one: the same answers, Older paging where every click lands on another replica,
state written on one replica seen by the others, and Cancel confirmed by Slack's own dialog
(no replica holds a pending confirmation)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.core.cards import ACTION_CANCEL, ACTION_NOTIFY_DONE, ACTION_OLDER
from bot.peaka import Status
from bot.store import Store
from tests.conftest import ADMIN_USER
from tests.e2e_support import all_text, button, expected_ids, job_ids
from tests.replica_cluster import Cluster, Replica, fresh_postgres_database, until

# One cluster (three processes) for the whole module: starting them is the slow part.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

PROJECTS = {"main": "CmdMain01", "side": "CmdSide02"}
ALL = frozenset(s.value for s in Status)
CHANNEL = "C0GENERAL"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    workdir = tmp_path_factory.mktemp("replicas")
    async with (
        fresh_postgres_database() as url,
        Cluster.running(url, workdir, projects=PROJECTS, poll_interval=1.0) as running,
    ):
        _history(running)
        await running.start_replicas(3)
        yield running


def _history(cluster: Cluster) -> None:
    """60 finished jobs in `main` (with createdAt ties across page boundaries), 2 running."""
    sim, now = cluster.sim, cluster.clock.now()
    for i in range(60):
        minutes = 18 if 18 <= i <= 24 else 40 if i in (40, 41) else i
        sim.create_job(
            PROJECTS["main"],
            "ana@example.com" if i % 3 else "ben@example.com",
            outcome="FAILED" if i % 4 == 0 else "SUCCEEDED",
            created_at=now - timedelta(hours=1, minutes=minutes),
            run_seconds=2.0,
        )
    for owner in ("ana@example.com", "ben@example.com"):
        sim.create_job(PROJECTS["main"], owner, pending_seconds=0, run_seconds=3600)


def _same_reply(one: dict[str, Any], other: dict[str, Any]) -> None:
    keys = ("text", "blocks", "response_type", "replace_original")
    assert {k: one.get(k) for k in keys} == {k: other.get(k) for k in keys}


async def _page_through(
    cluster: Cluster, text: str, replicas: list[Replica] | None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run ``text``, then click Older until it is gone: each click on the next replica in
    ``replicas`` (None: always the first). Returns the ids seen and every page's body."""
    first = replicas[0] if replicas else cluster.replicas[0]
    reply = await cluster.command(text, replica=first)
    seen, bodies = job_ids(reply.post), [reply.post.body]
    older = button(reply.post, ACTION_OLDER)
    for click in range(1, 40):
        if older is None:
            return seen, bodies
        target = replicas[click % len(replicas)] if replicas else cluster.replicas[0]
        page = await cluster.click(older, replica=target, user_id="U0CY")
        assert page.post.replace_original
        seen += job_ids(page.post)
        bodies.append(page.post.body)
        older = button(page.post, ACTION_OLDER)
    raise AssertionError("paging does not end")


async def test_the_same_commands_get_the_same_answers_from_any_replica(
    cluster: Cluster,
) -> None:
    main = PROJECTS["main"]
    failed = expected_ids(cluster.sim, main, frozenset({"FAILED"}))
    running = expected_ids(cluster.sim, main, frozenset({"RUNNING"}))
    script = [
        "help",
        "failed",
        "project main limit 5",
        "active",
        f"show {failed[3]}",
        f"show {running[0]}",
        "done mine project main limit 4",
        "bogus words here",
        "subscriptions",
    ]
    for text in script:
        from_one = await cluster.command(text, replica=cluster.replicas[0])
        for replica in cluster.replicas[1:]:
            other = await cluster.command(text, replica=replica)
            _same_reply(from_one.post.body, other.post.body)


async def test_older_pages_through_every_job_once_with_each_click_on_another_replica(
    cluster: Cluster,
) -> None:
    want = expected_ids(cluster.sim, PROJECTS["main"], ALL)
    assert len(want) == 62
    spread, spread_bodies = await _page_through(cluster, "project main limit 7", cluster.replicas)
    assert spread == want
    assert len(spread_bodies) == 9  # 8 full pages of 7 and one of 6
    alone, alone_bodies = await _page_through(cluster, "project main limit 7", None)
    assert alone == want
    for one, other in zip(spread_bodies, alone_bodies, strict=True):
        _same_reply(one, other)
    # A `mine` list keeps meaning the person who typed it, whoever clicks, wherever.
    ana = expected_ids(cluster.sim, PROJECTS["main"], ALL, email="ana@example.com")
    mine, _ = await _page_through(cluster, "mine project main limit 6", cluster.replicas[::-1])
    assert mine == ana


async def test_state_written_through_one_replica_is_what_the_others_see(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.replicas
    await cluster.command("subscribe failed succeeded project side", replica=a, user_id=ADMIN_USER)
    listed = all_text((await cluster.command("subscriptions", replica=b)).post)
    assert "side" in listed and "failed" in listed.lower()
    await cluster.command("mute 2h", replica=c, user_id=ADMIN_USER)
    assert "mute" in all_text((await cluster.command("subscriptions", replica=a)).post).lower()
    await cluster.command("unmute", replica=b, user_id=ADMIN_USER)
    await cluster.command("unsubscribe project side", replica=c, user_id=ADMIN_USER)
    async with await Store.open(cluster.database_url) as store:
        assert await store.list_subscriptions(CHANNEL) == []
        assert await store.muted_until(CHANNEL) is None
    after = all_text((await cluster.command("subscriptions", replica=a)).post)
    assert "side" not in after


async def test_cancel_is_confirmed_by_slack_and_works_on_any_replica(cluster: Cluster) -> None:
    a, b, _ = cluster.replicas
    [job_id, *_] = expected_ids(cluster.sim, PROJECTS["main"], frozenset({"RUNNING"}))
    shown = await cluster.command(f"show {job_id}", replica=a)
    cancel = button(shown.post, ACTION_CANCEL)
    assert cancel is not None
    # The "are you sure?" step is Slack's confirm dialog on the button itself: nothing is
    # pending in any replica between the click and the confirmation.
    assert {"title", "text", "confirm", "deny"} <= set(cancel["confirm"])
    clicked = await cluster.click(cancel, replica=b)
    assert clicked.post.replace_original
    await until(lambda: cluster.sim.job_status(job_id) == "CANCELLED", within=10, what="the cancel")
    assert job_ids(clicked.post) == [job_id]


async def test_dm_me_when_done_clicked_on_one_replica_is_sent_once_by_the_cluster(
    cluster: Cluster,
) -> None:
    """The request is in the database, not in the replica that took the click; all three
    replicas sweep for it, and the DM still goes out exactly once."""
    a, b, _ = cluster.replicas
    job = cluster.sim.create_job(
        PROJECTS["main"], "ana@example.com", pending_seconds=0, run_seconds=3.0, outcome="FAILED"
    )
    asked = await cluster.command(f"link {job.id}", replica=a, user_id="U0ANA")
    assert "still running" in all_text(asked.post)
    notify = button(asked.post, ACTION_NOTIFY_DONE)
    assert notify is not None
    saved = await cluster.click(notify, replica=b, user_id="U0ANA")
    assert "DM you" in all_text(saved.post)
    async with await Store.open(cluster.database_url) as store:
        assert await store.done_requests(PROJECTS["main"]) == [("U0ANA", job.id)]

    def dms_about_the_job() -> list[dict[str, Any]]:
        return [
            m
            for m in cluster.slack.messages(cluster.slack.dm_channel("U0ANA"))
            if job.id in json.dumps(m.get("metadata") or {})
        ]

    await until(lambda: bool(dms_about_the_job()), within=20, what="the DM when done")
    await asyncio.sleep(3 * cluster.poll_interval)  # every replica has swept again since
    assert len(dms_about_the_job()) == 1
