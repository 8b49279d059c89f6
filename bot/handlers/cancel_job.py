"""``/exports cancel ID [project X]`` and the card's Cancel button.

Reads the job first (a finished one is not cancelled, and the reply says so), checks the
caller may cancel it (its owner or a bot admin: the bot's key could stop anyone's export),
calls Cancel Export, then reads it again so the card shows what Peaka reports now.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.core.command_types import CancelJob
from bot.core.job_replies import (
    CancelOutcome,
    render_cancel_outcome,
    render_cancel_refused,
    render_job_not_found,
)
from bot.handlers._context import CommandContext
from bot.handlers.peaka_errors import failure_reply
from bot.handlers.permissions import may_cancel
from bot.handlers.replies import Outcome, send
from bot.handlers.show_job import owner_mention
from bot.peaka import ExportJob, NotFoundError, PeakaError, Status

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["cancel_reply", "handle"]

log = logging.getLogger(__name__)


async def handle(command: CancelJob, ctx: CommandContext) -> None:
    """Cancel the job and reply with its fresh card."""
    outcome = await cancel_reply(ctx.services, command.project_id, command.job_id, ctx.user_id)
    await send(ctx, outcome.reply)


async def cancel_reply(services: Services, project_id: str, job_id: str, user_id: str) -> Outcome:
    """Cancel ``job_id`` if it is still pending or running; the card after, led by the outcome.

    Only the job's owner or a bot admin may cancel; anyone else gets a refusal (not ``ok``,
    so a clicked card stays as it was). A finished job is answered "nothing to cancel" for
    everyone: no cancel would be sent either way.
    """
    client = services.peaka_for()
    label = services.projects.label(project_id)
    happened: CancelOutcome
    try:
        job = await client.read_export(project_id, job_id)
        if _cancellable(job):
            permission = await may_cancel(services, user_id, job)
            if not permission.allowed:
                log.info("refused a cancel of someone else's export by a non-admin")
                refusal = render_cancel_refused(
                    job,
                    await owner_mention(services, job),
                    sorted(services.settings.admins),
                    email_known=permission.email_known,
                )
                return Outcome(refusal, ok=False)
            await client.cancel_export(project_id, job_id)
            job = await client.read_export(project_id, job_id)
            if job.status is Status.CANCELLED:
                happened = "cancelled"
            elif job.status.is_terminal:
                happened = "finished_first"
            else:
                happened = "still_active"
        else:
            happened = "already_finished"
    except NotFoundError:
        return Outcome(render_job_not_found(job_id, label, verb="cancel"), ok=False)
    except PeakaError as exc:
        return Outcome(failure_reply(exc, "cancel"), ok=False)
    reply = render_cancel_outcome(
        job,
        happened,
        project_id=project_id,
        project_label=label,
        owner_mention=await owner_mention(services, job),
        by_user=user_id if happened == "cancelled" else None,
    )
    return Outcome(reply, ok=True)


def _cancellable(job: ExportJob) -> bool:
    # A status Peaka adds later is tried too: Cancel Export is a no-op on finished jobs.
    return job.status.is_active or not job.status.is_known
