"""The kinds of failure every entry point must tell apart.

A ``PermanentError`` is about the input: retrying cannot help, so the event is
recorded, alerted on and acknowledged. A ``TransientError`` is about the world
(a backend is down): it propagates so the platform redelivers the event.

Two more are about how this process is set up, not about any one input: a
``SettingsError`` (an environment variable the code cannot use) and a
``BackendUnavailableError`` (a backend that cannot be used as configured: a warehouse file
that is not a database, or one another process holds). Someone has to act on those; the
CLI says what, in one line, with an exit code of its own.
"""

from __future__ import annotations


class AttributionError(Exception):
    """Base class for errors this library raises on purpose."""


class CodedError(AttributionError):
    """An error with a stable ``code`` for machines and a ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class PermanentError(CodedError):
    """The input is wrong; the same input will always fail the same way."""


class TransientError(AttributionError):
    """A backend failed; retrying the same input may succeed."""


class SettingsError(AttributionError, ValueError):
    """A setting has a value the code cannot use; the message names the variable and the
    accepted form. A ValueError too, as settings errors always were."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable
        self.message = message

    def __str__(self) -> str:
        return self.message


class BackendUnavailableError(CodedError):
    """A backend cannot be used as configured, whatever the input: ``message`` says why and
    what to do."""


class WarehouseLockedError(BackendUnavailableError, TransientError):
    """Another process holds the warehouse file. It may let go, so this is transient too:
    the shared DuckDB adapter waits for it, and a function's event is redelivered."""
