"""local-bigquery: BigQuery's REST API served from DuckDB, for the BigQuery adapter tests.

It runs on Python 3.13 with pins of its own (``duckdb==1.5.5``), so it lives in a virtual
environment of its own, ``.venv-bigquery``, made from pyenv's Python 3.13. It must run
offline: DuckDB would download the extensions it loads (icu, json, ducklake, and spatial,
which local-bigquery installs at start-up) from the internet, so they come from PyPI
wheels instead and are installed from their files into DuckDB's extension folder. That
folder is ``~/.duckdb/extensions``, with ``~`` made the venv's own ``duckdb-home`` for both
the install and the server: the set-up never touches the user's own ``~/.duckdb``, and
removing the venv removes it all.

``make test`` installs it (``python tests/integration/bigquery_server.py install``); the
``bigquery_emulator`` fixture (import it into a test module) installs it too if it is
missing or out of date, then starts the server once per session on free ports, in its own
process group, with a temporary data folder. When it cannot, its tests are skipped with the
reason, except under CI=true, where they fail. ``empty_bq`` (imported likewise) is a new
dataset on it for one test.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "attribution-test"
VENV = ROOT / ".venv-bigquery"
DUCKDB_HOME = VENV / "duckdb-home"
STAMP = VENV / ".installed"
DUCKDB_VERSION = "1.5.5"
# 0.3.2 is the last release on duckdb 1.5 (0.4.0 requires duckdb>=2.0.0).
LOCAL_BIGQUERY_VERSION = "0.3.2"
# local-bigquery's functions/geography.sql runs ``INSTALL spatial; LOAD spatial`` when it
# opens its database, so spatial is needed as well as icu, json and ducklake.
EXTENSIONS = ("icu", "json", "ducklake", "spatial")
REQUIREMENTS = (
    f"local-bigquery=={LOCAL_BIGQUERY_VERSION}",
    f"duckdb=={DUCKDB_VERSION}",
    *(f"duckdb-extension-{name}=={DUCKDB_VERSION}" for name in EXTENSIONS),
)
START_TIMEOUT_SECONDS = 90.0

# Run with the venv's Python: installs each extension wheel's file into the extension folder.
_INSTALL_EXTENSIONS = """
import importlib, pathlib, sys
import duckdb
connection = duckdb.connect()
for name in sys.argv[1:]:
    package = importlib.import_module(f"duckdb_extension_{name}")
    root = pathlib.Path(package.__file__).parent
    (path,) = root.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension")
    connection.execute(f"INSTALL '{path}'")
installed = {
    row[0]
    for row in connection.execute(
        "SELECT extension_name FROM duckdb_extensions() WHERE installed"
    ).fetchall()
}
missing = sorted(set(sys.argv[1:]) - installed)
if missing:
    sys.exit(f"DuckDB did not install {missing}")
"""


class ServerUnavailableError(RuntimeError):
    """local-bigquery cannot be installed or started here; the message says why."""


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def python313_candidates() -> list[str]:
    """Where a Python 3.13 may be: $PYTHON313, pyenv, pyenv's folder, then PATH."""
    found: list[str] = []
    if os.environ.get("PYTHON313"):
        found.append(os.environ["PYTHON313"])
    pyenv = shutil.which("pyenv") or str(_pyenv_root() / "bin" / "pyenv")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        prefix = subprocess.run(
            [pyenv, "prefix", "3.13"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        if prefix:
            found.append(str(Path(prefix.splitlines()[0]) / "bin" / "python"))

    def version_key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parents[1].name))

    versions = sorted(
        (p for p in (_pyenv_root() / "versions").glob("3.13*/bin/python") if p.is_file()),
        key=version_key,
    )
    found.extend(str(p) for p in reversed(versions))
    found.extend(filter(None, [shutil.which("python3.13"), shutil.which("python3")]))
    return list(dict.fromkeys(found))


def find_python313() -> str:
    for candidate in python313_candidates():
        if _version_of(candidate) == (3, 13):
            return candidate
    raise ServerUnavailableError(
        "no Python 3.13 found (local-bigquery needs it): tried "
        + (", ".join(python313_candidates()) or "nothing")
        + "; install it with `pyenv install 3.13` or set PYTHON313"
    )


def _stamp_text() -> str:
    return "\n".join(REQUIREMENTS) + "\n"


def installed(venv: Path = VENV) -> bool:
    stamp = venv / STAMP.name
    return (venv / "bin" / "local-bigquery").is_file() and (
        stamp.is_file() and stamp.read_text() == _stamp_text()
    )


