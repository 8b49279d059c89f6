"""Replies about one job or one page of jobs that ``bot.core.cards``/``messages`` lack.

Show, cancel and paging answers: a full card with a lead line, "no such export", "nothing
to cancel", a stale button, an empty older page, and `mine` without an e-mail. Pure: data
in, a :class:`~bot.core.blocks.Reply` out, every API- or user-derived text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from bot.core.blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    Reply,
    context,
    escape_truncated,
    inline_code,
    section,
    truncate,
)
from bot.core.cards import CARD_ERROR_BLOCKS, job_source, person, render_job_card
from bot.core.command_types import ListJobs
from bot.core.jobrefs import ID_EXAMPLE
from bot.core.statuses import describe_statuses
from bot.core.usage import COMMAND
from bot.peaka._models import ExportJob, Status

__all__ = [
    "CancelOutcome",
    "render_cancel_outcome",
    "render_cancel_refused",
    "render_job_not_found",
    "render_job_reply",
    "render_mine_unavailable",
    "render_no_older",
    "render_stale_button",
]

CancelOutcome = Literal["cancelled", "already_finished", "finished_first", "still_active"]
_OUTCOME_WORD = {
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.CANCELLED: "was cancelled",
    Status.EXPIRED: "succeeded and has expired",
}


def _label(project_label: str) -> str:
    return escape_truncated(project_label, 80, note="…")


def _fallback(text: str) -> str:
    return truncate(text, MAX_FALLBACK_TEXT)


def _ended(job: ExportJob) -> str:
    if job.status.is_known and job.status in _OUTCOME_WORD:
        return _OUTCOME_WORD[job.status]
    return f"is {escape_truncated(job.status.value, 40, note='…')}"


def render_job_reply(
    job: ExportJob,
    *,
    project_id: str,
    project_label: str,
    owner_mention: str | None,
    share: bool = False,
    lead: str | None = None,
    show_actions: bool = True,
) -> Reply:
    """One job's full card (``/exports show``), after an optional formatted ``lead`` line."""
    budget = CARD_ERROR_BLOCKS if lead is None else min(CARD_ERROR_BLOCKS, MAX_BLOCKS - 3)
    card = render_job_card(
        job,
        project_id=project_id,
        project_label=project_label,
        owner_mention=owner_mention,
        show_actions=show_actions,
        error_blocks=budget,
    )
    blocks = ([section(lead)] if lead else []) + card
    source = escape_truncated(job_source(job), 200, note="…")
    status = escape_truncated(job.status.value, 40, note="…")
    text = f"Export {escape_truncated(job.id, 60, note='…')} ({status}): {source}"
    return Reply(
        text=_fallback(text),
        blocks=blocks,
        response_type="in_channel" if share else "ephemeral",
    )


def render_job_not_found(job_id: str, project_label: str, verb: str = "show") -> Reply:
    """No such export in this project: what a valid id looks like and where to find one."""
    ref = inline_code(job_id, 60)
    label = _label(project_label)
    text = (
        f":mag: There is no export {ref} in *{label}*.\n"
        f"An export id is a UUID, 36 characters like `{ID_EXAMPLE}`. Copy it from a job card "
        f"or from `{COMMAND}` (recent exports); for another project add `project ALIAS`."
    )
    return Reply(
        text=_fallback(f"There is no export {escape_truncated(job_id, 60)} in {label}."),
        blocks=[
            section(text),
            context(f"`{COMMAND} {verb} ID [project ALIAS|ID]` · `{COMMAND} help projects`"),
        ],
    )


def render_cancel_outcome(
    job: ExportJob,
    outcome: CancelOutcome,
    *,
    project_id: str,
    project_label: str,
    owner_mention: str | None,
    by_user: str | None = None,
) -> Reply:
    """The job's fresh card after a cancel request, led by what happened.

    ``cancelled``: it is stopped now; ``already_finished``: it had ended before, nothing was
    done; ``finished_first``: it ended before the cancel reached it; ``still_active``: Peaka
    accepted the cancel but still reports it pending or running.
    """
    ref = inline_code(job.id, 60)
    who = f" by <@{by_user}>" if by_user and by_user.isalnum() else ""
    if outcome == "cancelled":
        lead = f":no_entry_sign: Export {ref} was cancelled{who}."
    elif outcome == "already_finished":
        lead = (
            f":information_source: Export {ref} already {_ended(job)}, so there was nothing "
            f"to cancel. Only pending or running exports can be cancelled."
        )
    elif outcome == "finished_first":
        lead = (
            f":information_source: Export {ref} {_ended(job)} before the cancel reached it; "
            "nothing was cancelled."
        )
    else:
        lead = (
            f":hourglass: Peaka accepted the cancel for export {ref}, but it is still "
            f"{escape_truncated(job.status.value.lower(), 40, note='…')}. "
            f"Check again with `{COMMAND} show {job.id[:40]}`."
        )
    reply = render_job_reply(
        job,
        project_id=project_id,
        project_label=project_label,
        owner_mention=owner_mention,
        lead=lead,
        show_actions=outcome == "still_active",
    )
    summary = lead.split(". ", 1)[0].replace("`", "").split(" ", 1)[-1]
    return Reply(text=_fallback(summary), blocks=reply.blocks)


def render_cancel_refused(
    job: ExportJob,
    owner_mention: str | None,
    admins: Sequence[str],
    *,
    email_known: bool,
) -> Reply:
    """Someone else's export: only its owner or a bot admin may cancel it; nothing was done."""
    ref = inline_code(job.id, 60)
    owner = person(job, owner_mention)
    listed = [f"<@{a}>" for a in admins if a.isalnum()][:20]
    who = ", ".join(["the person who started it", *listed, "workspace admins"])
    text = (
        f":lock: Export {ref} was started by {owner}, so I didn't cancel it. "
        f"Only {who} can cancel it; ask one of them."
    )
    blocks = [section(text)]
    if not email_known:
        blocks.append(
            context(
                "I can't see your e-mail address in Slack, so I can't tell whether this export "
                "is yours (Peaka knows people by e-mail)."
            )
        )
    return Reply(text=_fallback(f"Only {owner} or an admin can cancel this export."), blocks=blocks)


def render_stale_button(reason: str) -> Reply:
    """A button whose value can't be used (edited, truncated or from an older bot)."""
    text = (
        f":warning: That button no longer works ({escape_truncated(reason, 200, note='…')}). "
        f"Run `{COMMAND}` again for a fresh list."
    )
    return Reply(text="That button no longer works.", blocks=[section(text)])


def render_no_older(query: ListJobs, project_label: str) -> Reply:
    """An Older click that found nothing more: say so, with the filter used."""
    words = describe_statuses(query.statuses)
    phrase = "" if words == "all" else escape_truncated(words, 300, note="…") + " "
    whose = " of yours" if query.mine else ""
    text = f"No older {phrase}exports{whose} in {_label(project_label)}."
    return Reply(
        text=text,
        blocks=[section(f":mag: {text}"), context(f"`{COMMAND}` shows the newest again.")],
        response_type="in_channel" if query.share else "ephemeral",
    )


def render_mine_unavailable() -> Reply:
    """``mine`` needs the caller's e-mail, which Slack did not give."""
    text = (
        ":bust_in_silhouette: I can't see your e-mail address in Slack, so I can't tell which "
        "exports are yours (Peaka knows people by e-mail). Leave out `mine` to see everyone's, "
        "or ask an admin to check the app has the `users:read.email` scope."
    )
    return Reply(text="I can't see your e-mail address in Slack.", blocks=[section(text)])
