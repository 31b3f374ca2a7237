"""The Google Cloud publisher: Pub/Sub through google-cloud-pubsub.

The PublisherClient is created on first use and shared by the process (it batches in a
background thread, so one per process is what the library expects). It honours
``PUBSUB_EMULATOR_HOST`` by itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient

from attribution.errors import TransientError

EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"

# Names ``PublisherClient.publish`` takes as its own keyword arguments: as attributes they
# would be swallowed (or clash), so they are refused up front.
RESERVED_ATTRIBUTES = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()


def publisher_client() -> Any:
    """The process's PublisherClient (one per emulator host, for tests that switch)."""
    key = os.environ.get(EMULATOR_ENV) or None
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = PublisherClient()
            _clients[key] = client
        return client


class PubSubPublisher:
    """A ``Publisher`` that publishes to ``projects/<project>/topics/<topic>``."""

    def __init__(self, project: str, *, timeout: float = 60.0) -> None:
        if not project:
            raise ValueError("PubSubPublisher needs a project id")
        self.project = project
        self.timeout = timeout

    def topic_path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{topic}"

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        if not isinstance(data, bytes):
            raise TypeError(f"message data must be bytes, not {type(data).__name__}")
        bad = sorted(k for k, v in attributes.items() if not isinstance(v, str))
        if bad:
            raise TypeError(f"message attributes must be text: {', '.join(bad)}")
        reserved = sorted(RESERVED_ATTRIBUTES.intersection(attributes))
        if reserved:
            raise ValueError(f"attribute names reserved by the client: {', '.join(reserved)}")
        path = self.topic_path(topic)
        try:
            future = publisher_client().publish(
                path, data, timeout=self.timeout, **dict(attributes)
            )
            message_id = future.result(timeout=self.timeout)
        except Exception as exc:
            raise TransientError(
                f"publishing to {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return str(message_id)
