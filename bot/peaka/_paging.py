"""Keyset paging over List Exports, and the exact-status filter (pure: no I/O).

The API pages newest-first on ``createdBefore`` = the previous page's last ``createdAt``.
Jobs can share a ``createdAt`` across a page boundary, and a server may compare the cursor
strictly (<) or inclusively (<=). Both are handled the same way: the cursor sent is one
microsecond *after* the boundary job, so every job at the boundary comes back, and the ids
already handled at that instant are dropped. Those ids travel in ``PageCursor.seen_ids`` so a
cursor stays exact across processes (a Slack "Next" button).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from bot.peaka._models import (
    SERVER_FILTERABLE,
    Status,
    format_timestamp,
    parse_timestamp,
)

__all__ = [
    "MAX_SERVER_LIMIT",
    "ExportPage",
    "KeysetScan",
    "Listed",
    "PageCursor",
    "PageRequest",
    "StatusFilter",
]

_LOG = logging.getLogger("bot.peaka")

MAX_SERVER_LIMIT = 200  # the List endpoint clamps `limit` to [1, 200]
MAX_CURSOR_CHARS = 1500  # fits a Slack button value (2000) with room to spare
_MAX_DECODED_BYTES = 64 * 1024
_CURSOR_PREFIX = "c1."
_MICROSECOND = timedelta(microseconds=1)
_CREATED_AT = attrgetter("created_at")


class Listed(Protocol):
    """What paging reads of a listed job: an ``ExportJob`` or a ``JobSummary``."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> Status: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def created_at_raw(self) -> str: ...


J = TypeVar("J", bound=Listed)


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page starts: the ``createdBefore`` to send and the ids already shown."""

    created_before: str
    seen_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.created_before, str) or len(self.created_before) > 64:
            raise ValueError("cursor created_before must be an ISO-8601 timestamp string")
        parse_timestamp(self.created_before)  # ValueError names the bad value
        ids = tuple(self.seen_ids)
        if not all(isinstance(i, str) and i for i in ids):
            raise ValueError("cursor seen_ids must be non-empty strings")
        object.__setattr__(self, "seen_ids", ids)

    def encode(self) -> str:
        """A compact, URL-safe text form (at most 1500 characters) for a Slack button value.

        In the pathological case of more same-instant ids than fit, the earliest-shown ids are
        dropped (a warning is logged): a later page may then repeat a job, never skip one.
        """
        ids = list(self.seen_ids)
        text = _pack(self.created_before, ids)
        if len(text) <= MAX_CURSOR_CHARS:
            return text
        dropped = 0
        while ids and len(text) > MAX_CURSOR_CHARS:
            ids.pop(0)
            dropped += 1
            text = _pack(self.created_before, ids)
        _LOG.warning(
            "page cursor: %d jobs share createdAt %s, too many to carry; %d may be shown twice",
            len(self.seen_ids),
            self.created_before,
            dropped,
        )
        return text

    @classmethod
    def decode(cls, text: str) -> PageCursor:
        """Parse what :meth:`encode` produced. Raises ValueError on anything else."""
        if not isinstance(text, str) or not text.startswith(_CURSOR_PREFIX):
            raise ValueError(f"not an export page cursor (it must start with {_CURSOR_PREFIX!r})")
        if len(text) > 4 * MAX_CURSOR_CHARS:
            raise ValueError("not an export page cursor (too long)")
        body = text[len(_CURSOR_PREFIX) :]
        try:
            packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
            inflater = zlib.decompressobj()
            payload = inflater.decompress(packed, _MAX_DECODED_BYTES)
            if not inflater.eof or inflater.unconsumed_tail:
                raise ValueError("truncated or oversized")
            parsed: Any = json.loads(payload)
        except (binascii.Error, zlib.error, ValueError) as exc:
            raise ValueError(f"not an export page cursor (corrupt: {exc})") from None
        if (
            not isinstance(parsed, list)
            or len(parsed) != 2
            or not isinstance(parsed[0], str)
            or not isinstance(parsed[1], list)
        ):
            raise ValueError("not an export page cursor (wrong structure)")
        try:
            return cls(parsed[0], tuple(parsed[1]))
        except ValueError as exc:
            raise ValueError(f"not an export page cursor ({exc})") from None


def _pack(created_before: str, ids: list[str]) -> str:
    payload = json.dumps([created_before, ids], separators=(",", ":")).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(payload, 9)).rstrip(b"=")
    return _CURSOR_PREFIX + packed.decode("ascii")


@dataclass(frozen=True, slots=True)
class ExportPage(Generic[J]):
    """One page of jobs, newest first, and the cursor for the next (None: no more)."""

    jobs: list[J]
    next_cursor: PageCursor | None


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """Which statuses to ask the server for and which to keep, so callers get exactly theirs.

    The server's filter rejects EXPIRED and may return EXPIRED rows under SUCCEEDED, so:
    a wanted status the server cannot filter on means no server filter at all; and rows
    whose status was not asked for are always dropped client-side.
    """

    wanted: frozenset[Status] | None  # None: every status
    server_param: str | None

    @classmethod
    def of(cls, statuses: Iterable[Status | str] | str | None) -> StatusFilter:
        """Build from statuses (``Status`` members, names, or one comma-separated string)."""
        if statuses is None:
            return cls(None, None)
        items = statuses.split(",") if isinstance(statuses, str) else list(statuses)
        wanted: set[Status] = set()
        for item in items:
            try:
                wanted.add(Status(item.strip() if isinstance(item, str) else item))
            except ValueError:
                valid = ", ".join(s.value for s in Status)
                raise ValueError(f"{item!r} is not an export status; valid: {valid}") from None
        if not wanted:
            raise ValueError("statuses is empty; pass None to list every status")
        if not wanted <= SERVER_FILTERABLE:
            return cls(frozenset(wanted), None)
        ordered = [s.value for s in Status if s in wanted]  # stable order: cacheable URLs
        return cls(frozenset(wanted), ",".join(ordered))

    def keeps(self, job: Listed) -> bool:
        return self.wanted is None or job.status in self.wanted


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The List call to make next."""

    created_before: str | None
    limit: int


