"""The simulator's world: users, API keys, projects with their sources, and export jobs.

A job's status is a pure function of the clock: PENDING until ``created + pending_seconds``,
RUNNING until ``+ run_seconds``, then its outcome; a SUCCEEDED job reads EXPIRED once
``artifact_lifetime_seconds`` have passed since it finished. Nothing runs in the background.
"""

from __future__ import annotations

import random
import secrets
import string
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.peaka._models import ExportFile, ExportJob, Status, format_timestamp
from bot.simulator._clock import Clock, ManualClock
from bot.simulator._content import ArtifactSpec, CsvOptions, artifact_sizes
from bot.simulator._faults import FaultConfig
from bot.simulator._presign import Presigner
from bot.simulator._sources import Column, SimSource, default_sources

__all__ = [
    "OPERATIONS",
    "ROW_LIMIT",
    "ROW_LIMIT_ERROR",
    "TRINO_ERRORS",
    "SimJob",
    "SimKey",
    "SimProject",
    "SimUser",
    "Simulator",
]

ROW_LIMIT = 1_000_000
ROW_LIMIT_ERROR = "Query exceeded the 1,000,000 row export limit"
OPERATIONS = ("listExports", "readExport", "cancelExport", "exportQuery", "exportTable", "download")
TRINO_ERRORS = (
    "Query exceeded per-node memory limit of 2GB "
    "[Allocated: 2.00GB, Delta: 12.50MB, Top Consumers: {HashBuilderOperator=1.71GB}]",
    "Query exceeded the maximum execution time limit of 30.00m",
    "Query killed because the cluster is out of memory. Please try again in a few minutes.",
    "Connector error: upstream API returned HTTP 429 (rate limited) while reading {source}",
    "line 1:8: Column 'amount_usd' cannot be resolved",
    "Access Denied: Cannot select from {source}",
)
_KEY_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class SimUser:
    id: str
    email: str


@dataclass(frozen=True, slots=True)
class SimKey:
    """An API key; partner keys (``project_id`` None) work on every project."""

    value: str = field(repr=False)
    user: SimUser
    project_id: str | None = None

    @property
    def prefix(self) -> str:
        """The public part shown as a job's ``apiKeyPrefix``."""
        return self.value[:8]


@dataclass(slots=True)
class SimProject:
    id: str
    name: str
    sources: dict[str, SimSource] = field(default_factory=dict)


@dataclass(slots=True)
class SimJob:
    """One export job; ``rows`` is what it writes if it succeeds."""

    id: str
    project_id: str
    user: SimUser
    source: SimSource
    format: str
    compression: str
    columns: tuple[Column, ...]
    rows: int
    created_at: datetime
    pending_seconds: float
    run_seconds: float
    outcome: Status
    error: str | None = None
    api_key_prefix: str | None = None
    client_source: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    cancelled_at: datetime | None = None
    file_sizes: tuple[int, ...] | None = None  # computed once, on first need

    @property
    def finished_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.pending_seconds + self.run_seconds)

    def status_at(self, now: datetime, artifact_lifetime: timedelta) -> Status:
        if self.cancelled_at is not None:
            return Status.CANCELLED
        if now < self.created_at + timedelta(seconds=self.pending_seconds):
            return Status.PENDING
        if now < self.finished_at:
            return Status.RUNNING
        if self.outcome is Status.SUCCEEDED and now >= self.finished_at + artifact_lifetime:
            return Status.EXPIRED
        return self.outcome


