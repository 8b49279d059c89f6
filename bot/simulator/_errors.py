"""Errors the simulated API answers with; the server turns them into ``{"message": ...}``."""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Forbidden",
    "NotFound",
    "SimulatorError",
    "Unauthenticated",
]


class SimulatorError(Exception):
    """An API error response: ``status_code`` plus a human ``message`` (never a secret)."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SimulatorError):
    status_code = 400


class Unauthenticated(SimulatorError):
    status_code = 401


class Forbidden(SimulatorError):
    status_code = 403


class NotFound(SimulatorError):
    status_code = 404
