"""Every other message the bot sends: help, errors, alerts, digests, link DMs, settings.

Plain data in, a :class:`~bot.core.blocks.Reply` out; every API- or user-derived text is
escaped, and every message fits Slack's limits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from bot.core.blocks import (
    MAX_BLOCKS,
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    Reply,
    actions,
    button,
    context,
    escape_mrkdwn,
    escape_truncated,
    header,
    inline_code,
    pack_lines,
    section,
    slack_len,
    split_code,
    truncate,
    wrap_code,
)
from bot.core.cards import (
    ACTION_NOTIFY_DONE,
    ACTION_REFRESH_LINKS,
    EXPIRED_NOTE,
    human_bytes,
    human_rows,
    job_button_value,
    job_source,
    person,
    render_job_card,
    slack_date,
    status_label,
)
from bot.core.projects import ProjectDirectory
from bot.core.statuses import STATUS_WORDS, describe_statuses
from bot.core.usage import COMMAND, EXAMPLES, USAGE, CommandError
from bot.peaka._models import ExportJob, Status

__all__ = [
    "API_FAILURES",
    "MAX_DIGEST_LINES",
    "render_alert",
    "render_api_failure",
    "render_command_error",
    "render_digest",
    "render_help",
    "render_job_state_for_link",
    "render_link_dm",
    "render_not_owner",
    "render_subscriptions",
]

MAX_DIGEST_LINES = 50
_SAFE_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_OUTCOME = {
    Status.PENDING: "is pending",
    Status.RUNNING: "is running",
    Status.SUCCEEDED: "succeeded",
    Status.FAILED: "failed",
    Status.CANCELLED: "was cancelled",
    Status.EXPIRED: "expired",
}
# kind -> (emoji, what happened, what to do next)
API_FAILURES: dict[str, tuple[str, str, str]] = {
    "peaka_down": (
        ":electric_plug:",
        "Peaka isn't answering right now.",
        "Nothing was changed. Try again in a minute; if it keeps happening, ask an admin "
        "to check the bot's logs.",
    ),
    "bad_key": (
        ":key:",
        "Peaka rejected the bot's API key.",
        "An admin needs to set a valid key (PEAKA_API_KEY) and restart the bot; until then "
        "no command can reach Peaka.",
    ),
    "rate_limited": (
        ":snail:",
        "Peaka is rate limiting the bot.",
        "Wait a few seconds and try again.",
    ),
    "not_found": (
        ":mag:",
        "Peaka couldn't find that export or project.",
        f"Check the id (`{COMMAND}` lists recent exports) and the project "
        f"(`project ALIAS`; `{COMMAND} help projects` lists them).",
    ),
    "forbidden": (
        ":no_entry:",
        "The bot's API key may not access that project.",
        "Project API keys only reach their own project; an admin can configure a key "
        "for this project or a partner key.",
    ),
}
_UNKNOWN_FAILURE = (
    ":warning:",
    "Something went wrong talking to Peaka.",
    "Try again; if it keeps happening, ask an admin to check the bot's logs.",
)


def _outcome(status: Status) -> str:
    if status.is_known:
        return _OUTCOME[status]
    return f"is now {escape_truncated(status.value, 40, note='…')}"


def _fallback(text: str) -> str:
    return truncate(text, MAX_FALLBACK_TEXT)


# ---------------------------------------------------------------------------
# Help and errors
# ---------------------------------------------------------------------------


def _usage_lines(verbs: Sequence[str]) -> str:
    return "\n".join(f"`{COMMAND} {USAGE[v][0]}`\n      {USAGE[v][1]}" for v in verbs)


def _status_lines() -> str:
    return "\n".join(f"`{word}` — {meaning}" for word, (_, meaning) in STATUS_WORDS.items())


def _example_lines(verb: str | None) -> str:
    chosen = [
        (text, what)
        for text, what in EXAMPLES
        if verb is None or text.split(" ", 1)[0] == verb or (verb == "list" and _is_list(text))
    ]
    return "\n".join(f"`{f'{COMMAND} {text}'.strip()}` — {what}" for text, what in chosen)


def _is_list(text: str) -> bool:
    first = text.split(" ", 1)[0]
    return first not in USAGE


def _project_lines(projects: ProjectDirectory) -> str:
    lines = []
    for n, p in enumerate(projects.all):
        name = (
            f"`{escape_mrkdwn(p.alias)}` → {escape_mrkdwn(p.id)}"
            if p.alias
            else f"`{escape_mrkdwn(p.id)}`"
        )
        lines.append(name + (" (default)" if n == 0 else ""))
    return "\n".join(lines)


def render_help(topic: str | None = None, *, projects: ProjectDirectory | None = None) -> Reply:
    """The help: every command form, the status words and examples; or one ``topic``."""
    blocks = [header(f"{COMMAND} help" + (f": {topic}" if topic else ""))]
    if topic is None or topic not in (*USAGE, "statuses", "projects"):
        blocks.append(section("*Commands*\n" + _usage_lines(list(USAGE))))
        blocks.append(
            section("*Status words* (combine them: `failed cancelled`)\n" + _status_lines())
        )
        blocks.append(section("*Examples*\n" + _example_lines(None)))
    elif topic == "statuses":
        blocks.append(
            section("*Status words* (combine them: `failed cancelled`)\n" + _status_lines())
        )
    elif topic != "projects":
        blocks.append(section(_usage_lines([topic])))
        if topic in ("list", "subscribe"):
            blocks.append(section("*Status words*\n" + _status_lines()))
        examples = _example_lines(topic)
        if examples:
            blocks.append(section("*Examples*\n" + examples))
    if projects is not None and topic in (None, "projects", "list"):
        blocks.append(section("*Projects* (`project ALIAS|ID`)\n" + _project_lines(projects)))
    elif topic == "projects":
        blocks.append(
            section(
                "Pick a project with `project ALIAS|ID`; the first configured one is the default."
            )
        )
    blocks.append(
        context(
            f"Replies are only visible to you unless you add `share`. `{COMMAND} help TOPIC` "
            f"for one command."
        )
    )
    return Reply(text=f"{COMMAND} help", blocks=blocks)


def render_command_error(err: CommandError) -> Reply:
    """What was wrong, a ready-to-paste suggestion if there is one, and the valid forms."""
    message = escape_truncated(err.message, MAX_SECTION_TEXT - 20)
    blocks = [section(f":warning: {message}")]
    if err.suggestion:
        blocks.append(section(f"Did you mean {inline_code(f'{COMMAND} {err.suggestion}', 400)}?"))
    if err.usage:
        blocks.append(section("*Usage*\n" + wrap_code(err.usage, MAX_SECTION_TEXT - 20)))
    blocks.append(context(f"`{COMMAND} help` lists every command and status word."))
    return Reply(text=_fallback(escape_mrkdwn(err.message)), blocks=blocks)


def render_api_failure(kind: str, detail: str) -> Reply:
    """A Peaka call failed: what happened and what to do next (``kind`` in API_FAILURES)."""
    emoji, what, next_step = API_FAILURES.get(kind, _UNKNOWN_FAILURE)
    blocks = [section(f"{emoji} *{what}*\n{next_step}")]
    if detail.strip():
        blocks.append(context("Details: " + escape_truncated(detail, 1000)))
    return Reply(text=what, blocks=blocks)


# ---------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------


def render_alert(
    job: ExportJob, project_label: str, owner_mention: str | None, *, project_id: str
) -> Reply:
    """A channel alert for one job: the outcome, the full card (error in full), a mention."""
    label = escape_truncated(project_label, 80, note="…")
    owner = person(job, owner_mention)
    lead = f":bell: Export {_outcome(job.status)} in *{label}* · {owner}"
    card = render_job_card(
        job, project_id=project_id, project_label=project_label, owner_mention=owner_mention
    )
    source = escape_truncated(job_source(job), 200, note="…")
    ref = escape_truncated(job.id, 60, note="…")
    text = f"Export {_outcome(job.status)} in {label}: {source} ({ref}) · {owner}"
    return Reply(text=_fallback(text), blocks=[section(lead), *card], response_type="in_channel")


def render_digest(alerts: Sequence[tuple[ExportJob, str, str | None]]) -> Reply:
    """Many alerts at once, one compact line each (status, source, id, owner), "and N more"."""
    counts = Counter(_outcome_word(job.status) for job, _, _ in alerts)
    summary = ", ".join(f"{n} {word}" for word, n in counts.most_common())
    title = f"{len(alerts)} export alert{'s' if len(alerts) != 1 else ''}" + (
        f": {summary}" if summary else ""
    )
    lines = [
        f"{status_label(job.status)} {inline_code(job_source(job), 120)} in "
        f"*{escape_truncated(label, 60, note='…')}* · {inline_code(job.id, 60)} · "
        f"{person(job, mention)}"
        for job, label, mention in alerts[:MAX_DIGEST_LINES]
    ]
    blocks, hidden = pack_lines(lines, max_blocks=MAX_BLOCKS - 2)
    hidden += max(0, len(alerts) - MAX_DIGEST_LINES)
    footer = f"…and {hidden} more. " if hidden else ""
    footer += f"`{COMMAND} show ID` shows one in full."
    return Reply(
        text=_fallback(escape_mrkdwn(title)),
        blocks=[section(f":rotating_light: *{escape_mrkdwn(title)}*"), *blocks, context(footer)],
        response_type="in_channel",
    )


def _outcome_word(status: Status) -> str:
    word = status.value.lower()
    return word if len(word) <= 40 else word[:40] + "…"


# ---------------------------------------------------------------------------
# Download links
# ---------------------------------------------------------------------------


def _link(url: str, label: str) -> str | None:
    """``<url|label>`` for an http(s) URL, or None if the URL can't be linked safely."""
    if not _SAFE_URL.fullmatch(url):
        return None  # e.g. "!channel" would otherwise become a special token
    target = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{target}|{escape_truncated(label, 200, note='…')}>"


