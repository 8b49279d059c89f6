"""The Peaka projects the bot serves, from ``PEAKA_PROJECTS`` (``id1,analytics=id2``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["Project", "ProjectDirectory"]

_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_FORMAT_HINT = (
    "expected comma-separated `ID` or `ALIAS=ID` entries, e.g. 'mtKDhe1U,analytics=x7Pq2'"
)


@dataclass(frozen=True, slots=True)
class Project:
    """One Peaka project, optionally with a short alias people type in Slack."""

    alias: str | None
    id: str

    @property
    def label(self) -> str:
        """The alias if there is one, else the id."""
        return self.alias or self.id


class ProjectDirectory:
    """The configured projects; the first one is the default.

    Aliases are matched case-insensitively, ids exactly.
    """

    __slots__ = ("_by_alias", "_by_id", "_projects")

    def __init__(self, projects: Iterable[Project]) -> None:
        self._projects = tuple(projects)
        if not self._projects:
            raise ValueError(f"no projects configured; {_FORMAT_HINT}")
        self._by_id: dict[str, Project] = {}
        self._by_alias: dict[str, Project] = {}
        for p in self._projects:
            if p.id in self._by_id:
                raise ValueError(f"project id {p.id!r} is listed twice")
            self._by_id[p.id] = p
        for p in self._projects:
            if p.alias is None:
                continue
            key = p.alias.lower()
            if key in self._by_alias:
                raise ValueError(f"alias {p.alias!r} is used twice (aliases ignore case)")
            other = self._by_id.get(p.alias)
            if other is not None and other is not p:
                raise ValueError(f"alias {p.alias!r} is also another project's id")
            self._by_alias[key] = p

    @classmethod
    def parse(cls, text: str) -> ProjectDirectory:
        """Parse ``PEAKA_PROJECTS`` (``id1,analytics=id2``); ValueError says what's wrong."""
        if not text or not text.strip():
            raise ValueError(f"PEAKA_PROJECTS is empty; {_FORMAT_HINT}")
        projects = []
        for n, entry in enumerate(text.split(","), start=1):
            projects.append(_parse_entry(entry.strip(), n))
        return cls(projects)

    @property
    def default(self) -> Project:
        return self._projects[0]

    @property
    def all(self) -> tuple[Project, ...]:
        return self._projects

    def resolve(self, word: str) -> Project | None:
        """The project named by an alias (any case) or an exact id; None if unknown."""
        return self._by_alias.get(word.lower()) or self._by_id.get(word)

    def label(self, project_id: str) -> str:
        """How to call a project in messages: its alias if any, else its id."""
        project = self._by_id.get(project_id)
        return project.label if project else project_id

    def names(self) -> list[str]:
        """Every word that resolves: aliases and ids (for "did you mean" suggestions)."""
        return [p.alias for p in self._projects if p.alias] + [p.id for p in self._projects]

    def __iter__(self) -> Iterator[Project]:
        return iter(self._projects)

    def __len__(self) -> int:
        return len(self._projects)

    def __repr__(self) -> str:
        return f"ProjectDirectory({list(self._projects)!r})"


def _parse_entry(entry: str, n: int) -> Project:
    where = f"PEAKA_PROJECTS entry {n}"
    if not entry:
        raise ValueError(f"{where} is empty (stray comma?); {_FORMAT_HINT}")
    alias: str | None = None
    project_id = entry
    if "=" in entry:
        alias, _, project_id = (part.strip() for part in entry.partition("="))
        if not _ALIAS.fullmatch(alias):
            raise ValueError(
                f"{where}: alias {alias!r} is not valid; an alias starts with a letter and "
                "has only letters, digits, '_', '-' or '.' (at most 63 characters)"
            )
    if not _ID.fullmatch(project_id):
        raise ValueError(
            f"{where}: project id {project_id!r} is not valid; an id has only letters, "
            f"digits, '_', '-' or '.'; {_FORMAT_HINT}"
        )
    return Project(alias=alias, id=project_id)
