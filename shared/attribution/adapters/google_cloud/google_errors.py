"""Which Google client-library failures mean "the backend is unavailable, try again".

Shared by the Google Cloud adapters so that they all draw the line between a
``TransientError`` (the platform redelivers the event) and an error about the input
in the same place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from attribution.errors import TransientError

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    api_exceptions.ServiceUnavailable,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,
    api_exceptions.BadGateway,
    api_exceptions.GatewayTimeout,
    api_exceptions.DeadlineExceeded,
    api_exceptions.Aborted,
    api_exceptions.RetryError,
    auth_exceptions.TransportError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
    TimeoutError,
)

_TRANSIENT_REASONS = frozenset({"rateLimitExceeded", "backendError", "internalError"})


def error_reasons(exc: api_exceptions.GoogleAPICallError) -> set[str]:
    """The ``reason`` strings a Google API error carries (JSON errors list and ErrorInfo)."""
    reasons: set[str] = set()
    for error in exc.errors or []:
        if isinstance(error, dict) and isinstance(error.get("reason"), str):
            reasons.add(error["reason"])
    if exc.reason:
        reasons.add(exc.reason)
    return reasons


def is_transient(exc: BaseException) -> bool:
    """True when retrying the very same call later may succeed."""
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, api_exceptions.Forbidden):
        return bool(error_reasons(exc) & _TRANSIENT_REASONS)
    return False


@contextmanager
def transient_errors(what: str) -> Iterator[None]:
    """Re-raise backend unavailability as ``TransientError``; everything else as it is."""
    try:
        yield
    except Exception as exc:
        if is_transient(exc):
            raise TransientError(f"{what}: {type(exc).__name__}: {exc}") from exc
        raise
