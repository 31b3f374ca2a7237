"""The two kinds of failure every entry point must tell apart.

A ``PermanentError`` is about the input: retrying cannot help, so the event is
recorded, alerted on and acknowledged. A ``TransientError`` is about the world
(a backend is down): it propagates so the platform redelivers the event.
"""

from __future__ import annotations


class AttributionError(Exception):
    """Base class for errors this library raises on purpose."""


class PermanentError(AttributionError):
    """The input is wrong; the same input will always fail the same way."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class TransientError(AttributionError):
    """A backend failed; retrying the same input may succeed."""
