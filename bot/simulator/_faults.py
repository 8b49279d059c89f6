"""Fault injection: which requests fail, and how, decided by a seeded random generator."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Fault", "FaultConfig", "draw_fault"]

API_OPERATIONS = frozenset(
    {"listExports", "readExport", "cancelExport", "exportQuery", "exportTable"}
)


class Fault(StrEnum):
    """What happens to one request."""

    NONE = "none"
    DROP = "drop"  # the connection closes at once, no response
    TIMEOUT = "timeout"  # the server hangs for timeout_seconds, then closes without a response
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    ERROR = "error"  # one of error_statuses
    MALFORMED = "malformed"  # 200 with a body that is not valid JSON


@dataclass
class FaultConfig:
    """Knobs for injected faults; mutate ``sim.faults`` at runtime to change them.

    Each rate is a probability per request. One draw per request picks at most one fault,
    in the order drop, timeout, rate limit, error, malformed (rates are cumulative, so their
    sum should stay <= 1). ``latency_seconds`` (real seconds) delays every affected request,
    faulted or not. ``operations`` limits faults to those operationIds (None: every API
    operation). File downloads (operation ``download``) are only affected when
    ``include_downloads`` is true or ``operations`` names ``download``.

    Side effects: drop, timeout, rate limit and error happen before the handler runs (nothing
    changes); a malformed response is the real response cut short, so its effect (a created or
    cancelled job) did happen.
    """

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    rate_limit_rate: float = 0.0
    retry_after: float | None = 1.0
    latency_seconds: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    drop_rate: float = 0.0
    malformed_rate: float = 0.0
    operations: Collection[str] | None = None
    include_downloads: bool = False

    def affects(self, operation: str) -> bool:
        """Whether requests for ``operation`` are subject to these faults at all."""
        if self.operations is not None:
            return operation in self.operations
        return operation in API_OPERATIONS or (self.include_downloads and operation == "download")

    def check(self) -> None:
        """Raise ValueError naming the first knob that is out of range."""
        for name in (
            "error_rate",
            "rate_limit_rate",
            "timeout_rate",
            "drop_rate",
            "malformed_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} must be within [0, 1], got {value}")
        if self.error_rate and not self.error_statuses:
            raise ValueError("FaultConfig.error_statuses must not be empty when error_rate > 0")
        for name in ("latency_seconds", "timeout_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"FaultConfig.{name} must not be negative")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("FaultConfig.retry_after must not be negative")


def draw_fault(config: FaultConfig, rng: random.Random, operation: str) -> tuple[Fault, int]:
    """Pick the fault for one request: (kind, HTTP status for ERROR else 0)."""
    if not config.affects(operation):
        return Fault.NONE, 0
    u = rng.random()
    for fault, rate in (
        (Fault.DROP, config.drop_rate),
        (Fault.TIMEOUT, config.timeout_rate),
        (Fault.RATE_LIMIT, config.rate_limit_rate),
        (Fault.ERROR, config.error_rate),
        (Fault.MALFORMED, config.malformed_rate),
    ):
        if u < rate:
            status = rng.choice(config.error_statuses) if fault is Fault.ERROR else 0
            return fault, status
        u -= rate
    return Fault.NONE, 0
