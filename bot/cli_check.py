"""``exports-bot check``: validate the configuration and try each outside service once.

It prints one line per check (``ok`` or ``FAIL`` with the reason) and exits 0 only when every
check passed, so it suits a deploy step or a first run by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.peaka import PeakaError
from bot.settings import Settings, SettingsError, load_settings

__all__ = ["CheckResult", "add_check_command", "run_checks"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def add_check_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``check`` subcommand on the CLI's subparsers."""
    p = sub.add_parser(
        "check",
        help="validate the configuration, then call Slack auth.test and one Peaka List",
        description=(
            "Validate the settings from the environment and ./.env, then try Slack "
            "(auth.test), each configured Peaka project (one List call) and the database. "
            "Exits 0 when everything works, 1 when a service check fails, 2 on bad settings."
        ),
    )
    p.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print("FAIL  configuration:", file=sys.stderr)
        for problem in exc.problems:
            print(f"      {problem}", file=sys.stderr)
        return 2
    print("ok    configuration: every setting is present and well-formed")
    results = asyncio.run(run_checks(settings))
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Try Slack, every configured Peaka project and the database; never raises."""
    checks: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("Slack auth.test", lambda: _check_slack(settings)),
    ]
    for project in settings.projects.all:
        checks.append((f"Peaka project {project.label}", _peaka_check(settings, project.id)))
    checks.append(("database", lambda: _check_database(settings)))
    if settings.linking_enabled:
        checks.append(("BOT_ENCRYPTION_KEY", lambda: _check_encryption_key(settings)))
    results = []
    for name, run in checks:
        try:
            results.append(CheckResult(name, True, await run()))
        except (SlackApiError, SlackClientError, PeakaError, ValueError, OSError) as exc:
            results.append(CheckResult(name, False, _reason(exc)))
        except Exception as exc:  # a check must report, never crash the command
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results


async def _check_slack(settings: Settings) -> str:
    from bot.app import build_slack_client

    client = build_slack_client(settings)
    try:
        response = await client.auth_test()
    finally:
        await client.session.close() if client.session else None
    return f"bot {response.get('user', '?')} in workspace {response.get('team', '?')}"


def _peaka_check(settings: Settings, project_id: str) -> Callable[[], Awaitable[str]]:
    return lambda: _check_peaka(settings, project_id)


async def _check_peaka(settings: Settings, project_id: str) -> str:
    from bot.peaka import PeakaClient, RetryPolicy

    key = settings.peaka_api_key.get_secret_value()
    async with PeakaClient(
        key, base_url=settings.peaka_api_url, retry=RetryPolicy(max_attempts=1)
    ) as client:
        jobs = await client.list_exports(project_id, limit=1)
    return "List works" + (f", newest job {jobs[0].id}" if jobs else ", no jobs yet")


async def _check_database(settings: Settings) -> str:
    from bot.store import Store

    store = await Store.open(settings.database_url)
    try:
        if not await store.ping():
            raise OSError("the database did not answer")
    finally:
        await store.close()
    return f"{store.dialect} reachable, schema up to date"


async def _check_encryption_key(settings: Settings) -> str:
    from bot.store import KeyCipher

    secret = settings.bot_encryption_key
    KeyCipher(secret.get_secret_value() if secret else "")
    return "a valid Fernet key"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error", "unknown_error") if exc.response else "unknown_error"
        return f"Slack answered {error}"
    return str(exc) or type(exc).__name__
