"""Who this process is, among the replicas sharing one database."""

from __future__ import annotations

import os
import re
import secrets
import socket

__all__ = ["new_replica_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def new_replica_id() -> str:
    """``host-pid-random``: unique per process start, readable in logs and in the database.

    The random part matters: a container restarted after a crash can get the same host
    name and pid, and must not be mistaken for the dead process that held the old leases.
    """
    host = _UNSAFE.sub("-", socket.gethostname())[:40].strip("-") or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"
