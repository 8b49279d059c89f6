"""What the bot says about download links, key linking and DMs (pure).

The link DM itself, the not-owner answer and the "no link (yet)" states are
``bot.core.messages``; this module has the rest: "sent you a DM", the connect modal and its
errors, key and DM settings, proactive DMs and answers to DMs the bot can't read. Every
API- or user-derived text is escaped; no function here ever takes a key or a download URL.
"""

from __future__ import annotations

from typing import Any

from bot.core.blocks import (
    Reply,
    actions,
    button,
    context,
    escape_mrkdwn,
    escape_truncated,
    inline_code,
    section,
)
from bot.core.cards import ACTION_LINK, job_button_value, job_source
from bot.core.job_replies import render_job_reply
from bot.core.jobrefs import ID_EXAMPLE
from bot.core.messages import render_link_dm
from bot.core.usage import COMMAND
from bot.peaka import ExportJob

__all__ = [
    "ACTION_CONNECT",
    "CONNECT_BLOCK",
    "CONNECT_CALLBACK",
    "CONNECT_INPUT",
    "connect_modal",
    "connected_modal",
    "modal_error",
    "render_can_not_tell",
    "render_connect_invite",
    "render_connect_needed",
    "render_disconnected",
    "render_dm_help",
    "render_dm_setting",
    "render_done_request_saved",
    "render_failed_dm",
    "render_key_rejected",
    "render_key_unreadable",
    "render_link_failure",
    "render_linking_disabled",
    "render_no_store",
    "render_sent_to_dm",
    "render_succeeded_dm",
    "render_succeeded_later",
]

# The "Link my Peaka key" button (opens the connect modal) and the modal's ids.
ACTION_CONNECT = "links_connect"
CONNECT_CALLBACK = "links_connect_key"
CONNECT_BLOCK = "api_key"
CONNECT_INPUT = "value"
_CONNECT_NOTE = (
    "The key is stored encrypted and used only to fetch download links for exports you "
    f"started. `{COMMAND} disconnect` deletes it."
)


def _ref(job_id: str) -> str:
    return inline_code(job_id, 60)


def _connect_button() -> dict[str, Any]:
    return button("Link my Peaka key", action_id=ACTION_CONNECT, style="primary")


# ---------------------------------------------------------------------------
# Answers to a link request
# ---------------------------------------------------------------------------


def render_sent_to_dm(job_id: str) -> Reply:
    """The only answer in a channel when links went out: where to find them."""
    text = f":envelope_with_arrow: I sent you a DM with download links for export {_ref(job_id)}."
    return Reply(text="I sent you a DM with the download links.", blocks=[section(text)])


def render_connect_needed(job: ExportJob, *, linking_enabled: bool = True) -> Reply:
    """An owner without a key the bot may use: how to link one (if this bot allows it)."""
    if not linking_enabled:
        text = (
            f":key: Export {_ref(job.id)} is yours, but Peaka gives download links only to the "
            "API key of the person who started it, and this bot doesn't take personal keys "
            "(LINKING_ENABLED is off). Download it from Peaka Studio."
        )
        return Reply(text="Download this export from Peaka Studio.", blocks=[section(text)])
    text = (
        f":key: Export {_ref(job.id)} is yours, but Peaka gives download links only to the "
        "API key of the person who started it, and you haven't linked yours. "
        f"Link it with `{COMMAND} connect`, then ask again."
    )
    return Reply(
        text="Link your Peaka API key to get download links.",
        blocks=[section(text), actions(_connect_button()), context(_CONNECT_NOTE)],
    )


def render_can_not_tell(job_id: str) -> Reply:
    """No Slack e-mail and no linked key: ownership can't be checked, so no links."""
    text = (
        f":bust_in_silhouette: I can't tell whether export {_ref(job_id)} is yours: Slack "
        "doesn't show me your e-mail address, which is how Peaka names an export's owner. "
        f"Link your own Peaka API key with `{COMMAND} connect` and ask again."
    )
    return Reply(
        text="I can't tell whether this export is yours.",
        blocks=[section(text), actions(_connect_button())],
    )


def render_key_rejected(prefix: str) -> Reply:
    """Peaka refused the user's linked key (revoked or deleted since)."""
    text = (
        f":key: Peaka rejected your linked API key ({inline_code(prefix + '…', 20)}); it may "
        f"have been revoked. Link a current one with `{COMMAND} connect`."
    )
    return Reply(
        text="Peaka rejected your linked API key.",
        blocks=[section(text), actions(_connect_button())],
    )


