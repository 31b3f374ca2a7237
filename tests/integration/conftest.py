"""Real local servers for the Google Cloud adapters: the Pub/Sub and GCS emulators.

Each emulator is started once per session in its own process group (so the whole tree,
JVM included, is killed at the end) on a free port, and the client libraries are pointed
at it through PUBSUB_EMULATOR_HOST / STORAGE_EMULATOR_HOST. When one cannot start, its
tests are skipped with the reason, except under CI=true, where they fail.

Tests that use these fixtures are marked ``emulator`` automatically.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

PROJECT = "attribution-test"
PUBSUB_LAUNCHER = Path(
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
)
PUBSUB_PACKAGE = "google-cloud-cli-pubsub-emulator"
START_TIMEOUT_SECONDS = 60.0
EMULATOR_FIXTURES = frozenset({"pubsub_emulator", "gcs_emulator"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulator)


def emulator_unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI must not pass by skipping the integration tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"emulator unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Emulator:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        """Kill the whole process group (the launcher script and the JVM it started)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Children that outlived the leader still belong to its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_emulator(name: str, command: Sequence[str], port: int, log: Path) -> Emulator:
    """Start ``command`` in its own session and wait until ``port`` accepts connections."""
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            emulator_unavailable(f"{name} emulator could not be launched: {exc}")
    emulator = Emulator(name, process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            emulator.stop()
            emulator_unavailable(
                f"{name} emulator exited with code {process.returncode}:\n{_tail(log)}"
            )
        if _port_answers(port):
            return emulator
        time.sleep(0.2)
    emulator.stop()
    emulator_unavailable(
        f"{name} emulator did not answer on port {port} within {START_TIMEOUT_SECONDS:.0f} s:"
        f"\n{_tail(log)}"
    )


def pubsub_launcher() -> Path | None:
    """The emulator's own launcher script (not ``gcloud beta emulators``, a wrapper)."""
    if PUBSUB_LAUNCHER.is_file():
        return PUBSUB_LAUNCHER
    try:
        listing = subprocess.run(
            ["dpkg", "-L", PUBSUB_PACKAGE], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        path = Path(line.strip())
        if path.name == "cloud-pubsub-emulator" and path.parent.name == "bin" and path.is_file():
            return path
    return None


@pytest.fixture(scope="session")
def gcp_project() -> str:
    return PROJECT


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a Pub/Sub emulator; PUBSUB_EMULATOR_HOST points at it meanwhile."""
    launcher = pubsub_launcher()
    if launcher is None:
        emulator_unavailable(f"{PUBSUB_PACKAGE} is not installed (no cloud-pubsub-emulator)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        emulator_unavailable("the Pub/Sub emulator needs Java, and none was found")
    port = free_port()
    log = tmp_path_factory.mktemp("pubsub-emulator") / "emulator.log"
    emulator = start_emulator(
        "Pub/Sub", [str(launcher), "--host=127.0.0.1", f"--port={port}"], port, log
    )
    host = f"127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", host)
        try:
            yield host
        finally:
            emulator.stop()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://host:port`` of gcp-storage-emulator (in memory); STORAGE_EMULATOR_HOST too."""
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError:
        emulator_unavailable("the gcp-storage-emulator package is not installed")
    port = free_port()
    log = tmp_path_factory.mktemp("gcs-emulator") / "emulator.log"
    command = [
        sys.executable,
        "-m",
        "gcp_storage_emulator",
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        "--in-memory",
        "--quiet",
    ]
    emulator = start_emulator("GCS", command, port, log)
    host = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", host)
        try:
            yield host
        finally:
            emulator.stop()


@pytest.fixture
def gcs_bucket(gcs_emulator: str, gcp_project: str) -> str:
    """A new, empty bucket on the GCS emulator."""
    from attribution.adapters.gcs_store import storage_client

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
