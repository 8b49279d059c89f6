"""Proactive DMs: tell people when their exports finish, once, after each poll cycle.

The poller calls, after each project's cycle::

    from bot.links import proactive
    outcomes = proactive.outcomes_seen(project_id, known=..., observed=..., watermark=...)
    await proactive.after_project_cycle(services, project_id, outcomes)

and once per cycle, for projects it did not poll (so "DM me when it's done" works anywhere)::

    await proactive.sweep_done_requests(services, polled=project_ids_polled_this_cycle)

What goes out (each through the once-only alert log, target ``dm:<Slack user id>``):

- A job reaches SUCCEEDED: its owner gets a DM with fresh download links, FAILED: the error.
  Only owners who linked a key (or whose export the bot started for them), and not after
  ``/exports dm off``. An owner without a key gets, once ever, an invitation to connect one.
- Anyone who pressed "DM me when it's done" on the job gets its outcome (links, error, or
  why there are none), whatever their DM setting: they asked.

Sending is claim (log the intent) -> post with message metadata -> confirm. A claim left
unconfirmed by a crash is taken over after :data:`STALE_CLAIM`: the DM's history is searched
for the metadata first, so a DM Slack already accepted is confirmed, not sent again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.core.alerting import SeenJob, TrackedJob, full_job, outcomes_between
from bot.core.blocks import Reply
from bot.core.fetch_plan import Watermark
from bot.core.messages import render_job_state_for_link
from bot.links._delivery import DmError, open_dm, send_dm
from bot.links._flow import answer_link_request
from bot.links._replies import (
    render_connect_invite,
    render_failed_dm,
    render_succeeded_dm,
    render_succeeded_later,
)
from bot.links._rules import KeyChoice, choose_key, key_prefix
from bot.peaka import TERMINAL, ExportJob, NotFoundError, PeakaError, Status
from bot.store import AlertKey, OwnerDmSettings, StoreError

if TYPE_CHECKING:
    from bot.app import Services

__all__ = [
    "DM_EVENT",
    "STALE_CLAIM",
    "CycleDms",
    "DmReport",
    "JobOutcome",
    "after_project_cycle",
    "dm_target",
    "outcomes_seen",
    "recover_unconfirmed_dms",
    "sweep_done_requests",
]

log = logging.getLogger(__name__)

DM_EVENT = "peaka_export_dm"
# A claim this old whose DM was never confirmed belongs to a process that died mid-send.
STALE_CLAIM = timedelta(minutes=5)
# Slack errors that won't go away by retrying: the DM is logged as failed, never resent.
_PERMANENT = frozenset(
    {"user_not_found", "cannot_dm_bot", "user_disabled", "account_inactive", "channel_not_found"}
)
_HISTORY_LIMIT = 200
_PROACTIVE = (Status.SUCCEEDED, Status.FAILED)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """A job the poller saw reach a terminal ``status`` this cycle."""

    project_id: str
    job: ExportJob
    status: Status


@dataclass(slots=True)
class DmReport:
    """What one call sent: ``(job id, status, user id)`` per DM, and who got an invitation."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    recovered: list[tuple[str, str, str]] = field(default_factory=list)


def dm_target(user_id: str) -> str:
    """The alert log's target for DMs to ``user_id``."""
    return f"dm:{user_id}"


def outcomes_seen(
    project_id: str,
    *,
    known: Mapping[str, TrackedJob],
    observed: Sequence[SeenJob],
    watermark: Watermark | None,
) -> list[JobOutcome]:
    """The terminal outcomes reached this cycle (pure; same rules as channel alerts).

    ``known``/``watermark`` are the poller's state *before* the cycle (``watermark`` None: the
    first poll, a baseline, which yields nothing); ``observed`` every job seen this cycle.
    """
    if watermark is None:
        return []
    latest = {job.id: job for job in observed}
    found: list[JobOutcome] = []
    for job in latest.values():
        if job.status not in TERMINAL:
            continue  # no outcome yet, whatever it was before (most jobs a cycle lists)
        before = known.get(job.id)
        if before is not None:
            reached = outcomes_between(before.status, job.status)
        elif watermark.is_new(job.id, job.created_at):
            reached = outcomes_between(None, job.status)
        else:
            continue
        found += [JobOutcome(project_id, full_job(job), status) for status in reached]
    return found


