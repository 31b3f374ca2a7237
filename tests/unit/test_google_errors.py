"""Where the Google Cloud adapters draw the line between transient and other failures.

The "backend down" cases point the client libraries at a local port nobody listens on.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from google.api_core import exceptions as api_exceptions

from attribution.adapters.google_cloud.gcs_store import GcsStore, md5_hex
from attribution.adapters.google_cloud.google_errors import is_transient, transient_errors
from attribution.adapters.google_cloud.pubsub_publisher import PubSubPublisher
from attribution.errors import PermanentError, TransientError


def api_error(kind: Callable[..., Exception], message: str, **details: Any) -> Exception:
    return kind(message, **details)


@pytest.fixture
def dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: connections are refused


@pytest.mark.parametrize(
    "error",
    [
        api_error(api_exceptions.ServiceUnavailable, "down"),
        api_error(api_exceptions.InternalServerError, "oops"),
        api_error(api_exceptions.TooManyRequests, "slow down"),
        api_error(api_exceptions.GatewayTimeout, "late"),
        api_error(api_exceptions.Forbidden, "quota", errors=[{"reason": "rateLimitExceeded"}]),
        api_error(api_exceptions.RetryError, "gave up", cause=None),
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ReadTimeout("slow"),
        TimeoutError("future timed out"),
    ],
)
def test_unavailability_is_transient(error: Exception) -> None:
    assert is_transient(error)
    with pytest.raises(TransientError), transient_errors("doing it"):
        raise error


@pytest.mark.parametrize(
    "error",
    [
        api_error(api_exceptions.BadRequest, "bad"),
        api_error(api_exceptions.NotFound, "gone"),
        api_error(api_exceptions.Forbidden, "denied", errors=[{"reason": "accessDenied"}]),
        ValueError("a bug"),
    ],
)
def test_other_errors_pass_through_unchanged(error: Exception) -> None:
    assert not is_transient(error)
    with pytest.raises(type(error)) as caught, transient_errors("doing it"):
        raise error
    assert caught.value is error


def test_md5_base64_becomes_hex() -> None:
    digest = hashlib.md5(b"model", usedforsecurity=False)
    assert md5_hex(base64.b64encode(digest.digest()).decode()) == digest.hexdigest()
    assert md5_hex(None) is None
    assert md5_hex("not base64!") is None
    assert md5_hex(base64.b64encode(b"short").decode()) is None


def test_gcs_down_is_transient_for_every_call(
    monkeypatch: pytest.MonkeyPatch, dead_port: int
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{dead_port}")
    store = GcsStore("models", project="p", timeout=2, retry_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"gs://models/models/a\.cbm"):
        store.read("models/a.cbm")
    with pytest.raises(TransientError):
        store.stat("models/a.cbm")
    with pytest.raises(TransientError):
        store.write("models/a.cbm", b"x")
    with pytest.raises(TransientError):
        list(store.list("models/"))
    assert time.monotonic() - started < 30


def test_unsafe_names_never_reach_the_backend(
    monkeypatch: pytest.MonkeyPatch, dead_port: int
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{dead_port}")
    with pytest.raises(PermanentError, match="unsafe_object_name"):
        GcsStore("models").read("../etc/passwd")


def test_pubsub_down_is_transient(monkeypatch: pytest.MonkeyPatch, dead_port: int) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{dead_port}")
    started = time.monotonic()
    with pytest.raises(TransientError, match="projects/p/topics/model-cards"):
        PubSubPublisher("p", timeout=1.5).publish("model-cards", b"{}", {"card_id": "x"})
    assert time.monotonic() - started < 30


def test_publisher_refuses_non_bytes_and_non_text_attributes() -> None:
    publisher = PubSubPublisher("p")
    with pytest.raises(TypeError, match="bytes"):
        publisher.publish("t", "text", {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="n"):
        publisher.publish("t", b"x", {"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="project"):
        PubSubPublisher("")
