"""Google's Pub/Sub emulator and gcp-storage-emulator as child processes.

Each runs in a session (process group) of its own, so stopping it kills the whole tree: the
Pub/Sub launcher script ``exec``s a JVM, which a plain kill of a ``gcloud beta emulators``
wrapper would leave running. That is why the emulator's own launcher is used, found with
``dpkg -L google-cloud-cli-pubsub-emulator``.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PUBSUB_PACKAGE = "google-cloud-cli-pubsub-emulator"
PUBSUB_LAUNCHER = Path(
    "/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator"
)
START_TIMEOUT_SECONDS = 60.0


class EmulatorError(RuntimeError):
    """An emulator is not installed, or did not start."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), 0.5):
        return True
    return False


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class EmulatorProcess:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers (children included)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        # Children that outlived the leader still belong to its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start_emulator(
    name: str,
    command: Sequence[str],
    port: int,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> EmulatorProcess:
    """Start ``command`` in its own session; wait until ``port`` accepts connections."""
    if port_answers(port):
        raise EmulatorError(f"port {port} for the {name} emulator is already in use")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=None if env is None else {**os.environ, **env},
            )
        except OSError as exc:
            raise EmulatorError(f"{name} emulator could not be launched: {exc}") from exc
    emulator = EmulatorProcess(name, process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            emulator.stop()
            raise EmulatorError(
                f"{name} emulator exited with code {process.returncode}:\n{tail(log)}"
            )
        if port_answers(port):
            return emulator
        time.sleep(0.2)
    emulator.stop()
    raise EmulatorError(
        f"{name} emulator did not answer on port {port} within {timeout:.0f} s:\n{tail(log)}"
    )


def pubsub_launcher() -> Path | None:
    """The Pub/Sub emulator's own launcher script (not ``gcloud beta emulators``)."""
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


def pubsub_unavailable() -> str | None:
    """Why the Pub/Sub emulator cannot run here, or None."""
    if pubsub_launcher() is None:
        return f"{PUBSUB_PACKAGE} is not installed (no cloud-pubsub-emulator launcher)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "the Pub/Sub emulator needs Java, and none was found"
    return None


def storage_unavailable() -> str | None:
    """Why gcp-storage-emulator cannot run here, or None."""
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError:
        return "the gcp-storage-emulator package is not installed"
    return None


def start_pubsub(port: int, log: Path, *, host: str = "127.0.0.1") -> EmulatorProcess:
    """The Pub/Sub emulator (in memory) on ``host:port``."""
    reason = pubsub_unavailable()
    launcher = pubsub_launcher()
    if reason or launcher is None:
        raise EmulatorError(reason or f"{PUBSUB_PACKAGE} is not installed")
    return start_emulator("Pub/Sub", [str(launcher), f"--host={host}", f"--port={port}"], port, log)


def start_storage(
    port: int, log: Path, *, host: str = "127.0.0.1", data_dir: Path | None = None
) -> EmulatorProcess:
    """gcp-storage-emulator on ``host:port``: in memory, or kept under ``data_dir``."""
    reason = storage_unavailable()
    if reason:
        raise EmulatorError(reason)
    command = [
        sys.executable,
        "-m",
        "attribution.devtools.local_stack.storage_preconditions",  # it honours ifGenerationMatch
        "start",
        f"--host={host}",
        f"--port={port}",
        "--quiet",
    ]
    env: dict[str, str] = {}
    if data_dir is None:
        command.append("--in-memory")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        env["STORAGE_BASE"] = str(data_dir.resolve())  # it keeps objects in STORAGE_BASE/
    return start_emulator("GCS", command, port, log, env=env)
