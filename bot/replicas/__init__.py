"""Running several copies of the bot: who polls what, and refusing replicas on SQLite.

    guard = lock_sqlite_file(settings.database_url)       # at start-up, before the store opens
    # -> None on PostgreSQL; raises SecondReplicaError if another bot has the SQLite file
    services.poller = poller_for(services)                # what bot.server.start_bot attaches

    # What the ReplicaPoller does with its ProjectLeases:
    leases = ProjectLeases(store, interval=settings.poll_interval)
    leases.start_heartbeat()                              # alive, whatever a cycle takes
    projects = await leases.select(subscribed_projects)   # each cycle: poll only these
    await leases.release()                               # clean shutdown

What replicas share
-------------------
Everything that must survive a request landing on another replica is in PostgreSQL:
subscriptions, linked keys, job states, the alert log and "DM me when done" requests. Button
clicks carry their state in the button value (the Older button holds the whole query and the
keyset cursor, ``bot.core.button_values``); Cancel asks for confirmation with a Slack-side
``confirm`` dialog, so no replica holds a pending confirmation. In-process TTL caches are only
a fast path in front of the database.

Dividing the polling
--------------------
Each project has a row in ``project_leases`` (holder, expires_at). Every cycle a replica
counts the live replicas (a background task keeps its own heartbeat fresh, four beats per
interval, each good for one interval) and takes up to ``ceil(projects / live)`` leases:
its own (renewed) first, then free or lapsed ones. Leases beyond the share are released, so
when a replica joins, the others shed projects at their next cycle and it picks them up at
its next; when one dies, its leases lapse after ``LEASE_INTERVALS`` (2) poll intervals and
the survivors, whose share grew as its heartbeat lapsed (never later than its leases), take
them at their next cycle. A clean shutdown releases at once. An outcome is therefore
alerted at most ``2 x interval + lease time`` (plus the work of one cycle) after it
happened, even across a crash: an interval until a poll sees it, the lease lapsing, an
interval until a survivor's next cycle.

Alerts a replica claimed and then died
--------------------------------------
A replica killed between claiming an alert and confirming it leaves the claim behind, and
maybe the message in Slack. At the start of each cycle a ``ReplicaPoller`` adopts the
unconfirmed channel-alert claims of replicas that are no longer live
(:func:`adopt_orphaned_claims`: atomic, one adopter per claim, only claims made before the
live replicas were read), and the poller's reconciliation settles them in that same cycle:
found in the channel's history by message metadata -> confirmed, else sent. A live replica's
claims are never adopted, however slow its cycle, because its heartbeat does not depend on
its cycles; only the poller's long stale-claim rule (minutes) reaches those.

Why ``SELECT ... FOR UPDATE SKIP LOCKED`` is safe here
-------------------------------------------------------
``Store.acquire_leases`` reads the candidate rows (mine, free, or lapsed) with
``FOR UPDATE SKIP LOCKED`` and updates the ones it takes in the same transaction.

* *One holder at a time.* A lease row changes holder only in a transaction that holds its
  row lock. Two replicas can't lock one row at once: the second skips it. If the first has
  already committed, the second's locking read re-checks its WHERE clause against the newest
  row version (PostgreSQL does this for locking reads under READ COMMITTED), sees a live
  lease held by someone else, and does not select the row. So no interleaving hands one
  project to two replicas.
* *Skipping loses nothing.* A row is skipped only while another replica's lease transaction
  (milliseconds) holds it; whatever that replica did not take is free again at the next
  cycle, and every replica retries every cycle. SKIP LOCKED never waits, so there are no
  deadlocks and a slow replica can't stall the others' cycles.
* *Leases are for efficiency, not for exactly-once.* A holder can stall past its expiry (a
  long GC pause, a network blip) while another replica takes the project; for a cycle both
  may poll it. What keeps alerts single is the alert log: each (job, status, channel) is
  claimed by ``INSERT ... ON CONFLICT DO NOTHING`` on its primary key before it is posted,
  and exactly one transaction in the whole cluster can win that insert. A lease anomaly
  costs extra Peaka requests, never a second alert.
* *Clocks.* Expiries are written and compared with the replicas' clocks; skew between hosts
  shifts the effective lease time by the skew (NTP keeps that to milliseconds against a
  lease of two poll intervals).

Advisory locks were the alternative. Session-level ones belong to a connection, which a pool
hands around and which can outlive a stuck task; they also give exclusivity but no fair
share, which needs a table of holders anyway. Row leases with expiries need neither.

SQLite
------
SQLite is for one bot. ``lock_sqlite_file`` takes an exclusive file lock beside the database
file, which the kernel releases when the process dies, so a second bot on the same file is
refused at start-up with a message naming DATABASE_URL and PostgreSQL, and a crashed bot can
restart immediately. With one bot there is nothing to divide: it polls every project.
"""

from __future__ import annotations

from bot.replicas._identity import new_replica_id
from bot.replicas._leases import LEASE_INTERVALS, LeaseBackend, ProjectLeases, fair_share
from bot.replicas._replica_poller import (
    SINGLE_INSTANCE_ID,
    ReplicaPoller,
    adopt_orphaned_claims,
    poller_for,
)
from bot.replicas._sqlite_guard import (
    EXIT_SECOND_REPLICA,
    SecondReplicaError,
    SingleReplicaLock,
    lock_sqlite_file,
    sqlite_database_file,
)

__all__ = [
    "EXIT_SECOND_REPLICA",
    "LEASE_INTERVALS",
    "SINGLE_INSTANCE_ID",
    "LeaseBackend",
    "ProjectLeases",
    "ReplicaPoller",
    "SecondReplicaError",
    "SingleReplicaLock",
    "adopt_orphaned_claims",
    "fair_share",
    "lock_sqlite_file",
    "new_replica_id",
    "poller_for",
    "sqlite_database_file",
]
