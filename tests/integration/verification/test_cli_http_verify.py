"""``attribution --json verify`` and ``verify_http`` answer the same document: the same keys,
the same values, dates in ISO 8601; only what is new each run (its run id) differs.

Both run for real on the same embedded world: the CLI in-process (``main``), the HTTP entry
point under functions-framework's own app as a test client.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, NoReturn

import pytest

from attribution.cli.main import main

from .support import DAY, SYSTEM, World

# A verification run's own id: new on every run, so the one key the documents may differ in.
PER_RUN = {"run_id"}
HTTP_DATE = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4}")


def strict(text: str | bytes) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def cli_document(capsys: pytest.CaptureFixture[str], *argv: str, code: int) -> Any:
    capsys.readouterr()
    assert main(["--json", "verify", *argv]) == code
    return strict(capsys.readouterr().out)


def http_document(client: Any, body: dict[str, str], status: int) -> Any:
    response = client.post("/", json=body)
    assert (response.status_code, response.mimetype) == (status, "application/json")
    assert not HTTP_DATE.search(response.get_data(as_text=True))
    return strict(response.data)


def iso_dates(value: Any) -> list[str]:
    """Every string in the document that is a date or starts with one."""
    if isinstance(value, dict):
        return [d for item in value.values() for d in iso_dates(item)]
    if isinstance(value, list):
        return [d for item in value for d in iso_dates(item)]
    if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\d", value):
        assert date.fromisoformat(value[:10])
        return [value]
    return []


def test_cli_and_http_verify_answer_the_same_document(
    world: World, verifier_http: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--game-date", DAY.isoformat(), "--system-id", SYSTEM]
    body = {"game_date": DAY.isoformat(), "system_id": SYSTEM}
    cli_document(capsys, *args, code=0)  # the first run: later ones remember it, alike
    over_http = http_document(verifier_http, body, 200)
    on_cli = cli_document(capsys, *args, code=0)

    assert list(on_cli) == list(over_http) == ["verdicts"]
    (cli_verdict,) = on_cli["verdicts"]
    (http_verdict,) = over_http["verdicts"]
    assert cli_verdict.keys() == http_verdict.keys()
    for key in cli_verdict.keys() - PER_RUN:
        assert cli_verdict[key] == http_verdict[key], key
    assert cli_verdict["run_id"] != http_verdict["run_id"]
    assert {r["run_id"] for r in world.runs()} >= {cli_verdict["run_id"], http_verdict["run_id"]}

    assert (http_verdict["game_date"], http_verdict["previous_verdict"]) == (
        DAY.isoformat(),
        "PASS",
    )
    dates = iso_dates(http_verdict)
    assert DAY.isoformat() in dates and "2026-01-31" in dates  # the card's training window


def test_an_unknown_system_is_the_same_answer_too(
    world: World, verifier_http: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    on_cli = cli_document(capsys, "--game-date", DAY.isoformat(), "--system-id", "nope", code=5)
    over_http = http_document(
        verifier_http, {"game_date": DAY.isoformat(), "system_id": "nope"}, 404
    )

    assert on_cli == over_http
    assert (on_cli["code"], on_cli["system_id"]) == ("unknown_system", "nope")
    assert world.query("SELECT run_id FROM verification_runs") == []