def _run(command: Sequence[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=900, env=env, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerUnavailableError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise ServerUnavailableError(f"{what} failed (exit {done.returncode}):\n{tail}")


def server_env(venv: Path = VENV) -> dict[str, str]:
    """The environment for the venv's DuckDB: its own home, so its own extension folder.

    Settings local-bigquery reads from the environment are dropped (the command line sets
    what it needs), and so is STORAGE_EMULATOR_HOST, which it would follow for gs:// paths.
    """
    dropped = {
        "BIGQUERY_PORT",
        "BIGQUERY_HOST",
        "GRPC_PORT",
        "DATA_DIR",
        "DEFAULT_PROJECT_ID",
        "DEFAULT_DATASET_ID",
        "CALLER",
        "GROUPS",
        "GCS_LOCAL_ROOT",
        "STORAGE_EMULATOR_HOST",
        "POSTGRES_URI",
        "POSTGRES_CONNECTION_ID",
    }
    env = {k: v for k, v in os.environ.items() if k.upper() not in dropped}
    env["HOME"] = str(venv / DUCKDB_HOME.name)
    return env


def install(venv: Path = VENV) -> None:
    """Make ``venv`` with Python 3.13, local-bigquery and the DuckDB extensions; stamp it."""
    stamp = venv / STAMP.name
    if installed(venv):
        stamp.touch()  # for make: up to date
        return
    stamp.unlink(missing_ok=True)
    python = venv / "bin" / "python"
    if not python.is_file() or _version_of(str(python)) != (3, 13):
        shutil.rmtree(venv, ignore_errors=True)
        _run([find_python313(), "-m", "venv", str(venv)], "creating the venv")
    _run(
        [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
        "installing local-bigquery",
    )
    home = venv / DUCKDB_HOME.name
    home.mkdir(exist_ok=True)
    _run(
        [str(python), "-c", _INSTALL_EXTENSIONS, *EXTENSIONS],
        "installing the DuckDB extensions",
        env=server_env(venv),
    )
    stamp.write_text(_stamp_text())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class BigQueryServer:
    endpoint: str
    project: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """Kill the server's whole process group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _answers(endpoint: str, project: str) -> str | None:
    """None once the server lists datasets; else why not (DuckDB opens on that first call)."""
    url = f"{endpoint}/bigquery/v2/projects/{project}/datasets"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            json.load(response)
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}"
    except (OSError, ValueError) as exc:
        return str(exc)


def start(data_dir: Path, log: Path, project: str, venv: Path = VENV) -> BigQueryServer:
    """Start local-bigquery on free ports; return once it answers an API call."""
    if not installed(venv):
        raise ServerUnavailableError(f"{venv} is not installed: run `make bigquery-server`")
    port, grpc_port = free_port(), free_port()
    command = [
        str(venv / "bin" / "local-bigquery"),
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--grpc-port={grpc_port}",
        f"--project={project}",
        f"--data-dir={data_dir}",
    ]
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                env=server_env(venv),
                start_new_session=True,
            )
        except OSError as exc:
            raise ServerUnavailableError(f"local-bigquery could not be launched: {exc}") from exc
    server = BigQueryServer(f"http://127.0.0.1:{port}", project, process, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    problem: str | None = "not started"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise ServerUnavailableError(
                f"local-bigquery exited with code {process.returncode}:\n{_tail(log)}"
            )
        problem = _answers(server.endpoint, project)
        if problem is None:
            return server
        if problem.startswith("HTTP "):  # it answered, with an error: waiting won't help
            server.stop()
            raise ServerUnavailableError(f"local-bigquery answered {problem}\n{_tail(log)}")
        time.sleep(0.2)
    server.stop()
    raise ServerUnavailableError(
        f"local-bigquery did not answer within {START_TIMEOUT_SECONDS:.0f} s ({problem}):"
        f"\n{_tail(log)}"
    )


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI=true: CI must not pass by skipping these tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"local-bigquery unavailable under CI=true: {reason}", pytrace=False)
    pytest.skip(f"local-bigquery unavailable: {reason}")


def new_dataset(endpoint: str, prefix: str = "t") -> BigQueryWarehouse:
    """A new, empty dataset of ``PROJECT`` on the server."""
    from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse

    warehouse = BigQueryWarehouse(
        PROJECT, f"{prefix}_{uuid.uuid4().hex[:12]}", api_endpoint=endpoint, job_timeout=120.0
    )
    warehouse.ensure_dataset()
    return warehouse


def drop_dataset(warehouse: BigQueryWarehouse) -> None:
    """Every operation of local-bigquery slows down with the number of tables it holds."""
    warehouse.client.delete_dataset(
        f"{warehouse.project_id}.{warehouse.dataset}", delete_contents=True, not_found_ok=True
    )


def require_partition_filters(warehouse: BigQueryWarehouse) -> None:
    """As Terraform makes the partitioned tables: every query and DML on them must filter
    on the partition column (infra/terraform, ``require_partition_filter``)."""
    from attribution.warehouse.tables import table_specs

    for name, spec in table_specs().items():
        if spec.partition_field:
            table = warehouse.client.get_table(warehouse.table_id(name))
            table.require_partition_filter = True
            warehouse.client.update_table(table, ["require_partition_filter"])


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:port`` of local-bigquery (project ``PROJECT``), for the session."""
    folder = tmp_path_factory.mktemp("bigquery-emulator")
    data = folder / "data"
    data.mkdir()
    try:
        install()
        server = start(data, folder / "server.log", PROJECT)
    except ServerUnavailableError as exc:
        unavailable(str(exc))
    try:
        yield server.endpoint
    finally:
        server.stop()


@pytest.fixture
def empty_bq(bigquery_emulator: str) -> Iterator[BigQueryWarehouse]:
    """A new, empty dataset, dropped afterwards."""
    warehouse = new_dataset(bigquery_emulator)
    yield warehouse
    drop_dataset(warehouse)


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["install"]:
        print(f"usage: {sys.argv[0]} install", file=sys.stderr)
        return 2
    try:
        install()
    except ServerUnavailableError as exc:
        print(f"local-bigquery: {exc}", file=sys.stderr)
        # Outside CI its tests then skip, saying why; under CI=true they would fail anyway.
        return 1 if os.environ.get("CI", "").lower() == "true" else 0
    print(f"local-bigquery {LOCAL_BIGQUERY_VERSION} ready in {VENV}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