def render_link_dm(job: ExportJob, project_label: str, *, project_id: str) -> Reply:
    """The owner's DM: each file with its size and a download link, the links' expiry and
    a "Refresh links" button."""
    source = inline_code(job_source(job), 200)
    label = escape_truncated(project_label, 80, note="…")
    facts = ", ".join(
        f
        for f in (
            human_rows(job.row_count) if job.row_count is not None else None,
            human_bytes(job.bytes) if job.bytes is not None else None,
        )
        if f
    )
    lead = f":package: Download links for {source} in *{label}*" + (f" ({facts})" if facts else "")
    lines = []
    for f in job.files:
        name = f.name or "file"
        link = _link(f.url, f"Download {name}")
        size = f" ({human_bytes(f.bytes)})" if f.bytes is not None else ""
        if link is None or slack_len(link) > MAX_SECTION_TEXT - 300:
            lines.append(
                f"• {inline_code(name, 200)}{size}: the link can't be shown in Slack; "
                "use the Peaka API."
            )
        else:
            lines.append(f"• {link}{size}")
    if not lines:
        lines.append("Peaka returned no files for this export. Try *Refresh links* in a moment.")
    file_blocks, hidden = pack_lines(lines, max_blocks=MAX_BLOCKS - 3)
    expiry = (
        f"Links expire {slack_date(job.expires_at, '{date_short_pretty} at {time}')}"
        if job.expires_at
        else "Links are short-lived"
    )
    more = f"…and {hidden} more files. " if hidden else ""
    notes = context(f"{more}{expiry} and work only for you; *Refresh links* gets fresh ones.")
    blocks = [section(lead), *file_blocks, notes]
    value = job_button_value(project_id, job.id)
    if value is not None:
        blocks.append(actions(button("Refresh links", action_id=ACTION_REFRESH_LINKS, value=value)))
    return Reply(
        text=_fallback(f"Download links for {escape_truncated(job_source(job), 200)}"),
        blocks=blocks,
    )