async def after_project_cycle(
    services: Services, project_id: str, outcomes: Sequence[JobOutcome]
) -> DmReport:
    """Send the DMs that ``outcomes`` (one project's cycle) call for; never raises.

    Settles stale claims first (:func:`recover_unconfirmed_dms`). Needs ``services.store``
    and ``services.slack``; without them it does nothing. A poller polling many projects
    uses one :class:`CycleDms` per cycle instead (one settling pass, owners read once).
    """
    dms = CycleDms(services)
    report = await dms.recover()
    sent = await dms.after_project(project_id, outcomes)
    report.sent += sent.sent
    report.invited += sent.invited
    return report


class CycleDms:
    """One poll cycle's proactive DMs, over all its projects.

    Call :meth:`recover` once per cycle, then :meth:`after_project` per project (in any
    order, concurrently too). The owners' DM settings (opt-out, linked key, invitation) are
    read once per owner per cycle, in one query per batch of owners not asked about yet,
    instead of three transactions per finished job; each owner's Slack user is looked up
    once per cycle too. An invitation sent this cycle is remembered, so the next projects
    don't try it again. In :meth:`after_projects`, a project whose owners' settings call
    for nothing (and without done requests) gets no pass of its own, only its reads.
    Nothing outlives the cycle: the alert log and the invitation table stay the once-only
    truth, across restarts and replicas.
    """

    def __init__(self, services: Services) -> None:
        self._services = services
        self._lookups: dict[str, asyncio.Future[dict[str, OwnerDmSettings]]] = {}
        self._invited: set[str] = set()
        # Owner e-mail (lower-cased) -> Slack user id (None: Slack has no such user), as
        # answered this cycle: a cycle asks about the same few owners for every finished
        # job, and the directory's cache costs far more per ask than a dict. A failed lookup
        # is not kept: the next job of that owner asks again, as it would without this.
        self._owners: dict[str, str | None] = {}

    async def recover(self) -> DmReport:
        """Finish DMs whose sender died mid-send (:func:`recover_unconfirmed_dms`); never raises."""
        report = DmReport()
        if self._services.store is None or self._services.slack is None:
            return report
        try:
            await recover_unconfirmed_dms(self._services, report)
        except (StoreError, OSError) as exc:
            log.warning("settling unconfirmed DMs stopped: %s", type(exc).__name__)
        except Exception:
            log.exception("settling unconfirmed DMs failed")
        return report

    async def after_project(self, project_id: str, outcomes: Sequence[JobOutcome]) -> DmReport:
        """Send the DMs that one project's ``outcomes`` call for; never raises."""
        report = DmReport()
        if self._services.store is None or self._services.slack is None or not outcomes:
            return report
        await self._send_safely(project_id, outcomes, report)
        return report

    async def after_projects(self, outcomes: Mapping[str, Sequence[JobOutcome]]) -> DmReport:
        """``after_project`` for several projects (project id -> outcomes); never raises.

        The projects' "DM me when it's done" requests are read in one query, which must
        come after all their fetches (as ``after_project`` comes after its project's). A
        request is lost only if it is saved after this read for a job the fetch already saw
        finish, i.e. if the button's handler saw the job running before the fetch and saved
        the request after this read; read before the fetches (once per cycle), any request
        saved meanwhile for a job that then finished would be.
        """
        report = DmReport()
        busy = {project_id: found for project_id, found in outcomes.items() if found}
        if self._services.store is None or self._services.slack is None or not busy:
            return report
        try:
            requests = await self._services.store.done_requests_of(busy)
        except (StoreError, OSError) as exc:
            log.warning(
                "proactive DMs for %d project(s) stopped: %s", len(busy), type(exc).__name__
            )
            return report
        except Exception:
            log.exception("proactive DMs for %d project(s) failed", len(busy))
            return report
        # Most projects' outcomes call for nothing (their owners get no DMs and were invited
        # already). What a project's pass reads first (its owners, their settings) is read
        # here, project by project, as the pass would; only a project with something to send
        # gets its pass (and a task), which then finds all that read already.
        passes = []
        for project_id, found in busy.items():
            failed: set[str] = set()  # jobs whose owner lookup failed here (logged)
            if not requests[project_id] and await self._quiet(project_id, found, failed):
                continue
            passes.append(
                self._send_safely(project_id, found, report, requests[project_id], failed)
            )
        await asyncio.gather(*passes)
        return report

    async def _send_safely(
        self,
        project_id: str,
        outcomes: Sequence[JobOutcome],
        report: DmReport,
        requests: Sequence[tuple[str, str]] | None = None,
        failed: Collection[str] = (),
    ) -> None:
        try:
            await self._send_for_outcomes(project_id, outcomes, report, requests, failed)
        except Exception as exc:
            _stopped(project_id, exc)

    async def _settings(self, owners: Collection[str]) -> dict[str, OwnerDmSettings]:
        """Each owner's DM settings; one store read for the owners not asked about yet."""
        store = self._services.store
        missing = [owner for owner in owners if owner not in self._lookups]
        if missing:
            lookup = asyncio.ensure_future(store.owner_dm_settings(missing))
            for owner in missing:
                self._lookups[owner] = lookup
        found: dict[str, OwnerDmSettings] = {}
        for owner in owners:
            lookup = self._lookups[owner]
            try:
                found[owner] = (await lookup)[owner]
            except BaseException:
                # A failed read is not remembered: the next project asks again.
                if self._lookups.get(owner) is lookup:
                    del self._lookups[owner]
                raise
        return found

    async def _owner_user(self, job: ExportJob, failed: set[str] | None = None) -> str | None:
        """The Slack user whose e-mail is the job's ``userName``, or None; remembered for
        the cycle. A failed lookup is logged and not remembered (the owner's next job asks
        again); with ``failed``, the job's id is added to it."""
        name = (job.user_name or "").strip()
        users = self._services.users
        if users is None or "@" not in name:
            return None
        key = name.lower()
        if key in self._owners:
            return self._owners[key]
        try:
            found = await users.user_id_for(name)
        except (SlackApiError, SlackClientError) as exc:
            log.warning("users.lookupByEmail failed for a job owner: %s", type(exc).__name__)
            if failed is not None:
                failed.add(job.id)
            return None
        self._owners[key] = found
        return found

    async def _quiet(
        self, project_id: str, outcomes: Sequence[JobOutcome], failed: set[str]
    ) -> bool:
        """Whether the owners' settings call for no DM and no invitation about ``outcomes``
        (a project without done requests), i.e. its pass would send nothing.

        Reads what the pass reads before it sends, the same way (owners, then their
        settings at once), so the pass asks nothing again: ``failed`` collects the jobs
        whose owner lookup failed. A failure that would stop the pass stops it here (logged
        the same way): True, nothing to send.
        """
        try:
            owned: list[tuple[ExportJob, str]] = []
            for job, statuses in _by_job(outcomes).values():
                if any(s in _PROACTIVE for s in statuses):
                    owner = await self._owner_user(job, failed)
                    if owner is not None:
                        owned.append((job, owner))
            if not owned:
                return True
            settings = await self._settings({owner for _, owner in owned})
        except Exception as exc:
            _stopped(project_id, exc)
            return True
        bot_prefix = key_prefix(self._services.settings.peaka_api_key.get_secret_value())
        return all(
            self._owner_action(job, owner, settings[owner], bot_prefix) is None
            for job, owner in owned
        )

    def _owner_action(
        self, job: ExportJob, owner: str, choice: OwnerDmSettings, bot_prefix: str
    ) -> Literal["dm", "invite"] | None:
        """What ``owner``'s settings call for about their ``job``: the DM, the one-time
        invitation to link a key (not sent yet, nor this cycle), or nothing."""
        if not choice.dm_enabled:
            return None
        linking = self._services.settings.linking_enabled
        eligible = (linking and choice.linked) or (
            choose_key(job, job.user_name, has_linked_key=False, bot_key_prefix=bot_prefix)
            is KeyChoice.BOT
        )
        if eligible:
            return "dm"
        if linking and not (choice.invited or owner in self._invited):
            return "invite"
        return None

    async def _send_for_outcomes(
        self,
        project_id: str,
        outcomes: Sequence[JobOutcome],
        report: DmReport,
        requests: Sequence[tuple[str, str]] | None = None,
        failed: Collection[str] = (),
    ) -> None:
        """``requests``: the project's done requests as (user id, job id), if already read;
        ``failed``: jobs whose owner lookup already failed this cycle (no owner DM)."""
        services = self._services
        store = services.store
        jobs = _by_job(outcomes)
        waiting: dict[str, list[str]] = {}
        if requests is None:
            requests = await store.done_requests(project_id)
        for user_id, job_id in requests:
            waiting.setdefault(job_id, []).append(user_id)
        # Done requests are answered whatever the settings; owners hear of SUCCEEDED and
        # FAILED per theirs (read below, for every owner of this project at once).
        owned: list[tuple[ExportJob, list[Status], str]] = []
        for job, statuses in jobs.values():
            requested = waiting.get(job.id, [])
            for user_id in requested:
                await _deliver(services, project_id, job, statuses[0], user_id, report)
                await store.remove_done_request(user_id, project_id, job.id)
            wanted = [s for s in statuses if s in _PROACTIVE]
            if not wanted:
                continue
            owner = None if job.id in failed else await self._owner_user(job)
            if owner is not None and owner not in requested:
                owned.append((job, wanted, owner))
        if not owned:
            return
        settings = await self._settings({owner for _, _, owner in owned})
        bot_prefix = key_prefix(services.settings.peaka_api_key.get_secret_value())
        for job, wanted, owner in owned:
            action = self._owner_action(job, owner, settings[owner], bot_prefix)
            if action == "invite":
                self._invited.add(owner)
                await _invite(services, owner, job, project_id, report)
            elif action == "dm":
                for status in wanted:
                    await _deliver(services, project_id, job, status, owner, report)


