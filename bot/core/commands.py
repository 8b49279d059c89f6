"""The ``/exports`` grammar: command text in, a typed command (or a CommandError) out.

``parse_command`` never raises for any text; everything it cannot read becomes a
CommandError that says what was wrong, what probably was meant and what is valid.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

from bot.core.command_types import (
    DEFAULT_LIMIT,
    MAX_MUTE,
    MIN_MUTE,
    CancelJob,
    Command,
    Connect,
    Disconnect,
    DmSetting,
    GetLink,
    Help,
    ListJobs,
    ListSubscriptions,
    Mute,
    ShowJob,
    Subscribe,
    Unmute,
    Unsubscribe,
)
from bot.core.jobrefs import ID_EXAMPLE, parse_job_ref
from bot.core.projects import ProjectDirectory
from bot.core.statuses import ALL_STATUSES, STATUS_WORDS, lookup_status_word
from bot.core.usage import COMMAND, USAGE, CommandError, usage_for
from bot.peaka._models import Status

__all__ = [
    "DEFAULT_LIMIT",
    "HELP_TOPICS",
    "MAX_MUTE",
    "CancelJob",
    "Command",
    "CommandError",
    "Connect",
    "Disconnect",
    "DmSetting",
    "GetLink",
    "Help",
    "ListJobs",
    "ListSubscriptions",
    "Mute",
    "ShowJob",
    "Subscribe",
    "Unmute",
    "Unsubscribe",
    "parse_command",
    "parse_duration",
]

HELP_TOPICS: tuple[str, ...] = (*USAGE, "statuses", "projects")
_TOPIC_ALIASES = {"status": "statuses", "project": "projects", "alerts": "subscribe"}
_LIST_OPTIONS = ("project", "limit", "mine", "share")
_VERBS = (*(v for v in USAGE if v != "list"), "list")
_ON = {"on", "yes", "true", "enable", "enabled"}
_OFF = {"off", "no", "false", "disable", "disabled"}
_DURATION_UNITS = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60),
    **dict.fromkeys(("d", "day", "days"), 24 * 60),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 24 * 60),
}
_DURATION_EXAMPLES = "30m, 2h, 1d or 1h30m (at most 30d)"
# A Slack link or mention stays one token even if its label has spaces.
_TOKEN = re.compile(r"<[^<>\s][^<>]*>|\S+")
_NUMBER = re.compile(r"[0-9]{1,9}")
# Looks like the start of an export id (hex with a digit), e.g. "4c9fcb44".
_PARTIAL_ID = re.compile(r"(?=[^0-9]*[0-9])[0-9a-fA-F-]{6,}(?:…|\.\.\.)?")


def parse_command(
    text: str, projects: ProjectDirectory, *, max_limit: int
) -> Command | CommandError:
    """Parse the text after ``/exports``. Never raises; bad input gives a CommandError."""
    return _Parser(text, projects, max(1, max_limit)).parse()


def parse_duration(text: str) -> timedelta | CommandError:
    """``30m``, ``2h``, ``1d``, ``1h30m`` (spaces allowed) -> timedelta, 1 minute to 30 days."""
    compact = "".join(text.split()).lower()
    usage = usage_for("mute")
    if not compact:
        return CommandError(f"Say how long to mute for: {_DURATION_EXAMPLES}.", "mute 2h", usage)
    if _NUMBER.fullmatch(compact):
        return CommandError(
            f"`{compact}` needs a unit: {_DURATION_EXAMPLES}.", f"mute {compact}m", usage
        )
    parts = re.findall(r"([0-9]{1,6})([a-z]+)", compact)
    if not re.fullmatch(r"(?:[0-9]{1,6}[a-z]+)+", compact) or any(
        unit not in _DURATION_UNITS for _, unit in parts
    ):
        return CommandError(
            f"`{_shown(text)}` is not a duration I understand. Use {_DURATION_EXAMPLES}.",
            "mute 2h",
            usage,
        )
    minutes = sum(int(n) * _DURATION_UNITS[unit] for n, unit in parts)
    duration = timedelta(minutes=minutes)
    if not MIN_MUTE <= duration <= MAX_MUTE:
        return CommandError(
            f"`{_shown(text)}` is out of range: mute for 1 minute up to 30 days, "
            "e.g. 30m, 2h, 1d or 1h30m.",
            "mute 30d" if duration > MAX_MUTE else "mute 30m",
            usage,
        )
    return duration


class _Parser:
    def __init__(self, text: str, projects: ProjectDirectory, max_limit: int) -> None:
        self.raw = _TOKEN.findall(text)
        self.words = _split_words(self.raw)
        self.projects = projects
        self.max_limit = max_limit

    def parse(self) -> Command | CommandError:
        if not self.raw:
            return ListJobs(
                ALL_STATUSES, self.projects.default.id, min(DEFAULT_LIMIT, self.max_limit)
            )
        verb = self.raw[0].lower()
        handler = self._handlers().get(verb)
        if handler is not None:
            return handler()
        ref = parse_job_ref(self.raw[0])
        if isinstance(ref, str):
            # A bare id (or a pasted link to one) means "show it".
            return self._id_command("show", ["show", *self.raw])
        if _PARTIAL_ID.fullmatch(self.raw[0]) and lookup_status_word(self.raw[0]) is None:
            return CommandError(ref.message, None, usage_for("show"))
        return self._list(self.words, "list")

    def _handlers(self) -> dict[str, Callable[[], Command | CommandError]]:
        return {
            "list": lambda: self._list(self.words[1:], "list"),
            "show": lambda: self._id_command("show", self.raw),
            "cancel": lambda: self._id_command("cancel", self.raw),
            "link": lambda: self._id_command("link", self.raw),
            "help": self._help,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "subscriptions": lambda: self._bare("subscriptions", ListSubscriptions()),
            "mute": self._mute,
            "unmute": lambda: self._bare("unmute", Unmute()),
            "connect": lambda: self._bare("connect", Connect()),
            "disconnect": lambda: self._bare("disconnect", Disconnect()),
            "dm": self._dm,
        }

    # -- list -------------------------------------------------------------------

    def _list(self, words: list[str], verb: str) -> Command | CommandError:
        statuses: set[Status] = set()
        project_id: str | None = None
        limit: int | None = None
        mine = share = False
        offset = len(self.words) - len(words)  # words[i] is self.words[offset + i]
        i = 0
        while i < len(words):
            word, low = words[i], words[i].lower()
            found = lookup_status_word(word)
            if found is not None:
                statuses |= found
            elif low in ("project", "limit"):
                if i + 1 >= len(words):
                    return self._missing_value(low, "list")
                value = words[i + 1]
                if low == "project":
                    if project_id is not None:
                        return self._twice("project", "list")
                    resolved = self._project(value, offset + i + 1, "list")
                    if isinstance(resolved, CommandError):
                        return resolved
                    project_id = resolved
                else:
                    if limit is not None:
                        return self._twice("limit", "list")
                    parsed = self._limit(value, offset + i + 1)
                    if isinstance(parsed, CommandError):
                        return parsed
                    limit = parsed
                i += 1
            elif low == "mine":
                mine = True
            elif low == "share":
                share = True
            else:
                return self._unknown_word(offset + i, first=offset + i == 0)
            i += 1
        return ListJobs(
            statuses=frozenset(statuses) or ALL_STATUSES,
            project_id=project_id or self.projects.default.id,
            limit=limit if limit is not None else min(DEFAULT_LIMIT, self.max_limit),
            mine=mine,
            share=share,
        )

    def _limit(self, value: str, index: int) -> int | CommandError:
        valid = f"a whole number from 1 to {self.max_limit}"
        if not _NUMBER.fullmatch(value):
            return CommandError(
                f"`limit` needs {valid}; `{_shown(value)}` is not one.",
                self._replaced(index, str(min(DEFAULT_LIMIT, self.max_limit))),
                usage_for("list"),
            )
        number = int(value)
        if not 1 <= number <= self.max_limit:
            return CommandError(
                f"limit {number} is out of range; use {valid}.",
                self._replaced(index, str(min(max(number, 1), self.max_limit))),
                usage_for("list"),
            )
        return number

    # -- commands with an export id -----------------------------------------------

    def _id_command(self, verb: str, raw: Sequence[str]) -> Command | CommandError:
        words = _split_options(raw[1:])
        job_ref: str | None = None
        project_id: str | None = None
        share = False
        i = 0
        while i < len(words):
            word, low = words[i], words[i].lower()
            if low == "project":
                if i + 1 >= len(words):
                    return self._missing_value("project", verb)
                resolved = self._project(words[i + 1], None, verb)
                if isinstance(resolved, CommandError):
                    return resolved
                project_id = resolved
                i += 1
            elif low == "share" and verb == "show":
                share = True
            elif job_ref is None:
                job_ref = word
            else:
                return CommandError(
                    f"`{verb}` takes one export id; `{_shown(word)}` is extra.",
                    None,
                    usage_for(verb),
                )
            i += 1
        if job_ref is None:
            return CommandError(
                f"`{verb}` needs an export id, e.g. `{COMMAND} {verb} {ID_EXAMPLE}`.",
                None,
                usage_for(verb),
            )
        job_id = parse_job_ref(job_ref)
        if isinstance(job_id, CommandError):
            return CommandError(job_id.message, None, usage_for(verb))
        project = project_id or self.projects.default.id
        if verb == "show":
            return ShowJob(job_id, project, share)
        if verb == "cancel":
            return CancelJob(job_id, project)
        return GetLink(job_id, project)

    # -- subscriptions, mute, settings ------------------------------------------

    def _subscribe(self) -> Command | CommandError:
        statuses: set[Status] = set()
        project_id: str | None = None
        words = self.words
        i = 1
        while i < len(words):
            found = lookup_status_word(words[i])
            if found is not None:
                statuses |= found
            elif words[i].lower() == "project":
                if i + 1 >= len(words):
                    return self._missing_value("project", "subscribe")
                resolved = self._project(words[i + 1], i + 1, "subscribe")
                if isinstance(resolved, CommandError):
                    return resolved
                project_id = resolved
                i += 1
            else:
                return self._unknown_word(i, first=False, verb="subscribe")
            i += 1
        return Subscribe(
            statuses=frozenset(statuses) or frozenset({Status.FAILED}),
            project_id=project_id or self.projects.default.id,
        )

    def _unsubscribe(self) -> Command | CommandError:
        rest = self.words[1:]
        if not rest or (len(rest) == 1 and rest[0].lower() == "all"):
            return Unsubscribe(None)
        if rest[0].lower() == "project" and len(rest) == 2:
            resolved = self._project(rest[1], 2, "unsubscribe")
            return resolved if isinstance(resolved, CommandError) else Unsubscribe(resolved)
        if rest[0].lower() == "project" and len(rest) == 1:
            return self._missing_value("project", "unsubscribe")
        return CommandError(
            f"`unsubscribe` takes `project ALIAS|ID` or nothing (= every project); "
            f"`{_shown(' '.join(rest))}` is not that.",
            None,
            usage_for("unsubscribe"),
        )

    def _mute(self) -> Command | CommandError:
        duration = parse_duration(" ".join(self.raw[1:]))
        return duration if isinstance(duration, CommandError) else Mute(duration)

    def _dm(self) -> Command | CommandError:
        rest = [w.lower() for w in self.words[1:]]
        if len(rest) == 1 and rest[0] in _ON | _OFF:
            return DmSetting(rest[0] in _ON)
        got = f"; `{_shown(' '.join(self.words[1:]))}` is not that" if rest else ""
        return CommandError(f"`dm` takes `on` or `off`{got}.", "dm on", usage_for("dm"))

    def _help(self) -> Command | CommandError:
        rest = [w.lower() for w in self.words[1:]]
        if not rest:
            return Help(None)
        topic = _TOPIC_ALIASES.get(rest[0], rest[0])
        if len(rest) == 1 and topic in HELP_TOPICS:
            return Help(topic)
        close = difflib.get_close_matches(rest[0][:40], HELP_TOPICS, n=1, cutoff=0.6)
        return CommandError(
            f"There is no help topic `{_shown(' '.join(rest))}`. Topics: {', '.join(HELP_TOPICS)}.",
            f"help {close[0]}" if close else "help",
            usage_for("help"),
        )

    def _bare(self, verb: str, command: Command) -> Command | CommandError:
        if len(self.raw) == 1:
            return command
        return CommandError(
            f"`{verb}` takes no arguments; `{_shown(' '.join(self.raw[1:]))}` is extra.",
            verb,
            usage_for(verb),
        )

    # -- shared pieces ------------------------------------------------------------

    def _project(self, value: str, index: int | None, verb: str) -> str | CommandError:
        project = self.projects.resolve(value)
        if project is not None:
            return project.id
        names = self.projects.names()
        lowered = {n.lower(): n for n in names}
        close = difflib.get_close_matches(value.lower()[:60], list(lowered), n=1, cutoff=0.6)
        known = ", ".join(
            f"`{p.alias}` ({p.id})" if p.alias else f"`{p.id}`" for p in self.projects.all
        )
        return CommandError(
            f"Unknown project `{_shown(value)}`. Projects: {known} (the first is the default).",
            self._replaced(index, lowered[close[0]]) if close and index is not None else None,
            usage_for(verb),
        )

    def _missing_value(self, option: str, verb: str) -> CommandError:
        example = {"project": f"project {self.projects.default.label}", "limit": "limit 5"}[option]
        return CommandError(
            f"`{option}` needs a value, e.g. `{example}`.",
            " ".join([*self.words, example.split()[1]])
            if self.words and self.words[-1].lower() == option and len(self.words) < 40
            else None,
            usage_for(verb),
        )

    def _twice(self, option: str, verb: str) -> CommandError:
        return CommandError(f"`{option}` is given twice; give it once.", None, usage_for(verb))

    def _unknown_word(self, index: int, *, first: bool, verb: str = "list") -> CommandError:
        word = self.words[index]
        if self.projects.resolve(word) is not None:
            return CommandError(
                f"`{_shown(word)}` is a project; write `project {_shown(word)}` to pick it.",
                self._replaced(index, f"project {word}"),
                usage_for(verb),
            )
        candidates = list(STATUS_WORDS)
        candidates += ["project"] if verb == "subscribe" else list(_LIST_OPTIONS)
        if first:
            candidates += list(_VERBS)
        close = difflib.get_close_matches(word.lower()[:40], candidates, n=1, cutoff=0.6)
        valid = f"status words ({', '.join(STATUS_WORDS)})"
        options = (
            "`project ALIAS|ID`" if verb == "subscribe" else "`project`, `limit`, `mine`, `share`"
        )
        message = f"I don't know the word `{_shown(word)}`. Valid here: {valid}; options {options}"
        message += "; or a command (see `/exports help`)." if first else "."
        usage = usage_for(*USAGE) if first and verb == "list" else usage_for(verb)
        return CommandError(message, self._replaced(index, close[0]) if close else None, usage)

    def _replaced(self, index: int | None, replacement: str) -> str | None:
        """The command text with word ``index`` replaced: a ready-to-paste suggestion."""
        if index is None or not 0 <= index < len(self.words) or len(self.words) > 40:
            return None
        fixed = [*self.words[:index], replacement, *self.words[index + 1 :]]
        suggestion = " ".join(fixed)
        return suggestion if len(suggestion) <= 300 else None


def _split_words(tokens: Sequence[str]) -> list[str]:
    """Split comma lists (``failed,cancelled``) and ``project=x`` / ``limit=5`` into words."""
    words: list[str] = []
    for token in tokens:
        if token.startswith("<"):
            words.append(token)
            continue
        words += _split_options([p for p in token.split(",") if p])
    return words


def _split_options(tokens: Sequence[str]) -> list[str]:
    words: list[str] = []
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq and key.lower() in ("project", "limit") and value:
            words += [key, value]
        else:
            words.append(token)
    return words


def _shown(text: str) -> str:
    """User text for an error message: one line, no backticks, at most 60 characters."""
    one_line = " ".join(text.split()).replace("`", "'")
    return one_line if len(one_line) <= 60 else one_line[:60] + "…"
