"""The poller as one replica among several: it polls only the projects it holds leases on.

``poller_for(services)`` is what ``bot.server.start_bot`` attaches:

- on PostgreSQL, a :class:`ReplicaPoller`: each cycle renews this replica's leases (its fair
  share of the subscribed projects) and polls only those; the alert log's ``claimed_by`` is
  the replica id, so claims left by a replica that died are recognised and taken over;
- on SQLite (one bot per file, enforced by the file lock), the plain ``Poller`` over every
  project, with a fixed instance id: a restarted bot settles its predecessor's unconfirmed
  claims at once, as its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.poller import Poller
from bot.replicas._leases import ProjectLeases
from bot.store import AlertKey

if TYPE_CHECKING:
    from bot.app import Services
    from bot.core.alerting import ChannelSubscription
    from bot.store import Store, Subscription

__all__ = ["SINGLE_INSTANCE_ID", "ReplicaPoller", "adopt_orphaned_claims", "poller_for"]

log = logging.getLogger(__name__)

# The poller's alert-log identity on SQLite, where only one bot can run on a file.
SINGLE_INSTANCE_ID = "single"
# Alert-log targets that are direct messages: bot.links.proactive sends and settles those.
_DM_PREFIX = "dm:"


def poller_for(services: Services) -> Poller:
    """The poller for these services (store and Slack client set): leased on PostgreSQL."""
    store = services.store
    if store is None:
        raise ValueError("the poller needs a database: services.store is None")
    if store.dialect == "postgresql":
        leases = ProjectLeases(store, services.settings.poll_interval)
        return ReplicaPoller(services, leases=leases)
    return Poller(services, instance_id=SINGLE_INSTANCE_ID)


class ReplicaPoller(Poller):
    """A ``Poller`` whose projects are this replica's leased share (see ``bot.replicas``)."""

    def __init__(self, services: Services, *, leases: ProjectLeases, **options: Any) -> None:
        super().__init__(services, instance_id=leases.replica_id, **options)
        self.leases = leases
        self._claims: Store = services.store

    async def _projects_to_poll(
        self, subscriptions: Sequence[Subscription]
    ) -> dict[str, list[ChannelSubscription]]:
        """Renew the leases on the subscribed projects; keep the ones this replica holds.

        Also adopts the unconfirmed alert claims of replicas that are no longer alive, so
        this cycle's reconciliation settles them (find in history, or send) now rather than
        after the usual stale-claim wait meant for live, merely slow, replicas.
        """
        projects = await super()._projects_to_poll(subscriptions)
        held = set(await self.leases.select(projects))
        await adopt_orphaned_claims(self._claims, self.leases)
        return {project: subs for project, subs in projects.items() if project in held}

    async def start(self) -> None:
        """Start the heartbeat, then polling."""
        self.leases.start_heartbeat()
        await super().start()

    async def stop(self) -> None:
        """Stop polling, then hand the leases back so the others take over at once."""
        await super().stop()
        await self.leases.release()


async def adopt_orphaned_claims(store: Store, leases: ProjectLeases) -> list[AlertKey]:
    """Reclaim, for ``leases.replica_id``, channel-alert claims whose replica is not live.

    Only claims made before the live replicas were last read (a replica that joined since
    may have claimed after); ``reclaim_alert`` is atomic, so of several replicas adopting at
    once exactly one gets each claim. Returns the keys adopted.
    """
    seen_at = leases.live_seen_at
    if seen_at is None:
        return []
    adopted = []
    for record in await store.unconfirmed_alerts(claimed_before=seen_at):
        orphaned = record.claimed_by not in leases.live
        if record.key.target.startswith(_DM_PREFIX) or not orphaned:
            continue
        if await store.reclaim_alert(record.key, leases.replica_id, seen_at):
            adopted.append(record.key)
    if adopted:
        log.info(
            "took over %d unconfirmed alert(s) of replicas that stopped: %s",
            len(adopted),
            ", ".join(f"{k.job_id}/{k.status.value}/{k.target}" for k in adopted[:5]),
        )
    return adopted