def render_not_owner(job: ExportJob, owner_mention_or_name: str | None) -> Reply:
    """Someone asked for another person's files: downloads are owner-only."""
    owner = person(job, owner_mention_or_name)
    text = (
        f":lock: Only the person who started export {inline_code(job.id, 60)} can download it "
        f"({owner}). Peaka's download links are owner-only: ask them for the file, or re-run "
        f"the export yourself."
    )
    return Reply(text=_fallback(f"Only {owner} can download this export."), blocks=[section(text)])


def render_job_state_for_link(job: ExportJob, *, project_id: str) -> Reply:
    """Why there is no download link (yet): still running, failed, expired or cancelled."""
    ref = inline_code(job.id, 60)
    blocks = []
    if job.status.is_known and job.status.is_active:
        state = "still pending" if job.status is Status.PENDING else "still running"
        text = (
            f"{status_label(job.status)} Export {ref} is {state}; there is nothing to download yet."
        )
        blocks.append(section(text))
        value = job_button_value(project_id, job.id)
        if value is not None:
            blocks.append(
                actions(button("DM me when it's done", action_id=ACTION_NOTIFY_DONE, value=value))
            )
    elif job.status is Status.FAILED:
        text = (
            f"{status_label(job.status)} Export {ref} failed, so there is nothing to download."
            "\n*Error*"
        )
        error = job.error if job.error and job.error.strip() else "(Peaka gave no error message)"
        blocks += [
            section(text),
            *(section(p) for p in split_code(error, max_parts=MAX_BLOCKS - 5)),
        ]
    elif job.status is Status.EXPIRED:
        text = f"{status_label(job.status)} Export {ref} has expired. {EXPIRED_NOTE}"
        blocks.append(section(text))
    elif job.status is Status.CANCELLED:
        text = (
            f"{status_label(job.status)} Export {ref} was cancelled; there is nothing to download."
        )
        blocks.append(section(text))
    elif job.status is Status.SUCCEEDED:
        text = (
            f"{status_label(job.status)} Export {ref} succeeded, but Peaka returned no files "
            "for you. Try again in a moment."
        )
        blocks.append(section(text))
    else:
        text = (
            f"{status_label(job.status)} Export {ref} {_outcome(job.status)}; "
            "there is nothing to download."
        )
        blocks.append(section(text))
    return Reply(text=_fallback(text.split("\n", 1)[0]), blocks=blocks)


