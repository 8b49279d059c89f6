"""Alert decisions: what the poller knew, what it sees now, who is subscribed -> alerts (pure).

A *transition* is a job the poller knew as not finished that now is, or a job that appeared
and finished between two cycles. Terminal = SUCCEEDED, FAILED, CANCELLED, EXPIRED.

- SUCCEEDED -> EXPIRED alerts channels subscribed to EXPIRED; SUCCEEDED jobs are tracked for
  that only while the project has an EXPIRED subscription.
- A job known as running and now seen EXPIRED succeeded and expired in between: it yields
  both SUCCEEDED and EXPIRED.
- A status this code does not know (one the API adds later) never alerts and is tracked as
  not finished, so the job still alerts once it ends.
- On the first poll of a project (no watermark) nothing alerts: the states seen become the
  baseline, and jobs not finished then are tracked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.fetch_plan import Watermark
from bot.peaka._models import TERMINAL, ExportJob, JobSummary, Status

__all__ = [
    "ALERTABLE",
    "AlertDecision",
    "AlertIntent",
    "ChannelSubscription",
    "SeenJob",
    "TrackedJob",
    "decide_alerts",
    "deciding_on",
    "full_job",
    "needs_details",
    "outcomes_between",
    "settled",
]

# A job as a poll cycle saw it: listed jobs are summaries unless ``needs_details``.
SeenJob = ExportJob | JobSummary

# Read per job below: an Enum member read off its class costs ~10x a module global.
_SUCCEEDED, _EXPIRED = Status.SUCCEEDED, Status.EXPIRED

# The statuses a subscription can alert on.
ALERTABLE: frozenset[Status] = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class TrackedJob:
    """A job the poller follows: its last status and when it was created."""

    job_id: str
    status: Status
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelSubscription:
    """A channel that wants alerts for some terminal statuses of one project's jobs."""

    channel: str
    statuses: frozenset[Status]


@dataclass(frozen=True, slots=True)
class AlertIntent:
    """One alert to deliver: ``job`` reached ``status``, and ``channel`` wants to know."""

    project_id: str
    job: ExportJob
    status: Status
    channel: str

    @property
    def key(self) -> tuple[str, str, str]:
        """(job id, status, channel): an alert with this key is sent at most once."""
        return (self.job.id, self.status.value, self.channel)


@dataclass(slots=True)
class AlertDecision:
    """The outcome of one project's cycle.

    ``alerts`` go out; ``suppressed`` are for muted channels (logged, never sent).
    ``tracked`` is the full set of jobs to follow from now on; ``changed`` the ones whose
    record is new or different, ``dropped`` the ids no longer followed. ``watermark`` is the
    new one (pass the observed pages' jobs to :func:`decide_alerts`'s ``listed``).
    """

    alerts: list[AlertIntent] = field(default_factory=list)
    suppressed: list[AlertIntent] = field(default_factory=list)
    tracked: dict[str, TrackedJob] = field(default_factory=dict)
    changed: list[TrackedJob] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    watermark: Watermark = field(default_factory=Watermark)


def outcomes_between(previous: Status | None, now: Status) -> tuple[Status, ...]:
    """The terminal outcomes a job reached between two observations, oldest first.

    ``previous`` None means the job was not there before (a new job). A status unknown to this
    code is treated as "not finished" on either side.
    """
    if now not in TERMINAL:  # not finished, or a status unknown to this code
        return ()
    if previous is None or previous not in TERMINAL:
        if now is _EXPIRED:
            return (_SUCCEEDED, _EXPIRED)
        return (now,)
    if previous is _SUCCEEDED and now is _EXPIRED:
        return (_EXPIRED,)
    return ()


def needs_details(
    job: SeenJob,
    known: Mapping[str, TrackedJob],
    watermark: Watermark | None,
) -> bool:
    """Whether deciding on ``job`` uses more than its id, status and createdAt.

    Only a job that may alert, or whose tracked record changes (the store keeps its owner),
    needs the full ``ExportJob``: one not tracked before that is unfinished or new since the
    watermark, or a tracked one whose record differs. Most listed jobs are neither.
    """
    before = known.get(job.id)
    if before is not None:  # the record _track would keep differs from the one it had
        return before.status != job.status or before.created_at != job.created_at
    if job.status not in TERMINAL:
        return True
    return watermark is not None and watermark.is_new(job.id, job.created_at)


def settled(job: SeenJob, before: TrackedJob | None, watermark: Watermark | None) -> bool:
    """Whether deciding on ``job`` (tracked as ``before``) does nothing, whoever subscribes.

    No alert, no outcome for :func:`bot.links.proactive.outcomes_seen`, no change to what is
    tracked, with or without an EXPIRED subscription: finished history (not tracked, finished,
    not new since the watermark or on the first poll), or a tracked job seen unfinished as it
    was (the same id, status and createdAt). Most jobs a cycle lists are one or the other.
    """
    # Quiet without an EXPIRED subscription is quiet with one too (that only adds tracked
    # SUCCEEDED jobs seen as they were).
    return _quiet(job, before, watermark, watches_expiry=False)


