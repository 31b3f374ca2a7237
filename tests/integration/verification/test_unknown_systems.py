"""The verifier verifies systems that exist, and only reads bodies it can afford to.

An unknown ``system_id`` (SQL text, a million characters, a typo) is answered "unknown
system": CLI exit 5, HTTP 404, on Pub/Sub acknowledged and dead-lettered; no verdict row, no
alert. Bodies over 64 KiB or nested deeper than 32 are refused before parsing (400, or a
dead letter); any JSON content type is read as JSON.

Driven through the verifier itself, the CLI, and functions/verifier/main.py under
functions-framework's test client with real CloudEvents, on DuckDB and the local bucket.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from attribution.cli.main import main
from attribution.devtools.training import train_model
from attribution.events import pubsub_event
from attribution.verification.outcome import Status
from attribution.verification.request import MAX_REQUEST_BYTES, MAX_REQUEST_DEPTH
from attribution.verification.verifier import UnknownSystemError

from .support import A_SPEC, DAY, EMPTY_DAY, SYSTEM, World, check

TOPIC = "projects/local/topics/verification-requests"
SQL_TEXT = "catboost_v9' OR '1'='1'; DROP TABLE model_cards; --"
HUGE = "x" * 1_000_000


def strict(text: str | bytes) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def nothing_recorded(world: World) -> None:
    assert world.query("SELECT run_id FROM verification_runs") == []
    assert world.notifier.sent == []
    assert world.notifier.attempts == 0
    assert len(world.query("SELECT card_id FROM model_cards")) == 2  # tables untouched


def _event(document: Any, message_id: str) -> CloudEvent:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return pubsub_event(TOPIC, data, {"origin": "scheduler"}, message_id=message_id)


def _post(client: Any, event: CloudEvent, *, binary: bool = False) -> int:
    headers, body = to_binary(event) if binary else to_structured(event)
    return int(client.post("/", headers=headers, data=body).status_code)


def _letters(world: World) -> dict[str, str]:
    rows = world.query("SELECT * FROM dead_letters WHERE source = 'verifier'")
    return {r["event_id"]: r["error_code"] for r in rows}


# --- what exists --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "system_id", ["nope", "catboost_v10", SQL_TEXT, HUGE, "*", "", "catboost_v9 "]
)
def test_an_unknown_system_gets_no_verdict_and_no_alert(world: World, system_id: str) -> None:
    with pytest.raises(UnknownSystemError) as caught:
        world.verifier().verify(DAY, system_id)

    error = caught.value
    assert error.code == "unknown_system"
    assert error.message.startswith("unknown system ")
    assert len(error.message) < 400  # a million characters are not echoed back
    assert f"(systems with cards or deployments: {SYSTEM})" in error.message
    nothing_recorded(world)


def test_a_system_exists_by_its_card_deployment_predictions_or_logged_batch(
    world: World, tmp_path: Path
) -> None:
    # a card alone
    card_only = train_model(replace(A_SPEC, system_id="cards_only"), tmp_path / "cards_only.cbm")
    world.upload(card_only, "cards_only.cbm")
    # a deployment alone: a card that declares no system can be promoted for any
    factless = train_model(A_SPEC, tmp_path / "factless.cbm", declare_facts=False)
    world.promote(world.upload(factless, "factless.cbm"), system_id="deployed_only")
    # predictions alone, on another day, from a worker that stamps nothing
    world.copy_rows(
        world.predictions(DAY), batch_id="legacy", prefix="legacy", system_id="predicted_only"
    )
    # a logged batch alone: it failed, no model is active for the system
    world.predict(DAY, system_id="logged_only")

    for system_id, day in (
        ("cards_only", DAY),
        ("deployed_only", DAY),
        ("predicted_only", EMPTY_DAY),
        ("logged_only", DAY),
    ):
        verdict = world.verify(day, system_id)
        assert verdict.system_id == system_id
        assert verdict.verdict in (Status.UNKNOWN, Status.FAIL), (system_id, verdict.verdict)
    assert check(world.verify(DAY, "logged_only"), "failed_batches").status is Status.FAIL
    assert {r["system_id"] for r in world.query("SELECT system_id FROM verification_runs")} == {
        "cards_only",
        "deployed_only",
        "predicted_only",
        "logged_only",
    }


# --- the command line ----------------------------------------------------------------------------


def test_verify_of_an_unknown_system_exits_5(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["verify", "--game-date", DAY.isoformat(), "--system-id", "nope"]

    assert main(argv) == 5
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: unknown system 'nope': ")
    assert captured.err.rstrip().endswith("(unknown_system)")

    assert main(["--json", *argv]) == 5
    document = strict(capsys.readouterr().out)
    assert (document["code"], document["system_id"]) == ("unknown_system", "nope")

    assert main(["verify", "--game-date", DAY.isoformat(), "--system-id", HUGE]) == 5
    assert len(capsys.readouterr().err) < 400
    nothing_recorded(world)


def test_the_exit_codes_are_in_the_help_and_the_readme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--help"]) == 0
    help_text = capsys.readouterr().out
    for line in ("0   PASS", "1   FAIL", "3   PARTIAL", "4   UNKNOWN", "5   unknown system"):
        assert line in help_text
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert "4 UNKNOWN, 5 unknown system" in readme
    assert "`unknown_system`" in readme and "`verify_http` answers 404" in readme


# --- HTTP ----------------------------------------------------------------------------------------


def test_http_answers_404_for_an_unknown_system(world: World, verifier_http: Any) -> None:
    for system_id in ("nope", SQL_TEXT):
        response = verifier_http.post(
            "/", json={"game_date": DAY.isoformat(), "system_id": system_id}
        )
        assert response.status_code == 404
        answer = strict(response.data)
        assert answer["code"] == "unknown_system" and "unknown system" in answer["error"]
    assert verifier_http.get(f"/?game_date={DAY.isoformat()}&system_id=nope").status_code == 404
    nothing_recorded(world)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_nested(100_000), "request_too_large"),  # the finding (a 500 before): 200 KB
        (_nested(30_000), "request_too_deep"),  # 60 KB, 30,000 deep
        (
            '{"game_date": "2026-03-02", "x": ' + _nested(MAX_REQUEST_DEPTH) + "}",
            "request_too_deep",
        ),
        ('{"game_date": "2026-03-02", "system_id": "' + "a" * 70_000 + '"}', "request_too_large"),
        (
            '{"game_date": "2026-03-02", "x": ' + _nested(MAX_REQUEST_DEPTH - 1) + "}",
            "invalid_message",
        ),
        ("verify yesterday please", "malformed_message"),
    ],
    ids=["deep-100000", "deep-30000", "deep-33", "large", "deep-32-is-read", "not-json"],
)
def test_http_refuses_bodies_too_large_too_deep_or_not_json(
    world: World, verifier_http: Any, body: str, code: str
) -> None:
    response = verifier_http.post("/", data=body, content_type="application/json")

    assert response.status_code == 400
    answer = strict(response.data)
    assert answer["code"] == code, answer
    assert len(answer["error"]) < 300
    nothing_recorded(world)


def test_a_body_of_exactly_the_limit_is_read(world: World, verifier_http: Any) -> None:
    brackets = '"' + "[" * 1000 + '"'  # inside a string: no nesting at all
    document = '{"game_date": "2026-03-02", "system_id": ' + brackets + "}"
    body = document + " " * (MAX_REQUEST_BYTES - len(document))
    assert len(body.encode()) == MAX_REQUEST_BYTES

    response = verifier_http.post("/", data=body, content_type="application/json")

    assert response.status_code == 404  # read and parsed; no system has that id
    assert strict(response.data)["code"] == "unknown_system"
    over = verifier_http.post("/", data=body + " ", content_type="application/json")
    assert (over.status_code, strict(over.data)["code"]) == (400, "request_too_large")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/vnd.scheduler+json",
        None,
    ],
)
def test_http_reads_json_under_any_json_content_type(
    world: World, verifier_http: Any, content_type: str | None
) -> None:
    body = json.dumps({"game_date": DAY.isoformat(), "system_id": SYSTEM})
    if content_type is None:
        response = verifier_http.post("/", data=body.encode())
        assert "Content-Type" not in response.request.headers
    else:
        response = verifier_http.post("/", data=body, content_type=content_type)

    assert response.status_code == 200, response.data
    (verdict,) = strict(response.data)["verdicts"]
    assert (verdict["system_id"], verdict["verdict"]) == (SYSTEM, "PASS")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/html"])
def test_http_refuses_a_body_that_is_not_json_by_its_content_type(
    world: World, verifier_http: Any, content_type: str
) -> None:
    body = json.dumps({"game_date": DAY.isoformat()})
    response = verifier_http.post("/", data=body, content_type=content_type)

    assert response.status_code == 415
    answer = strict(response.data)
    assert answer["code"] == "unsupported_content_type"
    assert content_type in answer["error"] and "application/json" in answer["error"]
    nothing_recorded(world)


def test_text_plain_that_is_not_json_gets_the_right_reason(
    world: World, verifier_http: Any
) -> None:
    response = verifier_http.post("/", data="game_date=2026-03-02", content_type="text/plain")
    assert response.status_code == 400
    assert strict(response.data)["code"] == "malformed_message"


# --- Pub/Sub -------------------------------------------------------------------------------------


def test_pubsub_acknowledges_and_dead_letters_an_unknown_system(
    world: World, verifier_events: Any
) -> None:
    event = _event({"game_date": DAY.isoformat(), "system_id": "nope"}, "msg-unknown")

    assert _post(verifier_events, event) == 200  # acknowledged: no retry can create it
    assert _post(verifier_events, event, binary=True) == 200  # redelivered: still one letter

    assert _letters(world) == {"msg-unknown": "unknown_system"}
    (letter,) = world.query("SELECT * FROM dead_letters WHERE event_id = 'msg-unknown'")
    assert "unknown system 'nope'" in letter["error"]
    assert letter["payload"]
    nothing_recorded(world)


def test_pubsub_dead_letters_bodies_too_large_or_too_deep(
    world: World, verifier_events: Any
) -> None:
    cases = {
        "msg-deep": (_nested(30_000).encode(), "request_too_deep"),
        "msg-deeper": (_nested(100_000).encode(), "request_too_large"),
        "msg-large": (
            json.dumps({"game_date": DAY.isoformat(), "system_id": "a" * 70_000}).encode(),
            "request_too_large",
        ),
    }
    for message_id, (data, _) in cases.items():
        assert _post(verifier_events, _event(data, message_id)) == 200

    assert _letters(world) == {k: code for k, (_, code) in cases.items()}
    nothing_recorded(world)
