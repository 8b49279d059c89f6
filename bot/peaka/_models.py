"""Typed models for Peaka's export-jobs API (``ExportJobResponse`` and friends)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.peaka._exceptions import MalformedResponseError

__all__ = [
    "SERVER_FILTERABLE",
    "TERMINAL",
    "Compression",
    "ExportFile",
    "ExportFormat",
    "ExportJob",
    "ExportJobCreated",
    "ExportRequest",
    "JobSummary",
    "Status",
    "format_timestamp",
    "parse_timestamp",
]


class Status(StrEnum):
    """An export job's status.

    A value the API adds later does not crash parsing: ``Status("PAUSED")`` returns a
    pseudo-member whose ``is_known`` is False, so callers can show it as it is.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"

    @classmethod
    def _missing_(cls, value: object) -> Status | None:
        if not isinstance(value, str) or not value:
            return None
        upper = value.upper()
        if upper in cls.__members__:
            return cls.__members__[upper]
        member = str.__new__(cls, upper)
        member._name_ = upper
        member._value_ = upper
        return member

    @property
    def is_known(self) -> bool:
        # Not ``type(self).__members__``: that builds a mapping proxy on every call, and the
        # poller asks this of every listed job.
        return self._name_ in _KNOWN_NAMES

    @property
    def is_terminal(self) -> bool:
        """True once the job will not run any more (EXPIRED included)."""
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        return self in (Status.PENDING, Status.RUNNING)

    def __str__(self) -> str:
        return self.value


_KNOWN_NAMES = frozenset(Status.__members__)
# ``is_known and is_terminal`` in one set lookup (a status this code does not know is never
# in it): the poller asks it of every listed job, where the properties cost more.
TERMINAL: frozenset[Status] = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.EXPIRED}
)
# The List endpoint's `status` filter accepts these and nothing else (not EXPIRED).
SERVER_FILTERABLE: frozenset[Status] = frozenset(
    {Status.PENDING, Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}
)


class ExportFormat(StrEnum):
    CSV = "CSV"
    JSONL = "JSONL"


class Compression(StrEnum):
    NONE = "NONE"
    GZIP = "GZIP"


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO-8601 timestamp as Peaka writes it into an aware UTC datetime.

    Accepts ``Z`` or a numeric offset and any number of fractional digits; digits past
    microseconds (Trino writes nanoseconds) are truncated, never rounded, so ordering holds.
    A timestamp without an offset is taken as UTC. Raises ValueError on anything else.
    """
    # The shape the API writes for every job, "2026-06-10T12:24:08.123456Z": its length and
    # separators pinned, fromisoformat checks every digit (ASCII ones only). A cycle parses
    # one per listed job; this costs half of the checks below.
    if len(value) == 27 and value[4:20:3] == "--T::." and value[26] == "Z":
        try:
            return datetime.fromisoformat(value)  # "Z" gives datetime.UTC itself
        except ValueError:
            pass  # the general path decides, and words the error
    # Other shapes the API may write ("…08.123456789Z", or a "+hh:mm" offset) go
    # straight to datetime.fromisoformat (C; 3.11+ reads "Z" and truncates digits past
    # microseconds). A few character checks pin the shape, cheaper than a regex: the
    # separators, a plain fraction, a digit before the offset (fromisoformat takes "08.Z")
    # and the offset's form; fromisoformat checks the digits. tests/test_peaka_models.py
    # holds this path to the general one.
    if (
        value[4:17:3] == "--T::"
        and _plain_fraction(value)
        and (
            (value[-1] == "Z" and value[-2] in _DIGITS)
            or (value[-3] == ":" and value[-6] in "+-" and value[-7] in _DIGITS)
        )
    ):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
        except ValueError:
            pass  # the general path decides, and words the error
        except OverflowError:  # an offset that moves year 1 or 9999 out of range
            raise ValueError(f"timestamp out of range: {value!r}") from None
    return _parse_general(value)


_DIGITS = frozenset("0123456789")


def _plain_fraction(value: str) -> bool:
    """Whether what lies between the seconds and the offset is nothing or "." and ASCII
    digits (fromisoformat also takes other shapes there, such as "00.000000:0Z")."""
    end = -1 if value[-1:] == "Z" else -6
    fraction = value[19:end]
    return not fraction or (fraction[0] == "." and fraction[1:].isdigit() and fraction.isascii())


_TS = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
    r"(?:[.,](?P<frac>\d+))?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


def _parse_general(value: str) -> datetime:
    """:func:`parse_timestamp` for every shape it accepts (a space for ``T``, a comma for the
    decimal point, ``z``, ``+hhmm``, no offset, surrounding spaces)."""
    m = _TS.match(value.strip())
    if not m:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r}")
    frac = (m.group("frac") or "")[:6].ljust(6, "0")
    tz = m.group("tz") or "+00:00"
    if tz in ("Z", "z"):
        tz = "+00:00"
    elif ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    base = m.group("base").replace(" ", "T")
    try:
        return datetime.fromisoformat(f"{base}.{frac}{tz}").astimezone(UTC)
    except OverflowError:
        raise ValueError(f"timestamp out of range: {value!r}") from None


def format_timestamp(value: datetime) -> str:
    """Format a datetime the way the API does: UTC, microseconds, ``Z`` suffix."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A downloadable artifact with a freshly presigned, short-lived URL."""

    name: str
    url: str
    bytes: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ExportFile:
        return cls(
            name=str(data.get("name") or ""),
            url=str(data.get("url") or ""),
            bytes=_opt_int(data.get("bytes")),
        )

    def __repr__(self) -> str:
        # The URL is a bearer credential for the file; keep it out of logs and reprs.
        return f"ExportFile(name={self.name!r}, bytes={self.bytes!r}, url=<presigned>)"