def render_key_unreadable() -> Reply:
    """The stored key can't be decrypted (BOT_ENCRYPTION_KEY changed): link it again."""
    text = (
        ":key: I can't read the API key you linked: the bot's encryption key was changed "
        f"since. Link your key again with `{COMMAND} connect`."
    )
    return Reply(
        text="Your linked key can't be read any more; link it again.",
        blocks=[section(text), actions(_connect_button())],
    )


def render_link_failure(what: str, next_step: str) -> Reply:
    """A Peaka or Slack problem while getting links: what happened and what to do."""
    return Reply(
        text=escape_truncated(what, 300),
        blocks=[section(f":warning: *{escape_mrkdwn(what)}*\n{escape_mrkdwn(next_step)}")],
    )


def render_done_request_saved(job: ExportJob) -> Reply:
    """ "DM me when it's done" was stored."""
    text = (
        f":bell: Got it: I'll DM you when export {_ref(job.id)} "
        f"({inline_code(job_source(job), 120)}) is done."
    )
    return Reply(text="I'll DM you when the export is done.", blocks=[section(text)])


def render_no_store() -> Reply:
    """Linking and DM settings need the database, and there is none."""
    text = (
        ":floppy_disk: This needs the bot's database, which isn't configured. "
        "Ask an admin to set DATABASE_URL."
    )
    return Reply(text="The bot's database isn't configured.", blocks=[section(text)])


# ---------------------------------------------------------------------------
# Linking a key
# ---------------------------------------------------------------------------


def connect_modal(project_label: str) -> dict[str, Any]:
    """The modal where people paste their Peaka API key."""
    label = escape_truncated(project_label, 80, note="…")
    return {
        "type": "modal",
        "callback_id": CONNECT_CALLBACK,
        "title": {"type": "plain_text", "text": "Link your Peaka key"},
        "submit": {"type": "plain_text", "text": "Link key"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(
                "Paste a Peaka API key of *your own* (Peaka Studio > API keys). With it I can "
                "DM you download links for exports you started: Peaka hands links only to "
                "the key of an export's owner."
            ),
            {
                "type": "input",
                "block_id": CONNECT_BLOCK,
                "label": {"type": "plain_text", "text": "Peaka API key"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": CONNECT_INPUT,
                    "min_length": 8,
                    "max_length": 512,
                    "placeholder": {"type": "plain_text", "text": "your personal API key"},
                },
            },
            context(f"I check it with one List call on *{label}*. {_CONNECT_NOTE}"),
        ],
    }


def connected_modal(prefix: str) -> dict[str, Any]:
    """What the modal turns into once the key is checked and stored."""
    return {
        "type": "modal",
        "callback_id": CONNECT_CALLBACK + "_done",
        "title": {"type": "plain_text", "text": "Key linked"},
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": [
            section(
                f":white_check_mark: Your Peaka key {inline_code(prefix + '…', 20)} is linked. "
                f"`{COMMAND} link ID` now DMs you download links for your exports, and I DM you "
                f"when they finish (`{COMMAND} dm off` stops that)."
            ),
            context(f"`{COMMAND} disconnect` deletes the key."),
        ],
    }


def modal_error(kind: str, *, project_labels: str = "", prefix: str = "") -> str:
    """The error shown under the key field (plain text, one sentence or two)."""
    shown = f" ({prefix}…)" if prefix else ""
    messages = {
        "blank": "Paste your Peaka API key here.",
        "malformed": (
            "That doesn't look like an API key: a key is one word of at least 8 characters, "
            "without spaces or line breaks."
        ),
        "invalid": (
            f"Peaka rejected this key{shown} (401: unknown or revoked). Copy a current key "
            "from Peaka Studio > API keys."
        ),
        "forbidden": (
            f"Peaka accepted this key{shown} but it may not read exports in {project_labels} "
            "(403). Use a partner key, or a project key for one of these projects."
        ),
        "unreachable": "Peaka didn't answer, so I couldn't check the key. Try again in a minute.",
        "no_store": "The bot has no database to keep your key in. Ask an admin to set one up.",
        "disabled": "Linking personal keys is turned off on this bot (LINKING_ENABLED).",
    }
    return messages.get(kind, "Something went wrong checking the key. Try again in a minute.")


def render_linking_disabled() -> Reply:
    """``/exports connect`` while LINKING_ENABLED is false."""
    text = (
        ":no_entry: Linking personal Peaka keys is turned off on this bot (LINKING_ENABLED). "
        "Download links still work for exports the bot started for you."
    )
    return Reply(text="Linking personal keys is turned off.", blocks=[section(text)])


