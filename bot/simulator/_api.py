"""The five export operations and file downloads, as pure functions over a Simulator.

Every function validates its raw inputs (header values, query strings, body bytes) and
raises a SimulatorError (or LinkRejected for downloads) with a message saying what was
wrong and what is valid. The aiohttp server only moves bytes in and out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.peaka._models import Status, parse_timestamp
from bot.simulator._content import ArtifactPart, ArtifactSpec, CsvOptions
from bot.simulator._errors import BadRequest, Forbidden, NotFound, Unauthenticated
from bot.simulator._presign import LinkRejected
from bot.simulator._sources import SimSource
from bot.simulator._state import ROW_LIMIT, TRINO_ERRORS, SimJob, SimKey, SimProject, Simulator

__all__ = [
    "FILTERABLE",
    "ExportOptions",
    "authenticate",
    "authorize",
    "cancel_export",
    "export_source",
    "jobs_to_size",
    "list_exports",
    "open_download",
    "parse_export_body",
    "read_export",
]

FILTERABLE = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
_INT32_MAX = 2**31 - 1


def authenticate(sim: Simulator, authorization: str | None) -> SimKey:
    """The key in ``Authorization: Bearer <key>``; 401 when missing or unknown."""
    if not authorization:
        raise Unauthenticated("Missing Authorization header; send 'Authorization: Bearer <apiKey>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Malformed Authorization header; expected 'Bearer <apiKey>'")
    key = sim.keys.get(token.strip())
    if key is None:
        raise Unauthenticated("Invalid API key")
    return key


def authorize(sim: Simulator, key: SimKey, project_id: str) -> SimProject:
    """The project, if ``key`` may use it: 403 for another project's key, 404 if unknown."""
    if key.project_id is not None and key.project_id != project_id:
        raise Forbidden(
            f"This project API key is limited to project {key.project_id!r} and cannot access "
            f"project {project_id!r}; use that project's key or a partner API key"
        )
    project = sim.projects.get(project_id)
    if project is None:
        raise NotFound(f"Project {project_id!r} not found")
    return project


def list_exports(
    sim: Simulator,
    key: SimKey,
    project_id: str,
    *,
    status: Sequence[str] = (),
    limit: str | None = None,
    created_before: str | None = None,
) -> list[dict[str, Any]]:
    """List Exports: newest first (ties by id, descending), files omitted.

    Like the real service, the status filter sees EXPIRED jobs as SUCCEEDED (EXPIRED is
    derived afterwards), so ``status=SUCCEEDED`` returns EXPIRED rows too.
    """
    authorize(sim, key, project_id)
    wanted = _parse_statuses(status)
    page_size = _parse_limit(limit)
    cursor = _parse_cursor(created_before)
    rows: list[tuple[SimJob, Status]] = []
    for job in sim.jobs.values():
        if job.project_id != project_id:
            continue
        if cursor is not None and not (
            job.created_at < cursor or (sim.cursor_inclusive and job.created_at == cursor)
        ):
            continue
        state = sim.status(job)
        stored = Status.SUCCEEDED if state is Status.EXPIRED else state
        if wanted is None or stored in wanted:
            rows.append((job, state))
    rows.sort(key=lambda pair: (pair[0].created_at, pair[0].id), reverse=True)
    return [sim.view(job, key.user, files_origin=None) for job, _ in rows[:page_size]]


def read_export(
    sim: Simulator, key: SimKey, project_id: str, export_id: str, files_origin: str
) -> dict[str, Any]:
    """Read Export: the owner of a SUCCEEDED job gets freshly presigned ``files``."""
    job = _job(sim, key, project_id, export_id)
    return sim.view(job, key.user, files_origin=files_origin)


def cancel_export(sim: Simulator, key: SimKey, project_id: str, export_id: str) -> None:
    """Cancel Export: PENDING/RUNNING become CANCELLED; a no-op on finished jobs."""
    sim.cancel_job(_job(sim, key, project_id, export_id).id)


