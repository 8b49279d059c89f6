"""The ``exports-bot`` command line: one subcommand per job the bot can do."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from bot import __version__
from bot.cli_check import add_check_command
from bot.cli_demo import add_demo_command
from bot.cli_run import add_run_command


def _add_simulator(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "simulator",
        help="run the Peaka export-API simulator on loopback",
        description="Serve a Peaka export-jobs API simulator with seeded projects, users and jobs.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1.0; 60 makes a minute pass each second)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed for the seeded data")
    p.set_defaults(func=_run_simulator)


def _run_simulator(args: argparse.Namespace) -> int:
    from bot.simulator.__main__ import serve_forever

    return serve_forever(host=args.host, port=args.port, speed=args.speed, seed=args.seed)


_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    add_demo_command,
    _add_simulator,
    add_run_command,
    add_check_command,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exports-bot",
        description="Slack chat-ops bot for Peaka export jobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    result: int = args.func(args)
    return result
