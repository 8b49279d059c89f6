"""Configuration: every bad variable is named on its own line, secrets are never echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings

GOOD = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-abcdef",
    "SLACK_SIGNING_SECRET": "0123456789abcdef",
    "PEAKA_API_KEY": "pk_live_abcdefghijklmnop",
    "PEAKA_PROJECTS": "sales=mtKDhe1U,Qx81bb2T",
}
REQUIRED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PEAKA_API_KEY", "PEAKA_PROJECTS")


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    return caught.value.problems


def test_defaults_and_parsed_values() -> None:
    settings = load_settings(GOOD)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.peaka_api_url == "https://partner.peaka.studio/api/v1"
    assert (settings.port, settings.host, settings.poll_interval) == (3000, "0.0.0.0", 30.0)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert "/data/" in settings.database_url
    assert settings.linking_enabled is True
    assert (settings.log_format, settings.log_level) == ("text", "INFO")
    assert settings.socket_mode is False
    assert settings.admins == frozenset()
    projects = settings.projects
    assert projects.default.id == "mtKDhe1U"
    assert projects.resolve("SALES") is projects.default
    assert [p.id for p in projects] == ["mtKDhe1U", "Qx81bb2T"]


def test_optional_values_parse() -> None:
    settings = load_settings(
        {
            **GOOD,
            "SLACK_APP_TOKEN": "xapp-1-A0-123-abc",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "PEAKA_API_URL": "http://127.0.0.1:8/api/v1/",
            "EXPORTS_ADMINS": " U012ABCDEF , W0ADMIN2 ",
            "LINKING_ENABLED": "false",
            "LOG_FORMAT": "JSON",
            "LOG_LEVEL": "debug",
            "POLL_INTERVAL": "2.5",
            "PORT": "0",
        }
    )
    assert settings.socket_mode is True
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"  # slack_sdk needs the slash
    assert settings.peaka_api_url == "http://127.0.0.1:8/api/v1"
    assert settings.admins == frozenset({"U012ABCDEF", "W0ADMIN2"})
    assert settings.linking_enabled is False
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")
    assert (settings.poll_interval, settings.port) == (2.5, 0)


def test_empty_environment_names_each_required_variable_once() -> None:
    lines = problems({})
    assert [line.split(":")[0] for line in lines] == list(REQUIRED)
    assert lines[0] == (
        "SLACK_BOT_TOKEN: missing; expected the bot token from OAuth & Permissions, "
        "starting with xoxb-"
    )
    assert all("\n" not in line and "; expected " in line for line in lines)


def test_empty_string_counts_as_missing() -> None:
    assert problems({**GOOD, "SLACK_SIGNING_SECRET": ""}) == [
        "SLACK_SIGNING_SECRET: missing; expected the signing secret from Basic Information > "
        "App Credentials"
    ]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token-123", "does not start with xoxb-"),
        ("SLACK_BOT_TOKEN", "xapp-1-app-token", "does not start with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token", "does not start with xapp-"),
        ("SLACK_API_URL", "slack.com/api", "is not an http(s) URL"),
        ("PEAKA_API_URL", "ftp://peaka", "is not an http(s) URL"),
        ("PEAKA_PROJECTS", "a,,b", "empty"),
        ("PEAKA_PROJECTS", "x=1,x=2", "used twice"),
        ("PORT", "http", "'http' is not a number"),
        ("PORT", "70000", "out of range"),
        ("POLL_INTERVAL", "0", "out of range"),
        ("POLL_INTERVAL", "soon", "not a number"),
        ("EXPORTS_ADMINS", "U012ABCDEF,bob", "'bob' is not a Slack user id"),
        ("LINKING_ENABLED", "maybe", "not true or false"),
        ("LOG_FORMAT", "yaml", "not one of the allowed values"),
        ("LOG_LEVEL", "loud", "'loud' is not a log level"),
        ("DATABASE_URL", "just-a-file.db", "is not a URL"),
    ],
)
def test_each_malformed_variable_gets_one_line(name: str, value: str, says: str) -> None:
    lines = problems({**GOOD, name: value})
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{name}: ")
    assert says in lines[0]
    assert "expected" in lines[0]


def test_several_problems_are_all_reported() -> None:
    lines = problems({"SLACK_BOT_TOKEN": "xoxp-1", "PORT": "x", "LOG_FORMAT": "xml"})
    names = [line.split(":")[0] for line in lines]
    assert sorted(names) == sorted([*REQUIRED, "PORT", "LOG_FORMAT"])


def test_secret_values_never_appear_in_problems_or_repr() -> None:
    secret_token = "xoxp-very-secret-user-token-998877"
    secret_app = "xoxb-misplaced-secret-665544"
    text = "\n".join(
        problems({**GOOD, "SLACK_BOT_TOKEN": secret_token, "SLACK_APP_TOKEN": secret_app})
    )
    assert secret_token not in text and secret_app not in text
    settings = load_settings({**GOOD, "DATABASE_URL": "postgresql+asyncpg://u:hunter2pass@h/db"})
    shown = repr(settings) + str(settings)
    for value in (*GOOD.values(), "hunter2pass"):
        if value != GOOD["PEAKA_PROJECTS"]:
            assert value not in shown
    assert "hunter2pass" in settings.secret_values()


def test_mapping_is_the_only_source_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-process-environment")
    assert [line.split(":")[0] for line in problems({})] == list(REQUIRED)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cr3t-from-env")
    monkeypatch.setenv("PEAKA_API_KEY", "pk_from_env_123")
    monkeypatch.setenv("PEAKA_PROJECTS", "mtKDhe1U")
    assert load_settings().slack_bot_token.get_secret_value() == (
        "xoxb-from-the-process-environment"
    )


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*REQUIRED, "PORT"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in GOOD.items()) + "\nPORT=4100\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().port == 4100


def test_run_with_empty_environment_exits_2_naming_each_variable(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("exports-bot")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(script), "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(REQUIRED), lines
    for line, name in zip(lines, REQUIRED, strict=True):
        assert name in line and "missing" in line and "expected" in line
