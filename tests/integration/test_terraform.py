"""infra/terraform held against the code, offline (no provider, no cloud).

terraform fmt checks the layout; python-hcl2 parses every .tf file, and the functions, topics,
environment variables, tables and schedule are compared with functions/manifest.json, the
Settings defaults, the variables the code declares (attribution.config and
attribution.verification.settings) and schemas/bigquery. The provider-free modules (the one
that reads schemas/bigquery, the one that shapes access.json into grants) and the variable
validations are evaluated by ``terraform console`` itself; without terraform those tests
skip, except under CI=true.

IAM: every binding of the root module is rendered, one per resource instance, by evaluating
its HCL here (an evaluator over python-hcl2's parse tree, with the provider's computed
attributes made up as Google forms them), under the defaults and with every option on. The
set of grants must equal what access.json, the written table of what each function needs,
implies: nothing beyond it, every need met. access.json is in turn held against the code:
each table it says a function writes or reads is one the function's modules write or query.

Providers: .terraform.lock.hcl locks every provider of required_providers at a version its
constraints admit, spelled as Terraform spells them (a small constraint checker here, held
against terraform's own reading), and ``terraform init`` run offline against an empty mirror
reuses those versions. backend.tf.example is an empty gcs backend that ``init`` accepts
``bucket`` and ``prefix`` for (it stops at credentials the test makes sure are missing).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import hcl2
import pytest
import sqlglot
from lark import Token, Tree
from sqlglot import exp
from terraform_hcl import clean, read_module

from attribution.bootstrap import _make_lineage
from attribution.config import DeclaredSettings, Settings, load_settings
from attribution.devtools.import_graph import PackageSource, function_graph, used_wiring_methods
from attribution.devtools.staging import package_root
from attribution.events import NOTIFICATION_PAYLOAD, OBJECT_FINALIZE
from attribution.function_manifest import function_specs
from attribution.lineage.emitter import OpenLineageEmitter
from attribution.objects import REPORTS_PREFIX, report_object_name
from attribution.verification.request import parse_verification_request
from attribution.verification.settings import ThresholdVariables, VerifierSettings

REPO = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO / "infra" / "terraform"
SCHEMA_MODULE = TERRAFORM_DIR / "modules" / "bigquery_schema"
ACCESS_MODULE = TERRAFORM_DIR / "modules" / "access"
SCHEMAS = REPO / "schemas" / "bigquery"
FUNCTION_RESOURCES = {
    "model_upload": "model_upload",
    "prediction_batch": "prediction_batch",
    "verifier": "verifier",
    "post_run_verifier": "post_run_verifier",
}
ENV_NAME = re.compile(r"\b([A-Z][A-Z0-9_]*)\s*=")


# --------------------------------------------------------------------------- parsing


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    return read_module(TERRAFORM_DIR)


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


def console(
    expression: str, tmp_path: Path, variables: dict[str, str], module: Path = SCHEMA_MODULE
) -> Any:
    """Evaluate ``jsonencode(expression)`` in a provider-free module (the schema module)."""
    args = [terraform_binary(), "console"]
    for key, value in variables.items():
        args += ["-var", f"{key}={value}"]
    result = subprocess.run(
        args,
        check=False,
        input=f"jsonencode({expression})\n",
        capture_output=True,
        text=True,
        cwd=module,
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
        assert f'function_source["{specs[key].folder}"]' in source["object"]
        service = block(function, "service_config")
        for setting in ("max_instance_count", "available_memory", "timeout_seconds"):
            assert setting in service, (key, setting)
        account = f'google_service_account.function["{specs[key].folder}"]'  # one per folder
        assert account in service["service_account_email"]
        assert account in trigger["service_account_email"]


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
    assert default(terraform, "model_uploads_topic") == settings.model_uploads_topic
    assert default(terraform, "prediction_batches_topic") == settings.prediction_batches_topic
    assert default(terraform, "model_cards_topic") == settings.model_cards_topic
    assert default(terraform, "verification_requests_topic") == settings.verification_requests_topic
    assert default(terraform, "batch_completions_topic") == settings.batch_completions_topic
    environment = terraform["locals"]["common_environment"]
    for key, spec in function_specs().items():
        function = resource(terraform, "google_cloudfunctions2_function", FUNCTION_RESOURCES[key])
        trigger = block(function, "event_trigger")
        if spec.topic_env:
            topic = f'google_pubsub_topic.topic["{_topic_key(spec.topic_env)}"]'
            assert topic in trigger["pubsub_topic"]
            assert topic in environment[spec.topic_env]  # the code publishes where it listens
        if spec.notifying_bucket_env:  # the bucket notifies the topic the function listens on
            notification = resource(terraform, "google_storage_notification", "model_uploads")
            assert topic in notification["topic"]
            assert environment[spec.notifying_bucket_env] == notification["bucket"]
    assert environment["ATTRIBUTION_BACKEND"] == "gcp"


def test_every_topic_has_a_dead_letter_topic_and_a_subscription_holding_it(
    terraform: dict[str, Any],
) -> None:
    topics = terraform["locals"]["topics"]
    assert set(topics) == {
        _topic_key(n)
        for n in (
            "MODEL_UPLOADS_TOPIC",
            "PREDICTION_BATCHES_TOPIC",
            "MODEL_CARDS_TOPIC",
            "VERIFICATION_REQUESTS_TOPIC",
            "BATCH_COMPLETIONS_TOPIC",
        )
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


# Every declaration of environment variables; a function can read those of a declaration
# whose module is in its import graph.
DECLARATIONS: tuple[type[DeclaredSettings], ...] = (Settings, VerifierSettings, ThresholdVariables)


def declared_for(function: str) -> set[str]:
    spec = function_specs()[function]
    graph = function_graph(spec.source, PackageSource.at(package_root()))
    return {
        name
        for model in DECLARATIONS
        if model.__module__ in graph.modules
        for name in model.variables()
    }


# The OpenLineage client reads its transport's settings itself (attribution.lineage.client):
# a function whose graph has the client reads these too.
LINEAGE_CLIENT_MODULE = "attribution.lineage.client"
LINEAGE_CLIENT_VARIABLES = "OPENLINEAGE__TRANSPORT__"


def read_by_the_lineage_client(function: str, name: str) -> bool:
    spec = function_specs()[function]
    graph = function_graph(spec.source, PackageSource.at(package_root()))
    return name.startswith(LINEAGE_CLIENT_VARIABLES) and LINEAGE_CLIENT_MODULE in graph.modules


def test_the_declarations_are_real_and_follow_the_import_graph() -> None:
    verifier = declared_for("verifier")
    for name in (
        "MODELS_BUCKET",
        "MAX_MODEL_BYTES",
        "SMTP_HOST",
        "SMTP_PASSWORD",
        "VERIFY_TIMEZONE",
        "VERIFY_ATTRIBUTION_FAIL_PCT",
        "GOOGLE_CLOUD_PROJECT",
    ):
        assert name in verifier, name
    upload = declared_for("model_upload")
    assert "MAX_MODEL_BYTES" in upload
    assert not {n for n in upload if n.startswith("VERIFY_")}  # the verifier's own


@pytest.mark.parametrize(
    ("resource_name", "function"),
    [*FUNCTION_RESOURCES.items(), ("verifier_http", "verifier")],
)
def test_every_environment_variable_terraform_sets_is_declared_for_that_function(
    terraform: dict[str, Any], resource_name: str, function: str
) -> None:
    names = environment_set_by_terraform(terraform, resource_name)
    assert {"ATTRIBUTION_BACKEND", "GCP_PROJECT", "BQ_DATASET", "MODELS_BUCKET"} <= names
    unread = sorted(
        n for n in names - declared_for(function) if not read_by_the_lineage_client(function, n)
    )
    assert not unread, f"{resource_name} sets variables its code never reads: {unread}"


def test_only_the_functions_that_alert_get_the_alert_secrets(terraform: dict[str, Any]) -> None:
    """The verifier (verdicts) and the model upload (rejected uploads, incomplete cards)
    alert; the prediction batch does not, and cannot read the secrets."""
    secrets = {"SLACK_WEBHOOK_URL", "SMTP_PASSWORD"}
    for name in ("verifier", "model_upload"):
        assert secrets <= environment_set_by_terraform(terraform, name)
        binding = resource(
            terraform, "google_secret_manager_secret_iam_member", f"{name}_reads_alert_secret"
        )
        assert binding["role"] == "roles/secretmanager.secretAccessor"
        assert f'google_service_account.function["{name}"]' in binding["member"]
    assert not secrets & environment_set_by_terraform(terraform, "prediction_batch")


def test_verifier_settings_take_exactly_the_names_the_verifier_declares(
    terraform: dict[str, Any],
) -> None:
    """verifier_settings' validation admits every variable the verifier's own declarations
    (its settings, its thresholds) name, and none of the others'."""
    validation = terraform["variable"]["verifier_settings"]["validation"][0]["condition"]
    (pattern,) = re.findall(r'regex\("([^"]+)"', validation)
    own = set(VerifierSettings.variables()) | set(ThresholdVariables.variables())
    assert own <= declared_for("verifier")
    for name in own:
        assert re.search(pattern, name), name
    for name in Settings.variables():
        assert not re.search(pattern, name), name


