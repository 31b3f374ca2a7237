"""Real local servers for the Google Cloud adapters: the Pub/Sub and GCS emulators.

Shared by tests/integration and tests/e2e (``tests/conftest.py`` imports the fixtures, so one
emulator of each kind serves the whole session). Each emulator is started once per session in
its own process group (so the whole tree, JVM included, is killed at the end) on a free port,
by the same code ``attribution serve`` uses (``attribution.devtools.local_stack.emulators``),
and the client libraries are pointed at it through PUBSUB_EMULATOR_HOST / STORAGE_EMULATOR_HOST.
When one cannot start, its tests are skipped with the reason, except under CI=true, where
they fail.

Tests that use these fixtures are marked ``emulator`` automatically.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from attribution.devtools.local_stack.emulators import (
    EmulatorError,
    free_port,
    pubsub_unavailable,
    start_pubsub,
    start_storage,
    storage_unavailable,
)

PROJECT = "attribution-test"
EMULATOR_FIXTURES = frozenset({"pubsub_emulator", "gcs_emulator"})

__all__ = [
    "EMULATOR_FIXTURES",
    "PROJECT",
    "PubSubSandbox",
    "emulator_unavailable",
    "free_port",
    "gcp_project",
    "gcs_bucket",
    "gcs_emulator",
    "mark_emulator_tests",
    "pubsub",
    "pubsub_emulator",
    "pubsub_topic",
]


def mark_emulator_tests(items: Sequence[pytest.Item]) -> None:
    for item in items:
        if EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulator)


def emulator_unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI must not pass by skipping the emulator tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"emulator unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def gcp_project() -> str:
    return PROJECT


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a Pub/Sub emulator; PUBSUB_EMULATOR_HOST points at it meanwhile."""
    reason = pubsub_unavailable()
    if reason:
        emulator_unavailable(reason)
    log = tmp_path_factory.mktemp("pubsub-emulator") / "emulator.log"
    try:
        emulator = start_pubsub(free_port(), log)
    except EmulatorError as exc:
        emulator_unavailable(str(exc))
    host = f"127.0.0.1:{emulator.port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", host)
        try:
            yield host
        finally:
            emulator.stop()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://host:port`` of gcp-storage-emulator (in memory); STORAGE_EMULATOR_HOST too."""
    reason = storage_unavailable()
    if reason:
        emulator_unavailable(reason)
    log = tmp_path_factory.mktemp("gcs-emulator") / "emulator.log"
    try:
        emulator = start_storage(free_port(), log)
    except EmulatorError as exc:
        emulator_unavailable(str(exc))
    host = f"http://127.0.0.1:{emulator.port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", host)
        try:
            yield host
        finally:
            emulator.stop()


@pytest.fixture
def gcs_bucket(gcs_emulator: str, gcp_project: str) -> str:
    """A new, empty bucket on the GCS emulator."""
    from attribution.adapters.google_cloud.gcs_store import storage_client

    name = f"test-{uuid.uuid4().hex[:12]}"
    storage_client(gcp_project).create_bucket(name)
    return name


@dataclass
class PubSubSandbox:
    """Admin side of the Pub/Sub emulator: topics, pull subscriptions, pulling."""

    project: str
    publisher: Any
    subscriber: Any

    def topic(self, name: str | None = None) -> tuple[str, str]:
        """Create a topic (a fresh name by default) and a pull subscription on it."""
        topic = name or f"topic-{uuid.uuid4().hex[:12]}"
        topic_path = self.publisher.topic_path(self.project, topic)
        self.publisher.create_topic(name=topic_path)
        subscription = self.subscriber.subscription_path(self.project, f"{topic}-pull")
        self.subscriber.create_subscription(name=subscription, topic=topic_path)
        return topic, subscription

    def pull(self, subscription: str, *, expect: int = 1, wait: float = 5.0) -> list[Any]:
        """Pull (and ack) until ``expect`` messages came or ``wait`` seconds passed."""
        from google.api_core import exceptions as api_exceptions

        received: list[Any] = []
        deadline = time.monotonic() + wait
        while len(received) < expect and time.monotonic() < deadline:
            try:
                response = self.subscriber.pull(
                    subscription=subscription,
                    max_messages=max(expect - len(received), 1),
                    timeout=max(deadline - time.monotonic(), 0.5),
                )
            except api_exceptions.DeadlineExceeded:
                break
            if response.received_messages:
                self.subscriber.acknowledge(
                    subscription=subscription,
                    ack_ids=[m.ack_id for m in response.received_messages],
                )
                received.extend(m.message for m in response.received_messages)
        return received


@pytest.fixture(scope="session")
def pubsub(pubsub_emulator: str, gcp_project: str) -> Iterator[PubSubSandbox]:
    from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient

    publisher = PublisherClient()
    subscriber = SubscriberClient()
    try:
        yield PubSubSandbox(gcp_project, publisher, subscriber)
    finally:
        subscriber.close()
        with contextlib.suppress(Exception):
            publisher.stop()


@pytest.fixture
def pubsub_topic(pubsub: PubSubSandbox) -> tuple[str, str]:
    """A fresh topic name and the path of a pull subscription on it."""
    return pubsub.topic()