@dataclass(frozen=True, slots=True)
class ExportJob:
    """One export job, with every field of the API's ``ExportJobResponse``."""

    id: str
    status: Status
    created_at: datetime
    # The server's own createdAt text, exactly as sent (nanoseconds included), for display and
    # for callers that pass it back as `createdBefore`.
    created_at_raw: str
    format: str | None = None
    compression: str | None = None
    row_count: int | None = None
    bytes: int | None = None
    duration_ms: int | None = None
    files: tuple[ExportFile, ...] = ()
    expires_at: datetime | None = None
    downloadable: bool = False
    error: str | None = None
    query_id: str | None = None
    catalog_id: str | None = None
    schema_name: str | None = None
    table_name: str | None = None
    source: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    api_key_prefix: str | None = None
    client_source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ExportJob:
        """Build from one JSON object. Raises ValueError/TypeError/KeyError if malformed."""
        # No per-call sets or helper calls for the plain cases (a string stays itself, an int
        # itself): the /exports command and every new or changed job the poller sees come here.
        job_id, status, created_raw = _identity(data)
        expires = data.get("expiresAt")
        files = data.get("files") or []
        if not isinstance(files, list):
            raise TypeError("files must be an array")
        get = data.get
        unknown = data.keys() - _KNOWN_FIELDS
        return cls(  # positional, in field order: ~15% faster than keywords here
            job_id,
            status,
            parse_timestamp(created_raw),
            created_raw,
            _opt_str(get("format")),
            _opt_str(get("compression")),
            _opt_int(get("rowCount")),
            _opt_int(get("bytes")),
            _opt_int(get("durationMs")),
            tuple(ExportFile.from_api(f) for f in files) if files else (),
            parse_timestamp(expires) if isinstance(expires, str) and expires else None,
            bool(get("downloadable", False)),
            _opt_str(get("error")),
            _opt_str(get("queryId")),
            _opt_str(get("catalogId")),
            _opt_str(get("schemaName")),
            _opt_str(get("tableName")),
            _opt_str(get("source")),
            _opt_str(get("userId")),
            _opt_str(get("userName")),
            _opt_str(get("apiKeyPrefix")),
            _opt_str(get("clientSource")),
            {k: data[k] for k in unknown} if unknown else {},
        )

    def to_api(self) -> dict[str, Any]:
        """The job as the API's JSON object (fields that are None are left out)."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "format": self.format,
            "compression": self.compression,
            "rowCount": self.row_count,
            "bytes": self.bytes,
            "durationMs": self.duration_ms,
            "expiresAt": format_timestamp(self.expires_at) if self.expires_at else None,
            "downloadable": self.downloadable,
            "error": self.error,
            "createdAt": self.created_at_raw,
            "queryId": self.query_id,
            "catalogId": self.catalog_id,
            "schemaName": self.schema_name,
            "tableName": self.table_name,
            "source": self.source,
            "userId": self.user_id,
            "userName": self.user_name,
            "apiKeyPrefix": self.api_key_prefix,
            "clientSource": self.client_source,
        }
        if self.files:
            out["files"] = [{"name": f.name, "url": f.url, "bytes": f.bytes} for f in self.files]
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A listed job's id, status and createdAt, checked, and its JSON object for the rest.

    What the poller needs of most listed jobs (finished history, tracked jobs whose status did
    not change): about a fifth of the cost of an :class:`ExportJob`. :meth:`details` builds
    the full job, and checks every other field, for the few that need it.
    """

    id: str
    status: Status
    created_at: datetime
    created_at_raw: str
    data: dict[str, Any] = field(compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> JobSummary:
        """Read id, status and createdAt as ExportJob.from_api does (same errors); keep ``data``."""
        try:  # the usual job, its fields looked up once; anything else goes to _identity
            job_id = data["id"]
            status = _STATUSES[data["status"]]
            created_raw = data["createdAt"]
        except (KeyError, TypeError):
            job_id, status, created_raw = _identity(data)  # raises its error, or reads it
        else:
            if type(job_id) is not str or not job_id or type(created_raw) is not str:
                job_id, status, created_raw = _identity(data)
        # The frozen dataclass's __init__ sets each field through object.__setattr__, a
        # name lookup each; the slots' own setters skip it. The poller builds one of these
        # per listed job.
        summary = _new_object(cls)
        _set_id(summary, job_id)
        _set_status(summary, status)
        _set_created_at(summary, parse_timestamp(created_raw))
        _set_created_at_raw(summary, created_raw)
        _set_data(summary, data)
        return summary

    def details(self) -> ExportJob:
        """The full job; MalformedResponseError (as a List would have raised) if it is not one."""
        try:
            job = ExportJob.from_api(self.data)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"Peaka sent an unexpected response while listing exports: job {self.id!r} "
                f"is not an export job ({str(exc)[:200]})",
                operation="listExports",
            ) from None
        # The same text parsed the same way: keep one datetime, not two. The poller holds
        # every tracked job's (its copy and the remembered depths share it), 48 bytes a job.
        _set_job_created_at(job, self.created_at)
        return job


