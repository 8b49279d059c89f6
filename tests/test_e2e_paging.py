"""The "Older" button: 60 jobs paged through end to end, each seen once, in order, on
whichever replica the click lands (the query and cursor travel in the button's value)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Services
from bot.core.blocks import MAX_BUTTON_VALUE
from bot.core.cards import ACTION_OLDER
from bot.settings import Settings, load_settings
from tests.conftest import SIGNING_SECRET, RunningSimulator, settings_env
from tests.e2e_support import bot_serving, button, click, expected_ids, job_ids, run
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

PAGING = "PgSixty1"
ALL = frozenset({"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED"})


@pytest.fixture
def bot_settings(slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path) -> Settings:
    """The usual settings plus a project `paging` holding exactly 60 finished jobs.

    Jobs 18..24 share one createdAt (a tie across page boundaries), as do 40..41.
    """
    sim = simulator.sim
    sim.add_project(PAGING)
    now = simulator.clock.now()
    for i in range(60):
        minutes = 18 if 18 <= i <= 24 else 40 if i in (40, 41) else i
        sim.create_job(
            PAGING,
            "ana@example.com" if i % 3 else "ben@example.com",
            outcome="FAILED" if i % 4 == 0 else "SUCCEEDED",
            created_at=now - timedelta(hours=1, minutes=minutes),
            run_seconds=2.0,
        )
    env = settings_env(slack, simulator, tmp_path)
    env["PEAKA_PROJECTS"] += f",paging={PAGING}"
    return load_settings(env)


@pytest.fixture
async def replica_b(bot_settings: Settings) -> AsyncIterator[SignedSlack]:
    """A second bot process on the same settings: clicks sent here share no memory with A."""
    services = Services.from_settings(bot_settings)
    async with bot_serving(bot_settings, services, SIGNING_SECRET) as client:
        yield client


async def _page_through(
    signed: SignedSlack,
    replica_b: SignedSlack,
    slack: SlackStandIn,
    text: str,
    *,
    user_id: str = "U0ANA",
) -> tuple[list[str], int]:
    """Run ``text``, then click Older (alternating replicas) until it is gone."""
    first = await run(signed, slack, text, user_id=user_id)
    seen = job_ids(first.post)
    older = button(first.post, ACTION_OLDER)
    pages = 1
    while older is not None:
        assert len(older["value"]) < MAX_BUTTON_VALUE
        replica = replica_b if pages % 2 else signed
        # Someone else clicking a `mine` list still pages through the original caller's jobs.
        page = await click(replica, slack, older, user_id="U0CY")
        assert page.post.replace_original
        seen += job_ids(page.post)
        older = button(page.post, ACTION_OLDER)
        pages += 1
        assert pages < 40, "paging does not end"
    return seen, pages


async def test_older_pages_through_60_jobs_each_once_in_order(
    signed: SignedSlack,
    replica_b: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
) -> None:
    want = expected_ids(simulator.sim, PAGING, ALL)
    assert len(want) == 60
    seen, pages = await _page_through(signed, replica_b, slack, "project paging limit 7")
    assert seen == want
    assert pages == 9  # 8 full pages of 7 and one of 4


async def test_older_with_a_status_filter_and_mine(
    signed: SignedSlack,
    replica_b: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
) -> None:
    failed = expected_ids(simulator.sim, PAGING, frozenset({"FAILED"}))
    seen, _ = await _page_through(signed, replica_b, slack, "failed project paging limit 4")
    assert seen == failed
    ana = expected_ids(simulator.sim, PAGING, ALL, email="ana@example.com")
    # Page 3 ends inside the seven jobs that share one createdAt (four of them ana's).
    seen, pages = await _page_through(signed, replica_b, slack, "mine project paging limit 5")
    assert seen == ana
    assert pages == 8  # 40 jobs: eight pages of 5, and no Older on the last
    ana_ok = expected_ids(simulator.sim, PAGING, frozenset({"SUCCEEDED"}), email="ana@example.com")
    seen, _ = await _page_through(signed, replica_b, slack, "done mine project paging limit 5")
    assert seen == ana_ok


async def test_shared_list_pages_stay_in_channel(
    signed: SignedSlack, replica_b: SignedSlack, slack: SlackStandIn
) -> None:
    first = await run(signed, slack, "project paging limit 16 share")
    assert first.post.response_type == "in_channel"
    older = button(first.post, ACTION_OLDER)
    assert older is not None
    second = await click(replica_b, slack, older)
    assert second.post.response_type == "in_channel"
    assert second.post.replace_original


async def test_a_tampered_older_button_is_answered_not_crashed(
    signed: SignedSlack, slack: SlackStandIn
) -> None:
    first = await run(signed, slack, "project paging limit 3")
    older = button(first.post, ACTION_OLDER)
    assert older is not None
    value = json.loads(older["value"])
    broken = [
        "not json",
        json.dumps({**value, "c": "c1.garbage"}),
        json.dumps({**value, "s": "XYZ"}),
        json.dumps({**value, "l": 0}),
        json.dumps({**value, "v": 99}),
        json.dumps([1, 2]),
        "",
    ]
    for text in broken:
        reply = await click(signed, slack, {**older, "value": text})
        assert "no longer works" in reply.post.text
        assert not reply.post.replace_original  # the list stays as it was