def deciding_on(
    observed: Iterable[SeenJob], known: Mapping[str, TrackedJob], watermark: Watermark | None
) -> list[SeenJob]:
    """The jobs of ``observed`` that deciding acts on: the latest entry for each id (in the
    order :func:`decide_alerts` takes them), less the :func:`settled` ones.

    :func:`decide_alerts` (given ``listed``) and ``outcomes_seen`` decide the same on these
    as on all of ``observed``, so a caller that deals with the rest cheaply passes only these.
    """
    latest = {job.id: job for job in observed}  # a later entry wins
    return [job for job in latest.values() if not settled(job, known.get(job.id), watermark)]


def decide_alerts(
    project_id: str,
    *,
    known: Mapping[str, TrackedJob],
    observed: Sequence[SeenJob],
    subscriptions: Iterable[ChannelSubscription],
    watermark: Watermark | None,
    muted: Iterable[str] = (),
    listed: Iterable[SeenJob] | None = None,
) -> AlertDecision:
    """Decide the alerts for one project's cycle, and what to track next.

    ``known``: the tracked jobs from before (job id -> TrackedJob). ``observed``: every job
    seen this cycle (listed or read; a later entry for the same id wins); a ``JobSummary``
    that alerts is expanded with ``details()``. ``watermark``: the previous cycle's, or None
    on the very first poll (baseline: nothing alerts). ``muted``: channels whose alerts are
    suppressed. ``listed``: the jobs from List pages (for the new watermark; defaults to
    ``observed``).
    """
    subs = list(subscriptions)
    muted_set = frozenset(muted)
    watches_expiry = any(_EXPIRED in s.statuses for s in subs)
    latest: dict[str, SeenJob] = {job.id: job for job in observed}  # a later entry wins

    decision = AlertDecision(tracked=dict(known))
    sent: set[tuple[str, str, str]] = set()
    for job in latest.values():
        before = known.get(job.id)
        if _quiet(job, before, watermark, watches_expiry):
            continue
        outcomes: tuple[Status, ...] = ()
        if before is not None:
            outcomes = outcomes_between(before.status, job.status)
        elif watermark is not None and watermark.is_new(job.id, job.created_at):
            outcomes = outcomes_between(None, job.status)
        for outcome in outcomes:
            for sub in subs:
                if outcome not in sub.statuses:
                    continue
                intent = AlertIntent(project_id, full_job(job), outcome, sub.channel)
                if intent.key in sent:
                    continue
                sent.add(intent.key)
                target = decision.suppressed if sub.channel in muted_set else decision.alerts
                target.append(intent)
        _track(decision, before, job, watches_expiry, reached_success=_SUCCEEDED in outcomes)

    if not watches_expiry:
        # No one wants EXPIRED any more: stop following jobs that can only expire.
        for job_id in [i for i, t in decision.tracked.items() if t.status is _SUCCEEDED]:
            _drop(decision, job_id)
    previous = watermark or Watermark()
    pages = latest.values() if listed is None else listed
    floor = previous.created_at  # jobs below it cannot move it (most of the pages)
    decision.watermark = previous.advanced(
        (j.id, j.created_at) for j in pages if floor is None or j.created_at >= floor
    )
    return decision


def full_job(job: SeenJob) -> ExportJob:
    """``job`` as a full ``ExportJob`` (a summary's ``details()``)."""
    return job if isinstance(job, ExportJob) else job.details()


def _quiet(
    job: SeenJob, before: TrackedJob | None, watermark: Watermark | None, watches_expiry: bool
) -> bool:
    """Whether deciding on ``job`` would do nothing: no alert, no change to what is tracked.

    Most jobs a cycle lists are so, and this says it cheaply. Finished history: not tracked,
    finished, and not new since the watermark (or the first poll). A tracked job seen as it
    was (the same id, status and createdAt: :func:`_track` would keep the record it has)
    and still followed (unfinished, or SUCCEEDED while someone watches for expiry).
    """
    status = job.status
    if before is None:
        return status in TERMINAL and (
            watermark is None or not watermark.is_new(job.id, job.created_at)
        )
    return (
        status == before.status
        and job.created_at == before.created_at
        and job.id == before.job_id
        and (status not in TERMINAL or (watches_expiry and status is _SUCCEEDED))
    )


def _track(
    decision: AlertDecision,
    before: TrackedJob | None,
    job: SeenJob,
    watches_expiry: bool,
    *,
    reached_success: bool,
) -> None:
    """Follow ``job`` from now on, or stop following it."""
    status = job.status
    if before is not None and (not status.is_known or before.status in TERMINAL):
        # An unknown status says nothing we can use, and a finished job does not come
        # back: keep the last status known (so an alert can never repeat).
        status = before.status if status not in TERMINAL else status
    elif status is _SUCCEEDED and not reached_success and before is None:
        # Not a fresh success: follow it for expiry only if the poller was following it
        # already (a success it alerted on), never an old one it just came across.
        return
    keep = status not in TERMINAL or (status is _SUCCEEDED and watches_expiry)
    if not keep:
        if before is not None:
            _drop(decision, job.id)
        return
    record = TrackedJob(job.id, status, job.created_at)
    if before != record:
        decision.tracked[job.id] = record
        decision.changed.append(record)


def _drop(decision: AlertDecision, job_id: str) -> None:
    if decision.tracked.pop(job_id, None) is not None:
        decision.dropped.append(job_id)
