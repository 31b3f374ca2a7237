"""The local stack as the user runs it: ``attribution serve`` in a process of its own.

``start_serve`` starts ``python -m attribution.cli.main serve`` in its own process group on a
fresh home and free ports, waits (bounded) for its ``stack.json`` (written once everything
is up), and always stops it: SIGTERM to the group, then SIGKILL, then the emulators it
reported, should any outlive it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attribution.devtools.local_stack.emulators import tail
from attribution.devtools.local_stack.stack import STACK_FILE

READY_TIMEOUT_SECONDS = 120.0


@dataclass
class ServedStack:
    process: subprocess.Popen[bytes]
    home: Path
    stdout: Path
    stderr: Path
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env: dict[str, str] = self.description["env"]
        return env

    @property
    def url(self) -> str:
        url: str = self.description["functions_url"]
        return url

    def logs(self) -> list[dict[str, Any]]:
        """The serve process's JSON log lines so far."""
        entries = []
        for line in self.stderr.read_text(errors="replace").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries.append(entry)
        return entries

    def wait_for_log(
        self, matches: Callable[[dict[str, Any]], bool], *, count: int = 1, timeout: float = 60
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.logs() if matches(e)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(
                    f"{len(found)} of {count} expected log lines after {timeout:.0f} s:\n"
                    + tail(self.stderr, 30)
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the group and wait; SIGKILL what lingers. The exit code of serve."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Emulators run in sessions of their own: never leave one behind.
        for name, pid in self.description.get("pids", {}).items():
            if name != "serve":
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        return self.process.returncode


def start_serve(
    home: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = READY_TIMEOUT_SECONDS,
) -> ServedStack:
    home.mkdir(parents=True, exist_ok=True)
    stdout, stderr = home / "serve.out", home / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "attribution.cli.main", "serve", "--home", str(home), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, **env},
            start_new_session=True,
        )
    served = ServedStack(process, home, stdout, stderr)
    deadline = time.monotonic() + timeout
    try:
        while not (home / STACK_FILE).is_file():
            if process.poll() is not None:
                raise AssertionError(
                    f"attribution serve exited with {process.returncode}:\n{tail(stderr, 30)}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"attribution serve not ready after {timeout:.0f} s:\n{tail(stderr, 30)}"
                )
            time.sleep(0.2)
        served.description = json.loads((home / STACK_FILE).read_text())
    except BaseException:
        served.stop()
        raise
    return served
