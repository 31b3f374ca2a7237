"""Static security scan of infra/terraform with checkov: no failed check, every skip explained.

checkov lives in its own venv (.venv-checkov, made by `make security` / `make test`) because it
pins many packages. Without it the test skips, except under CI=true, where it fails.

checkov takes variables at their defaults and leaves out a resource whose count is 0, so the
configuration is scanned a second time with the optional parts on (the HTTP verifier, a
separate cards bucket, more batch input buckets, Data Lineage), everything else at its default.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
TERRAFORM_DIR = REPO / "infra" / "terraform"
MIN_REASON_WORDS = 5
HTTP_VERIFIER = "google_cloudfunctions2_function.verifier_http[0]"
VARIABLES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "optional parts on": {
        "verifier_http_enabled": True,
        "verifier_http_invokers": ["group:oncall@example.com"],
        "cards_bucket": "cards-bucket",
        "batch_input_buckets": ["rows-bucket"],
        "data_lineage_enabled": True,
    },
}


def _checkov() -> Path:
    if not CHECKOV.is_file():
        reason = f"{CHECKOV} is missing: run `make security`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return CHECKOV


@pytest.fixture(scope="module", params=list(VARIABLES))
def scan(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[dict[str, Any]]]:
    var_file = tmp_path_factory.mktemp("checkov") / "scan.tfvars.json"
    var_file.write_text(json.dumps(VARIABLES[request.param]))
    result = subprocess.run(
        [
            str(_checkov()),
            "--directory",
            str(TERRAFORM_DIR),
            "--framework",
            "terraform",
            "--var-file",
            str(var_file),
            "--output",
            "json",
            "--skip-download",  # offline: no policy metadata from the vendor's platform
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_CREATE_GRAPH": "True"},
    )
    # Exit code 1 means failed checks; anything else non-zero is the tool failing.
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    reports: list[dict[str, Any]] = report if isinstance(report, list) else [report]
    return request.param, reports


def _checks(reports: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [check for r in reports for check in r.get("results", {}).get(kind, [])]


def test_checkov_finds_no_failed_check(scan: tuple[str, list[dict[str, Any]]]) -> None:
    _, reports = scan
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range']})"
        for c in _checks(reports, "failed_checks")
    ]
    assert not failed, "\n".join(failed)
    assert _checks(reports, "passed_checks"), "checkov checked nothing: is infra/terraform empty?"
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)


def test_the_http_verifier_is_scanned_when_it_is_on(scan: tuple[str, list[dict[str, Any]]]) -> None:
    """Its ingress check passes on its own merits (internal by default), not by a skip."""
    name, reports = scan
    ingress = [
        c
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in _checks(reports, kind)
        if c["check_id"] == "CKV_GCP_124" and c["resource"] == HTTP_VERIFIER
    ]
    if VARIABLES[name].get("verifier_http_enabled"):
        assert [c["check_result"]["result"] for c in ingress] == ["PASSED"], ingress
    else:
        assert not ingress


def test_every_skipped_check_says_why(scan: tuple[str, list[dict[str, Any]]]) -> None:
    _, reports = scan
    for check in _checks(reports, "skipped_checks"):
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason.split()) >= MIN_REASON_WORDS, (check["check_id"], check["resource"])
