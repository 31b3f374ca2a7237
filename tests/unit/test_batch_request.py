"""The prediction-batch message: every way it can be wrong is named in the error."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from attribution.batches.request import (
    PUBSUB_MAX_MESSAGE_BYTES,
    BatchRequest,
    ModelPin,
    RunMode,
    parse_batch_request,
)
from attribution.errors import PermanentError
from attribution.objects import split_gs_uri

SHA = "ab" * 32
ROWS = [{"player_lookup": "p1", "line_value": 20.5, "points_avg_last_5": 22.0}]


def message(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "batch_id": "catboost_v9-20260301-overnight",
        "system_id": "catboost_v9",
        "game_date": "2026-03-01",
        "run_mode": "OVERNIGHT",
        "rows": ROWS,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def refused(document: Any) -> PermanentError:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    with pytest.raises(PermanentError) as caught:
        parse_batch_request(data)
    return caught.value


def test_a_valid_inline_message() -> None:
    request = parse_batch_request(json.dumps(message(requested_by="coordinator")).encode())
    assert request == BatchRequest(
        batch_id="catboost_v9-20260301-overnight",
        system_id="catboost_v9",
        game_date=date(2026, 3, 1),
        run_mode=RunMode.OVERNIGHT,
        pin=None,
        rows=ROWS,
        rows_uri=None,
        requested_by="coordinator",
    )


def test_a_valid_claim_check_message() -> None:
    request = parse_batch_request(
        json.dumps(message(rows=None, rows_uri="gs://inputs/day/rows.parquet")).encode()
    )
    assert (request.rows, request.rows_uri) == (None, "gs://inputs/day/rows.parquet")


@pytest.mark.parametrize(
    "pin",
    [ModelPin(model_sha256=SHA), ModelPin(model_file_name="catboost_v9_33features.cbm"), None],
)
@pytest.mark.parametrize("rows_uri", [None, "gs://b/rows.csv"])
def test_encode_and_parse_round_trip(pin: ModelPin | None, rows_uri: str | None) -> None:
    request = BatchRequest(
        batch_id="b.1:x-y",
        system_id="catboost_v9",
        game_date=date(2026, 3, 1),
        run_mode=RunMode.SAME_DAY,
        pin=pin,
        rows=None if rows_uri else ROWS,
        rows_uri=rows_uri,
        requested_by="me",
    )
    assert parse_batch_request(request.encode()) == request


def test_pin_by_sha256_and_by_file_name() -> None:
    by_hash = parse_batch_request(json.dumps(message(model={"model_sha256": SHA})).encode())
    assert by_hash.pin == ModelPin(model_sha256=SHA) and by_hash.pin.reference == SHA
    by_name = parse_batch_request(
        json.dumps(message(model={"model_file_name": "catboost_v9_old.cbm"})).encode()
    )
    assert by_name.pin is not None and by_name.pin.reference == "catboost_v9_old.cbm"


@pytest.mark.parametrize(
    ("document", "names"),
    [
        (message(batch_id=None), ["'batch_id' is a required property"]),
        (message(system_id=None), ["batch catboost_v9-20260301-overnight:", "'system_id'"]),
        (message(batch_id="bad id!"), ["batch_id:", "does not match"]),
        (message(batch_id="x" * 200), ["batch_id:"]),
        (message(rows_uri="gs://b/rows.csv"), ["rows (inline) or rows_uri", "not both"]),
        (message(rows=None), ["needs rows (inline) or rows_uri (a claim check)"]),
        (message(run_mode="HOURLY"), ["run_mode:", "'HOURLY' is not one of"]),
        (message(run_mode="early"), ["run_mode:", "'early'"]),
        (message(game_date="2026-3-1"), ["game_date:", "'2026-3-1'"]),
        (message(game_date="2026-02-30"), ["game_date '2026-02-30' is not a real date"]),
        (message(model={"model_sha256": "abc"}), ["model/model_sha256:", "'abc'"]),
        (message(model={"model_sha256": SHA, "model_file_name": "x.cbm"}), ["model:", "too many"]),
        (message(model={}), ["model:"]),
        (message(model={"card": "x"}), ["model:", "'card' was unexpected"]),
        (message(rows=None, rows_uri="s3://b/rows.csv"), ["rows_uri:", "s3://b/rows.csv"]),
        (message(rows=None, rows_uri="gs://b/rows.xlsx"), ["rows_uri:", "rows.xlsx"]),
        (message(rows=[1, 2]), ["rows/0:", "is not of type 'object'"]),
        (message(priority="high"), ["'priority' was unexpected"]),
        ([1, 2], ["message:", "is not of type 'object'"]),
    ],
)
def test_invalid_messages_name_the_problem(document: Any, names: list[str]) -> None:
    error = refused(document)
    assert error.code == "invalid_message"
    for name in names:
        assert name in error.message
    assert len(error.message) < 600  # never a dump of the whole message


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe\x00", b""])
def test_bytes_that_are_not_json(data: bytes) -> None:
    error = refused(data)
    assert error.code == "malformed_message" and "not JSON" in error.message


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("REAL_LINES_ONLY", RunMode.EARLY),
        ("ALL_PLAYERS", RunMode.OVERNIGHT),
        ("EARLY", RunMode.EARLY),
        ("SAME_DAY", RunMode.SAME_DAY),
        ("BACKFILL", RunMode.BACKFILL),
        (" same-day ", RunMode.SAME_DAY),
        ("real_lines_only", RunMode.EARLY),
    ],
)
def test_run_modes_and_the_seeds_aliases(raw: str, mode: RunMode) -> None:
    assert RunMode.parse(raw) is mode


@pytest.mark.parametrize(
    ("sent", "mode"), [("REAL_LINES_ONLY", "EARLY"), ("ALL_PLAYERS", "OVERNIGHT")]
)
def test_aliases_in_a_message_become_the_canonical_mode(sent: str, mode: str) -> None:
    request = parse_batch_request(json.dumps(message(run_mode=sent)).encode())
    assert request.run_mode.value == mode
    assert request.to_message()["run_mode"] == mode


def test_a_bad_run_mode_lists_the_allowed_ones() -> None:
    with pytest.raises(PermanentError) as caught:
        RunMode.parse("HOURLY")
    assert caught.value.code == "bad_run_mode"
    for allowed in ("EARLY", "OVERNIGHT", "SAME_DAY", "BACKFILL", "REAL_LINES_ONLY", "ALL_PLAYERS"):
        assert allowed in caught.value.message


def test_an_inline_batch_over_the_pubsub_limit_is_refused_with_advice() -> None:
    row = {"player_lookup": "p", "line_value": 1.5, "pad": "x" * 1000}
    request = BatchRequest("big", "s", date(2026, 3, 1), RunMode.EARLY, None, [row] * 10_050, None)
    with pytest.raises(PermanentError) as caught:
        request.encode()
    assert caught.value.code == "batch_too_large"
    assert "rows_uri" in caught.value.message and "claim check" in caught.value.message

    data = json.dumps(request.to_message()).encode()
    assert len(data) > PUBSUB_MAX_MESSAGE_BYTES
    error = refused(data)
    assert error.code == "batch_too_large" and "rows_uri" in error.message


def test_split_gs_uri() -> None:
    assert split_gs_uri("gs://bucket/a/b.csv") == ("bucket", "a/b.csv")
    for bad in ("bucket/a.csv", "gs://bucket", "https://x/y.csv"):
        with pytest.raises(PermanentError) as caught:
            split_gs_uri(bad)
        assert caught.value.code == "bad_uri" and bad in caught.value.message
