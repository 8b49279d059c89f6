"""Project leases: which projects this replica polls this cycle.

One call per poll cycle, :meth:`ProjectLeases.select`, does three things in order:

1. heartbeat: "this replica is alive for ``ttl`` more" (the ``replicas`` table);
2. count the live replicas and work out the fair share, ``ceil(projects / live)``;
3. renew this replica's leases and take free or lapsed ones, up to the fair share
   (the store releases any beyond it, so work moves to a replica that just joined).

The heartbeat is written just before the leases, with the same TTL, so a dead replica
drops out of the live count no later than its leases lapse: by the time its projects are
free, the survivors' fair share already has room for them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.replicas._identity import new_replica_id

__all__ = ["LEASE_INTERVALS", "LeaseBackend", "ProjectLeases", "fair_share"]

log = logging.getLogger(__name__)

# A lease (and a heartbeat) lasts this many poll intervals. Renewed every cycle, so one slow
# or missed cycle doesn't lose it; a dead replica's projects are free again within this.
LEASE_INTERVALS = 2.0


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

    def __post_init__(self) -> None:
        if not self.interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {self.interval}")

    @property
    def ttl(self) -> timedelta:
        """How long a lease and a heartbeat last without renewal."""
        return timedelta(seconds=LEASE_INTERVALS * self.interval)

    async def select(self, project_ids: Collection[str]) -> list[str]:
        """Beat, renew, take the fair share of ``project_ids``; the projects to poll now.

        Database errors propagate: a replica that can't renew must not poll on stale
        leases (they lapse, and another replica takes the projects over).
        """
        wanted = sorted(set(project_ids))
        await self.store.heartbeat(self.replica_id, self.ttl)
        seen_at = self.clock()
        live = frozenset(await self.store.live_replicas()) | {self.replica_id}
        self.live, self.live_seen_at = live, seen_at
        share = fair_share(len(wanted), len(live))
        held = await self.store.acquire_leases(self.replica_id, wanted, self.ttl, share)
        if len(held) < share and await self._free_left(wanted):
            # Another replica's lease transaction had those rows locked, so they were
            # skipped; it is over in milliseconds. Try once more rather than leave a lapsed
            # project unpolled for a whole cycle.
            await asyncio.sleep(random.uniform(0.005, 0.05))
            held = await self.store.acquire_leases(self.replica_id, wanted, self.ttl, share)
        self._note(held, len(live), share)
        return held

    def takeover_cutoff(self, claimed_by: str, stale_before: datetime) -> datetime:
        """Claims by ``claimed_by`` made before the returned time may be taken over.

        An unconfirmed alert claim normally waits until ``stale_before`` (its replica may be
        slow, not dead). A claimant missing from the live replicas at the last heartbeat
        read is dead (or stalled for a whole lease time): its claims made before that read
        are taken over now, so its alerts go out within the lease time, not later. Claims
        after the read may come from a replica that has just joined, so they still wait.
        """
        if self.live_seen_at is None or claimed_by in self.live:
            return stale_before
        return max(stale_before, self.live_seen_at)

    async def _free_left(self, wanted: list[str]) -> bool:
        holders = await self.store.lease_holders()
        return any(project not in holders for project in wanted)

    async def release(self) -> None:
        """Give up every lease and leave the registry (clean shutdown), so the others take
        the projects at their next cycle instead of waiting for the leases to lapse."""
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
