"""Each staged folder deploys on its own.

`make stage` builds build/<function>/; here it is staged into a temporary folder, each folder
is served by functions-framework from that folder alone (PYTHONPATH = the folder) and sent a
real CloudEvent, and its requirements.txt is held against the imports its files make. The
venv has every dependency installed, so serving proves the folder is complete, not that its
requirements are: the static import graph proves that, and -X importtime shows which modules
really loaded.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import openlineage.client.transport.gcplineage
import pytest
from bigquery_server import PROJECT as BIGQUERY_PROJECT
from bigquery_server import bigquery_emulator, drop_dataset, new_dataset
from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent

from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse
from attribution.devtools.import_graph import (
    PackageSource,
    distributions_for,
    function_graph,
    imports_of,
    is_stdlib,
    normalize,
    used_wiring_methods,
)
from attribution.devtools.staging import StagedFunction, package_root, plan_function, stage
from attribution.events import object_finalized_event
from attribution.function_manifest import function_specs
from attribution.objects import StoredObject
from attribution.warehouse.migrations import migrate

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_FRAMEWORK = Path(sys.executable).parent / "functions-framework"
START_TIMEOUT_SECONDS = 90.0
EMPTY_GAME_DATE = "2001-01-01"
# One staged folder per function folder; an entry point sharing a folder goes with it.
FOLDERS = sorted(name for name, spec in function_specs().items() if spec.folder == name)

__all__ = ["bigquery_emulator"]  # the session fixture, imported so pytest finds it here


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StagedFunction]:
    out = tmp_path_factory.mktemp("build")
    return {item.spec.name: item for item in stage(out)}


def requirements_of(folder: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (folder / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[normalize(name)] = version
    return pins


def staged_modules(folder: Path) -> set[str]:
    return set(PackageSource.at(folder / "attribution").files)


# --------------------------------------------------------------------------- the manifest


def _decorators(source: Path, entry_point: str) -> list[str]:
    tree = ast.parse(source.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            return [ast.unparse(d) for d in node.decorator_list]
    raise AssertionError(f"{source} defines no top-level function {entry_point}")


@pytest.mark.parametrize("name", FOLDERS)
def test_manifest_entry_point_exists_and_is_decorated_for_its_signature(name: str) -> None:
    spec = function_specs()[name]
    decorator = {
        "cloudevent": "functions_framework.cloud_event",
        "http": "functions_framework.http",
    }
    assert decorator[spec.signature] in _decorators(spec.source, spec.entry_point)


def test_the_verifiers_http_entry_point_is_an_http_function() -> None:
    spec = function_specs()["verifier"]
    assert "functions_framework.http" in _decorators(spec.source, "verify_http")


# --------------------------------------------------------------------------- the folders


@pytest.mark.parametrize("name", FOLDERS)
def test_staged_folder_holds_real_files_and_nothing_of_the_build(
    staged: dict[str, StagedFunction], name: str
) -> None:
    folder = staged[name].folder
    for required in (
        "main.py",
        "requirements.txt",
        ".gcloudignore",
        "schemas/bigquery/tables.json",
    ):
        assert (folder / required).is_file(), required
    assert (folder / "attribution" / "warehouse" / "sql").is_dir()
    files = list(folder.rglob("*"))
    assert not [p for p in files if p.is_symlink()]
    assert not [p for p in files if "__pycache__" in p.parts]
    assert (folder / "main.py").read_bytes() == staged[name].spec.source.read_bytes()


@pytest.mark.parametrize("name", FOLDERS)
def test_requirements_are_pinned_to_the_installed_versions(
    staged: dict[str, StagedFunction], name: str
) -> None:
    spec = staged[name].spec
    pins = requirements_of(staged[name].folder)
    assert set(pins) == {normalize(r) for r in (*spec.requirements, *spec.loaded_at_runtime)}
    for distribution, version in pins.items():
        assert metadata.version(distribution) == version


@pytest.mark.parametrize("name", FOLDERS)
def test_requirements_cover_every_import_of_the_staged_folder(
    staged: dict[str, StagedFunction], name: str
) -> None:
    """The graph is rebuilt from the staged files alone: every attribution module main.py can
    reach is in the folder, and every distribution they import is in requirements.txt."""
    folder = staged[name].folder
    graph = function_graph(folder / "main.py", PackageSource.at(folder / "attribution"))
    assert graph.modules == staged_modules(folder)
    needed = graph.distributions()
    assert not [d for d in needed if d.startswith("?")], needed
    missing = sorted(set(needed) - set(requirements_of(folder)))
    assert not missing, {d: [graph.chain(i) for i in needed[d]] for d in missing}


@pytest.mark.parametrize("name", FOLDERS)
def test_staged_files_do_not_reach_into_the_repository(
    staged: dict[str, StagedFunction], name: str
) -> None:
    folder = staged[name].folder
    for path in folder.rglob("*.py"):
        for ref in imports_of(path, "attribution"):
            top = ref.module.split(".")[0]
            assert top not in {"functions", "shared", "tests", "bench"}, f"{path}: {ref}"
        assert str(REPO) not in path.read_text(), path
    # The staged copy is what Python finds there, not the editable install of the repo.
    found = subprocess.run(
        [sys.executable, "-c", "import attribution.bootstrap as m; print(m.__file__)"],
        cwd=folder,
        env=_isolated_env(folder, folder),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()).is_relative_to(folder)


def test_what_sends_lineage_ships_what_the_gcplineage_transport_imports(
    staged: dict[str, StagedFunction],
) -> None:
    """The OpenLineage client loads its gcplineage transport by name, and the transport
    imports Google's lineage client only when it sends: the manifest names that
    (loaded_at_runtime) for the functions whose App methods build the lineage emitter. The
    verifier sends none and ships none of it."""
    transport = Path(openlineage.client.transport.gcplineage.__file__)
    needed = {
        min(distributions_for(ref.module))
        for ref in imports_of(transport, "openlineage.client.transport")
        if not is_stdlib(ref.module)
    }
    assert "google-cloud-datacatalog-lineage" in needed
    wiring = package_root() / "bootstrap.py"
    for name, item in staged.items():
        pins = set(requirements_of(item.folder))
        if "lineage" in used_wiring_methods(item.spec.source, wiring):
            assert needed <= pins, (name, needed - pins)
        else:
            only_for_sending = needed - {normalize(r) for r in item.spec.requirements}
            assert only_for_sending and not only_for_sending & pins, name


def test_the_verifier_ships_no_catboost(staged: dict[str, StagedFunction]) -> None:
    item = staged["verifier"]
    assert "catboost" not in requirements_of(item.folder)
    assert "catboost" not in item.graph.distributions()
    assert "catboost" not in item.graph.distributions(optional=True)
    importing = [
        path
        for path in item.folder.rglob("*.py")
        if any(ref.module.split(".")[0] == "catboost" for ref in imports_of(path, "attribution"))
    ]
    assert not importing


# --------------------------------------------------------------------------- served alone


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _isolated_env(folder: Path, home: Path) -> dict[str, str]:
    """Only what the process needs: no ATTRIBUTION_* or credentials from the test run."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(folder),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ATTRIBUTION_HOME": str(home),
        "LOG_LEVEL": "INFO",
    }


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    stderr: Path

    def post(self, event: CloudEvent) -> int:
        headers, body = to_structured(event)
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status: int = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return status

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def imported_modules(self) -> set[str]:
        """Modules the process imported (-X importtime lines on stderr)."""
        found = set()
        for line in self.stderr.read_text(errors="replace").splitlines():
            if line.startswith("import time:") and "|" in line:
                module = line.rsplit("|", 1)[1].strip()
                if module and module != "imported package":
                    found.add(module)
        return found

    def logs(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.stderr.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    entries.append(json.loads(line))
        return entries


@dataclass
class GoogleCloud:
    """The emulators a staged function runs against, as it would run in Google Cloud."""

    warehouse: BigQueryWarehouse
    environment: dict[str, str]

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return self.warehouse.query(sql)


@pytest.fixture
def google_cloud(
    bigquery_emulator: str, gcs_emulator: str, gcs_bucket: str, pubsub_emulator: str
) -> Iterator[GoogleCloud]:
    warehouse = new_dataset(bigquery_emulator, "staged")
    migrate(warehouse)
    try:
        yield GoogleCloud(
            warehouse,
            {
                "ATTRIBUTION_BACKEND": "gcp",
                "GCP_PROJECT": BIGQUERY_PROJECT,
                "BQ_DATASET": warehouse.dataset,
                "BIGQUERY_EMULATOR_HOST": bigquery_emulator.removeprefix("http://"),
                "STORAGE_EMULATOR_HOST": gcs_emulator,
                "PUBSUB_EMULATOR_HOST": pubsub_emulator,
                "MODELS_BUCKET": gcs_bucket,
            },
        )
    finally:
        drop_dataset(warehouse)


@contextlib.contextmanager
def serve(item: StagedFunction, home: Path, environment: dict[str, str]) -> Iterator[Served]:
    port = _free_port()
    stderr = home / "stderr.log"
    env = _isolated_env(item.folder, home) | {"PYTHONPROFILEIMPORTTIME": "1"} | environment
    with (home / "stdout.log").open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [
                str(FUNCTIONS_FRAMEWORK),
                "--target",
                item.spec.entry_point,
                "--source",
                "main.py",
                "--signature-type",
                item.spec.signature,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=item.folder,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    served = Served(process, port, stderr)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                tail = [ln for ln in stderr.read_text(errors="replace").splitlines()]
                raise AssertionError(
                    "functions-framework exited:\n"
                    + "\n".join(t for t in tail if not t.startswith("import time:"))[-3000:]
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            if time.monotonic() > deadline:
                raise AssertionError("functions-framework did not start listening")
            time.sleep(0.2)
        yield served
    finally:
        served.stop()


def _pubsub_event(data: bytes, topic: str) -> CloudEvent:
    message_id = f"m-{time.time_ns()}"
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/projects/staging-test/topics/{topic}",
            "id": message_id,
        },
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "messageId": message_id,
                "attributes": {},
            },
            "subscription": f"projects/staging-test/subscriptions/{topic}-sub",
        },
    )


