"""``exports-bot run``: start the bot with the configuration from the environment and ``.env``."""

from __future__ import annotations

import argparse
import asyncio
import sys

__all__ = ["add_run_command"]


def add_run_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``run`` subcommand on the CLI's subparsers."""
    p = sub.add_parser(
        "run",
        help="run the Slack bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)",
        description=(
            "Run the bot. Configuration comes from environment variables and ./.env: "
            "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, PEAKA_API_KEY and PEAKA_PROJECTS are "
            "required. Stops gracefully on SIGTERM or SIGINT."
        ),
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.links import check_linking_settings
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        check_linking_settings(settings)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"exports-bot: {problem}", file=sys.stderr)
        return 2
    from bot.server import run

    return asyncio.run(run(settings))
