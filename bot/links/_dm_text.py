"""What a DM to the bot asks for: ``link ID``, just an id, or something it can't use (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.command_types import GetLink
from bot.core.commands import parse_command
from bot.core.jobrefs import parse_job_ref
from bot.core.projects import ProjectDirectory
from bot.core.usage import CommandError

__all__ = ["DmLinkRequest", "DmUnclear", "looks_like_a_key", "parse_dm_text"]

_GREETINGS = frozenset({"help", "hi", "hello", "hey", "?", "start"})
_KEY_MIN_LENGTH = 20
_KEY_PASTED = (
    "That looks like an API key or a token, not an export id, so I haven't repeated it. "
    "Never paste keys into a chat: to link your Peaka key use `/exports connect`, which "
    "stores it encrypted. If it was a real key, consider rotating it in Peaka Studio."
)


@dataclass(frozen=True, slots=True)
class DmLinkRequest:
    """The DM asks for the links of ``job_id`` (in ``project_id`` unless found elsewhere)."""

    job_id: str
    project_id: str


@dataclass(frozen=True, slots=True)
class DmUnclear:
    """The DM has no usable export id; ``problem`` says what was wrong (None: just help)."""

    problem: str | None


def parse_dm_text(text: str, projects: ProjectDirectory) -> DmLinkRequest | DmUnclear:
    """Read ``link ID [project X]``, a bare id, a pasted URL or Slack link holding one.

    Never raises: anything else is DmUnclear with the reason, for a helpful answer.
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    if not cleaned:
        return DmUnclear("Your message was empty.")
    words = cleaned.split()
    first = words[0].lower()
    if first in _GREETINGS and len(words) == 1:
        return DmUnclear(None)
    rest = cleaned[len(words[0]) :].strip() if first == "link" else cleaned
    command = parse_command(f"link {rest}", projects, max_limit=1)
    if isinstance(command, GetLink):
        return DmLinkRequest(command.job_id, command.project_id)
    problem = command.message if isinstance(command, CommandError) else None
    # Not the `link` grammar: still take an id from anywhere in the text, e.g. a sentence.
    ref = parse_job_ref(rest)
    if isinstance(ref, str):
        return DmLinkRequest(ref, projects.default.id)
    if any(looks_like_a_key(word) for word in rest.split()):
        return DmUnclear(_KEY_PASTED)  # said without quoting it back
    return DmUnclear(ref.message if rest or problem is None else problem)


def looks_like_a_key(word: str) -> bool:
    """Whether ``word`` could be an API key or token someone pasted (long, mixed, no spaces).

    Such a word is never quoted back in a reply, which would keep it in the chat's history.
    """
    token = word.strip("`'\"<>")
    if len(token) < _KEY_MIN_LENGTH or "/" in token or "." in token or "@" in token:
        return False
    has_letter = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    hexish = all(c in "0123456789abcdefABCDEF-" for c in token)
    return has_letter and has_digit and not hexish
