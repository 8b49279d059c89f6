"""Export ids as people paste them: bare, quoted, in backticks, inside a URL or a Slack link."""

from __future__ import annotations

import re

from bot.core.usage import CommandError

__all__ = ["ID_EXAMPLE", "parse_job_ref"]

ID_EXAMPLE = "4c9fcb44-126a-45f8-99a0-f1d245083d78"
_HEX = "[0-9a-fA-F]"
_UUID = re.compile(
    rf"(?<![0-9a-fA-F]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9a-fA-F])"
)
_BARE_UUID = re.compile(rf"(?<![0-9a-fA-F-]){_HEX}{{32}}(?![0-9a-fA-F-])")
_HEXISH = re.compile(r"[0-9a-fA-F-]+")
_WRAPPERS = " \t\r\n`'\"‘’“”«»<>()[]{}*_~"
_ELLIPSIS = ("…", "...")
_FULL_FORM = f"36 characters like `{ID_EXAMPLE}`"


def parse_job_ref(text: str) -> str | CommandError:
    """The export id (lowercase UUID) in ``text``, or a CommandError saying what is wrong.

    Accepts surrounding whitespace, backticks, quotes and angle brackets, any case, a
    pasted URL that contains the id and Slack's ``<url|label>`` link form. A hex fragment
    that is too short is reported as a partial id, with the full form shown.
    """
    cleaned = _unwrap(text)
    if not cleaned:
        return _error(f"An export id is missing. It is a UUID: {_FULL_FORM}.")
    found = _find_uuid(cleaned)
    if found is not None:
        return found
    core = cleaned
    for tail in _ELLIPSIS:
        core = core.removesuffix(tail)
    shown = _shown(cleaned)
    if _HEXISH.fullmatch(core) and any(c not in "-" for c in core):
        if len(core) < 36:
            return _error(
                f"`{shown}` looks like part of an export id ({len(core)} of 36 characters). "
                f"Paste the full id: {_FULL_FORM}."
            )
        return _error(f"`{shown}` is not a well-formed export id. An export id is {_FULL_FORM}.")
    return _error(
        f"`{shown}` is not an export id. An export id is a UUID, {_FULL_FORM}; "
        f"copy it from a job card or from the `/exports` list."
    )


def _unwrap(text: str) -> str:
    # Slack escapes &, < and > in some payloads; undo that so <url|label> is recognisable.
    s = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
    if s.startswith("<") and s.endswith(">") and "|" in s:
        s = s[1:-1].split("|", 1)[0]
    return s.strip(_WRAPPERS)


def _find_uuid(text: str) -> str | None:
    matches = list(_UUID.finditer(text))
    if matches:
        # In a URL, prefer the id that follows ".../exports/"; else the last one.
        for m in matches:
            if text[: m.start()].lower().rstrip("/").endswith(("exports", "export")):
                return m.group().lower()
        return matches[-1].group().lower()
    bare = _BARE_UUID.search(text)
    if bare:
        h = bare.group().lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return None


def _shown(text: str) -> str:
    one_line = " ".join(text.split()).replace("`", "'")
    return one_line if len(one_line) <= 60 else one_line[:60] + "…"


def _error(message: str) -> CommandError:
    return CommandError(message=message, suggestion=None, usage="")
