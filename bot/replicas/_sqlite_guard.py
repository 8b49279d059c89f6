"""One bot per SQLite file: a second process on the same file is refused at start-up.

The guard is an exclusive ``flock`` on ``<database file>.lock``, held for the life of the
process. The kernel drops it when the process ends in any way (SIGKILL included), so a bot
restarted after a crash starts at once, while a second bot started beside a live one is
told, before it touches the database, to use PostgreSQL for replicas.

A lock row in the database would need a TTL, and would refuse a crashed bot's restart until
it lapsed; the file lock has no such window. (SQLite across hosts is unsupported anyway: its
own locking needs one kernel, or a network filesystem whose locks work, and then so do these.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "EXIT_SECOND_REPLICA",
    "SecondReplicaError",
    "SingleReplicaLock",
    "lock_sqlite_file",
    "sqlite_database_file",
]

# The process exit code when start-up is refused (2 is bad settings, 1 a crash).
EXIT_SECOND_REPLICA = 3
_POSTGRES_HINT = "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE"


class SecondReplicaError(RuntimeError):
    """Another bot process already uses this SQLite database; ``str()`` says what to do."""

    def __init__(self, path: Path, other_pid: int | None) -> None:
        self.path = path
        self.other_pid = other_pid
        who = f"process {other_pid}" if other_pid else "another process"
        super().__init__(
            f"refusing to start: DATABASE_URL points at the SQLite file {str(path)!r}, which "
            f"another exports-bot ({who}) is already using. SQLite supports one bot at a time. "
            "Stop the other bot, or, to run several replicas, point every replica's "
            f"DATABASE_URL at one PostgreSQL database ({_POSTGRES_HINT})."
        )


@dataclass(eq=False)
class SingleReplicaLock:
    """The held lock on one SQLite file; :meth:`release` on shutdown (the kernel does on exit)."""

    database: Path
    lock_path: Path
    _fd: int | None = field(default=None, repr=False)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let another bot use the file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def lock_sqlite_file(database_url: str) -> SingleReplicaLock | None:
    """Take the one-bot lock for ``database_url``'s SQLite file.

    Returns None when there is no file to guard (PostgreSQL, in-memory SQLite).
    Raises :class:`SecondReplicaError` when another live process holds it, ValueError for a
    URL SQLAlchemy can't parse, OSError when the lock file can't be created.
    """
    database = sqlite_database_file(database_url)
    if database is None:
        return None
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_name(database.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = _read_pid(fd)
        os.close(fd)
        raise SecondReplicaError(database, other) from None
    except BaseException:
        os.close(fd)
        raise
    # Who holds it, for the refusal message of the next one.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return SingleReplicaLock(database=database, lock_path=lock_path, _fd=fd)


def sqlite_database_file(database_url: str) -> Path | None:
    """The file behind a SQLite URL (absolute), or None for other databases and ``:memory:``."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ValueError("DATABASE_URL is not a database URL SQLAlchemy can parse") from None
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file::memory:"):
        return None
    if name.startswith("file:"):  # SQLite URI filename
        name = name.removeprefix("file:").split("?", 1)[0]
    return Path(name).expanduser().resolve()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
