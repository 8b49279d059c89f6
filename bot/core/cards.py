"""Job cards and job lists: ExportJob values in, Block Kit out.

Every API-derived value is escaped; buttons carry ``{"p": project_id, "j": job_id}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from slack_sdk.models.blocks import ButtonElement

from bot.core.blocks import (
    MAX_BLOCKS,
    MAX_BUTTON_VALUE,
    MAX_FALLBACK_TEXT,
    Reply,
    actions,
    button_element,
    compact_json,
    confirm_object,
    context,
    divider,
    escape_mrkdwn,
    escape_truncated,
    inline_code,
    section,
    slack_len,
    split_code,
    truncate,
    wrap_code,
)
from bot.core.commands import ListJobs
from bot.core.statuses import describe_statuses
from bot.peaka._models import ExportJob, Status

__all__ = [
    "ACTION_CANCEL",
    "ACTION_LINK",
    "ACTION_NOTIFY_DONE",
    "ACTION_OLDER",
    "ACTION_REFRESH_LINKS",
    "CARD_ERROR_BLOCKS",
    "EXPIRED_NOTE",
    "MAX_LIST_LIMIT",
    "human_bytes",
    "human_duration",
    "human_rows",
    "job_button_value",
    "job_source",
    "mention_for",
    "person",
    "render_job_card",
    "render_job_list",
    "slack_date",
    "status_label",
]

ACTION_CANCEL = "job_cancel"
ACTION_LINK = "job_link"
ACTION_OLDER = "list_older"
ACTION_REFRESH_LINKS = "links_refresh"
ACTION_NOTIFY_DONE = "job_notify_done"

_STATUS_LOOK: dict[Status, tuple[str, str]] = {
    Status.PENDING: (":hourglass_flowing_sand:", "Pending"),
    Status.RUNNING: (":gear:", "Running"),
    Status.SUCCEEDED: (":white_check_mark:", "Succeeded"),
    Status.FAILED: (":x:", "Failed"),
    Status.CANCELLED: (":no_entry_sign:", "Cancelled"),
    Status.EXPIRED: (":wastebasket:", "Expired"),
}
_UNKNOWN_STATUS_EMOJI = ":grey_question:"

EXPIRED_NOTE = (
    "The files were removed by the lifecycle rule. Exports are point-in-time snapshots "
    "and are never regenerated: re-run the export for fresh data."
)
# Block budget. A full card: main section + error sections + one context line.
CARD_ERROR_BLOCKS = 40
# A list: summary + footer + "Older" actions, and per card a main section, one detail
# block (error preview or note) and a divider between cards.
_LIST_FIXED_BLOCKS = 3
_LIST_CARD_BLOCKS = 2
MAX_LIST_LIMIT = (MAX_BLOCKS - _LIST_FIXED_BLOCKS + 1) // (_LIST_CARD_BLOCKS + 1)
_LIST_ERROR_PREVIEW = 600
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")
_MENTION = re.compile(r"<@[UW][A-Z0-9]{1,30}>")


# ---------------------------------------------------------------------------
# Units and small pieces
# ---------------------------------------------------------------------------


def human_bytes(n: int | None) -> str:
    """Decimal units: ``0 B``, ``993 B``, ``3.7 MB``, ``1.2 GB``."""
    if n is None:
        return "—"
    if n < 1000:
        return f"{n:,} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if round(value, 1) < 1000 or unit == "PB":
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def human_rows(n: int | None) -> str:
    """``1 row``, ``993 rows``, ``1,234,567 rows``."""
    if n is None:
        return "—"
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def human_duration(ms: int | None) -> str:
    """``1.1 s``, ``2 min 5 s``, ``1 h 3 min``, ``2 d 4 h``."""
    if ms is None:
        return "—"
    if ms < 0:
        return f"{ms:,} ms"
    if ms < 59_950:
        return f"{ms / 1000:.1f} s"
    seconds = round(ms / 1000)
    if seconds < 3600:
        m, s = divmod(seconds, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    minutes = round(ms / 60_000)
    if minutes < 24 * 60:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    hours = round(ms / 3_600_000)
    d, h = divmod(hours, 24)
    return f"{d:,} d {h} h" if h else f"{d:,} d"


def slack_date(moment: datetime, template: str = "{date_short_pretty} at {time}") -> str:
    """A Slack date token, shown in each reader's time zone, with a UTC fallback text."""
    try:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        fallback = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} {utc:%H:%M} UTC"
        return f"<!date^{int(utc.timestamp())}^{template}|{fallback}>"
    except (OverflowError, ValueError, OSError):
        return escape_mrkdwn(str(moment))


