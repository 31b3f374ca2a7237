"""README.md's deploy path and prerequisites, held to what they describe.

"Deploy to Google Cloud" says Terraform is the way and lists what it creates: every topic,
function, scheduler job, secret and service account that infra/terraform makes (under the
variables' defaults) is named there, and no by-hand command path is left. "Prerequisites"
names what the tests and the local stack look for, and .ci/run installs what it can first.
Every link between sections and to a file resolves, every `make` target the READMEs name
exists, and the sections about deploying use no project-internal shorthand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from terraform_hcl import read_module

from attribution.devtools.local_stack.emulators import PUBSUB_PACKAGE

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
TERRAFORM_DIR = REPO / "infra" / "terraform"
TERRAFORM_README = TERRAFORM_DIR / "README.md"
DOCS = (README, TERRAFORM_README)
# Shorthand a newcomer cannot know: nicknames of the reference team's code, plan labels.
JARGON = re.compile(r"\bseed\b|\bsessions?\b|\bV\d+\b|\bPriority \d\b|\bgen[12]\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    return read_module(TERRAFORM_DIR)


def default(tf: dict[str, Any], name: str) -> Any:
    return tf["variable"][name]["default"]


def sections(path: Path) -> dict[str, str]:
    """``## `` heading => the text under it, up to the next one."""
    found: dict[str, str] = {}
    for chunk in re.split(r"^## ", path.read_text(), flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        found[heading.strip()] = body
    return found


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def deploy_section() -> str:
    return sections(README)["Deploy to Google Cloud"]


def prerequisites_section() -> str:
    return sections(README)["Prerequisites"]


# --------------------------------------------------------------------------- what Terraform creates


def function_name(tf: dict[str, Any], expression: str) -> str:
    """``${local.function_names.verifier}-post-run`` => ``attribution-verifier-post-run``."""
    rule = tf["locals"]["function_names"]
    assert 'replace(key, "_", "-")' in rule and "var.name_prefix" in rule, (
        "local.function_names is no longer name_prefix + key with hyphens: update this test"
    )
    prefix = default(tf, "name_prefix")
    return re.sub(
        r"\$\{local\.function_names\.(\w+)\}",
        lambda m: prefix + m.group(1).replace("_", "-"),
        expression,
    )


def created_names(tf: dict[str, Any]) -> dict[str, set[str]]:
    """What an operator finds in the project after ``terraform apply`` with the defaults."""
    resources = tf["resource"]
    topics = set()
    for reference in tf["locals"]["topics"].values():
        (variable,) = re.fullmatch(r"\$\{var\.(\w+)\}", reference).groups()  # type: ignore[union-attr]
        topics.add(default(tf, variable))
    functions = {
        function_name(tf, body["name"])
        for body in resources["google_cloudfunctions2_function"].values()
    }
    job = resources["google_cloud_scheduler_job"]["verify"]
    assert job["for_each"] == "${var.verification_schedules}", job["for_each"]
    jobs = {
        job["name"]
        .replace("${var.name_prefix}", default(tf, "name_prefix"))
        .replace("${each.key}", key)
        for key in default(tf, "verification_schedules")
    }
    secrets = set(resources["google_secret_manager_secret"]["alert"]["for_each"].values())
    accounts = {
        function_name(tf, f"${{local.function_names.{key}}}")
        for key in ("model_upload", "prediction_batch", "verifier")
    }
    assert resources["google_service_account"]["function"]["for_each"] == (
        "${local.function_names}"
    )
    for kind in ("google_pubsub_topic", "google_pubsub_subscription"):
        assert resources[kind]["dead_letter"]["name"] == "${each.value}-dead-letter", kind
    views = {path.stem for path in (REPO / "schemas" / "bigquery" / "views").glob("*.sql")}
    return {
        "topic": topics,
        "function": functions,
        "scheduler job": jobs,
        "secret": secrets,
        "service account": accounts,
        "dataset": {default(tf, "dataset_id")},
        "view": views,
    }


def test_the_deploy_section_names_everything_terraform_creates(terraform: dict[str, Any]) -> None:
    text = deploy_section()
    assert "`<topic>-dead-letter`" in text
    for kind, names in created_names(terraform).items():
        for name in sorted(names):
            assert f"`{name}`" in text, (
                f"README.md, Deploy to Google Cloud: name the {kind} `{name}` in the list of "
                "what Terraform creates"
            )


def test_the_deploy_section_schedules_are_the_defaults(terraform: dict[str, Any]) -> None:
    text = " ".join(deploy_section().split())
    assert default(terraform, "schedule_time_zone") in text
    for cron in default(terraform, "verification_schedules").values():
        minute, hour, *_ = cron.split()
        assert f"{int(hour)}:{int(minute):02d}" in text, cron


def test_terraform_is_the_only_deploy_path() -> None:
    """The commands are Terraform's; no gcloud, bq or gsutil path that could fall behind it."""
    blocks = re.findall(r"^```\w*\n(.*?)^```", deploy_section(), flags=re.MULTILINE | re.DOTALL)
    commands = "\n".join(blocks)
    assert "terraform apply" in commands
    for by_hand in ("gcloud functions deploy", "bq mk", "gcloud pubsub topics create", "gsutil"):
        assert by_hand not in commands, by_hand
    assert "backend.tf.example" in deploy_section()


# --------------------------------------------------------------------------- prerequisites


def test_prerequisites_come_before_the_two_commands() -> None:
    order = list(sections(README))
    assert order.index("Prerequisites") < order.index("Two commands")


def test_prerequisites_name_what_the_tests_look_for() -> None:
    text = " ".join(prerequisites_section().split())
    for needed in (
        PUBSUB_PACKAGE,  # attribution.devtools.local_stack.emulators runs its launcher
        "Java",  # the emulator's launcher starts a JVM
        "Python 3.13",  # tests/integration/bigquery_server.py: local-bigquery's venv
        "PYTHON313",
        "checkov",
        "Terraform 1.5",
        "/usr/local/bin/terraform",
        "make prerequisites",
    ):
        assert needed in text, f"README.md, Prerequisites: say what {needed} is for"
    required = (TERRAFORM_DIR / "versions.tf").read_text()
    assert 'required_version = ">= 1.5.0"' in required, "Prerequisites name Terraform 1.5"


def test_ci_installs_the_prerequisites_before_testing() -> None:
    steps = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "make prerequisites" in steps
    assert steps.index("make prerequisites") < steps.index("make test")


# --------------------------------------------------------------------------- links and words


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):(?!=)", text, flags=re.MULTILINE))


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_make_target_named_exists(path: Path) -> None:
    targets = makefile_targets()
    # In a code span (`make test`) or at the start of a line of a code block.
    for name in re.findall(r"(?:`|^)make ([a-z][\w-]*)", path.read_text(), flags=re.MULTILINE):
        assert name in targets, f"{path.name} names `make {name}`, which the Makefile lacks"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves(path: Path) -> None:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        assert linked.exists(), f"{path.name}: {target} links to a missing file"
        if fragment:
            assert fragment in headings(linked), f"{path.name}: {target} names no heading"


def test_the_deploy_docs_use_no_internal_shorthand() -> None:
    texts = {
        "README.md, Prerequisites": prerequisites_section(),
        "README.md, Deploy to Google Cloud": deploy_section(),
        "infra/terraform/README.md": TERRAFORM_README.read_text(),
    }
    for where, text in texts.items():
        found = JARGON.findall(text)
        assert not found, f"{where}: {found} (say what is meant)"
