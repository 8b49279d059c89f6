"""The one-bot lock on a SQLite file: a second holder is refused clearly, a dead one is not
in the way, PostgreSQL and in-memory databases need no lock."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.replicas import (
    EXIT_SECOND_REPLICA,
    SecondReplicaError,
    lock_sqlite_file,
    sqlite_database_file,
)
from tests.bot_cli import bot_until_exit
from tests.conftest import RunningSimulator, settings_env
from tests.replica_cluster import Replica
from tests.slack_standin import SlackStandIn

HOLD = (
    "import sys, time; from bot.replicas import lock_sqlite_file; "
    "lock = lock_sqlite_file(sys.argv[1]); print('locked', flush=True); time.sleep(60)"
)


def test_a_second_lock_on_one_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    first = lock_sqlite_file(url)
    assert first is not None and first.held
    try:
        with pytest.raises(SecondReplicaError) as refused:
            lock_sqlite_file(f"sqlite:///{tmp_path / 'bot.db'}")  # another spelling, same file
        message = str(refused.value)
        assert "DATABASE_URL" in message
        assert str(tmp_path / "bot.db") in message
        assert "PostgreSQL" in message and "postgresql+asyncpg://" in message
        assert f"process {os.getpid()}" in message  # who has it
        assert refused.value.other_pid == os.getpid()
    finally:
        first.release()
    assert not first.held
    again = lock_sqlite_file(url)  # released: the next bot may start
    assert again is not None
    again.release()
    again.release()  # idempotent


def test_other_files_and_databases_are_independent(tmp_path: Path) -> None:
    one = lock_sqlite_file(f"sqlite:///{tmp_path / 'one.db'}")
    two = lock_sqlite_file(f"sqlite:///{tmp_path / 'sub' / 'two.db'}")  # directory created
    assert one is not None and two is not None
    assert two.lock_path == tmp_path / "sub" / "two.db.lock"
    one.release()
    two.release()
    assert lock_sqlite_file("postgresql+asyncpg://root@127.0.0.1:5432/test") is None
    assert lock_sqlite_file("sqlite+aiosqlite://") is None
    assert lock_sqlite_file("sqlite+aiosqlite:///:memory:") is None


def test_relative_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_database_file("sqlite+aiosqlite:///./data/bot.db") == tmp_path / "data/bot.db"
    assert sqlite_database_file("sqlite:////abs/x.db") == Path("/abs/x.db")
    with pytest.raises(ValueError, match="DATABASE_URL is not a database URL"):
        sqlite_database_file("not a url")


async def test_a_killed_holder_is_not_in_the_way(tmp_path: Path) -> None:
    """The kernel drops the lock with the process (even on SIGKILL): restarting a crashed
    bot is never refused."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD, url, stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    try:
        async with asyncio.timeout(30):
            assert (await holder.stdout.readline()).strip() == b"locked"
        with pytest.raises(SecondReplicaError) as refused:
            lock_sqlite_file(url)
        assert refused.value.other_pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        async with asyncio.timeout(30):
            await holder.wait()
    lock = lock_sqlite_file(url)
    assert lock is not None
    lock.release()


async def test_a_second_bot_on_one_sqlite_file_is_refused_at_start_up(
    slack: SlackStandIn, simulator: RunningSimulator, tmp_path: Path
) -> None:
    """Two ``exports-bot run`` processes, one SQLite DATABASE_URL: the second exits with
    EXIT_SECOND_REPLICA and says why and what to do; the first keeps serving."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        **settings_env(slack, simulator, tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    first = Replica("first", env, tmp_path, [sys.executable, "-m", "bot", "run"])
    await first.start()
    try:
        code, said = await bot_until_exit("run", env=env, cwd=tmp_path)
        assert code == EXIT_SECOND_REPLICA, said
        assert "refusing to start" in said
        assert "DATABASE_URL" in said and "PostgreSQL" in said
        assert str(tmp_path / "bot.db") in said
        assert f"process {first.process.pid if first.process else '?'}" in said
        assert "Traceback" not in said
        assert first.running
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{first.port}/healthz")
        assert health.status_code in (200, 503)  # answering, whatever the poller's state
    finally:
        assert await first.stop() == 0, first.log()
    # With the first one gone, a new bot on the file starts.
    again = Replica("again", env, tmp_path, [sys.executable, "-m", "bot", "run"])
    await again.start()
    assert await again.stop() == 0, again.log()
