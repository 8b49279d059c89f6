"""The poller: every POLL_INTERVAL, each subscribed project's jobs -> alerts in Slack.

One cycle:

1. load the subscriptions; projects with a subscription that isn't broken are polled
   (``_projects_to_poll``, where leases will slot in), minus those backing off;
2. settle leftover alerts (claimed before, never confirmed) against channel history;
3. in batches of BATCH_SIZE projects (BATCH_LANES batches at a time): read the batch's poll
   state in one query (job rows only where this process has no current copy, see
   ``_tracked``); per project, in parallel and isolated from each other, fetch
   (``_fetch``) and decide (``bot.core.alerting.decide_alerts``), in ``_project_poll``; then
   for the batch, in one transaction each: claim the alerts (muted ones logged as
   suppressed), send owners' DMs, save the tracked jobs and the watermarks — in that order,
   so a crash or a failed save in between never loses an alert (re-deciding it finds the
   claim);
4. post: a card per alert, or a digest when a channel gets more than five.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache

from bot import metrics
from bot.app import Services
from bot.core.alerting import ChannelSubscription
from bot.links.proactive import CycleDms, sweep_done_requests
from bot.peaka import ExportJob, PeakaClient, PeakaError, RateLimitedError
from bot.poller._backoff import ProjectBackoff
from bot.poller._delivery import Delivery, Outbound
from bot.poller._project_poll import MuteCheck, ProjectPoll, ProjectPoller, poll_result
from bot.poller._reconcile import Leftovers
from bot.poller._tracked import TrackedCopies
from bot.store import (
    AlertDeduplicator,
    AlertKey,
    PollResult,
    PollSnapshot,
    ProjectState,
    Store,
    Subscription,
)

__all__ = ["CycleReport", "Poller"]

log = logging.getLogger(__name__)

# How many projects one cycle polls at once (each is a few sequential requests).
MAX_PROJECTS_IN_PARALLEL = 16
# Projects whose store work goes together: one read of their poll state, one transaction
# of alert claims, one of results (instead of one of each per project).
BATCH_SIZE = MAX_PROJECTS_IN_PARALLEL
# Batches in flight at once. A batch waits for its slowest project (a rate-limited one may
# retry for the Peaka client's whole timeout); meanwhile the other lane uses the fetch slots.
BATCH_LANES = 2

_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
# Another poller's unconfirmed claim is taken over once it is this old (seconds) and at
# least this many intervals old: long past any live poller's post. (Replicas that died are
# handled sooner by the lease layer, which knows they are gone.)
STALE_CLAIM_SECONDS = 600.0
STALE_CLAIM_INTERVALS = 4


@dataclass
class CycleReport:
    """What one cycle did (for logs and tests)."""

    polled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    claimed: int = 0
    suppressed: int = 0
    leftovers: int = 0


class Poller:
    """Polls subscribed projects and posts alerts; see the module docstring for a cycle.

    ``services`` must carry ``store`` and ``slack`` (``users`` is optional: without it owners
    are named, not mentioned). ``interval`` defaults to POLL_INTERVAL. ``instance_id`` names
    this poller in the alert log (keep it stable across restarts of the same replica).
    ``peaka`` defaults to ``services.peaka_for()``. ``monotonic`` (seconds) drives backoff
    and expiry checks; tests pass one tied to their simulated clock. A project not polled for
    ``rebaseline_after`` takes a new baseline: jobs that appeared meanwhile don't alert.
    """

    def __init__(
        self,
        services: Services,
        *,
        interval: float | None = None,
        instance_id: str,
        peaka: PeakaClient | None = None,
        dedup: AlertDeduplicator | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        rebaseline_after: timedelta = timedelta(hours=6),
    ) -> None:
        store: Store | None = services.store
        if store is None:
            raise ValueError("the poller needs a database: services.store is None")
        if services.slack is None:
            raise ValueError("the poller needs a Slack client: services.slack is None")
        chosen = services.settings.poll_interval if interval is None else interval
        if not chosen > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {chosen!r}")
        if not instance_id or not isinstance(instance_id, str):
            raise ValueError("instance_id must be a non-empty string naming this poller")
        self.interval = float(chosen)
        self.instance_id = instance_id
        self.last_cycle_at: datetime | None = None
        self._services = services
        self._store = store
        self._peaka = peaka or services.peaka_for()
        self._dedup = dedup or AlertDeduplicator(store)
        self._backoff = ProjectBackoff(base=self.interval, clock=monotonic, rng=rng)
        # Bounded fan-out: thousands of projects at once would time out each other's requests
        # (and back each other off) instead of finishing sooner.
        self._in_parallel = asyncio.Semaphore(MAX_PROJECTS_IN_PARALLEL)
        self._tracked = TrackedCopies()  # per project: the tracked jobs, while still current
        self._projects = ProjectPoller(
            services,
            self._peaka,
            self._tracked,
            monotonic=monotonic,
            rebaseline_after=rebaseline_after,
        )
        self._subscribed: set[str] | None = None
        # Jobs of claimed alerts not sent yet, so a retry next cycle needs no Read Export.
        self._jobs: TTLCache[str, ExportJob] = TTLCache(maxsize=20_000, ttl=6 * 3600)
        self._delivery = Delivery(
            store, self._dedup, services.slack, services.users, services.projects.label
        )
        self._leftovers = Leftovers(
            store=store,
            dedup=self._dedup,
            slack=services.slack,
            peaka=self._peaka,
            delivery=self._delivery,
            instance_id=instance_id,
            known_jobs=self._jobs.get,
            now=services.clock,
        )
        self._cycle_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The running loop's task (None before ``start``)."""
        return self._task

    async def start(self) -> None:
        """Start polling in the background: a cycle now, then one every ``interval``."""
        if self._task is not None and not self._task.done():
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name=f"poller {self.instance_id}")

    async def stop(self) -> None:
        """Stop after the cycle in flight (its posts included) has finished."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            began = loop.time()
            try:
                await self.run_cycle()
            except Exception:
                log.exception("poll cycle failed; trying again in %.0f s", self.interval)
            pause = max(0.0, self.interval - (loop.time() - began))
            try:
                async with asyncio.timeout(pause):
                    await self._stopping.wait()
            except TimeoutError:
                pass

    # --- one cycle ---------------------------------------------------------------------------

    async def run_cycle(self) -> CycleReport:
        """Run one poll cycle over every subscribed project and deliver its alerts."""
        async with self._cycle_lock:
            started = time.perf_counter()
            report = CycleReport()
            subscriptions = await self._store.list_subscriptions()
            working = {s.channel_id for s in subscriptions if not s.broken_reason}
            broken = {
                s.channel_id: s.broken_reason
                for s in subscriptions
                if s.broken_reason and s.channel_id not in working
            }
            await self._forget_unsubscribed(subscriptions)
            # Before the leftovers: a leased poller adopts dead replicas' claims in here.
            projects = await self._projects_to_poll(subscriptions)
            self._tracked.retain(projects)
            self._projects.retain(projects)
            now = self._services.clock()
            age = max(STALE_CLAIM_SECONDS, STALE_CLAIM_INTERVALS * self.interval)
            stale = now - timedelta(seconds=age)
            leftovers = await self._leftovers.collect(stale_before=stale, broken=broken)
            report.leftovers = len(leftovers)
            mutes = MuteCheck(self._store)
            dms: CycleDms | None = None
            if self._services.settings.linking_enabled:
                dms = CycleDms(self._services)
                await dms.recover()
            ready = {}
            for project_id, subs in projects.items():
                if self._backoff.ready(project_id):
                    ready[project_id] = subs
                else:
                    report.skipped.append(project_id)
            fresh = await self._poll_batches(ready, mutes, dms, report)
            outbound = [*leftovers, *fresh]
            self._keep_jobs_of(await self._delivery.deliver(outbound), outbound)
            if self._services.settings.linking_enabled:
                # Subscribed projects are some replica's poll (the outcome path DMs there);
                # the sweep reads only the jobs people wait for in the others.
                watched = {s.project_id for s in subscriptions if not s.broken_reason}
                await sweep_done_requests(self._services, polled=watched)
            elapsed = time.perf_counter() - started
            metrics.POLL_CYCLE_SECONDS.observe(elapsed)
            metrics.POLL_LAST_CYCLE.set(time.time())
            self.last_cycle_at = self._services.clock()
            self._services.poller_last_cycle_at = self.last_cycle_at
            log.debug(
                "poll cycle: %d project(s) polled, %d failed, %d skipped, %d alert(s) claimed, "
                "%d leftover(s), %.2f s",
                len(report.polled),
                len(report.failed),
                len(report.skipped),
                report.claimed,
                report.leftovers,
                elapsed,
            )
            return report

    async def _projects_to_poll(
        self, subscriptions: Sequence[Subscription]
    ) -> dict[str, list[ChannelSubscription]]:
        """The projects this poller polls, each with its working subscriptions.

        Every project with a subscription that isn't broken. (Multi-replica leases will
        narrow this to the projects this replica holds.)
        """
        projects: dict[str, list[ChannelSubscription]] = {}
        for sub in subscriptions:
            if sub.broken_reason:
                continue
            projects.setdefault(sub.project_id, []).append(
                ChannelSubscription(sub.channel_id, frozenset(sub.statuses))
            )
        return projects

    async def _forget_unsubscribed(self, subscriptions: Sequence[Subscription]) -> None:
        """Reset the poll state of projects that lost their last working subscription.

        So a later subscription starts from a fresh baseline instead of alerting on all
        that happened in between. (Seen by this process only; a long gap is also caught by
        ``rebaseline_after``.)
        """
        subscribed = {s.project_id for s in subscriptions if not s.broken_reason}
        before, self._subscribed = self._subscribed, subscribed
        for project_id in sorted(before - subscribed) if before is not None else ():
            log.info("project %s has no working subscription now; forgetting its state", project_id)
            await self._store.save_project_state(ProjectState(project_id))
            await self._store.prune_job_states(project_id, _END_OF_TIME)
            self._projects.forget(project_id)
            self._tracked.drop([project_id])

    async def _poll_batches(
        self,
        ready: dict[str, list[ChannelSubscription]],
        mutes: MuteCheck,
        dms: CycleDms | None,
        report: CycleReport,
    ) -> list[Outbound]:
        """Poll ``ready`` in batches of BATCH_SIZE, BATCH_LANES batches at a time.

        The alerts come back in ``ready``'s order, whichever batch finished first.
        """
        projects = list(ready.items())
        batches = [dict(projects[i : i + BATCH_SIZE]) for i in range(0, len(projects), BATCH_SIZE)]
        alerts: list[list[Outbound]] = [[] for _ in batches]
        pending = iter(enumerate(batches))

        async def lane() -> None:
            # Lanes share ``pending``: each batch goes to whichever lane is free first.
            for index, batch in pending:
                try:
                    alerts[index] = await self._poll_batch(batch, mutes, dms, report)
                except Exception:  # a bug, not a failure of Peaka or the store: go on
                    self._batch_failed(batch, report, "polling a batch")

        await asyncio.gather(*(lane() for _ in range(min(BATCH_LANES, len(batches)))))
        return [alert for batch in alerts for alert in batch]

    async def _poll_batch(
        self,
        projects: dict[str, list[ChannelSubscription]],
        mutes: MuteCheck,
        dms: CycleDms | None,
        report: CycleReport,
    ) -> list[Outbound]:
        """One batch of projects' cycle; failures back off the projects they hit, never raise.

        The store work is per batch: one read of the projects' poll state, then each
        project is fetched and decided on its own (a failure backs off only that project),
        then one transaction claims the alerts of all of them (and logs muted ones), the
        owners' DMs go out, and one transaction saves what they track and their watermarks.
        Claims before saves: a crash or a failed save in between re-decides the same alerts
        next cycle from the old state, and the log refuses them (the leftovers pass sends
        what was never confirmed). Returns every alert this batch claimed.
        """
        try:
            loaded = await self._store.poll_snapshots(self._tracked.held(projects))
        except Exception:
            self._batch_failed(projects, report, "reading the poll state")
            return []
        polled = await asyncio.gather(
            *(
                self._fetch_safely(project_id, subs, loaded[project_id], mutes, dms, report)
                for project_id, subs in projects.items()
            )
        )
        polls = [poll for poll in polled if poll is not None]
        if not polls:
            return []
        # 1. Claims first (see above), all of the batch in one transaction.
        try:
            won, suppressed = await self._dedup.claim_batch(
                {key: poll.project_id for poll in polls for key in poll.intents},
                self.instance_id,
                suppressed={key: poll.project_id for poll in polls for key in poll.muted},
            )
        except Exception:
            self._batch_failed([poll.project_id for poll in polls], report, "claiming alerts")
            return []
        report.suppressed += len(suppressed)
        mine = set(won)
        outbound: list[Outbound] = []
        for poll in polls:
            for key, intent in poll.intents.items():
                if key in mine:
                    mine.discard(key)  # once, even if two projects decided the same key
                    self._jobs[intent.job.id] = intent.job
                    outbound.append(Outbound.of(key, poll.project_id, intent.job))
        report.claimed += len(outbound)
        if dms is not None:
            # Owners' DMs go through the same once-only log; before the state is saved, so a
            # crash re-decides them rather than losing them.
            await dms.after_projects({poll.project_id: poll.outcomes for poll in polls})
        # 2. Then what is tracked and the watermarks, in one transaction. A failed save keeps
        #    the old state (the next cycle re-decides); the claimed alerts still go out.
        results: dict[str, PollResult] = {}
        for poll in polls:
            try:
                results[poll.project_id] = poll_result(poll)
            except Exception as exc:
                self._project_failed(poll.project_id, report, exc)
        by_project = {poll.project_id: poll for poll in polls}
        try:
            await self._save(results.values(), by_project)
        except ValueError:
            # One project's bad data must not cost the others their save.
            for result in results.values():
                await self._save_one(result, by_project, report)
        except Exception:
            self._batch_failed(list(results), report, "saving the poll results")
        else:
            for project_id in results:
                self._project_succeeded(project_id, report)
        return outbound

    def _keep_jobs_of(self, pending: set[AlertKey], alerts: Sequence[Outbound]) -> None:
        """Keep only the jobs a retry needs: those of ``pending`` alerts. A sent alert's job
        would only cost memory until its TTL (20,000 jobs: ~10 MB). A job whose other alert
        is still waiting elsewhere (an older claim not up for retry yet) is dropped too: that
        retry reads it, as after a restart."""
        waiting = {key.job_id for key in pending}
        for alert in alerts:
            if alert.key.job_id not in waiting:
                self._jobs.pop(alert.key.job_id, None)

    @property
    def jobs_awaiting_delivery(self) -> int:
        """How many claimed alerts' jobs this poller holds for a retry (see ``_jobs``)."""
        return len(self._jobs)

    async def _save_one(
        self, result: PollResult, polls: dict[str, ProjectPoll], report: CycleReport
    ) -> None:
        try:
            await self._save([result], polls)
        except Exception as exc:
            self._project_failed(result.project_id, report, exc)
        else:
            self._project_succeeded(result.project_id, report)

    async def _save(self, results: Iterable[PollResult], polls: dict[str, ProjectPoll]) -> None:
        """Save ``results``; then keep as this process's copy what is stored now, where the
        save found the revision each cycle read at (else drop the copy: read it anew)."""
        results = list(results)
        expected = {r.project_id: polls[r.project_id].revision for r in results}
        current = await self._store.save_poll_results(results, expected=expected)
        for result in results:
            poll = polls[result.project_id]
            if result.project_id in current:
                self._tracked.saved(result, poll.known, current[result.project_id])
            elif result.writes:
                self._tracked.drop([result.project_id])

    def _project_succeeded(self, project_id: str, report: CycleReport) -> None:
        self._backoff.succeeded(project_id)
        report.polled.append(project_id)

    def _project_failed(self, project_id: str, report: CycleReport, exc: Exception) -> None:
        """Back the project off after ``exc`` (logged; a Peaka error without a traceback).

        Its copy of the tracked jobs is dropped: whatever failed, the next read is fresh.
        """
        self._tracked.drop([project_id])
        if isinstance(exc, RateLimitedError):
            pause = self._backoff.failed(project_id, exc.retry_after)
            log.warning("project %s: %s; skipping it for %.0f s", project_id, exc, pause)
        elif isinstance(exc, PeakaError):
            pause = self._backoff.failed(project_id)
            log.warning("project %s: %s; skipping it for %.0f s", project_id, exc, pause)
        else:
            pause = self._backoff.failed(project_id)
            log.error(
                "polling project %s failed; skipping it for %.0f s",
                project_id,
                pause,
                exc_info=exc,
            )
        report.failed.append(project_id)

    def _batch_failed(self, projects: Iterable[str], report: CycleReport, doing: str) -> None:
        """Back off every project of a batch whose store step failed; logged once.

        Their copies of the tracked jobs are dropped (a failed commit may have committed).
        """
        failed = list(projects)
        self._tracked.drop(failed)
        pauses = [self._backoff.failed(project_id) for project_id in failed]
        report.failed += failed
        log.exception(
            "%s for %d project(s) failed; skipping them for up to %.0f s",
            doing,
            len(failed),
            max(pauses, default=0.0),
        )

    async def _fetch_safely(
        self,
        project_id: str,
        subs: list[ChannelSubscription],
        loaded: PollSnapshot,
        mutes: MuteCheck,
        dms: CycleDms | None,
        report: CycleReport,
    ) -> ProjectPoll | None:
        """One project's fetch and decision; None (and backed off) when it failed."""
        try:
            async with self._in_parallel:
                return await self._projects.fetch_and_decide(project_id, subs, loaded, mutes, dms)
        except Exception as exc:
            self._project_failed(project_id, report, exc)
            return None
