"""Project leases: which projects this replica polls this cycle.

One call per poll cycle, :meth:`ProjectLeases.select`, does three things in order:

1. heartbeat: "this replica is alive for one more interval" (the ``replicas`` table; a
   background task started with :meth:`ProjectLeases.start_heartbeat` also beats four times
   an interval, so a slow cycle never makes a live replica look dead);
2. count the live replicas and work out the fair share, ``ceil(projects / live)``;
3. renew this replica's leases and take free or lapsed ones, up to the fair share
   (the store releases any beyond it, so work moves to a replica that just joined).

A dead replica drops out of the live count no later than its leases lapse (see
``HEARTBEAT_TTL_INTERVALS``): by the time its projects are free, the survivors' fair share
already has room for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.exc import DBAPIError

from bot.replicas._identity import new_replica_id

__all__ = [
    "HEARTBEAT_INTERVALS",
    "HEARTBEAT_TTL_INTERVALS",
    "LEASE_INTERVALS",
    "LeaseBackend",
    "ProjectLeases",
    "fair_share",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
# deadlock_detected, serialization_failure: the transaction was rolled back; retry it.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
# A lease lasts this many poll intervals. Renewed every cycle, so one slow or missed cycle
# doesn't lose it; a dead replica's projects are free again within this.
LEASE_INTERVALS = 2.0
# A heartbeat lasts one interval and is renewed every quarter interval by a background task:
# a live replica never lapses (three beats of slack), and a dead one has left the live count
# by the time its leases lapse (its last beat is at most an interval after its last renewal),
# so the survivors' fair share has room for its projects at once.
HEARTBEAT_TTL_INTERVALS = 1.0
HEARTBEAT_INTERVALS = 0.25


class LeaseBackend(Protocol):
    """What the leases need from the database (``bot.store.Store`` has all of it)."""

    async def heartbeat(self, replica_id: str, ttl: timedelta) -> None: ...

    async def live_replicas(self) -> list[str]: ...

    async def acquire_leases(
        self, holder: str, project_ids: Iterable[str], ttl: timedelta, max_projects: int
    ) -> list[str]: ...

    async def release_leases(self, holder: str) -> int: ...

    async def lease_holders(self) -> dict[str, str]: ...

    async def forget_replica(self, replica_id: str) -> None: ...


def fair_share(projects: int, replicas: int) -> int:
    """How many projects one replica may hold: ``ceil(projects / replicas)`` (replicas >= 1)."""
    if projects < 0:
        raise ValueError(f"projects must be 0 or more, got {projects}")
    return math.ceil(projects / max(1, replicas))


@dataclass(eq=False)
class ProjectLeases:
    """This replica's share of the projects, renewed once per poll cycle.

    ``interval``: POLL_INTERVAL in seconds; leases last ``LEASE_INTERVALS`` of them.
    ``held`` is what the last :meth:`select` returned; ``live`` the replicas that were alive
    then and ``live_seen_at`` when that was read (by ``clock``, which should be the store's).
    """

    store: LeaseBackend
    interval: float
    replica_id: str = field(default_factory=new_replica_id)
    held: tuple[str, ...] = ()
    live: frozenset[str] = frozenset()
    live_seen_at: datetime | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    _beating: asyncio.Task[None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {self.interval}")

    @property
    def ttl(self) -> timedelta:
        """How long a lease lasts without renewal."""
        return timedelta(seconds=LEASE_INTERVALS * self.interval)

    @property
    def heartbeat_ttl(self) -> timedelta:
        """How long a heartbeat lasts without renewal."""
        return timedelta(seconds=HEARTBEAT_TTL_INTERVALS * self.interval)

    async def beat(self) -> None:
        """Say this replica is alive for ``heartbeat_ttl`` more."""
        await _retrying_conflicts(lambda: self.store.heartbeat(self.replica_id, self.heartbeat_ttl))

    async def select(self, project_ids: Collection[str]) -> list[str]:
        """Beat, renew, take the fair share of ``project_ids``; the projects to poll now.

        Database errors propagate: a replica that can't renew must not poll on stale
        leases (they lapse, and another replica takes the projects over).
        """
        wanted = sorted(set(project_ids))
        await self.beat()
        seen_at = self.clock()
        live = frozenset(await self.store.live_replicas()) | {self.replica_id}
        self.live, self.live_seen_at = live, seen_at
        share = fair_share(len(wanted), len(live))

        async def acquire() -> list[str]:
            return await self.store.acquire_leases(self.replica_id, wanted, self.ttl, share)

        held = await _retrying_conflicts(acquire)
        if len(held) < share and await self._free_left(wanted):
            # Another replica's lease transaction had those rows locked, so they were
            # skipped; it is over in milliseconds. Try once more rather than leave a lapsed
            # project unpolled for a whole cycle.
            await asyncio.sleep(random.uniform(0.005, 0.05))
            held = await _retrying_conflicts(acquire)
        self._note(held, len(live), share)
        return held

    def start_heartbeat(self) -> None:
        """Beat every ``HEARTBEAT_INTERVALS`` intervals in the background until ``release``.

        Liveness must not depend on how long a poll cycle takes: a replica whose cycle is
        slow (a burst of alerts, a slow Peaka) is alive, and its unconfirmed alert claims
        are its own to settle. Only a process that stopped beating for a whole lease time
        (dead, or frozen) is treated as gone.
        """
        if self._beating is None or self._beating.done():
            self._beating = asyncio.create_task(
                self._beat_forever(), name=f"heartbeat {self.replica_id}"
            )

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception as exc:  # the type only: messages may carry the database URL
                log.warning("heartbeat failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(HEARTBEAT_INTERVALS * self.interval)

    async def _free_left(self, wanted: list[str]) -> bool:
        holders = await self.store.lease_holders()
        return any(project not in holders for project in wanted)

    async def release(self) -> None:
        """Give up every lease and leave the registry (clean shutdown), so the others take
        the projects at their next cycle instead of waiting for the leases to lapse."""
        beating, self._beating = self._beating, None
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        try:
            await self.store.release_leases(self.replica_id)
            await self.store.forget_replica(self.replica_id)
        except Exception as exc:  # the type only: messages may carry the database URL
            log.warning("could not release the project leases (%s); they lapse", type(exc).__name__)
        self.held = ()

    def _note(self, held: list[str], live: int, share: int) -> None:
        before, after = set(self.held), set(held)
        if before != after:
            gained, lost = sorted(after - before), sorted(before - after)
            log.info(
                "replica %s polls %d project(s) (fair share %d of %d live replica(s))%s%s",
                self.replica_id,
                len(held),
                share,
                live,
                f"; took {', '.join(gained)}" if gained else "",
                f"; gave up {', '.join(lost)}" if lost else "",
            )
        self.held = tuple(held)


async def _retrying_conflicts(step: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """Run ``step``, again after a short random pause if PostgreSQL aborted it as a deadlock
    or serialization failure (replicas beating at the same instant can cross on each
    other's rows); each attempt is its own transaction, and the steps are idempotent."""
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except DBAPIError as exc:
            if attempt == attempts or _sqlstate(exc) not in _TRANSIENT_SQLSTATES:
                raise
            log.debug("lease transaction hit %s; retrying", _sqlstate(exc))
            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)
