"""The valid forms of every ``/exports`` command and the error value the grammar returns.

Kept apart from the grammar so that the job-ref parser, the grammar and the help text
share one source of truth without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMMAND", "EXAMPLES", "USAGE", "CommandError", "usage_for"]

COMMAND = "/exports"

# verb -> (form, what it does). "list" is the form without a verb.
USAGE: dict[str, tuple[str, str]] = {
    "list": (
        "[STATUS...] [project ALIAS|ID] [limit N] [mine] [share]",
        "List recent exports, newest first (all statuses when none given).",
    ),
    "show": ("show ID [project ALIAS|ID] [share]", "Show one export in full."),
    "cancel": (
        "cancel ID [project ALIAS|ID]",
        "Cancel a pending or running export (your own; admins may cancel any).",
    ),
    "link": (
        "link ID [project ALIAS|ID]",
        "DM yourself fresh download links (only for exports you started).",
    ),
    "subscribe": (
        "subscribe [STATUS...] [project ALIAS|ID]",
        "Post alerts in this channel when exports end in these statuses (default: failed).",
    ),
    "unsubscribe": (
        "unsubscribe [project ALIAS|ID]",
        "Stop alerts in this channel (for one project, or all when none given).",
    ),
    "subscriptions": ("subscriptions", "Show this channel's alert subscriptions."),
    "mute": ("mute DURATION", "Pause this channel's alerts, e.g. `mute 2h` (30m, 1d, 1h30m)."),
    "unmute": ("unmute", "Resume this channel's alerts."),
    "connect": ("connect", "Link your Slack account to your Peaka user."),
    "disconnect": ("disconnect", "Unlink your Slack account."),
    "dm": ("dm on|off", "Turn direct messages about your own exports on or off."),
    "help": ("help [TOPIC]", "Show this help, or the help for one command."),
}

EXAMPLES: tuple[tuple[str, str], ...] = (
    ("", "recent exports of the default project"),
    ("failed project analytics", "failed exports in the analytics project"),
    ("active mine limit 5", "your five newest pending or running exports"),
    ("unsuccessful share", "failed or cancelled exports, posted for the channel"),
    ("show 4c9fcb44-126a-45f8-99a0-f1d245083d78", "one export in full"),
    ("subscribe failed cancelled project analytics", "alerts for failures and cancellations"),
    ("mute 2h", "no alerts for two hours"),
)


def usage_for(*verbs: str) -> str:
    """The forms of ``verbs`` (e.g. ``usage_for("show")``), one per line."""
    return "\n".join(f"{COMMAND} {USAGE[v][0]}" for v in verbs if v in USAGE)


@dataclass(frozen=True, slots=True)
class CommandError:
    """Why a command text could not be understood, and what would have worked.

    ``message`` says what was wrong (mrkdwn-ready apart from escaping: render it through
    ``escape_mrkdwn``); ``suggestion`` is a corrected command text without the
    ``/exports`` prefix, when one is likely; ``usage`` lists the valid forms.
    """

    message: str
    suggestion: str | None = None
    usage: str = ""
