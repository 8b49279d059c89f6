"""``python -m bot ARGS`` as a real subprocess, run to its exit (for start-up refusals, ``check``).

code, output = await bot_until_exit("check", env=env, cwd=tmp_path)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["bot_until_exit"]


async def bot_until_exit(
    *args: str, env: Mapping[str, str], cwd: Path, within: float = 60.0
) -> tuple[int, str]:
    """Run the bot's CLI with exactly ``env``; its exit code and its output (stdout + stderr).

    TimeoutError when it has not exited ``within`` seconds.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(within):
        output, _ = await process.communicate()
    assert process.returncode is not None  # communicate() returns once it has exited
    return process.returncode, output.decode()