class KeysetScan:
    """A newest-first walk over List Exports that neither skips nor repeats a job.

    Drive it with ``next_request`` / ``absorb`` until ``done``. ``absorb`` returns the jobs
    not handled before, in server order. If a full page holds only handled jobs (more jobs
    share one instant than a page holds), it escalates: same cursor with the biggest page,
    then the exact boundary instant, then one microsecond before it (each with a warning:
    jobs at that instant may be skipped), then it stops. So it always terminates.
    """

    def __init__(self, cursor: PageCursor | None = None) -> None:
        self.done = False
        self.pages = 0
        self._stage = 0
        # Every id handled, with the lowest createdAt it can have; pruned as the walk moves.
        self._handled: dict[str, datetime] = {}
        # Ids shown to the caller (deliver()); what a cursor must carry.
        self._delivered: dict[str, datetime] = {}
        self._boundary: datetime | None = None
        self._boundary_raw: str | None = None
        self._next: str | None = None
        if cursor is not None:
            self._next = cursor.created_before
            self._boundary = parse_timestamp(cursor.created_before) - _MICROSECOND
            for seen in cursor.seen_ids:
                self._handled[seen] = self._boundary
                self._delivered[seen] = self._boundary

    @property
    def carried(self) -> int:
        """How many already-handled jobs the next page may repeat."""
        return len(self._handled)

    def next_request(self, limit: int) -> PageRequest:
        limit = max(1, min(limit, MAX_SERVER_LIMIT))
        if self._stage == 0:
            return PageRequest(self._next, limit)
        if self._stage == 1:
            return PageRequest(self._next, MAX_SERVER_LIMIT)
        assert self._boundary is not None  # stuck needs a boundary
        if self._stage == 2:
            exact = self._boundary_raw or format_timestamp(self._boundary)
            return PageRequest(exact, MAX_SERVER_LIMIT)
        return PageRequest(format_timestamp(self._boundary - _MICROSECOND), MAX_SERVER_LIMIT)

    def absorb(self, page: Sequence[J], request: PageRequest) -> list[J]:
        """Take one server page; return the jobs not handled before."""
        self.pages += 1
        fresh: list[J] = []
        handled = self._handled
        for job in page:
            if job.id not in handled:
                fresh.append(job)
                handled[job.id] = job.created_at
        full = len(page) >= request.limit
        if not fresh:
            if full and self._boundary is not None:
                self._escalate(request)
            else:
                self.done = True
            return []
        oldest = min(page, key=_CREATED_AT)
        self._boundary = oldest.created_at
        self._boundary_raw = oldest.created_at_raw
        self._next = format_timestamp(oldest.created_at + _MICROSECOND)
        self._stage = 0
        # Only jobs at or just after the boundary can come back; forget the rest.
        reach = oldest.created_at + _MICROSECOND
        self._handled = {i: t for i, t in self._handled.items() if t <= reach}
        if not full:
            self.done = True
        return fresh

    def deliver(self, job: Listed) -> None:
        """Record that ``job`` was shown to the caller (cursors carry such ids)."""
        self._delivered[job.id] = job.created_at

    def deliver_all(self, jobs: Iterable[Listed]) -> None:
        """:meth:`deliver` for each of ``jobs``."""
        delivered = self._delivered
        for job in jobs:
            delivered[job.id] = job.created_at

    def cursor_after(self, job: Listed) -> PageCursor:
        """The cursor that continues right after ``job``, the last one shown."""
        reach = job.created_at + _MICROSECOND
        seen = tuple(i for i, t in self._delivered.items() if t <= reach)
        return PageCursor(format_timestamp(reach), seen)

    def position_cursor(self) -> PageCursor | None:
        """The cursor that continues after the last job the walk handled (None before any)."""
        if self._boundary is None:
            return None
        reach = self._boundary + _MICROSECOND
        seen = tuple(i for i, t in self._delivered.items() if t <= reach)
        return PageCursor(self._next or format_timestamp(reach), seen)

    def _escalate(self, request: PageRequest) -> None:
        assert self._boundary is not None
        instant = format_timestamp(self._boundary)
        if self._stage == 0 and request.limit < MAX_SERVER_LIMIT:
            self._stage = 1
        elif self._stage <= 1:
            self._stage = 2
            _LOG.warning(
                "more than %d export jobs share createdAt %s; paging on past that instant, "
                "some of them may be skipped",
                MAX_SERVER_LIMIT,
                instant,
            )
        elif self._stage == 2:
            self._stage = 3
            _LOG.warning("export paging still stuck at %s; moving 1 µs earlier", instant)
        else:
            self.done = True
            _LOG.warning("export paging stuck at %s; stopping here", instant)