# --------------------------------------------------------------------------- BigQuery


def _schema_files() -> set[str]:
    return {p.stem for p in SCHEMAS.glob("*.json")} - {"tables"}


def _views() -> dict[str, set[str]]:
    """View => the tables its query reads."""
    views = {}
    for path in (SCHEMAS / "views").glob("*.sql"):
        tree = sqlglot.parse_one(path.read_text(), read="bigquery")
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        views[path.stem] = {t.name for t in tree.find_all(exp.Table)} - ctes - {path.stem}
    return views


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


# --------------------------------------------------------------------------- HCL, evaluated
#
# Terraform itself is not needed to know what the IAM resources grant: their expressions are
# evaluated here, over python-hcl2's parse tree, as Terraform would (for the part of the
# language this folder uses; anything else fails loudly). Provider-computed attributes (a
# service account's email, a topic's id) are made up the way Google forms them.


class HclError(Exception):
    """What Terraform would refuse too: a regex without a match, a missing key..."""


class UnresolvedError(Exception):
    """A reference this evaluator is given no value for."""


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    attributes: dict[str, Tree]
    blocks: list[Block]


def _parts(node: Tree) -> list[Any]:
    """Children, without line breaks and comments."""
    return [
        c for c in node.children if not (isinstance(c, Tree) and c.data == "new_line_or_comment")
    ]


def _subtrees(node: Tree) -> list[Tree]:
    return [c for c in _parts(node) if isinstance(c, Tree)]


def _label(node: Any) -> str:
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(p.children[0]) for p in _subtrees(node))
    return _label(node.children[0])


def _body(body: Tree) -> tuple[dict[str, Tree], list[Block]]:
    attributes: dict[str, Tree] = {}
    blocks: list[Block] = []
    for item in _subtrees(body):
        if item.data == "attribute":
            name, _, expression = _parts(item)
            attributes[_label(name)] = expression
        elif item.data == "block":
            head = [c for c in _parts(item) if not (isinstance(c, Token) and c.type == "LBRACE")]
            inner = next(c for c in head if isinstance(c, Tree) and c.data == "body")
            labels = tuple(_label(c) for c in head[: head.index(inner)])
            nested_attributes, nested_blocks = _body(inner)
            blocks.append(Block(labels[0], labels[1:], nested_attributes, nested_blocks))
    return attributes, blocks


def parse_blocks(path: Path) -> list[Block]:
    tree = hcl2.parses_to_tree(path.read_text())
    return _body(_subtrees(tree)[0])[1]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    text = text.replace("$${", "${").replace("%%{", "%{")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def _for_items(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, Mapping):
        return [(k, collection[k]) for k in sorted(collection)]
    if isinstance(collection, frozenset):
        return [(v, v) for v in sorted(collection)]
    if isinstance(collection, list):
        return list(enumerate(collection))
    raise HclError(f"cannot iterate over {collection!r}")


def _regex(pattern: str, text: str) -> Any:
    found = re.search(pattern, text)
    if found is None:
        raise HclError(f"pattern {pattern!r} does not match {text!r}")
    if found.groupdict():
        return found.groupdict()
    return list(found.groups()) if found.groups() else found.group(0)


