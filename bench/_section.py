"""One section, alone: ``python -m bench._section NAME --out FILE [--sizes S] [--profile F]``.

``--sizes`` is quick, full (default) or issue. Each section runs in a fresh process so that
its CPU time and peak RSS are its own, and so a crash in one does not take the others down.
Rows go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench import _profiling
from bench._sizes import FULL, ISSUE, QUICK
from bot.gc_tuning import tune_garbage_collector
from bot.logging_setup import configure_logging

__all__ = ["SECTIONS", "SIZES", "main"]

SIZES = {"quick": QUICK, "full": FULL, "issue": ISSUE}

# name -> module with ``async def run(sizes) -> list[Row]``
SECTIONS = {
    "poll_cost": "bench.poll_cost",
    "alert_latency": "bench.alert_latency",
    "command_overhead": "bench.command_overhead",
    "scale": "bench.scale",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._section")
    parser.add_argument("name", choices=sorted(SECTIONS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--profile", type=Path, help="write a pyinstrument profile of the measured spans here"
    )
    args = parser.parse_args(argv)
    # This process is the bot's: logging and the collector set up as `exports-bot run` does.
    configure_logging("text", "WARNING")
    tune_garbage_collector()
    sizes = SIZES[args.sizes]
    module = importlib.import_module(SECTIONS[args.name])
    if args.profile is not None:
        _profiling.enable()
    rows = asyncio.run(module.run(sizes))
    if args.profile is not None and not _profiling.write(args.profile):
        print(f"note: section {args.name} has no profiled span", file=sys.stderr)
    args.out.write_text(json.dumps([asdict(row) for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
