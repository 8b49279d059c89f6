"""Per-project backoff: a project whose Peaka calls fail is skipped for a growing while."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_RETRY_AFTER", "ProjectBackoff"]

# A Retry-After is honoured up to this many seconds (a bad header can't park a project forever).
MAX_RETRY_AFTER = 3600.0


@dataclass
class _Failing:
    failures: int
    until: float


class ProjectBackoff:
    """Which projects to skip this cycle, after rate limits, server errors and timeouts.

    After the n-th failure in a row a project is skipped for ``base * 2**(n-1)`` seconds (at
    most ``ceiling``), with jitter (a random 50 to 100 % of that) so projects that failed
    together do not come back together; and never for less than the server's Retry-After
    (up to an hour).
    One success resets it. ``clock`` is monotonic seconds (replaceable in tests).
    """

    def __init__(
        self,
        *,
        base: float,
        ceiling: float = 600.0,
        clock: Callable[[], float],
        rng: random.Random | None = None,
    ) -> None:
        if not base > 0 or not ceiling >= base:
            raise ValueError(f"backoff needs 0 < base <= ceiling, got {base!r} and {ceiling!r}")
        self._base = base
        self._ceiling = ceiling
        self._clock = clock
        self._rng = rng or random.Random()
        self._failing: dict[str, _Failing] = {}

    def ready(self, project_id: str) -> bool:
        """Whether ``project_id`` may be polled now."""
        state = self._failing.get(project_id)
        return state is None or self._clock() >= state.until

    def waiting(self, project_id: str) -> float:
        """Seconds until ``project_id`` may be polled again (0 when it may now)."""
        state = self._failing.get(project_id)
        return 0.0 if state is None else max(0.0, state.until - self._clock())

    def failed(self, project_id: str, retry_after: float | None = None) -> float:
        """Record a failure; returns how many seconds the project is skipped for."""
        state = self._failing.get(project_id)
        failures = 1 if state is None else state.failures + 1
        step = min(self._ceiling, self._base * 2.0 ** min(failures - 1, 30))
        delay = step * self._rng.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        self._failing[project_id] = _Failing(failures, self._clock() + delay)
        return delay

    def succeeded(self, project_id: str) -> None:
        """Forget the project's failures."""
        self._failing.pop(project_id, None)

    def failures(self, project_id: str) -> int:
        state = self._failing.get(project_id)
        return 0 if state is None else state.failures