def status_label(status: Status) -> str:
    """``:x: *Failed*``; an unknown status is shown as it is, with a neutral emoji."""
    look = _STATUS_LOOK.get(status) if status.is_known else None
    if look is None:
        return f"{_UNKNOWN_STATUS_EMOJI} *{escape_truncated(str(status.value), 40, note='…')}*"
    return f"{look[0]} *{look[1]}*"


def job_source(job: ExportJob) -> str:
    """The raw (unescaped) display name of what was exported."""
    if job.source:
        return job.source
    if job.table_name:
        parts = [job.catalog_id, job.schema_name, job.table_name]
        return ".".join(p for p in parts if p)
    if job.query_id:
        return f"query {job.query_id}"
    return "unknown source"


def job_button_value(project_id: str, job_id: str) -> str | None:
    """The compact ``{"p","j"}`` JSON a job button carries; None if it would not fit."""
    value = compact_json({"p": project_id, "j": job_id})
    return value if slack_len(value) <= MAX_BUTTON_VALUE else None


def mention_for(job: ExportJob, mentions: Mapping[str, str]) -> str | None:
    """``<@U123>`` for the job's initiator (userName is their email) if Slack knows them."""
    lowered = {k.lower(): v for k, v in mentions.items()}
    for key in (job.user_name, job.user_id):
        user = lowered.get(key.lower()) if key else None
        if user and _SLACK_USER_ID.fullmatch(user):
            return f"<@{user}>"
    return None


def person(job: ExportJob, mention: str | None) -> str:
    """The initiator: a real mention if given (and well-formed), else their escaped name."""
    if mention and _MENTION.fullmatch(mention):
        return mention
    name = mention or job.user_name or job.user_id
    if name and name.strip():
        return escape_truncated(name, 100, note="…")
    return "someone (unknown user)"


def _format(job: ExportJob) -> str | None:
    if not job.format:
        return None
    compression = job.compression if job.compression and job.compression != "NONE" else None
    text = job.format + (f" · {compression}" if compression else "")
    return escape_truncated(text, 60, note="…")


# ---------------------------------------------------------------------------
# Cards
# ---------------------------------------------------------------------------


def _cancel_button(job: ExportJob, value: str) -> ButtonElement:
    return button_element(
        "Cancel export",
        action_id=ACTION_CANCEL,
        value=value,
        style="danger",
        confirm=confirm_object(
            title="Cancel this export?",
            text=(
                f"Export {inline_code(job.id, 60)} of {inline_code(job_source(job), 80)} "
                "stops and its partial files are removed. This can't be undone."
            ),
            confirm="Cancel export",
            deny="Keep it running",
        ),
    )


def _accessory(job: ExportJob, project_id: str) -> ButtonElement | None:
    active = job.status.is_known and job.status.is_active
    if not active and job.status is not Status.SUCCEEDED:
        return None  # no button: skip building its value
    value = job_button_value(project_id, job.id)
    if value is None:
        return None
    if active:
        return _cancel_button(job, value)
    return button_element("Get download link", action_id=ACTION_LINK, value=value, style="primary")


def _title(job: ExportJob, project_label: str) -> str:
    return (
        f"{status_label(job.status)} · {inline_code(job_source(job), 300)}\n"
        f"Export {inline_code(job.id, 80)} in *{escape_truncated(project_label, 80, note='…')}*"
    )


def _note(job: ExportJob) -> str | None:
    if job.status is Status.EXPIRED:
        return f":information_source: {EXPIRED_NOTE}"
    if job.status is Status.CANCELLED:
        return "Cancelled on request; partial files were cleaned up."
    if not job.status.is_known:
        return "Peaka reported a status this bot doesn't know yet; it is shown as it is."
    return None


