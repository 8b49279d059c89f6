"""``exports-bot check`` against the simulator and the Slack stand-in, as a real subprocess."""

from __future__ import annotations

import os
from pathlib import Path

from tests.bot_cli import bot_until_exit
from tests.conftest import RunningSimulator, settings_env
from tests.slack_standin import SlackStandIn


async def _run_check(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PEAKA_"))}
    return await bot_until_exit("check", env={**clean, **env}, cwd=cwd)


async def test_check_reports_every_service_working(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    code, out = await _run_check(settings_env(slack, simulator, tmp_path), tmp_path)
    assert code == 0, out
    assert "ok    configuration" in out
    assert "ok    Slack auth.test" in out
    assert "ok    Peaka project analytics" in out
    assert "ok    database" in out
    assert "FAIL" not in out
    assert slack.calls("auth.test"), "check must really call auth.test"


async def test_check_names_what_fails(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    env = settings_env(slack, simulator, tmp_path)
    env["PEAKA_API_KEY"] = "not-a-real-key-0000"
    env["BOT_ENCRYPTION_KEY"] = "too-short"
    code, out = await _run_check(env, tmp_path)
    assert code == 1, out
    assert "ok    Slack auth.test" in out
    peaka_lines = [line for line in out.splitlines() if "Peaka project" in line]
    assert peaka_lines and all(line.startswith("FAIL") for line in peaka_lines), out
    assert "not-a-real-key-0000" not in out, "the key must never be printed"
    assert any(line.startswith("FAIL  BOT_ENCRYPTION_KEY") for line in out.splitlines()), out


async def test_check_with_bad_settings_exits_2_naming_each_variable(tmp_path: Path) -> None:
    code, out = await _run_check({"SLACK_BOT_TOKEN": "xoxp-wrong-kind"}, tmp_path)
    assert code == 2, out
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PEAKA_API_KEY", "PEAKA_PROJECTS"):
        assert name in out
    assert "Traceback" not in out
