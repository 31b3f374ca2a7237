"""Log lines: JSON for Cloud Logging (and files, pipes), short lines for people at a terminal."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from attribution.logs import JsonFormatter, TextFormatter, configure_logging

CREATED = datetime(2026, 3, 2, 17, 4, 5, 250000, tzinfo=UTC)


def record(message: str = "batch refused", level: int = logging.WARNING, **extra: Any) -> Any:
    entry = logging.LogRecord("attribution.batches", level, "p.py", 1, message, (), None)
    entry.created = CREATED.timestamp()
    entry.__dict__.update(extra)
    return entry


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger without the handler configure_logging installed, restored after."""
    logger = logging.getLogger()
    saved = (list(logger.handlers), logger.level)
    logger.handlers = [h for h in logger.handlers if type(h).__name__ != "_Handler"]
    yield logger
    logger.handlers, level = saved
    logger.setLevel(level)


def test_json_lines_are_as_they_were() -> None:
    line = JsonFormatter().format(
        record(batch_id="b1", rows=3, when=CREATED, slack_webhook_url="https://hooks/x")
    )
    assert line == (
        '{"severity": "WARNING", "message": "batch refused", '
        '"time": "2026-03-02T17:04:05.250000+00:00", "logger": "attribution.batches", '
        '"batch_id": "b1", "rows": 3, "when": "2026-03-02T17:04:05.250000+00:00", '
        '"slack_webhook_url": "[redacted]"}'
    )


def test_text_lines_say_time_level_message_and_fields() -> None:
    line = TextFormatter().format(
        record(batch_id="b1", error="no rows", rows=3, empty="", smtp_password="hunter2")
    )
    assert line == (
        '17:04:05 WARNING batch refused batch_id=b1 error="no rows" rows=3 empty="" '
        "smtp_password=[redacted]"
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = record("it failed", logging.ERROR, exc_info=sys.exc_info())
    first, *trace = TextFormatter().format(failed).splitlines()
    assert first == "17:04:05 ERROR it failed"
    assert trace[-1] == "RuntimeError: boom"


def test_auto_is_text_on_a_terminal_and_json_elsewhere(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        configure_logging("INFO")
        (handler,) = [h for h in root.handlers if type(h).__name__ == "_Handler"]
        assert isinstance(handler.formatter, TextFormatter)
        logging.getLogger("attribution.test").info("hello", extra={"n": 1})
        terminal.flush()
        assert re.fullmatch(rb"\d\d:\d\d:\d\d INFO hello n=1\r?\n", os.read(leader, 1000))
    os.close(leader)

    for handler in [h for h in root.handlers if type(h).__name__ == "_Handler"]:
        root.removeHandler(handler)
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    configure_logging("INFO", "auto")
    logging.getLogger("attribution.test").info("hello", extra={"n": 1})
    entry = json.loads(pipe.getvalue())
    assert (entry["severity"], entry["message"], entry["n"]) == ("INFO", "hello", 1)


def test_configuring_again_changes_the_one_handler(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("INFO", "json")
    configure_logging("WARNING", "text")
    handlers = [h for h in root.handlers if type(h).__name__ == "_Handler"]
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, TextFormatter)
    assert root.level == logging.WARNING
    logging.getLogger("attribution.test").info("not shown")
    logging.getLogger("attribution.test").warning("shown")
    assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING shown\n", stream.getvalue())


def test_lines_go_to_stderr_as_it_is_when_they_are_logged(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured_on = io.StringIO()
    monkeypatch.setattr(sys, "stderr", configured_on)
    configure_logging("INFO", "json")
    configured_on.close()  # as pytest closes a test's captured stderr when the test ends
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    logging.getLogger("attribution.test").info("hello")
    assert json.loads(now.getvalue())["message"] == "hello"


def test_a_stream_given_is_kept_when_configured_again(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = io.StringIO()
    configure_logging("INFO", "auto", stream=log)
    configure_logging("INFO", "auto")  # as build_app does
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    logging.getLogger("attribution.test").info("hello")
    assert json.loads(log.getvalue())["message"] == "hello"  # a file: auto is JSON
    assert stderr.getvalue() == ""


def test_an_unknown_format_is_refused(root: logging.Logger) -> None:
    with pytest.raises(ValueError, match="'yaml' is not one of auto, json, text"):
        configure_logging("INFO", "yaml")