def jobs_to_size(sim: Simulator, project_id: str) -> list[SimJob]:
    """Finished jobs whose file sizes are not computed yet (worth doing off the event loop)."""
    return [
        job
        for job in sim.jobs.values()
        if job.project_id == project_id
        and job.file_sizes is None
        and sim.status(job) in (Status.SUCCEEDED, Status.EXPIRED)
    ]


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """A validated ``ExportRequest`` body; ``limit`` is already clamped."""

    format: str = "CSV"
    compression: str = "NONE"
    limit: int | None = None
    columns: tuple[str, ...] | None = None
    include_system_columns: bool = True
    csv: CsvOptions = field(default_factory=CsvOptions)


def export_source(
    sim: Simulator,
    key: SimKey,
    project_id: str,
    source_key: str,
    body: bytes,
    *,
    client_source: str | None,
) -> dict[str, Any]:
    """Export Query / Export Table: validate, then accept a new PENDING job (202)."""
    project = authorize(sim, key, project_id)
    source = project.sources.get(source_key)
    if source is None:
        raise NotFound(_missing_source(project, source_key))
    options = parse_export_body(body)
    _check_columns(source, options.columns)
    rows = source.row_count if options.limit is None else min(options.limit, source.row_count)
    rng = sim.rng  # always the same draws per job, so a seed replays identically
    pending = round(rng.uniform(0.5, 3.0), 3)
    run = round(rng.uniform(1.0, 4.0) + min(rows, ROW_LIMIT) / 50_000, 3)
    fails = rng.random() < sim.api_failure_rate
    trino_error = rng.choice(TRINO_ERRORS).replace("{source}", source.display)
    job = sim.create_job(
        project.id,
        key.user,
        source=source,
        format=options.format,
        compression=options.compression,
        rows=rows,  # over ROW_LIMIT: create_job fails it with the row-limit error
        pending_seconds=pending,
        run_seconds=run,
        outcome="FAILED" if fails else "SUCCEEDED",
        error=trino_error if fails else None,
        client_source=client_source,
        api_key=key.value,
        columns=options.columns
        or tuple(c.name for c in source.output_columns(None, options.include_system_columns)),
        csv=options.csv,
    )
    return {"id": job.id, "status": Status.PENDING.value}


def open_download(
    sim: Simulator, job_id: str, name: str, query: Mapping[str, str]
) -> tuple[ArtifactSpec, ArtifactPart]:
    """The file a presigned link names; LinkRejected (403/404) mirrors S3's answers."""
    sim.presigner.check(sim.presigner.path_for(job_id, name), query, sim.clock.now())
    job = sim.jobs.get(job_id)
    if job is not None and sim.status(job) is Status.SUCCEEDED:
        spec = sim.artifact(job)
        for part in spec.parts():
            if part.name == name:
                return spec, part
    raise LinkRejected(404, "NoSuchKey", "The specified key does not exist.")


def parse_export_body(raw: bytes) -> ExportOptions:
    """Validate an ``ExportRequest`` JSON body (unknown fields are ignored, as Jackson does)."""
    if not raw.strip():
        raise BadRequest('Request body is required: a JSON object such as {"format": "CSV"}')
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest(f"Request body must be a JSON object, got {type(body).__name__}")
    fmt = _enum(body, "format", ("CSV", "JSONL"), "CSV")
    compression = _enum(body, "compression", ("NONE", "GZIP"), "NONE")
    limit = body.get("limit")
    if limit is not None:
        if not isinstance(limit, int) or isinstance(limit, bool) or abs(limit) > _INT32_MAX:
            raise BadRequest(
                f"limit must be a 32-bit integer (clamped to [1, 1000000]), got {limit!r}"
            )
        limit = max(1, min(ROW_LIMIT, limit))
    columns = body.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise BadRequest("columns must be an array of column names (strings)")
        if not columns:
            raise BadRequest("columns must name at least one column; omit it to export all columns")
        if len(set(columns)) != len(columns):
            raise BadRequest("columns must not name a column twice")
    include_system = body.get("includeSystemColumns", True)
    if not isinstance(include_system, bool):
        raise BadRequest("includeSystemColumns must be true or false")
    return ExportOptions(
        format=fmt,
        compression=compression,
        limit=limit,
        columns=tuple(columns) if columns is not None else None,
        include_system_columns=include_system,
        csv=_csv_options(body.get("csvOptions")),
    )


