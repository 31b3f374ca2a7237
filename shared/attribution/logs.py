"""Logs on stderr: JSON lines in the shape Cloud Logging reads (severity, message, fields), or
short lines for people at a terminal."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, date, datetime
from typing import Any, TextIO

LOG_FORMATS = ("auto", "json", "text")

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRET_MARKERS = ("password", "secret", "token", "webhook")


def _redact(key: str, value: Any) -> Any:
    if any(marker in key.lower() for marker in _SECRET_MARKERS):
        return "[redacted]"
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _severity(record: logging.LogRecord) -> str:
    return record.levelname if record.levelname != "WARN" else "WARNING"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's ``extra`` fields, secrets redacted."""
    return {
        key: _redact(key, value)
        for key, value in vars(record).items()
        if key not in _RESERVED and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _severity(record),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            **_fields(record),
        }
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=_jsonable)


class TextFormatter(logging.Formatter):
    """``12:03:07 WARNING batch refused batch_id=b1 error="no rows"``: UTC time, level,
    message, then the fields; a value with spaces or quotes is written as a JSON string."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        parts = [when, _severity(record), record.getMessage()]
        for key, value in _fields(record).items():
            text = value if isinstance(value, str) else _jsonable(value)
            if text == "" or any(c.isspace() or c in "\"'=" for c in text):
                text = json.dumps(text, ensure_ascii=False)
            parts.append(f"{key}={text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler configure_logging installs (and finds again). Given no stream, it
    writes to ``sys.stderr`` as it is at each record, as logging's own last-resort handler
    does: one kept from when it was made may have been replaced and closed since (a test's
    captured stderr)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        logging.Handler.__init__(self)
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @stream.setter
    def stream(self, stream: TextIO) -> None:  # setStream's way in
        self._stream = stream


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except ValueError:  # closed: nobody is reading it at a terminal
        return False


def configure_logging(level: str, log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Log at ``level`` on stderr (or on ``stream``): ``json`` lines, ``text`` lines, or
    ``auto``: text when it is a terminal, else JSON (Cloud Logging, files, pipes). Called
    again, it changes the level and format of the handler it installed rather than adding
    another, and keeps its stream unless given one."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(stream)
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    text = log_format == "text" or (log_format == "auto" and _is_terminal(handler.stream))
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
