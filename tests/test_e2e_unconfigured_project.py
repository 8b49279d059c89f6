"""Buttons on a message whose project is no longer in PEAKA_PROJECTS (removed after the
message was posted): each click gets a clear ephemeral answer, sends nothing to Peaka and
counts as ``rejected`` in ``COMMANDS``. Signed HTTP to the real app, as Slack sends it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.button_values import OlderPage, encode_older_value
from bot.core.cards import (
    ACTION_CANCEL,
    ACTION_LINK,
    ACTION_NOTIFY_DONE,
    ACTION_OLDER,
    ACTION_REFRESH_LINKS,
    job_button_value,
)
from bot.core.command_types import ListJobs
from bot.metrics import REGISTRY
from bot.peaka import PageCursor, Status
from tests.conftest import PROJECT_ID, RunningSimulator
from tests.e2e_support import all_text, click
from tests.slack_requests import SignedSlack
from tests.slack_standin import SlackStandIn

RETIRED = "retired-project"


def _rejected(button: str) -> float:
    sample = REGISTRY.get_sample_value(
        "exports_bot_commands_total", {"command": button, "outcome": "rejected"}
    )
    return sample or 0.0


def _job_button(action_id: str) -> Any:
    def make(simulator: RunningSimulator) -> dict[str, Any]:
        job = simulator.sim.create_job(PROJECT_ID, "ana@example.com", run_seconds=3_600)
        return {"action_id": action_id, "value": job_button_value(RETIRED, job.id)}

    return make


def _older_button(simulator: RunningSimulator) -> dict[str, Any]:
    query = ListJobs(statuses=frozenset({Status.FAILED}), project_id=RETIRED)
    cursor = PageCursor(simulator.clock.now().isoformat().replace("+00:00", "Z"))
    return {
        "action_id": ACTION_OLDER,
        "value": encode_older_value(OlderPage(query, cursor.encode())),
    }


@pytest.mark.parametrize(
    ("name", "make_button"),
    [
        ("CancelButton", _job_button(ACTION_CANCEL)),
        ("LinkButton", _job_button(ACTION_LINK)),
        ("RefreshLinks", _job_button(ACTION_REFRESH_LINKS)),
        ("NotifyDone", _job_button(ACTION_NOTIFY_DONE)),
        ("Older", _older_button),
    ],
)
async def test_a_button_for_a_removed_project_is_refused_and_counted(
    signed: SignedSlack,
    slack: SlackStandIn,
    simulator: RunningSimulator,
    name: str,
    make_button: Any,
) -> None:
    element = make_button(simulator)
    assert element["value"] is not None
    simulator.sim.reset_counters()
    before = _rejected(name)

    reply = (await click(signed, slack, element, user_id="U0ANA")).post

    assert reply.response_type == "ephemeral"
    assert not reply.replace_original  # the message clicked stays as it was
    assert "no longer configured" in all_text(reply)
    assert sum(simulator.sim.counters.values()) == 0  # Peaka was not asked anything
    assert _rejected(name) == before + 1