# ---------------------------------------------------------------------------
# Subscriptions
# ---------------------------------------------------------------------------


def render_subscriptions(
    subscriptions: Sequence[tuple[str, frozenset[Status], str | None]],
    muted_until: datetime | None,
) -> Reply:
    """This channel's subscriptions (project, statuses, why one is broken) and mute state."""
    blocks = []
    if muted_until is not None:
        blocks.append(
            section(
                f":zzz: Alerts here are muted until {slack_date(muted_until)}. "
                f"`{COMMAND} unmute` resumes them."
            )
        )
    if not subscriptions:
        blocks.append(
            section(
                ":bell: No alert subscriptions here. "
                f"Try `{COMMAND} subscribe failed project ALIAS`."
            )
        )
        return Reply(text="No alert subscriptions here.", blocks=blocks)
    lines = []
    for label, statuses, broken in subscriptions:
        words = escape_truncated(describe_statuses(statuses), 300, note="…")
        line = f"• *{escape_truncated(label, 80, note='…')}*: {words}"
        if broken:
            line += f"\n      :warning: paused: {escape_truncated(broken, 500)}"
        lines.append(line)
    sub_blocks, hidden = pack_lines(lines, max_blocks=MAX_BLOCKS - 3)
    more = f"…and {hidden} more. " if hidden else ""
    blocks += [section("*Alert subscriptions here*"), *sub_blocks]
    blocks.append(
        context(
            f"{more}`{COMMAND} unsubscribe project ALIAS` stops one; "
            f"`{COMMAND} mute 2h` pauses all."
        )
    )
    count = len(subscriptions)
    noun = "subscription" if count == 1 else "subscriptions"
    return Reply(text=f"{count} alert {noun} here.", blocks=blocks)
