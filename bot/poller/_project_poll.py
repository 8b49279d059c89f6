"""One project's part of a poll cycle: fetch its jobs, decide its alerts, say what to save.

Kept apart from ``Poller`` (``_poller``), which runs the cycle and its batches' store writes:
``ProjectPoller`` fetches and decides a project and keeps what the last cycles learned of its
listing (to plan the next fetch), ``ProjectPoll`` carries one project's cycle from its fetch
to its save, ``poll_result`` says what to save of it, and ``MuteCheck`` reads the mutes once
per cycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.app import Services
from bot.core.alerting import (
    AlertDecision,
    AlertIntent,
    ChannelSubscription,
    SeenJob,
    TrackedJob,
    decide_alerts,
    full_job,
)
from bot.core.fetch_plan import Depths, Offsets, Watermark
from bot.links.proactive import CycleDms, JobOutcome, outcomes_seen
from bot.peaka import PeakaClient, Status
from bot.poller._fetch import ProjectFetch, fetch_project
from bot.poller._tracked import TrackedCopies
from bot.store import AlertKey, JobState, PollResult, PollSnapshot, ProjectState, Store

__all__ = [
    "EXPIRY_CHECK_SECONDS",
    "LAST_POLLED_RESOLUTION",
    "MuteCheck",
    "ProjectPoll",
    "ProjectPoller",
    "poll_result",
]

log = logging.getLogger(__name__)

# SUCCEEDED jobs are checked for expiry (off the first pages) at most this often.
EXPIRY_CHECK_SECONDS = 300.0
# An unchanged project's ``last_polled_at`` is rewritten at most this often (seconds).
LAST_POLLED_RESOLUTION = 300.0


class ProjectPoller:
    """Fetches and decides one project at a time, for ``Poller``; no store work.

    Keeps, per project, what the last cycles learned of its listing, so the next fetch
    lists no deeper than it must; ``forget`` drops it. ``tracked`` is the poller's copy of
    the tracked jobs (``_tracked``), read here, written by the poller's saves.
    """

    def __init__(
        self,
        services: Services,
        peaka: PeakaClient,
        tracked: TrackedCopies,
        *,
        monotonic: Callable[[], float],
        rebaseline_after: timedelta,
    ) -> None:
        self._services = services
        self._peaka = peaka
        self._tracked = tracked
        self._monotonic = monotonic
        self._rebaseline_after = rebaseline_after
        self._expiry_checked: dict[str, float] = {}
        self._reach: dict[str, int] = {}  # per project: how deep the last cycle had to list
        # Per project: how many jobs lay above each tracked job (exact page counts).
        self._depths: dict[str, Depths] = {}
        # Per project: how many stragglers finished last cycle (how many to expect now).
        self._finished: dict[str, int] = {}
        self._offsets: dict[str, Offsets] = {}  # per project: tracked jobs' relative places

    def forget(self, project_id: str) -> None:
        """Drop what was learned of ``project_id``'s listing (its next fetch starts afresh)."""
        self._reach.pop(project_id, None)
        self._depths.pop(project_id, None)
        self._finished.pop(project_id, None)
        self._offsets.pop(project_id, None)

    def retain(self, project_ids: Collection[str]) -> None:
        """Drop what was learned of projects not in ``project_ids`` (e.g. whose lease moved
        on): it would only go stale, since another replica's cycles move the listing on."""
        keep = set(project_ids)
        memories = (self._reach, self._depths, self._finished, self._offsets, self._expiry_checked)
        for memory in memories:
            for project_id in memory.keys() - keep:
                del memory[project_id]

    async def fetch_and_decide(
        self,
        project_id: str,
        subs: list[ChannelSubscription],
        loaded: PollSnapshot,
        mutes: MuteCheck,
        dms: CycleDms | None,
    ) -> ProjectPoll:
        """One project's fetch and decision (``loaded``: its poll state, read for the batch)."""
        state = loaded.state
        watermark = None
        now = self._services.clock()
        if state is not None and state.baseline_at is not None:
            watermark = Watermark(state.newest_created_at, state.newest_seen_ids)
            last = state.last_polled_at
            if last is not None and now - last > self._rebaseline_after:
                # Not polled for long (no subscription, or the bot was down): what appeared
                # meanwhile is history now. Jobs it was following still alert when done.
                log.info(
                    "project %s was last polled at %s: taking a new baseline", project_id, last
                )
                watermark = None
        known = self._tracked.known(project_id, loaded)
        expiry_due = self._expiry_due(project_id) and any(
            Status.EXPIRED in s.statuses for s in subs
        )
        fetched = await fetch_project(
            self._peaka,
            project_id,
            watermark=watermark,
            tracked=known,
            check_expiry=expiry_due,
            previous_reach=self._reach.get(project_id),
            previous_depths=self._depths.get(project_id),
            previous_finished=self._finished.get(project_id),
            previous_offsets=self._offsets.get(project_id),
        )
        if fetched.reach is not None:
            self._reach[project_id] = fetched.reach
        self._depths[project_id] = fetched.depths
        self._offsets[project_id] = fetched.offsets
        if fetched.finished_stragglers is not None:
            self._finished[project_id] = fetched.finished_stragglers
        if expiry_due:
            self._expiry_checked[project_id] = self._monotonic()

        # The jobs deciding acts on (most listed jobs are settled: they would do nothing).
        observed = fetched.observed if fetched.to_decide is None else fetched.to_decide

        def decide(muted: set[str]) -> AlertDecision:
            return decide_alerts(
                project_id,
                known=known,
                observed=observed,
                listed=fetched.listed,
                subscriptions=subs,
                watermark=watermark,
                muted=muted,
            )

        decision = decide(set())
        # Ask about mutes only for channels that have something to hear (most have not).
        muted = {c for c in {i.channel for i in decision.alerts} if await mutes.muted(c)}
        if muted:
            decision = decide(muted)
        outcomes = []
        if dms is not None:
            outcomes = outcomes_seen(
                project_id, known=known, observed=observed, watermark=watermark
            )
        return ProjectPoll(
            project_id=project_id,
            state=state,
            revision=loaded.revision,
            known=known,
            watermark=watermark,
            now=now,
            fetched=fetched,
            decision=decision,
            intents={AlertKey(i.job.id, i.status, i.channel): i for i in decision.alerts},
            muted=[AlertKey(i.job.id, i.status, i.channel) for i in decision.suppressed],
            outcomes=outcomes,
        )

    def _expiry_due(self, project_id: str) -> bool:
        last = self._expiry_checked.get(project_id)
        return last is None or self._monotonic() - last >= EXPIRY_CHECK_SECONDS