def _replace(text: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return re.sub(old[1:-1], re.sub(r"\$(\d)", r"\\\1", new), text)
    return text.replace(old, new)


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise HclError("coalesce: no non-null, non-empty argument")


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _merge(*maps: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mapping in maps:
        merged.update(mapping)
    return merged


FUNCTIONS: dict[str, Any] = {
    "alltrue": all,
    "anytrue": any,
    "coalesce": _coalesce,
    "concat": lambda *ls: [x for lst in ls for x in lst],
    "contains": lambda xs, x: x in xs,
    "file": lambda path: Path(path).read_text(),
    "flatten": _flatten,
    "join": lambda sep, xs: sep.join(xs),
    "jsondecode": json.loads,
    "keys": sorted,
    "length": len,
    "lower": str.lower,
    "merge": _merge,
    "regex": _regex,
    "replace": _replace,
    "startswith": str.startswith,
    "strcontains": lambda s, sub: sub in s,
    "tolist": list,
    "toset": frozenset,
    "tostring": str,
    "trimspace": str.strip,
    "upper": str.upper,
    "values": lambda m: [m[k] for k in sorted(m)],
}
_BINARY: dict[str, Any] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
    "&&": lambda a, b: bool(a) and bool(b),
    "||": lambda a, b: bool(a) or bool(b),
}


class Lazy(Mapping[str, Any]):
    """A mapping whose values are computed when first read (locals, resource attributes)."""

    def __init__(self, what: str, names: Iterator[str] | list[str], compute: Any) -> None:
        self.what = what
        self.names = list(names)
        self.compute = compute
        self.cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.cache:
            self.cache[name] = self.compute(name)
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"<{self.what}: {', '.join(self.names)}>"


def evaluate(node: Any, scope: Mapping[str, Any]) -> Any:
    """The value of an expression tree, names looked up in ``scope``."""
    kind = node.data
    parts = _parts(node)
    trees = _subtrees(node)
    if kind in ("expr_term", "interpolation"):
        return evaluate(trees[0], scope)
    if kind == "int_lit":
        return int(parts[0])
    if kind == "float_lit":
        return float(parts[0])
    if kind == "literal_value":
        return {"true": True, "false": False, "null": None}[str(parts[0])]
    if kind == "string":
        return "".join(
            _unescape(str(p.children[0]))
            if isinstance(p.children[0], Token)
            else _text(evaluate(p.children[0], scope))
            for p in trees
        )
    if kind == "tuple":
        return [evaluate(t, scope) for t in trees]
    if kind == "object":
        return {_key(e, scope): evaluate(_subtrees(e)[1], scope) for e in trees}
    if kind == "identifier":
        name = str(parts[0])
        if name not in scope:
            raise UnresolvedError(name)
        return scope[name]
    if kind == "get_attr_expr_term":
        value = evaluate(trees[0], scope)
        name = _label(_subtrees(trees[1])[0])
        return _index(value, name)
    if kind == "index_expr_term":
        value, index = evaluate(trees[0], scope), trees[1]
        if index.data == "braces_index":
            return _index(value, evaluate(_subtrees(index)[0], scope))
        return _index(value, int(str(_parts(index)[1])))
    if kind == "function_call":
        return _call(node, scope)
    if kind == "unary_op":
        operator, operand = str(parts[0]), evaluate(trees[0], scope)
        return (not operand) if operator == "!" else -operand
    if kind == "binary_op":
        left, term = trees
        operator, right = _parts(term)
        return _BINARY[str(_parts(operator)[0])](evaluate(left, scope), evaluate(right, scope))
    if kind == "conditional":
        condition, when_true, when_false = trees
        return evaluate(when_true if evaluate(condition, scope) else when_false, scope)
    if kind in ("for_tuple_expr", "for_object_expr"):
        return _for(node, scope)
    raise NotImplementedError(f"HCL {kind} is not evaluated here: {node}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str | int | float):
        raise HclError(f"cannot interpolate {value!r}")
    return str(value)


def _key(element: Tree, scope: Mapping[str, Any]) -> str:
    key = _subtrees(_subtrees(element)[0])[0]
    term = _subtrees(key)[0] if key.data == "expr_term" else key
    if term.data == "identifier":
        return str(_parts(term)[0])
    return str(evaluate(key, scope))


def _index(value: Any, key: Any) -> Any:
    try:
        return value[key]
    except (KeyError, IndexError, TypeError):
        raise HclError(f"no {key!r} in {value!r}") from None


def _call(node: Tree, scope: Mapping[str, Any]) -> Any:
    trees = _subtrees(node)
    name = _label(trees[0])
    arguments = _subtrees(trees[1]) if len(trees) > 1 else []
    expand = len(trees) > 1 and any(
        isinstance(c, Token) and c.type == "ELLIPSIS" for c in trees[1].children
    )
    if name == "can":
        try:
            evaluate(arguments[0], scope)
        except HclError:
            return False
        return True
    if name == "try":
        for argument in arguments:
            try:
                return evaluate(argument, scope)
            except HclError:
                continue
        raise HclError("try: no argument could be evaluated")
    if name not in FUNCTIONS:
        raise NotImplementedError(f"HCL function {name}() is not evaluated here")
    values = [evaluate(a, scope) for a in arguments]
    if expand:
        values = values[:-1] + list(values[-1])
    try:
        return FUNCTIONS[name](*values)
    except (TypeError, ValueError, KeyError) as exc:
        raise HclError(f"{name}: {exc}") from None


def _for(node: Tree, scope: Mapping[str, Any]) -> Any:
    trees = _subtrees(node)
    intro = _subtrees(trees[0])
    names = [_label(t) for t in intro if t.data == "identifier"]
    collection = evaluate(intro[-1], scope)
    condition = trees[-1] if trees[-1].data == "for_cond" else None
    grouped = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children)
    body = trees[1 : len(trees) - (1 if condition is not None else 0)]
    results: list[tuple[Any, Any]] = []
    for key, value in _for_items(collection):
        bound = {names[0]: value} if len(names) == 1 else {names[0]: key, names[1]: value}
        inner = ChainMap(bound, dict(scope))
        if condition is not None and not evaluate(_subtrees(condition)[0], inner):
            continue
        results.append(
            (evaluate(body[0], inner), evaluate(body[1], inner))
            if node.data == "for_object_expr"
            else (None, evaluate(body[0], inner))
        )
    if node.data == "for_tuple_expr":
        return [value for _, value in results]
    if grouped:
        groups: dict[str, list[Any]] = {}
        for key, value in results:
            groups.setdefault(key, []).append(value)
        return groups
    built: dict[str, Any] = {}
    for key, value in results:
        if key in built:
            raise HclError(f"duplicate key {key!r} in a for expression")
        built[key] = value
    return built


# --------------------------------------------------------------------------- the root module


PROJECT_NUMBER = "123456789012"


def _computed(rtype: str, attrs: Mapping[str, Any], project: str) -> dict[str, Any]:
    """Attributes the provider fills in, formed as Google forms them."""
    if rtype == "google_service_account":
        email = f"{attrs['account_id']}@{project}.iam.gserviceaccount.com"
        return {"email": email, "member": f"serviceAccount:{email}"}
    if rtype == "google_pubsub_topic":
        return {"id": f"projects/{project}/topics/{attrs['name']}"}
    if rtype == "google_secret_manager_secret":
        return {"id": f"projects/{project}/secrets/{attrs['secret_id']}"}
    if rtype == "google_project_iam_custom_role":
        name = f"projects/{project}/roles/{attrs['role_id']}"
        return {"id": name, "name": name}
    return {}


DATA = {
    "google_project": {"this": {"number": PROJECT_NUMBER}},
    "google_storage_project_service_account": {
        "gcs": {
            "email_address": f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
        }
    },
}


def module_blocks(directory: Path) -> list[Block]:
    return [b for p in sorted(directory.glob("*.tf")) for b in parse_blocks(p)]


def variable_values(blocks: list[Block], given: Mapping[str, Any]) -> dict[str, Any]:
    """The module's variables: the given values, else the defaults."""
    declared = {b.labels[0]: b for b in blocks if b.type == "variable"}
    unknown = set(given) - set(declared)
    assert not unknown, f"no such variables: {unknown}"
    return {
        name: given[name] if name in given else evaluate(b.attributes["default"], {})
        for name, b in declared.items()
        if name in given or "default" in b.attributes
    }


def local_values(blocks: list[Block], scope: Mapping[str, Any]) -> Lazy:
    trees = {n: t for b in blocks if b.type == "locals" for n, t in b.attributes.items()}
    return Lazy("local", trees, lambda n: evaluate(trees[n], scope))


def module_outputs(directory: Path, inputs: Mapping[str, Any]) -> Lazy:
    """A provider-free child module's outputs, for these inputs."""
    blocks = module_blocks(directory)
    scope: dict[str, Any] = {
        "var": variable_values(blocks, inputs),
        "path": {"module": str(directory)},
    }
    scope["local"] = local_values(blocks, scope)
    outputs = {b.labels[0]: b.attributes["value"] for b in blocks if b.type == "output"}
    return Lazy("output", outputs, lambda n: evaluate(outputs[n], scope))


class RootModule:
    """The root module's blocks, evaluated for one set of variable values."""

    # modules/bigquery_schema reads the schema folder with fileset(): terraform console
    # evaluates it (test_every_schema_file_becomes_a_table_with_its_layout); here, its keys.
    STUBS: ClassVar[dict[str, Any]] = {
        "bigquery_schema": {
            "tables": {t: {} for t in _schema_files()},
            "views": {v: "" for v in _views()},
        }
    }

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.blocks = module_blocks(TERRAFORM_DIR)
        self.variables = variable_values(self.blocks, variables)
        self.resources = {
            (b.labels[0], b.labels[1]): b for b in self.blocks if b.type == "resource"
        }
        calls = {b.labels[0]: b for b in self.blocks if b.type == "module"}
        self.scope: dict[str, Any] = {
            "var": self.variables,
            "path": {"module": str(TERRAFORM_DIR), "root": str(TERRAFORM_DIR)},
            "data": DATA,
            "module": Lazy("module", calls, lambda n: self.call(calls[n])),
        }
        self.scope["local"] = local_values(self.blocks, self.scope)
        for rtype in {rtype for rtype, _ in self.resources}:
            names = [name for t, name in self.resources if t == rtype]
            self.scope[rtype] = Lazy(rtype, names, lambda n, t=rtype: self.value(t, n))

    def call(self, call: Block) -> Any:
        name = call.labels[0]
        if name in self.STUBS:
            return self.STUBS[name]
        source = evaluate(call.attributes["source"], {})
        inputs = {
            k: evaluate(t, self.scope)
            for k, t in call.attributes.items()
            if k not in ("source", "depends_on", "providers")
        }
        return module_outputs(TERRAFORM_DIR / source, inputs)

    def instances(self, rtype: str, name: str) -> dict[Any, dict[str, Any]]:
        """Each instance's ``each``/``count`` scope, by its key (None when single)."""
        block = self.resources[(rtype, name)]
        if "for_each" in block.attributes:
            items = _for_items(evaluate(block.attributes["for_each"], self.scope))
            return {k: {"each": {"key": k, "value": v}} for k, v in items}
        if "count" in block.attributes:
            count = evaluate(block.attributes["count"], self.scope)
            return {i: {"count": {"index": i}} for i in range(count)}
        return {None: {}}

    def attributes(self, block: Block, env: Mapping[str, Any]) -> Lazy:
        scope = ChainMap(dict(env), self.scope)
        computed: dict[str, Any] = {}

        def attribute(attr: str) -> Any:
            if attr in block.attributes:
                return evaluate(block.attributes[attr], scope)
            if not computed:
                configured = Lazy("attrs", block.attributes, attribute)
                computed.update(_computed(block.type, configured, self.variables["project_id"]))
            if attr in computed:
                return computed[attr]
            raise UnresolvedError(f"{block.type}: {attr}")

        return Lazy("attrs", block.attributes, attribute)

    def value(self, rtype: str, name: str) -> Any:
        """What ``rtype.name`` refers to: an instance, or a map or list of them."""
        block = self.resources[(rtype, name)]
        resource = Block(rtype, block.labels, block.attributes, block.blocks)
        instances = {
            k: self.attributes(resource, env) for k, env in self.instances(rtype, name).items()
        }
        if "for_each" in block.attributes:
            return instances
        if "count" in block.attributes:
            return [instances[i] for i in range(len(instances))]
        return instances[None]


class Grant(NamedTuple):
    member: str
    role: str
    on: str  # "<kind> <resource>", e.g. "table ds.model_cards"
    condition: str | None = None


IAM_TARGETS = {
    "google_project_iam_member": lambda a: f"project {a['project']}",
    "google_bigquery_dataset_iam_member": lambda a: f"dataset {a['dataset_id']}",
    "google_bigquery_table_iam_member": lambda a: f"table {a['dataset_id']}.{a['table_id']}",
    "google_storage_bucket_iam_member": lambda a: f"bucket {a['bucket']}",
    "google_pubsub_topic_iam_member": lambda a: f"topic {a['topic']}",
    "google_secret_manager_secret_iam_member": lambda a: f"secret {a['secret_id'].split('/')[-1]}",
    "google_cloud_run_v2_service_iam_member": lambda a: f"service {a['name']}",
}


def rendered_grants(module: RootModule) -> set[Grant]:
    """Every IAM binding the root module makes, one per resource instance."""
    grants: set[Grant] = set()
    for (rtype, name), block in module.resources.items():
        if not re.search(r"_iam_(member|binding|policy)$", rtype):
            continue
        assert rtype in IAM_TARGETS, f"{rtype}.{name}: teach rendered_grants this kind of binding"
        for env in module.instances(rtype, name).values():
            attrs = module.attributes(block, env)
            condition = None
            for nested in block.blocks:
                if nested.type == "condition":
                    condition = module.attributes(nested, env)["expression"]
            grants.add(Grant(attrs["member"], attrs["role"], IAM_TARGETS[rtype](attrs), condition))
    return grants


def _role(module: RootModule, name: str) -> str:
    role: str = module.value("google_project_iam_custom_role", name)["name"]
    return role


# --------------------------------------------------------------------------- access.json


ACCESS = json.loads((TERRAFORM_DIR / "access.json").read_text())
FUNCTIONS_ACCESS: dict[str, Any] = ACCESS["functions"]
STORAGE_ROLES = {"read": "roles/storage.objectViewer", "write": "roles/storage.objectUser"}
# Folders the code names objects under, not settings: access.json's prefixes besides variables.
CODE_PREFIXES = {"reports_prefix": REPORTS_PREFIX}
LINEAGE = ACCESS["data_lineage"]
PUBLIC = ("allUsers", "allAuthenticatedUsers")


def staging_condition(project: str, dataset: str, tables: list[str]) -> str:
    return " || ".join(
        [f'resource.name == "projects/{project}/datasets/{dataset}"']
        + [
            f'resource.name.startsWith("projects/{project}/datasets/{dataset}/tables/staging_{t}_")'
            for t in tables
        ]
    )


def cel_allows(condition: str, resource_name: str) -> bool:
    """The IAM condition (clauses of ``resource.name`` joined by ||) for one resource name."""
    allowed = False
    for clause in condition.split(" || "):
        equal = re.fullmatch(r'resource\.name == "([^"]*)"', clause)
        prefix = re.fullmatch(r'resource\.name\.startsWith\("([^"]*)"\)', clause)
        if equal:
            allowed |= resource_name == equal.group(1)
        else:
            assert prefix, f"unexpected clause {clause!r}"
            allowed |= resource_name.startswith(prefix.group(1))
    return allowed


def expected_grants(module: RootModule) -> set[Grant]:
    """What access.json says each principal needs, for the module's variable values."""
    v = module.variables
    project, dataset = v["project_id"], v["dataset_id"]
    member = {
        f: module.value("google_service_account", "function")[f]["member"] for f in FUNCTIONS_ACCESS
    }
    models_bucket = v["models_bucket"] or f"{project}-models"
    buckets = {
        "models": [models_bucket],
        "cards": [v["cards_bucket"] or models_bucket],
        "reports": [reports_bucket(module)],
        "batch_input_buckets": list(v["batch_input_buckets"]),
    }
    prefixes = v | CODE_PREFIXES
    secrets = module.value("google_secret_manager_secret", "alert")
    writer, staging = _role(module, "bigquery_row_writer"), _role(module, "bigquery_staging")
    name_of = {
        f: module.value("google_cloudfunctions2_function", f)["name"] for f in FUNCTIONS_ACCESS
    }
    grants: set[Grant] = set()
    for f, need in FUNCTIONS_ACCESS.items():
        writes, reads = sorted(need["bigquery"]["writes"]), sorted(need["bigquery"]["reads"])
        grants |= {Grant(member[f], writer, f"table {dataset}.{t}") for t in writes}
        grants |= {
            Grant(member[f], "roles/bigquery.dataViewer", f"table {dataset}.{t}")
            for t in reads
            if t not in writes
        }
        if writes:
            condition = staging_condition(project, dataset, writes)
            grants.add(Grant(member[f], staging, f"project {project}", condition))
        if writes or reads:
            grants.add(Grant(member[f], "roles/bigquery.jobUser", f"project {project}"))
        for store in need["storage"]:
            prefix = prefixes[store["prefix"]] if store["prefix"] else None
            for bucket in buckets[store["bucket"]]:
                condition = (
                    f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")'
                    if prefix
                    else None
                )
                grants.add(
                    Grant(member[f], STORAGE_ROLES[store["access"]], f"bucket {bucket}", condition)
                )
        grants |= {
            Grant(member[f], "roles/pubsub.publisher", f"topic {v[f'{topic}_topic']}")
            for topic in need["publishes"]
        }
        grants |= {
            Grant(
                member[f], "roles/secretmanager.secretAccessor", f"secret {secrets[s]['secret_id']}"
            )
            for s in need["secrets"]
        }
        if need["lineage"] and v[LINEAGE["enabled_by"]]:
            grants.add(Grant(member[f], LINEAGE["role"], f"project {project}"))
        grants.add(Grant(member[f], "roles/run.invoker", f"service {name_of[f]}"))
    if v["verifier_http_enabled"]:
        http = module.value("google_cloudfunctions2_function", "verifier_http")[0]["name"]
        grants |= {
            Grant(m, "roles/run.invoker", f"service {http}") for m in v["verifier_http_invokers"]
        }
    post_run = module.value("google_cloudfunctions2_function", "post_run_verifier")["name"]
    runs_as = member[ACCESS["post_run_verifier"]["runs_as"]]
    grants.add(Grant(runs_as, "roles/run.invoker", f"service {post_run}"))
    agents = ACCESS["service_agents"]
    gcs = DATA["google_storage_project_service_account"]["gcs"]["email_address"]
    uploads = v[f"{agents['storage']['publishes']}_topic"]
    grants.add(Grant(f"serviceAccount:{gcs}", "roles/pubsub.publisher", f"topic {uploads}"))
    assert agents["pubsub"]["publishes"] == "dead_letter_topics"
    pubsub = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
    for topic in module.scope["local"]["topics"].values():
        grants.add(Grant(pubsub, "roles/pubsub.publisher", f"topic {topic}-dead-letter"))
    return grants


def rendered_environment(module: RootModule, name: str) -> dict[str, str]:
    """The environment_variables of a function resource (of its one instance), evaluated."""
    function = module.resources[("google_cloudfunctions2_function", name)]
    (service,) = [b for b in function.blocks if b.type == "service_config"]
    (env,) = module.instances("google_cloudfunctions2_function", name).values()
    environment: dict[str, str] = module.attributes(service, env)["environment_variables"]
    return environment


VERIFIER_RESOURCES = ("verifier", "post_run_verifier", "verifier_http")


def deployed_verifiers(module: RootModule) -> list[str]:
    """The verifier's function resources deployed under the module's variables."""
    return [r for r in VERIFIER_RESOURCES if module.instances("google_cloudfunctions2_function", r)]


def reports_bucket(module: RootModule) -> str:
    """Where the verifier publishes its reports: REPORTS_BUCKET as the code reads each
    verifier's environment."""
    (bucket,) = {
        load_settings(rendered_environment(module, name)).reports_bucket
        for name in deployed_verifiers(module)
    }
    return bucket


SCENARIOS = {
    "defaults": {"project_id": "proj-x"},
    "everything on": {
        "project_id": "proj-y",
        "name_prefix": "att-",
        "dataset_id": "attribution_ds",
        "models_bucket": "models-b",
        "models_prefix": "incoming/",
        "cards_bucket": "cards-b",
        "cards_prefix": "card-json/",
        "batch_inputs_prefix": "kept/",
        "batch_input_buckets": ["rows-a", "rows-b"],
        "verifier_http_enabled": True,
        "verifier_http_invokers": ["group:oncall@example.com", "user:ops@example.com"],
        "model_cards_topic": "cards-topic",
        "bq_location": "EU",
        "data_lineage_enabled": True,
    },
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def root_module(request: pytest.FixtureRequest) -> RootModule:
    return RootModule(SCENARIOS[request.param])


def test_the_access_module_shapes_access_json_into_grants(tmp_path: Path) -> None:
    """modules/access, evaluated by terraform console and by this file's evaluator alike."""
    variables = {
        "access_file": str(TERRAFORM_DIR / "access.json"),
        "project_id": "proj-x",
        "dataset_id": "ds_y",
    }
    ours = module_outputs(ACCESS_MODULE, variables)
    theirs = console(
        "{ table_writes = local.table_writes, table_reads = local.table_reads,"
        " staging_conditions = local.staging_conditions }",
        tmp_path,
        variables,
        ACCESS_MODULE,
    )
    assert theirs == {name: ours[name] for name in theirs}
    writes = {f: sorted(n["bigquery"]["writes"]) for f, n in FUNCTIONS_ACCESS.items()}
    reads = {f: sorted(n["bigquery"]["reads"]) for f, n in FUNCTIONS_ACCESS.items()}
    assert theirs["table_writes"] == {
        f"{f}/{t}": {"function": f, "table": t} for f, ts in writes.items() for t in ts
    }
    assert theirs["table_reads"] == {
        f"{f}/{t}": {"function": f, "table": t}
        for f, ts in reads.items()
        for t in ts
        if t not in writes[f]
    }
    assert theirs["staging_conditions"] == {
        f: staging_condition("proj-x", "ds_y", ts) for f, ts in writes.items() if ts
    }


# --------------------------------------------------------------------------- IAM vs access.json


def test_every_binding_is_a_need_in_access_json_and_every_need_is_granted(
    root_module: RootModule,
) -> None:
    granted, needed = rendered_grants(root_module), expected_grants(root_module)
    beyond = sorted(granted - needed)
    unmet = sorted(needed - granted)
    assert not beyond and not unmet, (
        "granted beyond access.json:\n  "
        + "\n  ".join(map(str, beyond))
        + "\nneeded but not granted:\n  "
        + "\n  ".join(map(str, unmet))
    )


def test_the_verifier_can_write_neither_cards_nor_predictions(root_module: RootModule) -> None:
    verifier = root_module.value("google_service_account", "function")["verifier"]["member"]
    project, dataset = root_module.variables["project_id"], root_module.variables["dataset_id"]
    read_only = {"roles/bigquery.dataViewer", "roles/bigquery.jobUser"}
    for table in ("model_cards", "player_prop_predictions"):
        assert table not in FUNCTIONS_ACCESS["verifier"]["bigquery"]["writes"]
        for grant in rendered_grants(root_module):
            if grant.member != verifier:
                continue
            if grant.on == f"table {dataset}.{table}":
                assert grant.role in read_only, grant
            if grant.condition and grant.on == f"project {project}":
                base = f"projects/{project}/datasets/{dataset}/tables"
                assert not cel_allows(grant.condition, f"{base}/{table}")
                assert not cel_allows(grant.condition, f"{base}/staging_{table}_0f3a")


def test_the_verifier_writes_its_reports_and_nothing_else_in_the_bucket(
    root_module: RootModule,
) -> None:
    """Its one write on Cloud Storage: objectUser on REPORTS_BUCKET (as the code reads every
    verifier's environment), under the folder report_object_name writes in; the bucket keeps
    every object private."""
    verifier = root_module.value("google_service_account", "function")["verifier"]["member"]
    bucket = reports_bucket(root_module)
    (write,) = [
        g
        for g in rendered_grants(root_module)
        if g.member == verifier and g.on.startswith("bucket ") and g.role != STORAGE_ROLES["read"]
    ]
    assert (write.role, write.on) == (STORAGE_ROLES["write"], f"bucket {bucket}")
    assert write.condition is not None
    objects = f"projects/_/buckets/{bucket}/objects/"
    report = report_object_name("points-v2", date(2026, 2, 3))
    assert cel_allows(write.condition, objects + report)
    v = root_module.variables
    for other in (
        f"{v['models_prefix']}points-v2.cbm",
        f"{v['cards_prefix']}points-v2.json",
        f"{v['batch_inputs_prefix']}b-1/input.jsonl",
        "2026-02-03.html",
        "reports.html",
        "reports-old/points-v2/2026-02-03.html",
    ):
        assert not cel_allows(write.condition, objects + other), other
    assert not cel_allows(write.condition, f"projects/_/buckets/{bucket}-x/objects/{report}")
    models = root_module.value("google_storage_bucket", "models")
    assert models["name"] == bucket
    assert models["uniform_bucket_level_access"] is True  # no object ACLs, public or not
    assert models["public_access_prevention"] == "enforced"


def test_data_lineage_is_sent_when_enabled_by_the_functions_that_run_jobs(
    root_module: RootModule,
) -> None:
    """data_lineage_enabled turns on the API, grants datalineage.producer on the project and
    gives the client its gcplineage transport, in the dataset's location: to the functions
    access.json names a lineage job for, and only to them."""
    v = root_module.variables
    enabled = v[LINEAGE["enabled_by"]]
    services = root_module.instances("google_project_service", "required")
    assert ("datalineage.googleapis.com" in services) is enabled
    senders = {f for f, need in FUNCTIONS_ACCESS.items() if need["lineage"]}
    assert senders == {"model_upload", "prediction_batch"}
    accounts = root_module.value("google_service_account", "function")
    assert {g for g in rendered_grants(root_module) if g.role == LINEAGE["role"]} == {
        Grant(accounts[f]["member"], LINEAGE["role"], f"project {v['project_id']}")
        for f in (senders if enabled else ())
    }
    transport = {
        f"{LINEAGE_CLIENT_VARIABLES}TYPE": "gcplineage",
        f"{LINEAGE_CLIENT_VARIABLES}PROJECT_ID": v["project_id"],
        f"{LINEAGE_CLIENT_VARIABLES}LOCATION": v["bq_location"].lower(),
    }
    for name in [*FUNCTION_RESOURCES.values(), *deployed_verifiers(root_module)]:
        environment = rendered_environment(root_module, name)
        given = {k: value for k, value in environment.items() if k.startswith("OPENLINEAGE")}
        assert given == (transport if enabled and name in senders else {}), name


def test_the_lineage_environment_gives_the_deployed_client_the_gcplineage_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a deployed prediction batch builds from its environment (bootstrap, on the gcp
    backend: the client's own configuration): Google's lineage client, in the project and
    location Terraform names."""
    module = RootModule(SCENARIOS["everything on"])
    environment = rendered_environment(module, "prediction_batch")
    monkeypatch.chdir(tmp_path)  # no openlineage.yml of the machine's
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        if name.startswith("OPENLINEAGE"):
            monkeypatch.setenv(name, value)
    emitter = _make_lineage(load_settings(environment))
    assert isinstance(emitter, OpenLineageEmitter)
    transport = emitter.client.transport
    assert transport.kind == "gcplineage"
    assert transport.parent == "projects/proj-y/locations/eu"  # type: ignore[attr-defined]


def test_access_json_names_a_lineage_job_for_each_function_that_runs_one() -> None:
    """A function runs lineage jobs when the App methods it uses build the emitter; each job
    access.json names is one its code names."""
    wiring = package_root() / "bootstrap.py"
    package = PackageSource.at(package_root())
    for f, need in FUNCTIONS_ACCESS.items():
        spec = function_specs()[f]
        assert bool(need["lineage"]) == ("lineage" in used_wiring_methods(spec.source, wiring)), f
        graph = function_graph(spec.source, package)
        constants = {
            n.value
            for m in graph.modules
            for n in ast.walk(ast.parse(Path(package.files[m]).read_text()))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        assert set(need["lineage"]) <= constants, (f, set(need["lineage"]) - constants)
        assert all(need["lineage"].values()), f


def test_staging_grants_reach_only_the_functions_own_staging_tables(
    root_module: RootModule,
) -> None:
    project, dataset = root_module.variables["project_id"], root_module.variables["dataset_id"]
    staging = _role(root_module, "bigquery_staging")
    accounts = root_module.value("google_service_account", "function")
    tables = _schema_files()
    for f, need in FUNCTIONS_ACCESS.items():
        (grant,) = [
            g
            for g in rendered_grants(root_module)
            if g.role == staging and g.member == accounts[f]["member"]
        ]
        base = f"projects/{project}/datasets/{dataset}"
        assert grant.condition is not None
        assert cel_allows(grant.condition, base)  # tables.create is checked on the dataset
        for table in tables:
            writes = table in need["bigquery"]["writes"]
            assert not cel_allows(grant.condition, f"{base}/tables/{table}"), (f, table)
            assert cel_allows(grant.condition, f"{base}/tables/staging_{table}_9e1c") == writes
        assert not cel_allows(grant.condition, f"projects/{project}/datasets/other_ds")
        assert not cel_allows(grant.condition, f"projects/{project}/datasets/other_ds/tables/x")


def test_custom_roles_write_rows_and_staging_tables_and_nothing_more() -> None:
    module = RootModule(SCENARIOS["defaults"])
    writer = module.value("google_project_iam_custom_role", "bigquery_row_writer")
    assert set(writer["permissions"]) == {
        "bigquery.tables.get",
        "bigquery.tables.getData",
        "bigquery.tables.updateData",
    }  # no tables.delete, tables.update or setIamPolicy: a writer cannot drop or alter a table
    staging = module.value("google_project_iam_custom_role", "bigquery_staging")
    assert set(staging["permissions"]) == set(writer["permissions"]) | {
        "bigquery.tables.create",
        "bigquery.tables.delete",
    }
    for role in (writer, staging):
        assert re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", role["role_id"]), role["role_id"]


def test_no_principal_is_public_and_no_role_is_broad(root_module: RootModule) -> None:
    broad = {
        "roles/owner",
        "roles/editor",
        "roles/viewer",
        "roles/bigquery.admin",
        "roles/bigquery.dataEditor",
        "roles/bigquery.dataOwner",
        "roles/storage.admin",
        "roles/pubsub.admin",
        "roles/pubsub.editor",
    }
    for grant in rendered_grants(root_module):
        assert grant.role not in broad, grant
        assert grant.member not in PUBLIC, grant
        assert not grant.on.startswith("dataset"), grant  # per table, never the whole dataset


def test_the_storage_agent_publishes_to_the_uploads_topic_only(root_module: RootModule) -> None:
    """Its one grant: pubsub.publisher on the model uploads topic, the topic the models
    bucket notifies and model_upload is triggered from; nobody publishes project-wide."""
    gcs = "serviceAccount:" + DATA["google_storage_project_service_account"]["gcs"]["email_address"]
    grants = rendered_grants(root_module)
    uploads = root_module.variables["model_uploads_topic"]
    assert [g for g in grants if g.member == gcs] == [
        Grant(gcs, "roles/pubsub.publisher", f"topic {uploads}")
    ]
    assert not [g for g in grants if g.on.startswith("project") and "pubsub" in g.role]
    notification = root_module.value("google_storage_notification", "model_uploads")
    topics = root_module.value("google_pubsub_topic", "topic")
    assert notification["topic"] == topics["model_uploads"]["id"]
    assert topics["model_uploads"]["name"] == uploads
    assert notification["bucket"] == root_module.value("google_storage_bucket", "models")["name"]
    assert notification["event_types"] == [OBJECT_FINALIZE]
    assert notification["payload_format"] == NOTIFICATION_PAYLOAD
    assert notification["object_name_prefix"] == root_module.variables["models_prefix"]


def test_one_service_account_per_function_invoked_by_its_own_trigger(
    root_module: RootModule,
) -> None:
    accounts = root_module.value("google_service_account", "function")
    folders = {spec.folder for spec in function_specs().values()}
    assert set(accounts) == folders == set(FUNCTIONS_ACCESS)
    assert len({a["member"] for a in accounts.values()}) == len(accounts)
    grants = rendered_grants(root_module)
    assert not [g for g in grants if g.role == "roles/eventarc.eventReceiver"]  # Pub/Sub only
    for key, account in accounts.items():
        service = root_module.value("google_cloudfunctions2_function", key)["name"]
        assert Grant(account["member"], "roles/run.invoker", f"service {service}") in grants


# --------------------------------------------------------------------------- access.json vs code


def test_access_json_names_real_tables_and_every_table_has_a_writer(
    terraform: dict[str, Any],
) -> None:
    tables, views = _schema_files(), _views()
    written: set[str] = set()
    for f, need in FUNCTIONS_ACCESS.items():
        writes, reads = set(need["bigquery"]["writes"]), set(need["bigquery"]["reads"])
        assert writes <= tables, (f, writes - tables)  # views are not written
        assert reads <= tables | set(views), (f, reads - tables - set(views))
        for view in reads & set(views):  # a plain view's reader needs the tables under it
            assert views[view] <= reads, (f, view, views[view] - reads)
        for store in need["storage"]:
            assert store["access"] in STORAGE_ROLES and store["why"], store
        assert set(need["publishes"]) <= set(terraform["locals"]["topics"]), need["publishes"]
        written |= writes
    elsewhere = set(ACCESS["written_elsewhere"])
    assert not written & elsewhere
    unowned = sorted(tables - written - elsewhere)
    assert not unowned, (
        f"tables no function writes: add them to access.json written_elsewhere: {unowned}"
    )


_WRITE_CALLS = re.compile(r"\.(insert_new_rows|insert_rows|update_rows)\(")
_TABLE_REFERENCE = re.compile(r"\b(?:FROM|JOIN)\s+`?(?:[\w-]+\.)*(\w+)`?", re.IGNORECASE)


def code_tables(function: str) -> tuple[set[str], set[str]]:
    """Tables the function's code can write and read: every table named in a module of its
    import graph that calls a write method, and every table its SQL (``sql/*.sql`` named by
    those modules, or inline) selects from, views widened to the tables under them. A bound
    from above: a module imported is not a method called."""
    spec = function_specs()[function]
    package = PackageSource.at(package_root())
    graph = function_graph(spec.source, package)
    sources = [Path(package.files[m]).read_text() for m in graph.modules]
    sources.append(Path(spec.source).read_text())
    known = _schema_files() | set(_views())
    queries = {p.stem: p.read_text() for p in (package_root() / "warehouse" / "sql").glob("*.sql")}
    writes: set[str] = set()
    reads: set[str] = set()
    for source in sources:
        constants = {
            n.value
            for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        if _WRITE_CALLS.search(source):
            writes |= constants & _schema_files()
        for text in [queries[c] for c in constants if c in queries] + list(constants):
            reads |= {t for t in _TABLE_REFERENCE.findall(text) if t in known}
    for view, under in _views().items():
        if view in reads:
            reads |= under
    return writes, reads


@pytest.mark.parametrize("function", sorted(FUNCTIONS_ACCESS))
def test_every_need_in_access_json_is_in_the_functions_code(function: str) -> None:
    writes, reads = code_tables(function)
    need = FUNCTIONS_ACCESS[function]["bigquery"]
    assert set(need["writes"]) <= writes, set(need["writes"]) - writes
    assert set(need["reads"]) <= reads, set(need["reads"]) - reads


# What a function's import graph names but it never calls, table by table: the graph is a
# bound from above (a module imported is not every method of it called).
IMPORTED_NOT_CALLED = {
    "writes": {
        "model_cards": "CardRegistry.register: all import the registry; model_upload calls it",
        "model_upload_rejects": "CardRegistry.record_reject, likewise",
        "model_deployments": "DeploymentLedger.promote: attribution promote's",
        "schema_migrations": "migrate: the embedded warehouse's",
    },
    "reads": {
        "model_upload_rejects": "CardRegistry.rejects: attribution cards'",
        "model_deployments": "bootstrap imports the ledger for all; the upload reads none",
        "schema_migrations": "migrate: the embedded warehouse's",
    },
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS_ACCESS))
def test_every_table_the_functions_code_names_is_in_access_json_or_explained(
    function: str,
) -> None:
    """A table new to a function's code (a new query, a new write) fails here until
    access.json has it: the grant follows from there."""
    writes, reads = code_tables(function)
    need = FUNCTIONS_ACCESS[function]["bigquery"]
    unexplained_writes = writes - set(need["writes"]) - set(IMPORTED_NOT_CALLED["writes"])
    unexplained_reads = reads - set(need["reads"]) - set(IMPORTED_NOT_CALLED["reads"])
    assert not unexplained_writes, f"{function} writes these: add them to access.json"
    assert not unexplained_reads, f"{function} reads these: add them to access.json"


# --------------------------------------------------------------------------- the HTTP verifier


def _validations(variable: str) -> list[dict[str, Tree]]:
    (declared,) = [
        b
        for p in sorted(TERRAFORM_DIR.glob("*.tf"))
        for b in parse_blocks(p)
        if b.type == "variable" and b.labels == (variable,)
    ]
    return [b.attributes for b in declared.blocks if b.type == "validation"]


def refused_by(variable: str, value: Any) -> list[str]:
    """The error messages of the variable's validations that refuse ``value``."""
    return [
        evaluate(v["error_message"], {})
        for v in _validations(variable)
        if not evaluate(v["condition"], {"var": {variable: value}})
    ]


def test_the_http_verifier_is_internal_unless_configured_otherwise(
    terraform: dict[str, Any],
) -> None:
    service = block(
        resource(terraform, "google_cloudfunctions2_function", "verifier_http"), "service_config"
    )
    runs_as = ACCESS["verifier_http"]["runs_as"]
    assert f'google_service_account.function["{runs_as}"]' in service["service_account_email"]
    assert service["ingress_settings"] == "${var.verifier_http_ingress}"
    assert default(terraform, "verifier_http_ingress") == "ALLOW_INTERNAL_ONLY"
    for name in FUNCTION_RESOURCES.values():
        function = resource(terraform, "google_cloudfunctions2_function", name)
        assert block(function, "service_config")["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
    for allowed in ("ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"):
        assert not refused_by("verifier_http_ingress", allowed)
    for wrong in ("ALLOW_EVERYTHING", "allow_all", "", "INTERNAL"):
        assert refused_by("verifier_http_ingress", wrong), wrong


@pytest.mark.parametrize(
    "members",
    [
        [],
        ["group:oncall@example.com"],
        ["user:ops@example.com", "serviceAccount:ci@p.iam.gserviceaccount.com"],
        ["domain:example.com"],
    ],
)
def test_http_verifier_invokers_take_named_members(members: list[str]) -> None:
    assert not refused_by("verifier_http_invokers", members)


@pytest.mark.parametrize(
    "members",
    [
        ["allUsers"],
        ["allAuthenticatedUsers"],
        ["group:oncall@example.com", "allUsers"],
        [" allusers "],
        ["ALLAUTHENTICATEDUSERS"],
    ],
)
def test_http_verifier_invokers_refuse_the_public(members: list[str]) -> None:
    errors = refused_by("verifier_http_invokers", members)
    assert any("never public" in e for e in errors), errors


@pytest.mark.parametrize("members", [["oncall@example.com"], ["group:"], ["user:a b@example.com"]])
def test_http_verifier_invokers_refuse_untyped_members(members: list[str]) -> None:
    assert refused_by("verifier_http_invokers", members)


@pytest.mark.parametrize(
    ("variable", "value", "refused"),
    [
        ("verifier_http_invokers", '["allUsers"]', True),
        ("verifier_http_invokers", '["allAuthenticatedUsers"]', True),
        ("verifier_http_invokers", '["group:oncall@example.com"]', False),
        ("verifier_http_ingress", "ALLOW_ALL", False),
        ("verifier_http_ingress", "EVERYWHERE", True),
    ],
)
def test_terraform_itself_agrees_with_the_validations(
    tmp_path: Path, variable: str, value: str, refused: bool
) -> None:
    """The same validations run by ``terraform console`` (variables.tf alone: no provider)."""
    binary = terraform_binary()
    shutil.copy(TERRAFORM_DIR / "variables.tf", tmp_path / "variables.tf")
    result = subprocess.run(
        [binary, "console", "-var", "project_id=p", "-var", f"{variable}={value}"],
        check=False,
        input=f"var.{variable}\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_terraform_env(tmp_path),
        timeout=120,
    )
    # console reports an invalid -var value as an error, and exits 0 all the same.
    assert ("Invalid value for variable" in result.stderr) == refused, result.stderr
    python = json.loads(value) if value.startswith("[") else value
    assert bool(refused_by(variable, python)) == refused


# --------------------------------------------------------------------------- provider lock

LOCK_FILE = TERRAFORM_DIR / ".terraform.lock.hcl"
BACKEND_EXAMPLE = TERRAFORM_DIR / "backend.tf.example"
REGISTRY = "registry.terraform.io"
_TERM = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$")
# Terraform's order of two terms on the same version (providerreqs.VersionConstraintsString).
_OPERATOR_ORDER = {">": 1, ">=": 2, "=": 3, "~>patch": 4, "~>minor": 5, "<=": 6, "<": 7, "!=": 8}
_HASH = re.compile(r"^(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})$")


class Term(NamedTuple):
    """One term of a version constraint: ``~> 2.4`` is ``Term("~>", (2, 4, None))``."""

    operator: str
    parts: tuple[int | None, int | None, int | None]

    @property
    def boundary(self) -> tuple[int, int, int]:
        """The version with left-out parts as 0 (``>= 6`` is ``>= 6.0.0``), as Terraform has it."""
        major, minor, patch = (part or 0 for part in self.parts)
        return major, minor, patch


def parse_constraint(text: str) -> list[Term]:
    """A Terraform version constraint (``">= 6.0, < 8.0"``, ``"~> 2.4"``), term by term."""
    terms = []
    for piece in text.split(","):
        match = _TERM.match(piece)
        assert match, f"not a version constraint this checker reads: {piece!r} of {text!r}"
        operator, major, minor, patch = match.groups()
        parts = (
            int(major),
            None if minor is None else int(minor),
            None if patch is None else int(patch),
        )
        terms.append(Term(operator or "=", parts))
    return terms


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    assert match, f"a locked version is a plain release (X.Y.Z), not {text!r}"
    major, minor, patch = (int(group) for group in match.groups())
    return major, minor, patch


def admits(term: Term, version: tuple[int, int, int]) -> bool:
    """Whether ``version`` meets ``term``, as Terraform reads constraints."""
    bound = term.boundary
    if term.operator == "~>":
        # ~> 1.2.3 is >= 1.2.3, < 1.3.0; ~> 1.2 (and ~> 1, read as ~> 1.0) is >= 1.2.0, < 2.0.0.
        patch_only = term.parts[2] is not None
        upper = (bound[0], bound[1] + 1, 0) if patch_only else (bound[0] + 1, 0, 0)
        return bound <= version < upper
    checks = {
        "=": version == bound,
        "!=": version != bound,
        ">": version > bound,
        ">=": version >= bound,
        "<": version < bound,
        "<=": version <= bound,
    }
    return checks[term.operator]


def satisfies(version: str, constraint: str) -> bool:
    parsed = parse_version(version)
    return all(admits(term, parsed) for term in parse_constraint(constraint))


def normalized(*constraints: str) -> str:
    """How the lock file must spell these constraints (Terraform refuses any other spelling):
    every term once, left-out parts as 0, sorted by version then operator, ``~> X.Y`` with two
    parts and an exact version with no operator."""
    terms: set[tuple[tuple[int, int, int], str]] = set()
    for constraint in constraints:
        for term in parse_constraint(constraint):
            kind = term.operator
            if kind == "~>":
                kind = "~>patch" if term.parts[2] is not None else "~>minor"
            terms.add((term.boundary, kind))
    spelled = []
    for (major, minor, patch), kind in sorted(terms, key=lambda t: (t[0], _OPERATOR_ORDER[t[1]])):
        symbol = {"~>patch": "~> ", "~>minor": "~> ", "=": ""}.get(kind, f"{kind} ")
        number = f"{major}.{minor}" if kind == "~>minor" else f"{major}.{minor}.{patch}"
        spelled.append(symbol + number)
    return ", ".join(spelled)


def locked_providers() -> dict[str, dict[str, Any]]:
    """The lock file: source (``hashicorp/google``) => its version, constraints and hashes."""
    with LOCK_FILE.open() as handle:
        parsed = clean(hcl2.load(handle))
    locked: dict[str, dict[str, Any]] = {}
    for entry in parsed.get("provider", []):
        for address, body in entry.items():
            host, _, source = address.partition("/")
            assert host == REGISTRY, address
            assert source not in locked, f"{address} is locked twice"
            locked[source] = body
    return locked


def required_providers() -> dict[str, tuple[str, list[str]]]:
    """Local name => (source, the version constraints every module gives it), over the root
    module and the modules under it, as ``terraform init`` gathers them."""
    required: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(TERRAFORM_DIR.glob("**/*.tf")):
        if ".terraform" in path.relative_to(TERRAFORM_DIR).parts:
            continue
        with path.open() as handle:
            parsed = clean(hcl2.load(handle))
        for settings in parsed.get("terraform", []):
            for providers in settings.get("required_providers", []):
                for name, requirement in providers.items():
                    source = requirement.get("source", f"hashicorp/{name}").lower()
                    known = required.setdefault(name, (source, []))
                    assert known[0] == source, f"{name} is two providers: {known[0]}, {source}"
                    if "version" in requirement:
                        known[1].append(requirement["version"])
    return required


@pytest.mark.parametrize(
    ("version", "constraint", "admitted"),
    [
        ("2.4.0", "~> 2.4", True),
        ("2.9.17", "~> 2.4", True),
        ("2.3.9", "~> 2.4", False),
        ("3.0.0", "~> 2.4", False),
        ("1.2.9", "~> 1.2.3", True),
        ("1.3.0", "~> 1.2.3", False),
        ("6.0.0", ">= 6.0, < 8.0", True),
        ("7.99.1", ">= 6.0, < 8.0", True),
        ("5.45.2", ">= 6.0, < 8.0", False),
        ("8.0.0", ">= 6.0, < 8.0", False),
        ("7.17.0", "7.17.0", True),
        ("7.17.1", "= 7.17.0", False),
        ("7.17.1", "!= 7.17.0", True),
        ("2.0.0", "> 2", False),
        ("2.0.0", "<= 2", True),
    ],
)
def test_the_constraint_checker_reads_constraints_as_terraform_does(
    version: str, constraint: str, admitted: bool
) -> None:
    assert satisfies(version, constraint) == admitted


@pytest.mark.parametrize(
    "constraint",
    [
        ">= 6.0, < 8.0",
        "~> 2.4",
        "~> 7",
        "~> 1.2.3, >= 1.2",
        "< 8.0.0, >= 2.18.0, >= 2.18",
        "= 7.17.0",
        ">= 3.43.0, >= 4.28.0, 7.7.0, < 8.0.0",
    ],
)
def test_the_lock_spelling_is_terraforms(tmp_path: Path, constraint: str) -> None:
    """Terraform itself names the spelling it wants when a lock file's constraints differ from
    it, and reads the lock without complaint when they do not: ``normalized`` agrees."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "versions.tf").write_text(
        "terraform {\n  required_providers {\n"
        '    google = { source = "hashicorp/google" }\n  }\n}\n'
    )
    (root / ".terraform.lock.hcl").write_text(
        f'provider "{REGISTRY}/hashicorp/google" {{\n'
        f'  version     = "7.17.0"\n  constraints = "{constraint}"\n}}\n'
    )
    result = _offline_init(root, tmp_path, "-backend=false")
    said = result.stdout + result.stderr
    wanted = re.search(r'must be written in normalized form:\s+"([^"]+)"', said)
    spelled = wanted.group(1) if wanted else constraint
    assert "Reusing previous version of hashicorp/google" in said or wanted, said
    assert normalized(constraint) == spelled


def test_every_provider_is_locked_at_a_version_its_constraints_admit() -> None:
    required = required_providers()
    locked = locked_providers()
    assert set(locked) == {source for source, _ in required.values()}, (
        "the lock file and required_providers name different providers: "
        "run `terraform providers lock` (infra/terraform/README.md)"
    )
    for name, (source, constraints) in required.items():
        entry = locked[source]
        assert constraints, f"{name} has no version constraint in required_providers"
        assert entry["constraints"] == normalized(*constraints), (
            f"{source}: the lock records {entry['constraints']!r}, required_providers says "
            f"{', '.join(constraints)!r}: run `terraform providers lock` after changing either"
        )
        for constraint in constraints:
            assert satisfies(entry["version"], constraint), (source, entry["version"], constraint)


def test_every_lock_entry_carries_the_registrys_hashes() -> None:
    """``zh:`` hashes (the registry's SHA-256 of each platform's zip) let ``terraform init``
    check whatever platform it downloads for; ``h1:`` hashes are of unpacked packages."""
    for source, entry in locked_providers().items():
        hashes = entry["hashes"]
        assert all(_HASH.match(value) for value in hashes), (source, hashes)
        assert hashes == sorted(set(hashes)), (
            f"{source}: hashes sorted, once each, as Terraform writes them"
        )
        assert sum(value.startswith("zh:") for value in hashes) >= 4, (
            f"{source}: a zh: hash per platform"
        )
        assert any(value.startswith("h1:") for value in hashes), source


def test_every_resource_type_comes_from_a_required_provider(terraform: dict[str, Any]) -> None:
    """A resource of a provider nobody declared would be installed unlocked, at any version."""
    declared = set(required_providers())
    for kind in ("resource", "data"):
        for rtype in terraform[kind]:
            assert rtype.split("_", 1)[0] in declared, (
                f"{kind} {rtype}: add its provider to versions.tf"
            )


def test_the_lock_and_the_backend_example_are_formatted_as_terraform_writes_them(
    tmp_path: Path,
) -> None:
    text = LOCK_FILE.read_text()
    assert text.startswith('# This file is maintained automatically by "terraform init".\n')
    for path in (LOCK_FILE, BACKEND_EXAMPLE):
        result = subprocess.run(
            [terraform_binary(), "fmt", "-check", "-"],
            check=False,
            input=path.read_text(),
            capture_output=True,
            text=True,
            env=_terraform_env(tmp_path),
            timeout=120,
        )
        assert result.returncode == 0, f"{path.name} is not as `terraform fmt` writes it"


def _offline_rc(tmp_path: Path) -> Path:
    """A CLI configuration with nothing to install providers from: an empty mirror, no registry."""
    mirror = tmp_path / "empty-mirror"
    mirror.mkdir(exist_ok=True)
    config = tmp_path / "offline.tfrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["*/*/*"]\n  }\n}\n'
    )
    return config


def _offline_init(root: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``terraform init`` offline: providers can only come from an empty mirror."""
    env = _terraform_env(tmp_path) | {"TF_CLI_CONFIG_FILE": str(_offline_rc(tmp_path))}
    return subprocess.run(
        [terraform_binary(), "init", "-input=false", "-no-color", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=120,
    )


def _root_copy(tmp_path: Path) -> Path:
    root = tmp_path / "terraform"
    shutil.copytree(
        TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform", "backend.tf", "*.tfstate*")
    )
    return root


def test_terraform_init_takes_the_locked_versions(tmp_path: Path) -> None:
    """Offline, ``terraform init`` gets as far as installing: it reads the lock, finds each
    locked version within the configuration's constraints and reuses it, then finds no package
    (the mirror is empty). A lock it could not read, or would have to change, fails earlier."""
    root = _root_copy(tmp_path)
    result = _offline_init(root, tmp_path, "-backend=false")
    said = result.stdout + result.stderr
    assert "Invalid provider version constraints" not in said, said
    assert "does not match configured version constraint" not in said, said
    for source in locked_providers():
        assert f"Reusing previous version of {source} from the dependency lock file" in said, said
    assert (root / LOCK_FILE.name).read_bytes() == LOCK_FILE.read_bytes()


# --------------------------------------------------------------------------- optional GCS backend


def test_the_backend_example_is_an_empty_gcs_backend() -> None:
    """Partial configuration: the bucket and prefix come from ``-backend-config`` at init."""
    parsed = clean(hcl2.loads(BACKEND_EXAMPLE.read_text()))
    (settings,) = parsed["terraform"]
    (backend,) = settings["backend"]
    assert backend == {"gcs": {}}
    assert "cp backend.tf.example backend.tf" in BACKEND_EXAMPLE.read_text()
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "infra/terraform/backend.tf" in ignored, "backend.tf belongs to one deployment"


def test_the_gcs_backend_takes_a_bucket_and_a_prefix(tmp_path: Path) -> None:
    """``terraform init`` with the example as backend.tf accepts ``bucket`` and ``prefix`` and
    stops at the credentials, which point at a missing file (so nothing is contacted); a key
    the gcs backend lacks is refused before that."""
    root = _root_copy(tmp_path)
    shutil.copy(BACKEND_EXAMPLE, root / "backend.tf")
    missing = tmp_path / "no-credentials.json"
    dropped = {
        "GOOGLE_CREDENTIALS",
        "GOOGLE_BACKEND_CREDENTIALS",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "GOOGLE_IMPERSONATE_SERVICE_ACCOUNT",
        "GOOGLE_BACKEND_IMPERSONATE_SERVICE_ACCOUNT",
        "NO_PROXY",
        "no_proxy",
        "STORAGE_EMULATOR_HOST",  # the suite's storage emulator: the backend would use it
    }
    offline = {
        "GOOGLE_APPLICATION_CREDENTIALS": str(missing),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "HOME": str(tmp_path),
        # Anything that still tried the network would meet a closed port.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }

    def init(*config: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in dropped} | offline
        result = subprocess.run(
            [terraform_binary(), "init", "-input=false", "-no-color", "-reconfigure"]
            + [f"-backend-config={item}" for item in config],
            check=False,
            capture_output=True,
            text=True,
            cwd=root,
            env=env | {"TF_CLI_CONFIG_FILE": str(_offline_rc(tmp_path))},
            timeout=120,
        )
        return result.stdout + result.stderr

    said = init("bucket=my-project-tfstate", "prefix=attribution")
    assert "Initializing the backend" in said, said
    assert "Invalid backend configuration" not in said, said
    assert str(missing) in said, said  # it got as far as the credentials
    refused = init("bukket=my-project-tfstate")
    assert "Invalid backend configuration argument" in refused, refused
