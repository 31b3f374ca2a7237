"""Plausibility limits: settings, the batch message's fields, a card's trained_at."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import catboost
import pytest

from attribution.batches.request import BatchRequest, ModelPin, RunMode, parse_batch_request
from attribution.config import Settings, load_settings
from attribution.errors import PermanentError, SettingsError
from attribution.limits import (
    BATCH_ID_PATTERN,
    EARLIEST_GAME_DATE,
    LATEST_GAME_DATE,
    SYSTEM_ID_PATTERN,
    TRAINED_AT_CLOCK_SKEW,
)
from attribution.model_card.extraction import extract_card
from attribution.objects import StoredObject
from attribution.package_folders import schemas_dir

# --- settings ---------------------------------------------------------------------------------


def test_the_defaults_are_within_every_limit() -> None:
    assert Settings() == Settings()
    assert load_settings({}).max_model_bytes == 1024**3


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_model_bytes", 0, "MAX_MODEL_BYTES=0 must be a whole number of at least 1"),
        ("max_model_bytes", -1, "MAX_MODEL_BYTES=-1 must be a whole number of at least 1"),
        ("model_cache_size", 0, "MODEL_CACHE_SIZE=0 must be a whole number of at least 1"),
        ("min_edge", -0.5, "MIN_EDGE=-0.5 must be a number of at least 0"),
        ("min_edge", float("inf"), "MIN_EDGE=inf must be a number of at least 0"),
        (
            "over_probability_threshold",
            1.01,
            "OVER_PROBABILITY_THRESHOLD=1.01 must be a number from 0.5 to 1",
        ),
        ("batch_lease_seconds", 0.0, "BATCH_LEASE_SECONDS=0.0 must be a number greater than 0"),
        ("ledger_cache_seconds", -1.0, "LEDGER_CACHE_SECONDS=-1.0 must be a number of at least 0"),
        ("log_level", "verbose", "LOG_LEVEL='verbose' must be one of: DEBUG, INFO, WARNING"),
    ],
)
def test_settings_out_of_range_name_the_variable(field: str, value: Any, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings(**{field: value})
    assert caught.value.message.startswith(message)
    assert caught.value.variable == message.split("=", 1)[0]
    assert isinstance(caught.value, ValueError)  # what callers always caught


@pytest.mark.parametrize(
    "env",
    [
        {"OVER_PROBABILITY_THRESHOLD": "0.5"},
        {"OVER_PROBABILITY_THRESHOLD": "1"},
        {"LEDGER_CACHE_SECONDS": "0", "BACKFILL_AMBIGUITY_MINUTES": "0", "MIN_EDGE": "0"},
        {"BATCH_LEASE_SECONDS": "0.001", "MAX_MODEL_BYTES": " 1 ", "MODEL_CACHE_SIZE": "1"},
        {"LOG_LEVEL": "warning"},
    ],
)
def test_the_edges_of_each_range_are_accepted(env: dict[str, str]) -> None:
    settings = load_settings(env)
    assert settings.max_model_bytes >= 1


def test_a_number_setting_that_is_not_a_number_names_its_form() -> None:
    with pytest.raises(SettingsError, match=r"^MAX_MODEL_BYTES='1e9' must be a whole number"):
        load_settings({"MAX_MODEL_BYTES": "1e9"})
    with pytest.raises(SettingsError, match=r"^MIN_EDGE='inf' must be a number of at least 0$"):
        load_settings({"MIN_EDGE": "inf"})


# --- the batch message ------------------------------------------------------------------------


def test_the_schema_spells_the_limits_patterns() -> None:
    schema = json.loads((schemas_dir() / "prediction_batch.schema.json").read_text())
    properties = schema["properties"]
    assert properties["batch_id"]["pattern"] == f"^{BATCH_ID_PATTERN}$"
    assert properties["system_id"]["pattern"] == f"^{SYSTEM_ID_PATTERN}$"


def message(**changes: Any) -> bytes:
    document = {
        "batch_id": "b-1",
        "system_id": "catboost_v9",
        "game_date": "2026-03-01",
        "run_mode": "OVERNIGHT",
        "rows": [{"player_lookup": "a", "line_value": 20.5}],
    }
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_a_game_date_out_of_range_is_refused(day: str) -> None:
    with pytest.raises(PermanentError) as caught:
        parse_batch_request(message(game_date=day))
    assert caught.value.code == "invalid_message"
    assert caught.value.message == (
        f"batch b-1: game_date {day} is outside {EARLIEST_GAME_DATE}..{LATEST_GAME_DATE}"
    )


@pytest.mark.parametrize("day", ["2000-01-01", "2100-12-31"])
def test_the_ends_of_the_game_date_range_are_accepted(day: str) -> None:
    assert parse_batch_request(message(game_date=day)).game_date == date.fromisoformat(day)


@pytest.mark.parametrize("system_id", ["..", ".hidden", "-x", "_x", "s" * 129])
def test_a_system_id_follows_the_cards_rule(system_id: str) -> None:
    with pytest.raises(PermanentError) as caught:
        parse_batch_request(message(system_id=system_id))
    assert caught.value.message.startswith("batch b-1: system_id: ")
    assert caught.value.message.endswith(
        "(it must be 1-128 letters, digits, _ . - and start with a letter or digit)"
    )


def test_a_huge_value_is_not_quoted_back_whole() -> None:
    with pytest.raises(PermanentError) as caught:
        parse_batch_request(message(system_id="s" * 100_000, batch_id="b" * 100_000))
    assert len(caught.value.message) < 600
    assert "(100000 characters)" in caught.value.message


def request(**changes: Any) -> BatchRequest:
    fields: dict[str, Any] = {
        "batch_id": "b-1",
        "system_id": "catboost_v9",
        "game_date": date(2026, 3, 1),
        "run_mode": RunMode.OVERNIGHT,
        "pin": None,
        "rows": [{"player_lookup": "a", "line_value": 20.5}],
        "rows_uri": None,
    }
    return BatchRequest(**(fields | changes))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"batch_id": "x" * 129}, "bad_batch_id"),
        ({"batch_id": "-starts-badly"}, "bad_batch_id"),
        ({"system_id": "catboost v9"}, "bad_system_id"),
        ({"game_date": date(1, 1, 1)}, "bad_game_date"),
        ({"pin": ModelPin(model_sha256="ABC")}, "bad_model_pin"),
        ({"pin": ModelPin(model_file_name="x" * 1025)}, "bad_model_pin"),
    ],
)
def test_a_request_is_checked_before_it_is_encoded(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(PermanentError) as caught:
        request(**changes).encode()
    assert caught.value.code == code


def test_a_checked_request_round_trips() -> None:
    sent = request(pin=ModelPin(model_file_name="m.cbm"))
    assert parse_batch_request(sent.encode()) == sent


# --- a card's trained_at ----------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def model_with(data: bytes, folder: Path, facts: dict[str, str]) -> bytes:
    model = catboost.CatBoost()
    model.load_model(blob=data)
    metadata = model.get_metadata()
    for key, value in facts.items():
        metadata[key] = value
    path = folder / "edited.cbm"
    model.save_model(str(path))
    return path.read_bytes()


def card_at(data: bytes, trained_at: datetime, now: datetime = NOW) -> Any:
    obj = StoredObject(
        bucket="models", name="models/m.cbm", metadata={"trained_at": trained_at.isoformat()}
    )
    return extract_card(data, obj, max_bytes=10**9, now=now)


def test_trained_at_may_be_up_to_the_clock_skew_ahead(models: Any) -> None:
    data = models.factless.read_bytes()
    assert card_at(data, NOW + TRAINED_AT_CLOCK_SKEW).trained_at == NOW + TRAINED_AT_CLOCK_SKEW
    with pytest.raises(PermanentError) as caught:
        card_at(data, NOW + TRAINED_AT_CLOCK_SKEW + timedelta(seconds=1))
    assert caught.value.code == "bad_metadata"
    assert caught.value.message == (
        "gs://models/models/m.cbm: trained_at 2026-03-01T12:10:01Z is in the future (now "
        "2026-03-01T12:00:00Z; 10 minutes of clock skew allowed) (trained_at from object "
        "metadata)"
    )


def test_a_catboost_declared_trained_at_before_its_window_ends_is_refused(
    old_model_bytes: bytes, tmp_path: Path
) -> None:
    data = model_with(old_model_bytes, tmp_path, {"trained_at": "2026-01-02T00:00:00Z"})
    obj = StoredObject(bucket="models", name="models/m.cbm")
    with pytest.raises(PermanentError) as caught:
        extract_card(data, obj, max_bytes=10**9)
    assert caught.value.message == (
        "gs://models/models/m.cbm: trained_at 2026-01-02T00:00:00Z is before the training "
        "window ends (training_end_date 2026-01-31): a model is trained after its data "
        "(trained_at from catboost metadata)"
    )
    # The real model's trained_at (the morning after its window) passes.
    assert extract_card(old_model_bytes, obj, max_bytes=10**9).trained_at is not None


def test_catboost_s_own_clock_is_held_to_the_window_too(models: Any) -> None:
    """A model with no declared trained_at: CatBoost's finish time stands in, and a window
    declared to end after it cannot be."""
    obj = StoredObject(
        bucket="models", name="models/m.cbm", metadata={"training_end_date": "2100-01-01"}
    )
    with pytest.raises(PermanentError) as caught:
        extract_card(models.factless.read_bytes(), obj, max_bytes=10**9)
    assert re.fullmatch(
        r"gs://models/models/m\.cbm: trained_at \S+Z is before the training window ends "
        r"\(training_end_date 2100-01-01\): a model is trained after its data \(trained_at "
        r"from catboost train finish time\)",
        caught.value.message,
    ), caught.value.message
