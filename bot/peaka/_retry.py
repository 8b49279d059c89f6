"""Retry policy: which failures are retried, and how long to wait between attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "parse_retry_after"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries before raising.

    ``max_attempts`` counts the first try. Waits use exponential backoff with full jitter
    (a random delay in ``[0, min(max_delay, base_delay * 2**n)]``), or the server's
    Retry-After when it gives one. A Retry-After longer than ``max_delay`` is not waited out:
    the RateLimitedError is raised at once so the caller can say when to try again.
    ``total_timeout`` bounds one operation, all attempts and waits included.
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    total_timeout: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "total_timeout"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter wait after the failed ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return rng.uniform(0.0, ceiling)

    def wait_before_retry(
        self, attempt: int, retry_after: float | None, rng: random.Random
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when the server asks too much."""
        if retry_after is None:
            return self.backoff(attempt, rng)
        if retry_after > self.max_delay:
            return None
        return max(retry_after, self.backoff(attempt, rng))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date. None if absent/bad."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # NaN and infinities are not delays; negative ones mean "now".
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