def _assert_loaded_only_staged_code(served: Served, item: StagedFunction) -> None:
    loaded = {m for m in served.imported_modules() if re.match(r"attribution(\.|$)", m)}
    assert loaded, "no attribution module was imported: importtime output missing?"
    assert loaded <= staged_modules(item.folder), loaded - staged_modules(item.folder)


@pytest.mark.timeout(300)
def test_model_upload_serves_alone_and_acknowledges_a_non_model_object(
    staged: dict[str, StagedFunction], tmp_path: Path, google_cloud: GoogleCloud
) -> None:
    item = staged["model_upload"]
    bucket = google_cloud.environment["MODELS_BUCKET"]
    event = object_finalized_event(
        StoredObject(bucket=bucket, name="models/notes.txt", generation="1", size=5),
        event_id="staging-upload-1",
    )
    with serve(item, tmp_path, google_cloud.environment) as served:
        assert served.post(event) == 200
    handled = [e for e in served.logs() if e.get("message") == "model upload handled"]
    assert [e["result"] for e in handled] == ["ignored"]
    _assert_loaded_only_staged_code(served, item)


@pytest.mark.timeout(300)
def test_prediction_batch_serves_alone_and_dead_letters_a_malformed_message(
    staged: dict[str, StagedFunction], tmp_path: Path, google_cloud: GoogleCloud
) -> None:
    item = staged["prediction_batch"]
    with serve(item, tmp_path, google_cloud.environment) as served:
        assert served.post(_pubsub_event(b"{not json", "prediction-batches")) == 200
    assert google_cloud.rows("SELECT source FROM dead_letters") == [{"source": "prediction_batch"}]
    _assert_loaded_only_staged_code(served, item)
    # The message reached the predictor (the real use case), not just the envelope check.
    assert "attribution.batches.predictor" in served.imported_modules()


