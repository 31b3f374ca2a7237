"""infra/terraform held against the code, offline (no provider, no cloud).

terraform fmt checks the layout; python-hcl2 parses every .tf file, and the functions, topics,
environment variables, tables and schedule are compared with functions/manifest.json, the
Settings defaults, the variables the code reads (found by attribution.env_reads) and
schemas/bigquery. The provider-free module that reads schemas/bigquery is evaluated by
``terraform console`` itself. Without terraform those two tests skip, except under CI=true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2
import pytest
import sqlglot
from sqlglot import exp

from attribution.config import Settings
from attribution.env_reads import EnvReads, env_reads
from attribution.function_manifest import function_specs
from attribution.import_graph import PackageSource, function_graph
from attribution.staging import package_root
from attribution.verification.request import parse_verification_request

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "infra" / "terraform"
SCHEMA_MODULE = TERRAFORM_DIR / "modules" / "bigquery_schema"
SCHEMAS = REPO / "schemas" / "bigquery"
FUNCTION_RESOURCES = {
    "model_upload": "model_upload",
    "prediction_batch": "prediction_batch",
    "verifier": "verifier",
}
ENV_NAME = re.compile(r"\b([A-Z][A-Z0-9_]*)\s*=")


# --------------------------------------------------------------------------- parsing


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals: ``'"gcp"'`` -> ``gcp``."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {unquote(k): _clean(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return unquote(node)


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    """Every block of the root module's .tf files, merged: resource/data by type and name."""
    merged: dict[str, Any] = {"resource": {}, "data": {}, "locals": {}, "variable": {}}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        with path.open() as handle:
            parsed = _clean(hcl2.load(handle))
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    merged[kind].setdefault(rtype, {}).update(named)
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
        for block in parsed.get("variable", []):
            merged["variable"].update(block)
        merged.setdefault("files", []).append(path.name)
    return merged


def resource(tf: dict[str, Any], rtype: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = tf["resource"][rtype][name]
    return found


def block(parent: dict[str, Any], name: str) -> dict[str, Any]:
    items = parent[name]
    assert isinstance(items, list) and len(items) == 1, name
    found: dict[str, Any] = items[0]
    return found


def default(tf: dict[str, Any], variable: str) -> Any:
    return tf["variable"][variable].get("default")


# --------------------------------------------------------------------------- terraform itself


def terraform_binary() -> str:
    found = shutil.which("terraform") or (
        "/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").is_file() else None
    )
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("terraform is not installed (CI=true: required)", pytrace=False)
        pytest.skip("terraform is not installed")
    return found


def _terraform_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "terraformrc"
    config.write_text("")  # no plugin cache, no registry credentials: nothing to download
    return os.environ | {"TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1"}


def test_terraform_fmt_is_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        check=False,
        capture_output=True,
        text=True,
        env=_terraform_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def console(expression: str, tmp_path: Path, variables: dict[str, str]) -> Any:
    """Evaluate ``jsonencode(expression)`` in the provider-free schema module."""
    args = [terraform_binary(), "console"]
    for key, value in variables.items():
        args += ["-var", f"{key}={value}"]
    result = subprocess.run(
        args,
        check=False,
        input=f"jsonencode({expression})\n",
        capture_output=True,
        text=True,
        cwd=SCHEMA_MODULE,
        env=_terraform_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout.strip()))