def _identity(data: Any) -> tuple[str, Status, str]:
    """The id, status and createdAt text of a job's JSON object; TypeError/KeyError if absent."""
    if not isinstance(data, dict):
        raise TypeError(f"export job must be an object, got {type(data).__name__}")
    created_raw = data["createdAt"]
    if not isinstance(created_raw, str):
        raise TypeError("createdAt must be a string")
    job_id = data["id"]
    if not isinstance(job_id, str) or not job_id:
        raise TypeError("id must be a non-empty string")
    status_raw = data.get("status")
    if not isinstance(status_raw, str) or not status_raw:
        raise TypeError("status must be a non-empty string")
    return job_id, _STATUSES.get(status_raw) or Status(status_raw), created_raw


@dataclass(frozen=True, slots=True)
class ExportJobCreated:
    """The 202 acknowledgement of a new export job."""

    id: str
    status: Status

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ExportJobCreated:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise TypeError("export acknowledgement must be an object with a string id")
        return cls(id=data["id"], status=Status(str(data.get("status") or "PENDING")))


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """Options for Export Query / Export Table (the API's ``ExportRequest``)."""

    format: ExportFormat = ExportFormat.CSV
    compression: Compression = Compression.NONE
    limit: int | None = None
    columns: tuple[str, ...] | None = None
    include_system_columns: bool | None = None
    csv_options: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": ExportFormat(self.format).value,
            "compression": Compression(self.compression).value,
        }
        if self.limit is not None:
            body["limit"] = self.limit
        if self.columns is not None:
            body["columns"] = list(self.columns)
        if self.include_system_columns is not None:
            body["includeSystemColumns"] = self.include_system_columns
        if self.csv_options is not None:
            body["csvOptions"] = dict(self.csv_options)
        return body


_KNOWN_FIELDS = frozenset(
    {
        "id", "status", "format", "compression", "rowCount", "bytes", "durationMs",
        "files", "expiresAt", "downloadable", "error", "createdAt", "queryId",
        "catalogId", "schemaName", "tableName", "source", "userId", "userName",
        "apiKeyPrefix", "clientSource",
    }
)  # fmt: skip
_STATUSES = {status.value: status for status in Status}
_new_object = object.__new__
# JobSummary's slot descriptors' setters, in field order (see JobSummary.from_api).
_set_id, _set_status, _set_created_at, _set_created_at_raw, _set_data = (
    vars(JobSummary)[f.name].__set__ for f in fields(JobSummary)
)
_set_job_created_at = vars(ExportJob)["created_at"].__set__


def _opt_str(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TypeError(f"expected an integer, got {value!r}")