async def sweep_done_requests(services: Services, *, polled: Collection[str] = ()) -> DmReport:
    """Deliver "DM me when it's done" requests in projects the poller did not poll.

    One Read Export per job someone is waiting for; never raises.
    """
    report = DmReport()
    store = services.store
    if store is None or services.slack is None:
        return report
    try:
        for project in services.projects.all:
            if project.id in polled:
                continue
            waiting: dict[str, list[str]] = {}
            for user_id, job_id in await store.done_requests(project.id):
                waiting.setdefault(job_id, []).append(user_id)
            for job_id, users in waiting.items():
                await _sweep_one(services, project.id, job_id, users, report)
    except (StoreError, OSError) as exc:
        log.warning("done-request sweep stopped: %s", type(exc).__name__)
    except Exception:
        log.exception("done-request sweep failed")
    return report


async def recover_unconfirmed_dms(services: Services, report: DmReport | None = None) -> None:
    """Finish DMs whose sender died between claiming and confirming (after STALE_CLAIM)."""
    store, slack = services.store, services.slack
    if store is None or slack is None:
        return
    stale_before = services.clock() - STALE_CLAIM
    for record in await store.unconfirmed_alerts(claimed_before=stale_before):
        key = record.key
        if not key.target.startswith("dm:"):
            continue  # channel alerts are the poller's
        if not await store.reclaim_alert(key, _me(), stale_before):
            continue
        user_id = key.target.removeprefix("dm:")
        try:
            channel = await open_dm(slack, user_id)
            posted_ts = await _find_posted(slack, channel, key)
        except DmError as exc:
            log.warning("could not check DM history for %s: %s", user_id, exc.code)
            continue
        if posted_ts is not None:
            await store.confirm_alert(key, channel, posted_ts)
            metrics.ALERTS_DEDUPLICATED.labels(layer="slack_history").inc()
            continue
        try:
            job = await services.peaka_for().read_export(record.project_id, key.job_id)
        except NotFoundError:
            await store.fail_alert(key, "the export no longer exists")
            continue
        except PeakaError as exc:
            log.warning("could not re-read export for a DM: %s", type(exc).__name__)
            continue
        reply = await _reply_for(services, record.project_id, job, key.status, user_id)
        if await _post(services, key, record.project_id, user_id, reply) and report is not None:
            report.recovered.append((key.job_id, key.status.value, user_id))