def render_job_card(
    job: ExportJob,
    *,
    project_id: str,
    project_label: str,
    owner_mention: str | None,
    show_actions: bool = True,
    error_blocks: int = CARD_ERROR_BLOCKS,
) -> list[dict[str, Any]]:
    """One job in full: status, source, format, rows, size, duration, creation, initiator.

    A failure's error is shown in full (over up to ``error_blocks`` code blocks, then cut
    with a note); an expired job explains the files are gone for good. With
    ``show_actions``, a Cancel (pending/running) or Get download link (succeeded) button.
    """
    fields = [
        f"*{label}*\n{value}"
        for label, value in (
            ("Format", _format(job)),
            ("Rows", human_rows(job.row_count) if job.row_count is not None else None),
            ("Size", human_bytes(job.bytes) if job.bytes is not None else None),
            ("Duration", human_duration(job.duration_ms) if job.duration_ms is not None else None),
            ("Created", slack_date(job.created_at)),
            ("Started by", person(job, owner_mention)),
            (
                "Client",
                escape_truncated(job.client_source, 100, note="…") if job.client_source else None,
            ),
        )
        if value
    ]
    title = _title(job, project_label)
    if job.status is Status.FAILED:
        title += "\n*Error*"
    accessory = _accessory(job, project_id) if show_actions else None
    blocks = [section(title, fields=fields, accessory=accessory)]
    if job.status is Status.FAILED:
        blocks += [
            section(part) for part in split_code(_error_text(job), max_parts=max(1, error_blocks))
        ]
    note = _note(job)
    if note:
        blocks.append(context(note))
    return blocks


def _error_text(job: ExportJob) -> str:
    return job.error if job.error and job.error.strip() else "(Peaka gave no error message)"


def _list_card(job: ExportJob, project_id: str, mention: str | None) -> list[dict[str, Any]]:
    facts = [
        inline_code(job.id, 80),
        _format(job),
        human_rows(job.row_count) if job.row_count is not None else None,
        human_bytes(job.bytes) if job.bytes is not None else None,
        human_duration(job.duration_ms) if job.duration_ms is not None else None,
    ]
    who = [slack_date(job.created_at), person(job, mention)]
    if job.client_source:
        who.append(escape_truncated(job.client_source, 60, note="…"))
    text = (
        f"{status_label(job.status)} · {inline_code(job_source(job), 300)}\n"
        f"{' · '.join(f for f in facts if f)}\n{' · '.join(who)}"
    )
    blocks = [section(text, accessory=_accessory(job, project_id))]
    if job.status is Status.FAILED:
        ref = job.id[:40].replace("{", "{{").replace("}", "}}")  # the note is a format string
        more = f"… (truncated, {{n}} more characters: `/exports show {ref}` shows all)"
        preview = wrap_code(_error_text(job), _LIST_ERROR_PREVIEW, note=more)
        blocks.append(section(preview))
    else:
        note = _note(job)
        if note:
            blocks.append(context(note))
    return blocks


def _filter_phrase(query: ListJobs) -> str:
    words = describe_statuses(query.statuses)
    return "" if words == "all" else words


def render_job_list(
    jobs: Sequence[ExportJob],
    query: ListJobs,
    *,
    project_label: str,
    mentions: Mapping[str, str],
    older_value: str | None,
) -> Reply:
    """A page of jobs: a summary line naming the filter and project, one compact card per
    job (dividers between), an "Older" button when ``older_value`` is given and a footer.
    Always fits in 50 blocks (at most MAX_LIST_LIMIT cards are shown)."""
    phrase = escape_truncated(_filter_phrase(query), 300, note="…")
    label = escape_truncated(project_label, 80, note="…")
    if query.mine:
        title = f"Your {phrase + ' ' if phrase else ''}exports in {label}"
    else:
        title = f"{phrase.capitalize() if phrase else 'All'} exports in {label}"
    response_type: Literal["ephemeral", "in_channel"] = "in_channel" if query.share else "ephemeral"
    if not jobs:
        whose = " of yours" if query.mine else ""
        empty = f"No {phrase + ' ' if phrase else ''}exports{whose} in {label}."
        hint = (
            "Try another status or project (`/exports all`, `project ALIAS`); "
            "`/exports help` lists them."
        )
        return Reply(
            text=empty,
            blocks=[section(f":mag: {empty}"), context(hint)],
            response_type=response_type,
        )
    shown = list(jobs[:MAX_LIST_LIMIT])
    blocks = [section(f"*{title}* (newest first)")]
    for n, job in enumerate(shown):
        if n:
            blocks.append(divider())
        blocks += _list_card(job, query.project_id, mention_for(job, mentions))
    if older_value is not None and slack_len(older_value) <= MAX_BUTTON_VALUE:
        blocks.append(actions(button_element("Older", action_id=ACTION_OLDER, value=older_value)))
    hidden = len(jobs) - len(shown)
    more = f" ({hidden} more not shown; narrow the filter)" if hidden else ""
    blocks.append(
        context(f"Showing {len(shown)}{more} · `/exports help` for statuses, projects and commands")
    )
    text = truncate(f"{title}: {len(shown)} shown", MAX_FALLBACK_TEXT)
    return Reply(text=text, blocks=blocks, response_type=response_type)