@dataclass(slots=True)
class ProjectPoll:
    """One project's cycle between its fetch and its save."""

    project_id: str
    state: ProjectState | None
    revision: str | None  # of the state read (see ``_tracked``)
    known: Mapping[str, TrackedJob]  # the tracked jobs stored at that revision
    watermark: Watermark | None
    now: datetime
    fetched: ProjectFetch
    decision: AlertDecision
    intents: dict[AlertKey, AlertIntent]
    muted: list[AlertKey]
    outcomes: list[JobOutcome]


def poll_result(poll: ProjectPoll) -> PollResult:
    """What to save of one project's cycle: tracked jobs and, if it moved, the watermark."""
    project_id, decision, fetched = poll.project_id, poll.decision, poll.fetched
    state, watermark, now = poll.state, poll.watermark, poll.now
    seen: dict[str, SeenJob] = {job.id: job for job in fetched.observed}
    changed = tuple(
        JobState(project_id, t.job_id, t.status, t.created_at, _owner(seen.get(t.job_id)))
        for t in decision.changed
    )
    dropped = set(decision.dropped) | (set(fetched.gone) & set(decision.tracked))
    if watermark is None:
        log.info(
            "project %s: baseline of %d job(s) taken, %d unfinished tracked; no alerts",
            project_id,
            len(fetched.listed),
            len(decision.tracked),
        )
    saved = None
    if watermark is None or watermark != decision.watermark or _stale(state, now):
        saved = ProjectState(
            project_id=project_id,
            baseline_at=now if watermark is None or state is None else state.baseline_at,
            newest_created_at=decision.watermark.created_at,
            newest_seen_ids=decision.watermark.ids,
            last_polled_at=now,
        )
    return PollResult(project_id, upsert=changed, delete=frozenset(dropped), state=saved)


def _stale(state: ProjectState | None, now: datetime) -> bool:
    """Whether the saved ``last_polled_at`` is old enough to be worth a write."""
    if state is None or state.last_polled_at is None:
        return True
    return now - state.last_polled_at >= timedelta(seconds=LAST_POLLED_RESOLUTION)


def _owner(job: SeenJob | None) -> str | None:
    # A changed job is never a summary (``needs_details``); full_job is for the type checker.
    return full_job(job).user_name if job is not None else None


class MuteCheck:
    """Which channels are muted: one read of every mute per cycle, when a first alert asks."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._muted: asyncio.Future[set[str]] | None = None

    async def muted(self, channel: str) -> bool:
        if self._muted is None or _failed(self._muted):
            self._muted = asyncio.ensure_future(self._store.muted_channels())
        return channel in await self._muted


def _failed(future: asyncio.Future[set[str]]) -> bool:
    """Done without an answer (the next caller asks again)."""
    return future.done() and (future.cancelled() or future.exception() is not None)
