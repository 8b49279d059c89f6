"""Clocks for the simulator: job status is a pure function of the time they report."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "ScaledClock"]

DEFAULT_START = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


class Clock(Protocol):
    """Anything that tells simulated time as an aware UTC datetime."""

    def now(self) -> datetime: ...


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("clock start must be timezone-aware (e.g. tzinfo=UTC)")
    return value.astimezone(UTC)


class ManualClock:
    """A clock that only moves when told to: tests call ``advance``."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; got advance({seconds})")
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, value: datetime) -> None:
        """Jump to ``value``, which must not be earlier than the current time."""
        value = _aware(value)
        if value < self._now:
            raise ValueError("a clock only moves forward")
        self._now = value

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now.isoformat()})"


class ScaledClock:
    """Real time sped up: ``speed`` simulated seconds pass per real second.

    ``ScaledClock(speed=60)`` makes a minute of job lifecycle pass every second, for demos.
    ``start`` defaults to the real current time.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._start = _aware(start) if start is not None else datetime.now(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self._start + timedelta(seconds=elapsed)

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed}, now={self.now().isoformat()})"