@pytest.mark.timeout(300)
def test_verifier_serves_alone_without_catboost_for_a_date_with_no_predictions(
    staged: dict[str, StagedFunction], tmp_path: Path, google_cloud: GoogleCloud
) -> None:
    item = staged["verifier"]
    request = json.dumps({"game_date": EMPTY_GAME_DATE}).encode()
    with serve(item, tmp_path, google_cloud.environment) as served:
        assert served.post(_pubsub_event(request, "verification-requests")) == 200
    runs = google_cloud.rows("SELECT game_date, verdict FROM verification_runs")
    assert runs and {r["game_date"] for r in runs} == {date.fromisoformat(EMPTY_GAME_DATE)}
    imported = served.imported_modules()
    assert "attribution.verification.verifier" in imported
    assert not [m for m in imported if m.split(".")[0] == "catboost"]
    _assert_loaded_only_staged_code(served, item)


# --------------------------------------------------------------------------- the graph's rules


def _write_package(root: Path, files: dict[str, str]) -> PackageSource:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return PackageSource.at(root / "attribution")


def test_graph_rules_type_checking_optional_imports_and_unused_app_methods(
    tmp_path: Path,
) -> None:
    package = _write_package(
        tmp_path,
        {
            "attribution/__init__.py": "",
            "attribution/bootstrap.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    import catboost\n"
                "class App:\n"
                "    def verifier(self):\n        from .checks import run\n        return run\n"
                "    def predictor(self):\n        self.models()\n"
                "    def models(self):\n        from attribution.models import load\n"
                "def app():\n    return App()\n"
            ),
            "attribution/checks.py": (
                "import json\n"
                "try:\n    import slack_sdk\nexcept ImportError:\n    slack_sdk = None\n"
                "def run():\n    import pyarrow\n"
            ),
            "attribution/models.py": "import catboost\n",
            "main.py": "from attribution.bootstrap import app\napp().verifier()\n",
        },
    )
    graph = function_graph(tmp_path / "main.py", package)
    assert graph.modules == {"attribution", "attribution.bootstrap", "attribution.checks"}
    assert set(graph.distributions()) == {"pyarrow"}
    assert set(graph.distributions(optional=True)) == {"slack-sdk"}
    assert len(graph.unused_references) == 1  # App.models, reached only from App.predictor

    (tmp_path / "main.py").write_text("from attribution.bootstrap import app\napp().predictor()\n")
    graph = function_graph(tmp_path / "main.py", package)
    assert "attribution.models" in graph.modules  # predictor -> self.models()
    assert "catboost" in graph.distributions()
    chain = graph.chain(graph.distributions()["catboost"][0])
    assert chain == "main.py:1 -> attribution.bootstrap:11 -> attribution.models:1 -> catboost"