@pytest.fixture(scope="module")
def schema_module(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("tf")
    evaluated: dict[str, Any] = console(
        "{ tables = local.tables, views = local.views }",
        tmp,
        {"schemas_dir": str(SCHEMAS), "project_id": "proj-x", "dataset_id": "ds_y"},
    )
    return evaluated


# --------------------------------------------------------------------------- functions


def test_function_entry_points_and_event_types_match_the_manifest(
    terraform: dict[str, Any],
) -> None:
    specs = function_specs()
    assert set(FUNCTION_RESOURCES) == set(specs)
    for key, name in FUNCTION_RESOURCES.items():
        function = resource(terraform, "google_cloudfunctions2_function", name)
        assert block(function, "build_config")["entry_point"] == specs[key].entry_point
        trigger = block(function, "event_trigger")
        assert trigger["event_type"] == specs[key].event_type
        assert trigger["retry_policy"] == "RETRY_POLICY_RETRY"
        source = block(block(block(function, "build_config"), "source"), "storage_source")
        assert f'function_source["{key}"]' in source["object"]
        service = block(function, "service_config")
        for setting in ("max_instance_count", "available_memory", "timeout_seconds"):
            assert setting in service, (key, setting)
        assert f'google_service_account.function["{key}"]' in service["service_account_email"]
        assert f'google_service_account.function["{key}"]' in trigger["service_account_email"]


def test_the_http_verifier_serves_verify_http_from_the_verifiers_folder(
    terraform: dict[str, Any],
) -> None:
    function = resource(terraform, "google_cloudfunctions2_function", "verifier_http")
    build = block(function, "build_config")
    assert build["entry_point"] == "verify_http"
    assert (
        'function_source["verifier"]' in block(block(build, "source"), "storage_source")["object"]
    )
    assert "event_trigger" not in function


def _topic_key(env_name: str) -> str:
    return env_name.removesuffix("_TOPIC").lower()


def test_topics_are_the_config_defaults_and_the_triggers_use_the_right_ones(
    terraform: dict[str, Any],
) -> None:
    settings = Settings()
    assert default(terraform, "prediction_batches_topic") == settings.prediction_batches_topic
    assert default(terraform, "model_cards_topic") == settings.model_cards_topic
    assert default(terraform, "verification_requests_topic") == settings.verification_requests_topic
    environment = terraform["locals"]["common_environment"]
    for key, spec in function_specs().items():
        function = resource(terraform, "google_cloudfunctions2_function", FUNCTION_RESOURCES[key])
        trigger = block(function, "event_trigger")
        if spec.topic_env:
            topic = f'google_pubsub_topic.topic["{_topic_key(spec.topic_env)}"]'
            assert topic in trigger["pubsub_topic"]
            assert topic in environment[spec.topic_env]  # the code publishes where it listens
        if spec.trigger_bucket_env:
            filters = {f["attribute"]: f["value"] for f in trigger["event_filters"]}
            assert filters == {"bucket": "${google_storage_bucket.models.name}"}
            assert environment[spec.trigger_bucket_env] == "${google_storage_bucket.models.name}"
    assert environment["ATTRIBUTION_BACKEND"] == "gcp"


def test_every_topic_has_a_dead_letter_topic_and_a_subscription_holding_it(
    terraform: dict[str, Any],
) -> None:
    topics = terraform["locals"]["topics"]
    assert set(topics) == {
        _topic_key(n)
        for n in ("PREDICTION_BATCHES_TOPIC", "MODEL_CARDS_TOPIC", "VERIFICATION_REQUESTS_TOPIC")
    }
    for rtype, name in (
        ("google_pubsub_topic", "topic"),
        ("google_pubsub_topic", "dead_letter"),
        ("google_pubsub_subscription", "dead_letter"),
    ):
        assert resource(terraform, rtype, name)["for_each"] == "${local.topics}"
    subscription = resource(terraform, "google_pubsub_subscription", "dead_letter")
    assert "google_pubsub_topic.dead_letter[each.key]" in subscription["topic"]


# --------------------------------------------------------------------------- environment


def _local_names(terraform: dict[str, Any], reference: str, seen: set[str]) -> set[str]:
    """Environment variable names a ``${local.x}`` reference can hold (keys of objects)."""
    names: set[str] = set()
    for local in re.findall(r"local\.(\w+)", reference):
        if local in seen:
            continue
        seen.add(local)
        value = terraform["locals"][local]
        if isinstance(value, dict):
            for key, item in value.items():
                names.add(key)
                names |= _local_names(terraform, str(item), seen)
        else:
            names |= set(ENV_NAME.findall(str(value)))
            names |= _local_names(terraform, str(value), seen)
    return names


def environment_set_by_terraform(terraform: dict[str, Any], name: str) -> set[str]:
    function = resource(terraform, "google_cloudfunctions2_function", name)
    service = block(function, "service_config")
    names = _local_names(terraform, service["environment_variables"], set())
    for dynamic in service.get("dynamic", []):
        for block_name, body in dynamic.items():
            assert block_name == "secret_environment_variables"
            names |= _local_names(terraform, body["for_each"], set())
    return {n for n in names if n.isupper()}


def reads_of(function: str) -> EnvReads:
    spec = function_specs()[function]
    package = PackageSource.at(package_root())
    graph = function_graph(spec.source, package)
    files = {m: package.files[m] for m in graph.modules} | {"main": spec.source}
    return env_reads(files)


def test_the_environment_scan_is_real_and_complete() -> None:
    reads = env_reads(dict(PackageSource.at(package_root()).files))
    assert not reads.unresolved
    # Spot checks of each idiom the scan must understand.
    for name in (
        "MODELS_BUCKET",
        "MAX_MODEL_BYTES",
        "SMTP_HOST",
        "SMTP_PASSWORD",
        "VERIFY_TIMEZONE",
    ):
        assert name in reads.names
    assert reads.reads_variable("VERIFY_ATTRIBUTION_FAIL_PCT")


@pytest.mark.parametrize(
    ("resource_name", "function"),
    [*FUNCTION_RESOURCES.items(), ("verifier_http", "verifier")],
)
def test_every_environment_variable_terraform_sets_is_read_by_that_function(
    terraform: dict[str, Any], resource_name: str, function: str
) -> None:
    names = environment_set_by_terraform(terraform, resource_name)
    assert {"ATTRIBUTION_BACKEND", "GCP_PROJECT", "BQ_DATASET", "MODELS_BUCKET"} <= names
    reads = reads_of(function)
    unread = sorted(n for n in names if not reads.reads_variable(n))
    assert not unread, f"{resource_name} sets variables its code never reads: {unread}"


def test_only_the_verifier_gets_the_alert_secrets(terraform: dict[str, Any]) -> None:
    secrets = {"SLACK_WEBHOOK_URL", "SMTP_PASSWORD"}
    assert secrets <= environment_set_by_terraform(terraform, "verifier")
    for name in ("model_upload", "prediction_batch"):
        assert not secrets & environment_set_by_terraform(terraform, name)
    binding = resource(
        terraform, "google_secret_manager_secret_iam_member", "verifier_reads_alert_secret"
    )
    assert binding["role"] == "roles/secretmanager.secretAccessor"
    assert 'google_service_account.function["verifier"]' in binding["member"]


def test_verifier_settings_only_take_names_the_verifier_reads(terraform: dict[str, Any]) -> None:
    validation = terraform["variable"]["verifier_settings"]["validation"][0]["condition"]
    assert "VERIFY_" in validation and "ALERT_REPEAT_WINDOW_HOURS" in validation
    reads = reads_of("verifier")
    assert "ALERT_REPEAT_WINDOW_HOURS" in reads.names
    assert any(n.startswith("VERIFY_") for n in reads.names)


# --------------------------------------------------------------------------- BigQuery


def _schema_files() -> set[str]:
    return {p.stem for p in SCHEMAS.glob("*.json")} - {"tables"}


def test_every_schema_file_becomes_a_table_with_its_layout(
    schema_module: dict[str, Any], terraform: dict[str, Any]
) -> None:
    tables = schema_module["tables"]
    assert set(tables) == _schema_files()
    layout = json.loads((SCHEMAS / "tables.json").read_text())
    for name, table in tables.items():
        assert json.loads(table["schema"]) == json.loads((SCHEMAS / f"{name}.json").read_text())
        assert table["partition_field"] == layout.get(name, {}).get("partition_field")
        assert table["clustering"] == layout.get(name, {}).get("clustering", [])
    table = resource(terraform, "google_bigquery_table", "table")
    assert table["for_each"] == "${module.bigquery_schema.tables}"
    assert "var.require_partition_filter" in table["require_partition_filter"]
    assert default(terraform, "require_partition_filter") is True
    dynamic = table["dynamic"][0]["time_partitioning"]
    assert dynamic["content"][0]["field"] == "${time_partitioning.value}"


def test_views_are_queries_over_qualified_tables_of_the_dataset(
    schema_module: dict[str, Any], terraform: dict[str, Any]
) -> None:
    views = schema_module["views"]
    assert set(views) == {p.stem for p in (SCHEMAS / "views").glob("*.sql")}
    assert "prediction_accuracy" in views
    for name, query in views.items():
        tree = sqlglot.parse_one(query, read="bigquery")
        assert isinstance(tree, exp.Select), name
        tables = list(tree.find_all(exp.Table))
        assert tables
        for table in tables:
            assert (table.catalog, table.db) == ("proj-x", "ds_y"), table.sql("bigquery")
            assert table.name in _schema_files()
    view = resource(terraform, "google_bigquery_table", "view")
    assert view["for_each"] == "${module.bigquery_schema.views}"
    assert block(view, "view")["use_legacy_sql"] is False


# --------------------------------------------------------------------------- schedule and IAM


def test_scheduled_requests_are_accepted_by_the_verifier(
    terraform: dict[str, Any], tmp_path: Path
) -> None:
    job = resource(terraform, "google_cloud_scheduler_job", "verify")
    target = block(job, "pubsub_target")
    assert 'google_pubsub_topic.topic["verification_requests"]' in target["topic_name"]
    found = re.fullmatch(r"\$\{base64encode\((jsonencode\(.*\))\)\}", target["data"], re.S)
    assert found, target["data"]
    payload = console(
        found.group(1),
        tmp_path,
        {"schemas_dir": str(SCHEMAS), "project_id": "p", "dataset_id": "d"},
    )
    request = parse_verification_request(payload)
    assert request.system_id is None
    # "today" is resolved where the schedule lives.
    assert job["time_zone"] == "${var.schedule_time_zone}"
    assert "VERIFY_TIMEZONE = var.schedule_time_zone" in terraform["locals"]["verifier_environment"]
    assert default(terraform, "schedule_time_zone") == "America/New_York"
    assert len(default(terraform, "verification_schedules")) == 3


def _members(terraform: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for rtype, named in terraform["resource"].items():
        if rtype.endswith("_iam_member"):
            for name, body in named.items():
                yield rtype, name, body


def test_one_service_account_per_function_and_no_broad_roles(terraform: dict[str, Any]) -> None:
    accounts = resource(terraform, "google_service_account", "function")
    assert accounts["for_each"] == "${local.function_names}"
    broad = {
        "roles/owner",
        "roles/editor",
        "roles/viewer",
        "roles/bigquery.admin",
        "roles/storage.admin",
    }
    project_roles = set()
    for rtype, name, body in _members(terraform):
        assert body["role"] not in broad, (rtype, name)
        if rtype == "google_project_iam_member":
            project_roles.add(body["role"])
    assert project_roles == {
        "roles/bigquery.jobUser",
        "roles/eventarc.eventReceiver",
        "roles/pubsub.publisher",  # the Cloud Storage service agent, for the bucket's events
    }
    gcs_agent = resource(terraform, "google_project_iam_member", "gcs_agent_publishes_events")
    assert "google_storage_project_service_account" in gcs_agent["member"]