def _csv_options(raw: object) -> CsvOptions:
    if raw is None:
        return CsvOptions()
    if not isinstance(raw, dict):
        raise BadRequest("csvOptions must be a JSON object")
    values: dict[str, Any] = {}
    for field_name, attr in (("delimiter", "delimiter"), ("quoteChar", "quote_char")):
        value = raw.get(field_name)
        if value is not None:
            if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
                raise BadRequest(
                    f"csvOptions.{field_name} must be a single character, got {value!r}"
                )
            values[attr] = value
    separator = raw.get("recordSeparator")
    if separator is not None:
        if not isinstance(separator, str) or not separator:
            raise BadRequest('csvOptions.recordSeparator must be a non-empty string such as "\\n"')
        # The spec writes the default as the two characters backslash-n; accept both spellings.
        values["record_separator"] = separator.replace("\\r", "\r").replace("\\n", "\n")
    header = raw.get("includeHeader")
    if header is not None:
        if not isinstance(header, bool):
            raise BadRequest("csvOptions.includeHeader must be true or false")
        values["include_header"] = header
    null_value = raw.get("nullValue")
    if null_value is not None:
        if not isinstance(null_value, str):
            raise BadRequest("csvOptions.nullValue must be a string")
        values["null_value"] = null_value
    options = CsvOptions(**values)
    if options.delimiter == options.quote_char:
        raise BadRequest("csvOptions.delimiter and csvOptions.quoteChar must differ")
    return options


def _enum(body: dict[str, Any], name: str, valid: tuple[str, ...], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in valid:
        raise BadRequest(
            f"{name} must be one of {', '.join(valid)} (case-sensitive), got {value!r}"
        )
    return str(value)


def _check_columns(source: SimSource, columns: tuple[str, ...] | None) -> None:
    known = [c.name for c in source.columns]
    for name in columns or ():
        if name not in known:
            raise BadRequest(
                f"Unknown column {name!r} in {source.display}; valid columns: {', '.join(known)}"
            )


def _parse_statuses(values: Sequence[str]) -> frozenset[Status] | None:
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    if not items:
        return None
    valid = ", ".join(FILTERABLE)
    for item in items:
        if item == "EXPIRED":
            raise BadRequest(
                f"Invalid status 'EXPIRED': it is derived and cannot be filtered on (filter "
                f"SUCCEEDED and check each job's status). Valid values: {valid}"
            )
        if item not in FILTERABLE:
            raise BadRequest(f"Invalid status {item!r}. Valid values (comma-separated): {valid}")
    return frozenset(Status(item) for item in items)


def _parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadRequest(f"limit must be an integer (clamped to [1, 200]), got {raw!r}") from None
    return max(1, min(MAX_LIMIT, value))


def _parse_cursor(raw: str | None) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise BadRequest(
            f"createdBefore must be an ISO-8601 timestamp such as 2026-06-10T15:23:26.893985Z, "
            f"got {raw!r}"
        ) from None


def _job(sim: Simulator, key: SimKey, project_id: str, export_id: str) -> SimJob:
    authorize(sim, key, project_id)
    job = sim.jobs.get(export_id)
    if job is None or job.project_id != project_id:
        raise NotFound(f"Export job {export_id!r} not found in project {project_id!r}")
    return job


def _missing_source(project: SimProject, source_key: str) -> str:
    if "/" not in source_key:
        return f"Query {source_key!r} not found in project {project.id!r}"
    catalog, schema, table = source_key.split("/", 2)
    return f"Table {schema}.{table} not found in catalog {catalog!r} of project {project.id!r}"
