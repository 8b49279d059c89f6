"""Replies for managing a channel's alerts: subscribe, unsubscribe, mute, who may do it.

Pure: data in, a :class:`~bot.core.blocks.Reply` (or a CommandError) out. The listing of a
channel's subscriptions is ``bot.core.messages.render_subscriptions``; :func:`broken_note`
turns a stored "broken" reason into the line it shows, with how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.blocks import Reply, context, escape_truncated, section
from bot.core.cards import slack_date
from bot.core.command_types import Subscribe
from bot.core.statuses import describe_statuses
from bot.core.usage import COMMAND, CommandError, usage_for
from bot.peaka._models import TERMINAL, Status

__all__ = [
    "ALERTABLE",
    "BOT_NAME",
    "alert_statuses_problem",
    "broken_note",
    "render_admin_refusal",
    "render_muted",
    "render_store_missing",
    "render_subscribed",
    "render_unmuted",
    "render_unsubscribed",
]

# The app's display name in manifest.yaml: what people type after /invite.
BOT_NAME = "Peaka Exports"
# Alerts fire when a job reaches one of these; pending and running are never an outcome.
ALERTABLE: frozenset[Status] = TERMINAL
_ORDER = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED)
_INVITE = f"`/invite @{BOT_NAME}` in this channel"
# Slack error codes a post can fail with for good -> (what it means, how to fix it).
_BROKEN: dict[str, tuple[str, str]] = {
    "not_in_channel": ("the bot is not a member of this channel", f"invite it with {_INVITE}"),
    "channel_not_found": (
        "Slack can't find this channel for the bot (a private channel it isn't in?)",
        f"invite it with {_INVITE}",
    ),
    "is_archived": ("this channel is archived", "unarchive it, or subscribe another channel"),
}


def alert_statuses_problem(command: Subscribe, project_label: str) -> CommandError | None:
    """A CommandError when the subscription asks for statuses that are never an outcome."""
    active = sorted(s.value.lower() for s in command.statuses - ALERTABLE)
    if not active:
        return None
    keep = [s.value.lower() for s in _ORDER if s in command.statuses]
    words = " ".join(keep) if keep else "failed"
    return CommandError(
        message=(
            f"Alerts are sent when an export ends, so {' and '.join(active)} can't be "
            "subscribed to (nor `active` or `all`, which include them). Subscribe to outcomes: "
            "failed, succeeded, cancelled, expired, or the groups unsuccessful and finished."
        ),
        suggestion=f"subscribe {words} project {project_label}"[:300],
        usage=usage_for("subscribe"),
    )


def broken_note(reason: str) -> str:
    """What a broken subscription's stored reason means, and how to fix it (raw text)."""
    code = reason.strip()[:100] or "unknown"
    meaning, fix = _BROKEN.get(code, ("posting here failed", f"invite the bot with {_INVITE}"))
    return f"{meaning} (Slack said {code}). To fix: {fix}, then `{COMMAND} subscribe` again."


def render_store_missing() -> Reply:
    """Subscriptions need the database, and this bot runs without one."""
    text = (
        ":floppy_disk: Alert subscriptions aren't available: this bot runs without its "
        "database. An admin needs to set `DATABASE_URL` (or keep the default SQLite file "
        "under `./data/`) and restart the bot."
    )
    return Reply(text="Alert subscriptions aren't available (no database).", blocks=[section(text)])


def render_admin_refusal(admins: Sequence[str]) -> Reply:
    """Only EXPORTS_ADMINS and workspace admins may change this channel's alerts."""
    listed = [f"<@{a}>" for a in admins if a.isalnum()][:20]
    who = ", ".join(listed) + (" and " if listed else "") + "workspace admins"
    text = (
        f":lock: Only {who} can change alert subscriptions (EXPORTS_ADMINS is set). "
        f"Ask one of them, or see what this channel gets with `{COMMAND} subscriptions`."
    )
    return Reply(text="Only admins can change alert subscriptions.", blocks=[section(text)])


def render_subscribed(
    project_label: str,
    statuses: frozenset[Status],
    *,
    previous: frozenset[Status] | None,
    muted_until: datetime | None,
) -> Reply:
    """This channel now gets alerts for ``statuses`` in the project (replacing ``previous``)."""
    label = escape_truncated(project_label, 80, note="…")
    words = escape_truncated(describe_statuses(statuses), 300, note="…")
    lead = f":bell: This channel now gets alerts for *{words}* exports in *{label}*."
    if previous is not None and previous != statuses:
        lead += f" (It got {escape_truncated(describe_statuses(previous), 300)} before.)"
    notes = [
        f"The bot posts alerts only where it is a member: {_INVITE}. "
        f"`{COMMAND} subscriptions` lists this channel's alerts; "
        f"`{COMMAND} unsubscribe project {label}` stops these."
    ]
    blocks = [section(lead)]
    if muted_until is not None:
        blocks.append(
            section(
                f":zzz: Alerts here are muted until {slack_date(muted_until)}; "
                f"`{COMMAND} unmute` resumes them."
            )
        )
    blocks.append(context(*notes))
    return Reply(text=f"Subscribed this channel to {words} exports in {label}.", blocks=blocks)


def render_unsubscribed(project_label: str | None, removed: int) -> Reply:
    """The outcome of an unsubscribe (one project, or every project when None)."""
    if project_label is None:
        text = (
            f":no_bell: Removed all {removed} alert subscription{'s' if removed != 1 else ''} "
            "of this channel."
            if removed
            else ":no_bell: This channel had no alert subscriptions; nothing changed."
        )
    else:
        label = escape_truncated(project_label, 80, note="…")
        text = (
            f":no_bell: This channel no longer gets alerts for *{label}*."
            if removed
            else f":no_bell: This channel had no alerts for *{label}*; nothing changed."
        )
    return Reply(
        text=text.removeprefix(":no_bell: ").replace("*", ""),
        blocks=[section(text), context(f"`{COMMAND} subscribe [STATUS...] [project X]` again")],
    )


def render_muted(until: datetime) -> Reply:
    """Alerts in this channel are paused until ``until``."""
    text = (
        f":zzz: Alerts in this channel are muted until {slack_date(until)}. "
        f"`{COMMAND} unmute` resumes them sooner."
    )
    return Reply(text="Alerts in this channel are muted.", blocks=[section(text)])


def render_unmuted(was_muted: bool) -> Reply:
    """Alerts in this channel are resumed (or were not muted)."""
    text = (
        ":bell: Alerts in this channel are back on."
        if was_muted
        else ":bell: Alerts in this channel weren't muted; nothing changed."
    )
    return Reply(text=text.removeprefix(":bell: "), blocks=[section(text)])