def render_disconnected(prefix: str | None) -> Reply:
    """``/exports disconnect``: what was deleted, if anything."""
    if prefix is None:
        text = f":information_source: You have no Peaka key linked; `{COMMAND} connect` links one."
        return Reply(text="You have no Peaka key linked.", blocks=[section(text)])
    text = (
        f":wastebasket: Deleted your linked Peaka key {inline_code(prefix + '…', 20)}. "
        f"I can't fetch download links for you until you `{COMMAND} connect` again."
    )
    return Reply(text="Your linked Peaka key was deleted.", blocks=[section(text)])


def render_dm_setting(enabled: bool, *, linked: bool) -> Reply:
    """``/exports dm on|off``: what the user gets from now on."""
    if not enabled:
        text = (
            ":no_bell: I won't DM you when your exports finish or fail. "
            f"`{COMMAND} dm on` turns it back on; `{COMMAND} link ID` still works."
        )
        return Reply(text="Direct messages about your exports are off.", blocks=[section(text)])
    text = ":bell: I'll DM you when your exports succeed (with download links) or fail."
    if not linked:
        text += f" Link your Peaka key first with `{COMMAND} connect`, or I can't fetch links."
    return Reply(text="Direct messages about your exports are on.", blocks=[section(text)])


# ---------------------------------------------------------------------------
# Proactive DMs
# ---------------------------------------------------------------------------


def render_succeeded_dm(job: ExportJob, project_label: str, *, project_id: str) -> Reply:
    """Your export succeeded: the link DM, with a notification text that says so."""
    dm = render_link_dm(job, project_label, project_id=project_id)
    note = f"Your export {escape_truncated(job_source(job), 150)} succeeded: download links inside."
    return Reply(text=note, blocks=dm.blocks)


def render_succeeded_later(job: ExportJob, project_label: str, *, project_id: str) -> Reply:
    """Your export succeeded, but its links couldn't be fetched just now: a button for later."""
    label = escape_truncated(project_label, 80, note="…")
    text = (
        f":white_check_mark: Your export {inline_code(job_source(job), 150)} in *{label}* "
        "succeeded. I couldn't fetch its download links just now (Peaka didn't answer); "
        "press the button to get fresh ones."
    )
    blocks = [section(text)]
    value = job_button_value(project_id, job.id)
    if value is not None:
        blocks.append(actions(button("Get download link", action_id=ACTION_LINK, value=value)))
    note = f"Your export {escape_truncated(job_source(job), 150)} succeeded."
    return Reply(text=note, blocks=blocks)


def render_failed_dm(job: ExportJob, project_label: str, *, project_id: str) -> Reply:
    """Your export failed: its card with the error in full."""
    lead = f":x: Your export {inline_code(job_source(job), 150)} failed."
    card = render_job_reply(
        job,
        project_id=project_id,
        project_label=project_label,
        owner_mention=None,
        lead=lead,
        show_actions=False,
    )
    note = f"Your export {escape_truncated(job_source(job), 150)} failed."
    return Reply(text=note, blocks=card.blocks)


def render_connect_invite(job: ExportJob, project_label: str) -> Reply:
    """Once per person: their export finished and linking a key gets them links by DM."""
    outcome = "succeeded" if job.status.value == "SUCCEEDED" else "failed"
    label = escape_truncated(project_label, 80, note="…")
    text = (
        f":wave: Your export {inline_code(job_source(job), 150)} in *{label}* {outcome}. "
        "I can DM you fresh download links whenever your exports finish, but Peaka gives links "
        "only to your own API key: link it once with "
        f"`{COMMAND} connect`. I won't send this invitation again."
    )
    return Reply(
        text="Link your Peaka key to get download links by DM.",
        blocks=[
            section(text),
            actions(_connect_button()),
            context(f"`{COMMAND} dm off` stops messages about your exports."),
        ],
    )


# ---------------------------------------------------------------------------
# DMs the bot can't act on
# ---------------------------------------------------------------------------


def render_dm_help(problem: str | None = None) -> Reply:
    """A DM without a usable export id: what went wrong and what works."""
    lines = []
    if problem:
        lines.append(f":thinking_face: {escape_truncated(problem, 600)}")
    lines.append(
        f"Send me `link ID` or just an export id, like `{ID_EXAMPLE}`, and I'll DM you fresh "
        "download links for it (only for exports you started)."
    )
    lines.append(
        f"Copy the id from a job card or from `{COMMAND}` in any channel; "
        f"`{COMMAND} help` lists every command."
    )
    return Reply(
        text="Send me an export id to get its download links.", blocks=[section("\n".join(lines))]
    )