# ---------------------------------------------------------------------------


async def _sweep_one(
    services: Services, project_id: str, job_id: str, users: list[str], report: DmReport
) -> None:
    store = services.store
    try:
        job = await services.peaka_for().read_export(project_id, job_id)
    except NotFoundError:
        for user_id in users:
            await store.remove_done_request(user_id, project_id, job_id)
        return
    except PeakaError as exc:
        log.warning("could not read an export someone waits for: %s", type(exc).__name__)
        return
    if not (job.status.is_known and job.status.is_terminal):
        return
    # EXPIRED means it succeeded and expired unseen: the outcome they waited for is success.
    status = Status.SUCCEEDED if job.status is Status.EXPIRED else job.status
    for user_id in users:
        await _deliver(services, project_id, job, status, user_id, report)
        await store.remove_done_request(user_id, project_id, job_id)


def _by_job(outcomes: Sequence[JobOutcome]) -> dict[str, tuple[ExportJob, list[Status]]]:
    """The outcomes' jobs by id (first seen), each with its statuses in order, once each."""
    jobs: dict[str, tuple[ExportJob, list[Status]]] = {}
    for outcome in outcomes:
        _, statuses = jobs.setdefault(outcome.job.id, (outcome.job, []))
        if outcome.status not in statuses:
            statuses.append(outcome.status)
    return jobs


