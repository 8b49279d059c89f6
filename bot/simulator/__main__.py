"""``python -m bot.simulator`` / ``exports-bot simulator``: serve the seeded simulator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.simulator._clock import ScaledClock
from bot.simulator._server import SimulatorServer
from bot.simulator._state import Simulator


def serve_forever(
    host: str = "127.0.0.1", port: int = 8080, speed: float = 1.0, seed: int = 7
) -> int:
    """Serve ``Simulator.seeded`` until Ctrl-C or SIGTERM; ``speed`` sim-seconds per real second.

    Prints the base URL and the seeded keys and projects so a human can curl it.
    Returns the process exit code: 0 after Ctrl-C/SIGTERM, 2 on a bad argument or busy port.
    """
    if speed <= 0:
        print(f"error: --speed must be positive, got {speed}", file=sys.stderr)
        return 2
    if not 0 <= port <= 65_535:
        print(f"error: --port must be within 0..65535, got {port}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(host, port, speed, seed))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


async def _serve(host: str, port: int, speed: float, seed: int) -> None:
    clock = ScaledClock(speed=speed, start=datetime.now(UTC))
    sim = Simulator.seeded(clock=clock, seed=seed)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with SimulatorServer(sim, host=host, port=port) as server:
        print(describe(sim, server), flush=True)
        await stop.wait()  # until SIGTERM, or Ctrl-C cancels this task


def describe(sim: Simulator, server: SimulatorServer) -> str:
    """The start-up banner: where to connect and with what."""
    speed = getattr(sim.clock, "speed", 1.0)
    lines = [
        f"Peaka export API simulator on {server.base_url}  (speed {speed:g}x, Ctrl-C to stop)",
        "",
        "Projects:",
        *(f"  {alias:<10} {pid}" for alias, pid in sim.seed_projects.items()),
        "",
        "API keys:",
    ]
    for name, value in sim.seed_keys.items():
        key = sim.keys[value]
        scope = f"project {key.project_id}" if key.project_id else "partner (all projects)"
        lines.append(f"  {name:<14} {value}  {key.user.email}, {scope}")
    first = next(iter(sim.seed_keys.values()), "KEY")
    project = next(iter(sim.seed_projects.values()), "PROJECT")
    url = f"{server.base_url}/data/projects/{project}/exports"
    lines += ["", "Try:", f'  curl -H "Authorization: Bearer {first}" {url}']
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    return serve_forever(args.host, args.port, args.speed, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
