"""``exports-bot demo``: the whole bot in your terminal, on an embedded Peaka simulator."""

from __future__ import annotations

import argparse

__all__ = ["add_demo_command"]

_DESCRIPTION = """\
Run the whole bot on this machine, with no Slack workspace and no Peaka account: a Peaka
simulator with seeded projects and jobs (running faster than real time, so jobs start,
finish and fail while you watch), the real bot (the same app, listeners, poller, store and
Peaka client as `exports-bot run`, with a temporary SQLite database) and this terminal in
place of Slack. Nothing is read from environment variables.

You are ana (ana@example.com) in the channel #exports-alerts. Type what you would type in
Slack; each line goes to the bot as a signed request, exactly as Slack sends it:

  /exports failed                 failed exports as cards, errors in full
  /exports running, /exports succeeded mine, /exports all limit 3, /exports show ID
  /exports subscribe failed       alerts in #exports-alerts when a job fails
  /exports link ID                DM yourself the download links of your own export
  link ID   (or just the ID)      anything that is not a command is a DM to the bot
  /exports help                   everything the bot understands

Demo commands:

  !N            press button [N]; every button is listed with a number (Older, Cancel,
                Get download link, Refresh links). Buttons that ask to confirm (Cancel)
                need !N yes
  /as NAME      act as someone else: ana, ben, cy or dee
  /submit TEXT  fill in and submit the modal the bot opened (e.g. after /exports connect)
  /close        dismiss the open modal
  /wait N       wait N seconds, printing what arrives (handy in scripts)
  /help, /quit  (Ctrl-D also quits)

Every message is labelled with who saw it: #exports-alerts (posted in the channel),
DM (a direct message to you), only you (an ephemeral reply); "updated" or
"replaces the message" when the bot edited an earlier one.

With stdin not a terminal, commands are read line by line, each is run and its answer
printed, and then the demo keeps printing alerts and DMs for --for SECONDS and exits 0:

  printf '/exports failed\\n' | exports-bot demo --for 5
  printf '/exports subscribe failed\\n' | exports-bot demo --for 20
"""


def add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``demo`` subcommand on the CLI's subparsers."""
    p = sub.add_parser(
        "demo",
        help="the whole bot in your terminal, on an embedded Peaka simulator (no setup)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--for",
        dest="for_seconds",
        type=_non_negative,
        default=10.0,
        metavar="SECONDS",
        help="when stdin is not a terminal: after the last command, keep printing alerts and "
        "DMs for this long, then exit (default 10)",
    )
    p.add_argument(
        "--speed",
        type=_positive,
        default=30.0,
        help="simulated seconds per real second (default 30: a job that runs a minute "
        "takes two seconds)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the demo data (default 7)")
    p.add_argument(
        "--as",
        dest="user",
        default="ana",
        metavar="NAME",
        help="who you are at the start: ana, ben, cy or dee (default ana)",
    )
    p.add_argument("--verbose", action="store_true", help="show the bot's own log lines on stderr")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.demo import DemoOptions, run_demo

    options = DemoOptions(
        for_seconds=args.for_seconds,
        speed=args.speed,
        seed=args.seed,
        user=args.user,
        verbose=args.verbose,
    )
    return run_demo(options)


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value