async def _invite(
    services: Services, user_id: str, job: ExportJob, project_id: str, report: DmReport
) -> None:
    """Once per person, ever: link your key to get links by DM."""
    if not await services.store.mark_connect_invite_sent(user_id):
        return
    reply = render_connect_invite(job, services.projects.label(project_id))
    try:
        await send_dm(_slack(services), user_id, reply)
    except DmError as exc:
        log.warning("could not send a connect invitation: %s", exc.code)
        return
    metrics.ALERTS_SENT.labels("dm").inc()
    report.invited.append(user_id)


async def _deliver(
    services: Services,
    project_id: str,
    job: ExportJob,
    status: Status,
    user_id: str,
    report: DmReport,
) -> None:
    """Claim (job, status, dm:user) and, if this call won it, send and confirm the DM."""
    key = AlertKey(job.id, status, dm_target(user_id))
    if not await services.store.claim_alert(key, project_id, _me()):
        metrics.ALERTS_DEDUPLICATED.labels(layer="database").inc()
        return
    reply = await _reply_for(services, project_id, job, status, user_id)
    if await _post(services, key, project_id, user_id, reply):
        report.sent.append((job.id, status.value, user_id))


async def _reply_for(
    services: Services, project_id: str, job: ExportJob, status: Status, user_id: str
) -> Reply:
    """The DM about ``job`` reaching ``status``, built fresh (links are read right now)."""
    label = services.projects.label(project_id)
    if status is Status.FAILED:
        return render_failed_dm(job, label, project_id=project_id)
    if status is Status.SUCCEEDED:
        answer = await answer_link_request(services, user_id, project_id, job.id)
        if answer.kind == "links" and answer.job is not None:
            where = answer.project_id or project_id
            return render_succeeded_dm(answer.job, services.projects.label(where), project_id=where)
        if answer.kind == "answer":
            return answer.reply
        return render_succeeded_later(job, label, project_id=project_id)  # Peaka failed
    return render_job_state_for_link(job, project_id=project_id)


async def _post(
    services: Services, key: AlertKey, project_id: str, user_id: str, reply: Reply
) -> bool:
    """Post a claimed DM and confirm it; a permanent Slack refusal is logged as failed."""
    store = services.store
    metadata = {
        "event_type": DM_EVENT,
        "event_payload": {
            "project_id": project_id,
            "job_id": key.job_id,
            "status": key.status.value,
            "target": key.target,
        },
    }
    try:
        posted = await send_dm(_slack(services), user_id, reply, metadata=metadata)
    except DmError as exc:
        if exc.code in _PERMANENT:
            await store.fail_alert(key, f"Slack {exc.method}: {exc.code}")
        # Otherwise the claim stays: recover_unconfirmed_dms retries it once it is stale.
        return False
    await store.confirm_alert(key, posted.channel, posted.ts)
    metrics.ALERTS_SENT.labels("dm").inc()
    return True


async def _find_posted(slack: Any, channel: str, key: AlertKey) -> str | None:
    """The ``ts`` of a DM in ``channel`` whose metadata names ``key``, if Slack has one."""
    try:
        response = await slack.conversations_history(
            channel=channel, include_all_metadata=True, limit=_HISTORY_LIMIT
        )
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "unknown") if exc.response else "unknown"
        raise DmError("conversations.history", code) from None
    except SlackClientError:
        raise DmError("conversations.history", "unreachable") from None
    for message in response.get("messages") or []:
        metadata = message.get("metadata") if isinstance(message, dict) else None
        if not isinstance(metadata, dict) or metadata.get("event_type") != DM_EVENT:
            continue
        payload = metadata.get("event_payload") or {}
        if (
            payload.get("job_id") == key.job_id
            and payload.get("status") == key.status.value
            and payload.get("target") == key.target
        ):
            ts = message.get("ts")
            return str(ts) if ts else None
    return None


def _slack(services: Services) -> AsyncWebClient:
    if services.slack is None:  # checked on the way in; this is for the type checker
        raise DmError("chat.postMessage", "no_slack_client")
    return services.slack


def _me() -> str:
    """Who claims: this host and process, for the alert log's ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _stopped(project_id: str, exc: Exception) -> None:
    """Log why a project's proactive DMs stopped (a store or network error: one line)."""
    if isinstance(exc, StoreError | OSError):
        log.warning("proactive DMs for project %s stopped: %s", project_id, type(exc).__name__)
    else:
        log.error("proactive DMs for project %s failed", project_id, exc_info=exc)