def test_the_graph_stops_at_never_staged_packages_and_only_the_wiring_may_name_them(
    tmp_path: Path,
) -> None:
    package = _write_package(
        tmp_path,
        {
            "attribution/__init__.py": "",
            "attribution/adapters/__init__.py": "",
            "attribution/adapters/embedded/__init__.py": "",
            "attribution/adapters/embedded/duck.py": "import duckdb\n",
            "attribution/bootstrap.py": (
                "def warehouse():\n    from attribution.adapters.embedded.duck import Duck\n"
            ),
            "attribution/checks.py": "from attribution.adapters.embedded import duck\n",
            "main.py": "from attribution.bootstrap import warehouse\n",
        },
    )
    graph = function_graph(tmp_path / "main.py", package)
    assert "attribution.adapters.embedded.duck" not in graph.modules
    assert "duckdb" not in graph.distributions()
    assert graph.left_out == [
        "attribution.bootstrap:2 -> attribution.adapters.embedded.duck",
    ]
    (tmp_path / "main.py").write_text("import attribution.checks\n")
    with pytest.raises(ImportError, match="never staged into a function"):
        function_graph(tmp_path / "main.py", package)


def test_staging_refuses_a_function_whose_requirements_miss_an_import() -> None:
    spec = function_specs()["prediction_batch"]
    lacking = replace(spec, requirements=tuple(r for r in spec.requirements if r != "pandas"))
    plan = plan_function(lacking, PackageSource.at(package_root()))
    assert not plan.report.ok
    assert set(plan.report.missing) == {"pandas"}
    # The chain from main.py to the first module that imports it, each step a real import.
    problem = plan.report.problems()[0]
    assert problem.startswith("prediction_batch: imports pandas") and problem.endswith("-> pandas")
    assert "main.py:" in problem and "attribution.batches." in problem


@pytest.mark.timeout(300)
@pytest.mark.parametrize("variable, value", [("WAREHOUSE", "duckdb"), ("PUBLISHER", "inprocess")])
def test_a_staged_function_refuses_the_embedded_adapters_by_name(
    staged: dict[str, StagedFunction],
    tmp_path: Path,
    google_cloud: GoogleCloud,
    variable: str,
    value: str,
) -> None:
    item = staged["prediction_batch"]
    assert not (item.folder / "attribution" / "adapters" / "embedded").exists()
    environment = google_cloud.environment | {variable: value}
    with serve(item, tmp_path, environment) as served:
        assert served.post(_pubsub_event(b"{}", "prediction-batches")) == 500
    errors = " ".join(str(e) for e in served.logs() if e.get("severity") == "ERROR")
    assert f"{variable}={value} needs the embedded adapters" in errors