class Simulator:
    """In-memory Peaka export API state. Serve it with ``SimulatorServer``.

    Runtime knobs: ``faults`` (FaultConfig), ``cursor_inclusive`` (createdBefore keeps jobs
    *at* the cursor too), ``api_failure_rate`` (chance an API-created job fails with a Trino
    error), ``link_lifetime_seconds``, ``artifact_lifetime_seconds``, ``rows_per_file``.
    ``counters`` counts requests per operationId (see SimulatorServer for what counts).
    """

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 0,
        *,
        link_lifetime_seconds: float = 15 * 60,
        artifact_lifetime_seconds: float = 24 * 3600,
        rows_per_file: int = 500_000,
        link_secret: bytes | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else ManualClock()
        self.seed = seed
        self.faults = FaultConfig()
        self.counters: Counter[str] = Counter()
        self.cursor_inclusive = False
        self.api_failure_rate = 0.03
        self.link_lifetime_seconds = link_lifetime_seconds
        self.artifact_lifetime_seconds = artifact_lifetime_seconds
        self.rows_per_file = rows_per_file
        self.users: dict[str, SimUser] = {}
        self.keys: dict[str, SimKey] = {}
        self.projects: dict[str, SimProject] = {}
        self.jobs: dict[str, SimJob] = {}
        # Filled by Simulator.seeded: well-known names -> key values / project ids / users.
        self.seed_keys: dict[str, str] = {}
        self.seed_projects: dict[str, str] = {}
        self.seed_users: dict[str, SimUser] = {}
        self.rng = random.Random(seed)  # durations and failures of API-created jobs
        self.fault_rng = random.Random(f"faults:{seed}")
        self._ids = random.Random(f"ids:{seed}")
        self.presigner = Presigner(link_secret if link_secret else secrets.token_bytes(32))

    def __repr__(self) -> str:
        return (
            f"Simulator(projects={len(self.projects)}, users={len(self.users)}, "
            f"jobs={len(self.jobs)}, now={format_timestamp(self.clock.now())})"
        )

    @classmethod
    def seeded(cls, clock: Clock | None = None, seed: int = 7, **options: Any) -> Simulator:
        """A simulator with demo data: three projects, four users, well-known keys
        (``seed_keys``), and jobs in every status. See ``bot.simulator._seed``."""
        from bot.simulator._seed import populate

        sim = cls(clock=clock, seed=seed, **options)
        populate(sim)
        return sim

    # --- set-up -----------------------------------------------------------------------------

    def add_user(self, email: str, *, user_id: str | None = None) -> SimUser:
        user = SimUser(id=user_id or self.new_id(), email=email)
        self.users[user.id] = user
        return user

    def add_project(
        self, project_id: str, name: str | None = None, *, sources: list[SimSource] | None = None
    ) -> SimProject:
        """Add a project with the default catalog of queries and tables (or ``sources``).

        Adding an id that exists returns that project (adding any ``sources`` given), so
        tests can ``add_project("mtKDhe1U")`` on a seeded simulator.
        """
        project = self.projects.get(project_id)
        if project is not None:
            for source in sources or ():
                project.sources[source.key] = source
            return project
        project = SimProject(project_id, name or project_id)
        for source in default_sources() if sources is None else sources:
            project.sources[source.key] = source
        self.projects[project_id] = project
        return project

    def add_source(self, project_id: str, source: SimSource) -> None:
        self._project(project_id).sources[source.key] = source

    def add_key(
        self, user: SimUser, project_id: str | None = None, *, value: str | None = None
    ) -> str:
        """Issue an API key for ``user``: a partner key, or a project key for ``project_id``."""
        if project_id is not None:
            self._project(project_id)
        key = value or "".join(self._ids.choice(_KEY_ALPHABET) for _ in range(40))
        if len(key) < 8:
            raise ValueError("an API key needs at least 8 characters (its public prefix)")
        self.keys[key] = SimKey(key, user, project_id)
        return key

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def reset_counters(self) -> None:
        self.counters.clear()

    # --- jobs -------------------------------------------------------------------------------

    def create_job(
        self,
        project_id: str,
        user: SimUser | str,
        *,
        source: SimSource | str | None = None,
        format: str = "CSV",
        compression: str = "NONE",
        rows: int = 993,
        pending_seconds: float = 1.0,
        run_seconds: float = 5.0,
        outcome: str = "SUCCEEDED",
        error: str | None = None,
        created_at: datetime | None = None,
        client_source: str | None = "peaka-studio",
        api_key: str | None = None,
        columns: tuple[str, ...] | None = None,
        csv: CsvOptions | None = None,
    ) -> SimJob:
        """Add a job directly (no HTTP). ``user`` may be a SimUser or an email.

        ``source`` is a SimSource, a query id, a ``catalogId/schema/table`` key or a table
        name; None picks one at random. More than 1,000,000 ``rows`` fails with the row-limit
        error; a FAILED ``outcome`` without ``error`` gets a random Trino error.
        """
        project = self._project(project_id)
        owner = self._user(user)
        src = self._source(project, source)
        status = Status(outcome)
        if status not in (Status.SUCCEEDED, Status.FAILED):
            raise ValueError(f"outcome must be SUCCEEDED or FAILED, got {outcome!r}")
        if format not in ("CSV", "JSONL") or compression not in ("NONE", "GZIP"):
            raise ValueError("format must be CSV or JSONL and compression NONE or GZIP")
        if rows < 0 or pending_seconds < 0 or run_seconds < 0:
            raise ValueError("rows and durations must not be negative")
        if rows > ROW_LIMIT:
            status, error, rows = Status.FAILED, ROW_LIMIT_ERROR, 0
        if status is Status.FAILED and error is None:
            error = self.rng.choice(TRINO_ERRORS).replace("{source}", src.display)
        if api_key is not None:
            prefix: str | None = api_key[:8]
        else:  # jobs started in Peaka Studio still carry one of the user's keys
            prefix = next((k.prefix for k in self.keys.values() if k.user == owner), None)
        job = SimJob(
            id=self.new_id(),
            project_id=project.id,
            user=owner,
            source=src,
            format=format,
            compression=compression,
            columns=src.output_columns(columns),
            rows=rows if status is Status.SUCCEEDED else 0,
            created_at=created_at if created_at is not None else self.clock.now(),
            pending_seconds=pending_seconds,
            run_seconds=run_seconds,
            outcome=status,
            error=error if status is Status.FAILED else None,
            api_key_prefix=prefix,
            client_source=client_source,
            csv=csv or CsvOptions(),
        )
        self.jobs[job.id] = job
        return job

    def get_job(self, job_id: str) -> SimJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise KeyError(f"no export job {job_id!r}") from None

    def job_status(self, job_id: str) -> str:
        """The job's status right now, as the API would report it."""
        return self.status(self.get_job(job_id)).value

    def status(self, job: SimJob) -> Status:
        return job.status_at(self.clock.now(), timedelta(seconds=self.artifact_lifetime_seconds))

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a PENDING/RUNNING job; returns False (a no-op) for a finished one."""
        job = self.get_job(job_id)
        if not self.status(job).is_active:
            return False
        job.cancelled_at = self.clock.now()
        return True

    # --- artifacts --------------------------------------------------------------------------

    def artifact(self, job: SimJob) -> ArtifactSpec:
        return ArtifactSpec(
            job_id=job.id,
            file_stem=job.source.file_stem,
            columns=job.columns,
            row_count=job.rows,
            format=job.format,
            compression=job.compression,
            csv=job.csv,
            rows_per_file=self.rows_per_file,
            created_at=job.created_at,
        )

    def sizes(self, job: SimJob) -> tuple[int, ...]:
        """Byte size of each file, rendered once and cached on the job."""
        if job.file_sizes is None:
            job.file_sizes = artifact_sizes(self.artifact(job))
        return job.file_sizes

    def view(
        self, job: SimJob, caller: SimUser | None, *, files_origin: str | None
    ) -> dict[str, Any]:
        """The job as ``ExportJobResponse`` JSON for ``caller``; with ``files_origin`` (the
        base of download URLs) the owner of a SUCCEEDED job gets freshly presigned files."""
        now = self.clock.now()
        status = self.status(job)
        done = status in (Status.SUCCEEDED, Status.EXPIRED)
        downloadable = (
            status is Status.SUCCEEDED and caller is not None and caller.id == job.user.id
        )
        files: tuple[ExportFile, ...] = ()
        expires_at = None
        if downloadable and files_origin is not None:
            expires_at = now + timedelta(seconds=self.link_lifetime_seconds)
            parts = self.artifact(job).parts()
            files = tuple(
                ExportFile(
                    name=part.name,
                    url=self.presigner.url(
                        files_origin, self.presigner.path_for(job.id, part.name), expires_at
                    ),
                    bytes=size,
                )
                for part, size in zip(parts, self.sizes(job), strict=True)
            )
        src = job.source
        return ExportJob(
            id=job.id,
            status=status,
            created_at=job.created_at,
            created_at_raw=format_timestamp(job.created_at),
            format=job.format,
            compression=job.compression,
            row_count=job.rows if done else None,
            bytes=sum(self.sizes(job)) if done else None,
            duration_ms=round(job.run_seconds * 1000) if done or status is Status.FAILED else None,
            files=files,
            expires_at=expires_at,
            downloadable=downloadable,
            error=job.error if status is Status.FAILED else None,
            query_id=src.query_id,
            catalog_id=src.catalog_id,
            schema_name=src.schema_name,
            table_name=src.table_name,
            source=src.display,
            user_id=job.user.id,
            user_name=job.user.email,
            api_key_prefix=job.api_key_prefix,
            client_source=job.client_source,
        ).to_api()

    # --- lookups ----------------------------------------------------------------------------

    def _project(self, project_id: str) -> SimProject:
        try:
            return self.projects[project_id]
        except KeyError:
            raise ValueError(f"unknown project {project_id!r}") from None

    def _user(self, user: SimUser | str) -> SimUser:
        if isinstance(user, SimUser):
            return user
        for known in self.users.values():
            if known.email == user:
                return known
        raise ValueError(f"unknown user {user!r}")

    def _source(self, project: SimProject, source: SimSource | str | None) -> SimSource:
        if isinstance(source, SimSource):
            return source
        if source is None:
            return self.rng.choice(list(project.sources.values()))
        for candidate in project.sources.values():
            if source in (candidate.key, candidate.table_name, candidate.name):
                return candidate
        raise ValueError(f"project {project.id!r} has no source {source!r}")
