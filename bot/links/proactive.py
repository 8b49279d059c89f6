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

Here: who hears of what after a cycle (``CycleDms``). The sending is in ``_dm_post``, the
sweep and the recovery in ``_dm_sweep``; their public names are importable from here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.alerting import SeenJob, TrackedJob, full_job, outcomes_between
from bot.core.fetch_plan import Watermark

# ``_deliver`` and ``_invite`` are looked up here when called: tests stand in for them.
from bot.links._dm_post import DM_EVENT, DmReport, dm_target
from bot.links._dm_post import deliver_dm as _deliver
from bot.links._dm_post import invite_owner as _invite
from bot.links._dm_sweep import STALE_CLAIM, recover_unconfirmed_dms, sweep_done_requests
from bot.links._rules import KeyChoice, choose_key, key_prefix
from bot.peaka import TERMINAL, ExportJob, Status
from bot.store import OwnerDmSettings, StoreError

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

_PROACTIVE = (Status.SUCCEEDED, Status.FAILED)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """A job the poller saw reach a terminal ``status`` this cycle."""

    project_id: str
    job: ExportJob
    status: Status


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


def _by_job(outcomes: Sequence[JobOutcome]) -> dict[str, tuple[ExportJob, list[Status]]]:
    """The outcomes' jobs by id (first seen), each with its statuses in order, once each."""
    jobs: dict[str, tuple[ExportJob, list[Status]]] = {}
    for outcome in outcomes:
        _, statuses = jobs.setdefault(outcome.job.id, (outcome.job, []))
        if outcome.status not in statuses:
            statuses.append(outcome.status)
    return jobs


def _stopped(project_id: str, exc: Exception) -> None:
    """Log why a project's proactive DMs stopped (a store or network error: one line)."""
    if isinstance(exc, StoreError | OSError):
        log.warning("proactive DMs for project %s stopped: %s", project_id, type(exc).__name__)
    else:
        log.error("proactive DMs for project %s failed", project_id, exc_info=exc)
