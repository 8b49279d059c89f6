"""``/exports show ID [project X] [share]``: one export's full card."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.blocks import Reply
from bot.core.cards import mention_for
from bot.core.command_types import ShowJob
from bot.core.job_replies import render_job_not_found, render_job_reply
from bot.handlers._context import CommandContext
from bot.handlers.peaka_errors import failure_reply
from bot.handlers.people import mentions_for
from bot.handlers.replies import send
from bot.peaka import ExportJob, NotFoundError, PeakaError

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["card_reply", "handle", "owner_mention"]


async def handle(command: ShowJob, ctx: CommandContext) -> None:
    """Reply with the job's card, or say there is no such export."""
    services = ctx.services
    label = services.projects.label(command.project_id)
    try:
        job = await services.peaka_for().read_export(command.project_id, command.job_id)
    except NotFoundError:
        await send(ctx, render_job_not_found(command.job_id, label))
        return
    except PeakaError as exc:
        await send(ctx, failure_reply(exc, "show"))
        return
    await send(ctx, await card_reply(services, job, command.project_id, share=command.share))


async def card_reply(
    services: Services, job: ExportJob, project_id: str, *, share: bool = False
) -> Reply:
    """The job's full card, its initiator mentioned when Slack knows their e-mail."""
    return render_job_reply(
        job,
        project_id=project_id,
        project_label=services.projects.label(project_id),
        owner_mention=await owner_mention(services, job),
        share=share,
    )


async def owner_mention(services: Services, job: ExportJob) -> str | None:
    """``<@U…>`` for the job's initiator, or None."""
    return mention_for(job, await mentions_for(services, [job]))
