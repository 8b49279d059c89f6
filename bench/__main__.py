"""``python -m bench [--quick | --issue-sizes] [--only SECTION ...] [--profile SECTION]``.

Runs the suite, prints the table, writes the same figures as JSON. Full results go to
``bench/results/latest.json`` (committed); ``--quick`` (CI: smaller sizes, every row still
printed) writes ``quick.json``, ``--issue-sizes`` ``issue.json``, and ``--only`` /
``--profile`` ``partial.json``. ``--profile SECTION`` also writes a pyinstrument profile of
that section to ``bench/results/profile-SECTION.txt`` (and ``.html``).
Exits 1 if any section crashed or timed out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._report import Row, format_table, read_rows, write_json
from bench._section import SECTIONS, SIZES

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parent.parent
# A section that takes longer than this is stuck: stop it (our own child) and report it.
SECTION_TIMEOUT = {"quick": 100.0, "full": 600.0, "issue": 4 * 3600.0}


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def _run_section(
    name: str, sizes: str, out: Path, profile: Path | None
) -> tuple[list[Row], str | None, float]:
    command = [sys.executable, "-m", "bench._section", name, "--out", str(out), "--sizes", sizes]
    if profile is not None:
        command += ["--profile", str(profile)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    print(f"== {name} ...", file=sys.stderr, flush=True)
    try:
        subprocess.run(
            command, cwd=REPO, env=env, check=True,
            timeout=SECTION_TIMEOUT[sizes] * (3 if profile else 1),
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return [], "timed out", time.perf_counter() - started
    except subprocess.CalledProcessError as exc:
        return [], f"crashed (exit {exc.returncode})", time.perf_counter() - started
    elapsed = time.perf_counter() - started
    print(f"== {name} done in {elapsed:.0f} s", file=sys.stderr, flush=True)
    return read_rows(json.loads(out.read_text())), None, elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes (< 2 min), for CI")
    mode.add_argument("--issue-sizes", action="store_true", help="the issue's sizes (slow)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="run only these")
    parser.add_argument("--profile", choices=sorted(SECTIONS), help="profile this section")
    args = parser.parse_args(argv)
    sizes = "quick" if args.quick else "issue" if args.issue_sizes else "full"
    names = args.only or ([args.profile] if args.profile else list(SECTIONS))
    rows: list[Row] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            profile = RESULTS / f"profile-{name}.txt" if name == args.profile else None
            section_rows, error, elapsed = _run_section(name, sizes, Path(tmp) / name, profile)
            rows += section_rows
            seconds[name] = round(elapsed, 1)
            if error is not None:
                errors[name] = error
                print(f"== {name} {error}", file=sys.stderr, flush=True)
    command = "python -m bench" + {"quick": " --quick", "issue": " --issue-sizes"}.get(sizes, "")
    if args.only:
        command += " --only " + " ".join(args.only)
    if args.profile:
        command += f" --profile {args.profile}"
    print()
    print(format_table(rows))
    for name, error in errors.items():
        print(f"\nsection {name} {error}: its rows are missing")
    meta = {
        "command": command,
        "mode": sizes,
        "sizes": SIZES[sizes].as_json(),
        "started_at": started_at,
        "seconds": round(time.perf_counter() - started, 1),
        "section_seconds": seconds,
        "errors": errors,
        "commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    files = {"quick": "quick.json", "issue": "issue.json", "full": "latest.json"}
    name = "partial.json" if args.only or args.profile else files[sizes]
    write_json(RESULTS / name, rows, meta)
    print(f"\nwrote {RESULTS / name} ({meta['seconds']} s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
