"""Building a card from real CatBoost bytes: sources, precedence, conflicts and bad input."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import catboost
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.devtools.training import TrainingSpec, model_features, train_model
from attribution.errors import PermanentError
from attribution.model_card.card import (
    DECLARED_FACTS,
    OMITTED_WHEN_ABSENT,
    VERSION_2_FIELDS,
    CardStatus,
    FactSource,
    ModelCard,
    card_from_json,
)
from attribution.model_card.extraction import LoadedModel, extract_card, load_catboost
from attribution.objects import StoredObject, check_object_name
from attribution.package_folders import schemas_dir

LIMIT = 50 * 1024 * 1024
_names = itertools.count()


def stored(name: str = "models/catboost_v9.cbm", **kwargs: Any) -> StoredObject:
    defaults: dict[str, Any] = {
        "bucket": "models",
        "generation": "1738400000000001",
        "time_created": datetime(2026, 2, 1, 7, 0, tzinfo=UTC),
    }
    return StoredObject(name=name, **(defaults | kwargs))


def edited(
    data: bytes,
    folder: Path,
    facts: Mapping[str, str] | None = None,
    *,
    drop: tuple[str, ...] = (),
) -> bytes:
    """The same model with CatBoost metadata keys set or removed (saved through CatBoost)."""
    model = catboost.CatBoost()
    model.load_model(blob=data)
    metadata = model.get_metadata()
    for key in drop:
        del metadata[key]
    for key, value in (facts or {}).items():
        metadata[key] = value
    out = folder / f"edited_{next(_names)}.cbm"
    model.save_model(str(out))
    return out.read_bytes()


def card_of(data: bytes, obj: StoredObject | None = None, **kwargs: Any) -> ModelCard:
    return extract_card(data, obj or stored(), max_bytes=kwargs.pop("max_bytes", LIMIT), **kwargs)


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "model_card.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_a_trained_model_gives_a_complete_card(old_model_bytes: bytes) -> None:
    md5 = hashlib.md5(old_model_bytes).hexdigest()
    card = card_of(old_model_bytes, stored(md5_hex=md5))
    assert card.status is CardStatus.COMPLETE
    assert card.missing_facts == ()
    assert card.system_id == "catboost_v9"
    assert card.training_start_date == date(2025, 11, 2)
    assert card.training_end_date == date(2026, 1, 31)
    assert card.expected_mae == 4.12
    assert card.expected_hit_rate == 74.6
    assert card.trained_at == datetime(2026, 2, 1, 6, 30, tzinfo=UTC)
    assert card.fact_sources == dict.fromkeys(DECLARED_FACTS, FactSource.CATBOOST_METADATA)
    assert card.conflicts == ()
    # What the object store knows.
    assert card.model_file_name == "catboost_v9.cbm"
    assert card.model_uri == "gs://models/models/catboost_v9.cbm"
    assert card.model_generation == "1738400000000001"
    assert card.uploaded_at == datetime(2026, 2, 1, 7, 0, tzinfo=UTC)
    assert card.model_sha256 == hashlib.sha256(old_model_bytes).hexdigest()
    assert card.model_md5 == md5
    assert card.size_bytes == len(old_model_bytes)
    # What CatBoost itself reports.
    assert card.catboost_version == catboost.__version__
    assert card.loss_function == "RMSE"
    assert card.tree_count == 30
    assert card.feature_names == model_features(categorical=True, over_under=False)
    assert card.params["depth"] == 4
    assert card.params["iterations"] == 30


def test_the_same_bytes_and_object_always_give_the_same_card(old_model_bytes: bytes) -> None:
    first, second = card_of(old_model_bytes), card_of(old_model_bytes)
    assert first.card_id == second.card_id
    assert card_from_json(first.canonical_json()) == first
    other_generation = card_of(old_model_bytes, stored(generation="2"))
    assert other_generation.card_id != first.card_id


def test_the_md5_is_the_one_the_store_reports(old_model_bytes: bytes) -> None:
    given_md5 = "0" * 32
    assert card_of(old_model_bytes, stored(md5_hex=given_md5)).model_md5 == given_md5
    assert card_of(old_model_bytes, stored(md5_hex=None)).model_md5 is None


def test_real_cards_satisfy_the_json_schema(
    models: Any, card_schema: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    conflicting = edited(models.old.read_bytes(), tmp_path, {"expected_mae": "4.5"})
    documents = [
        card_of(models.old.read_bytes()).to_document(),
        card_of(models.retrain.read_bytes(), stored(generation=None)).to_document(),
        card_of(models.factless.read_bytes(), stored(time_created=None)).to_document(),
        card_of(conflicting, stored(metadata={"expected_mae": "4.12"})).to_document(),
    ]
    for document in documents:
        card_schema.validate(document)
    schema: dict[str, Any] = dict(card_schema.schema)  # type: ignore[arg-type]
    assert set(schema["properties"]) == set(ModelCard.model_fields)
    version_2 = schema["allOf"][1]["then"]["required"]
    optional = set(OMITTED_WHEN_ABSENT)  # absent from a card without one, never null
    assert set(schema["required"]) | set(version_2) | optional == set(ModelCard.model_fields)
    assert set(version_2) == VERSION_2_FIELDS


BROKEN_DOCUMENTS: dict[str, Any] = {
    "unknown field": {"owner": "someone"},
    "short sha256": {"model_sha256": "abc123"},
    "upper-case sha256": {"model_sha256": "A" * 64},
    "bad md5": {"model_md5": "x" * 32},
    "bad card_id": {"card_id": ""},
    "date with a time": {"training_start_date": "2025-11-02T00:00:00Z"},
    "impossible date": {"training_end_date": "2026-02-30"},
    "timestamp without zone": {"trained_at": "2026-02-01T06:30:00"},
    "timestamp with offset": {"trained_at": "2026-02-01T06:30:00+01:00"},
    "status outside the enum": {"status": "published"},
    "complete with missing facts": {"missing_facts": ["expected_mae"]},
    "incomplete without missing facts": {"status": "incomplete"},
    "unknown missing fact": {"status": "incomplete", "missing_facts": ["owner"]},
    "unknown fact source": {"fact_sources": {"system_id": "a_guess"}},
    "hit rate over 100": {"expected_hit_rate": 101},
    "negative mae": {"expected_mae": -1},
    "mae as text": {"expected_mae": "4.12"},
    "empty file": {"size_bytes": 0},
    "bad system_id": {"system_id": "../etc"},
    "not a gs uri": {"model_uri": "/tmp/model.cbm"},
    "schema version 3": {"schema_version": 3},
    "version 1 with an interface": {"schema_version": 1},
    "version 2 without its interface": {"features": None},
    "unknown feature type": {"features": [{"name": "x", "index": 0, "type": "image"}]},
    "servable without a prediction type": {"prediction_type": None},
    "unservable without a reason": {"servable": False},
    "unknown prediction type": {"prediction_type": "log_points"},
    "conflict without chosen": {"conflicts": [{"fact": "expected_mae"}]},
}


@pytest.mark.parametrize("change", list(BROKEN_DOCUMENTS), ids=list(BROKEN_DOCUMENTS))
def test_broken_documents_fail_the_schema(
    change: str, old_model_bytes: bytes, card_schema: jsonschema.Draft202012Validator
) -> None:
    document = card_of(old_model_bytes).to_document() | BROKEN_DOCUMENTS[change]
    assert not card_schema.is_valid(document)


def test_a_document_missing_a_field_fails_the_schema(
    old_model_bytes: bytes, card_schema: jsonschema.Draft202012Validator
) -> None:
    document = card_of(old_model_bytes).to_document()
    for field in set(document) - set(OMITTED_WHEN_ABSENT):
        assert not card_schema.is_valid({k: v for k, v in document.items() if k != field}), field


# --- where each declared fact comes from -----------------------------------------------------

OBJECT_FACTS = {
    "system_id": "catboost_v8",
    "training_start_date": "2025-10-01",
    "training_end_date": "2025-12-31",
    "expected_mae": "4.5",
    "expected_hit_rate": "70",
    "trained_at": "2026-01-02T03:04:05Z",
}


def test_object_metadata_supplies_facts_catboost_lacks(models: Any) -> None:
    card = card_of(models.factless.read_bytes(), stored(metadata=OBJECT_FACTS))
    assert card.status is CardStatus.COMPLETE
    assert card.system_id == "catboost_v8"
    assert card.training_start_date == date(2025, 10, 1)
    assert card.expected_hit_rate == 70.0
    assert card.trained_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert card.fact_sources == dict.fromkeys(DECLARED_FACTS, FactSource.OBJECT_METADATA)
    assert card.conflicts == ()


def test_catboost_metadata_wins_and_the_disagreement_is_recorded(old_model_bytes: bytes) -> None:
    card = card_of(old_model_bytes, stored(metadata=OBJECT_FACTS))
    assert card.system_id == "catboost_v9"
    assert card.expected_mae == 4.12
    assert card.training_end_date == date(2026, 1, 31)
    assert card.fact_sources == dict.fromkeys(DECLARED_FACTS, FactSource.CATBOOST_METADATA)
    conflicts = {c.fact: c for c in card.conflicts}
    assert set(conflicts) == set(DECLARED_FACTS)
    mae = conflicts["expected_mae"]
    assert (mae.catboost_metadata, mae.object_metadata) == ("4.12", "4.5")
    assert mae.chosen is FactSource.CATBOOST_METADATA
    assert card.card_id != card_of(old_model_bytes).card_id


def test_the_same_value_spelled_differently_is_no_conflict(old_model_bytes: bytes) -> None:
    same = {
        "expected_mae": "4.120",
        "expected_hit_rate": " 74.60 ",
        "trained_at": "2026-02-01T07:30:00+01:00",
        "training_end_date": "2026-01-31",
    }
    card = card_of(old_model_bytes, stored(metadata=same))
    assert card.conflicts == ()
    assert card.fact_sources["expected_mae"] is FactSource.CATBOOST_METADATA


def test_sources_mix_fact_by_fact(old_model_bytes: bytes, tmp_path: Path) -> None:
    data = edited(old_model_bytes, tmp_path, drop=("expected_mae", "expected_hit_rate"))
    card = card_of(data, stored(metadata={"expected_mae": "3.9", "expected_hit_rate": "72.5"}))
    assert card.is_complete
    assert card.expected_mae == 3.9
    assert card.fact_sources["expected_mae"] is FactSource.OBJECT_METADATA
    assert card.fact_sources["expected_hit_rate"] is FactSource.OBJECT_METADATA
    assert card.fact_sources["system_id"] is FactSource.CATBOOST_METADATA


def test_blank_metadata_counts_as_missing(old_model_bytes: bytes, tmp_path: Path) -> None:
    data = edited(old_model_bytes, tmp_path, {"expected_mae": "  "})
    card = card_of(data, stored(metadata={"expected_hit_rate": ""}))
    assert card.missing_facts == ("expected_mae",)
    assert card.status is CardStatus.INCOMPLETE


def test_train_finish_time_is_the_last_resort_for_trained_at(models: Any) -> None:
    meta = catboost.CatBoost()
    meta.load_model(str(models.factless))
    finish = meta.get_metadata()["train_finish_time"]
    card = card_of(models.factless.read_bytes())
    assert card.trained_at == datetime.fromisoformat(finish.replace("Z", "+00:00"))
    assert card.fact_sources == {"trained_at": FactSource.CATBOOST_TRAIN_FINISH_TIME}
    # A declared trained_at, even from the object, beats CatBoost's own clock.
    declared = card_of(
        models.factless.read_bytes(), stored(metadata={"trained_at": "2026-01-05T00:00:00Z"})
    )
    assert declared.trained_at == datetime(2026, 1, 5, tzinfo=UTC)
    assert declared.fact_sources["trained_at"] is FactSource.OBJECT_METADATA
    assert declared.conflicts == ()


def test_a_model_without_declared_facts_makes_an_incomplete_card(
    models: Any, card_schema: jsonschema.Draft202012Validator
) -> None:
    card = card_of(models.factless.read_bytes(), stored("models/factless.cbm"))
    assert card.status is CardStatus.INCOMPLETE
    assert card.missing_facts == (
        "system_id",
        "training_start_date",
        "training_end_date",
        "expected_mae",
        "expected_hit_rate",
    )
    assert card.system_id is None
    assert card.model_file_name == "factless.cbm"
    assert len(card.model_sha256) == 64
    card_schema.validate(card.to_document())


def test_with_no_train_finish_time_trained_at_is_missing_too(models: Any, tmp_path: Path) -> None:
    data = edited(models.factless.read_bytes(), tmp_path, drop=("train_finish_time",))
    card = card_of(data)
    assert card.missing_facts == DECLARED_FACTS


# --- bad input: a clear PermanentError naming the object and the problem --------------------


def assert_refused(
    data: bytes, code: str, *problem: str, obj: StoredObject | None = None, **kwargs: Any
) -> PermanentError:
    obj = obj or stored()
    with pytest.raises(PermanentError) as caught:
        card_of(data, obj, **kwargs)
    error = caught.value
    assert error.code == code, str(error)
    assert obj.uri in error.message
    for words in problem:
        assert words in error.message, error.message
    return error


def never_load(data: bytes) -> LoadedModel:
    raise AssertionError("the model should not have been loaded")


def test_a_zero_byte_file_is_refused_before_loading() -> None:
    assert_refused(b"", "empty_file", "empty", "0 bytes", loader=never_load)


def test_a_file_over_the_size_limit_is_refused_before_loading(old_model_bytes: bytes) -> None:
    limit = len(old_model_bytes) - 1
    assert_refused(
        old_model_bytes,
        "too_large",
        f"{len(old_model_bytes)} bytes",
        f"{limit}-byte limit",
        max_bytes=limit,
        loader=never_load,
    )
    assert card_of(old_model_bytes, max_bytes=len(old_model_bytes)).size_bytes == limit + 1


@pytest.mark.parametrize(
    "content",
    [
        b"not a model at all\n",
        b'{"model": "catboost", "version": 1}',
        b"PK\x03\x04" + b"\x00" * 100,
        b"\x80\x04\x95" + b"pickle" * 10,
        b"CBM",
    ],
    ids=["text", "json", "zip", "pickle", "short-magic"],
)
def test_a_non_catboost_file_named_cbm_is_refused(content: bytes) -> None:
    assert_refused(content, "not_catboost", "not a CatBoost")


def test_a_truncated_model_is_refused(old_model_bytes: bytes) -> None:
    for cut in (4, 6, 8, 100, len(old_model_bytes) // 2, len(old_model_bytes) - 1):
        obj = stored(f"models/cut{cut}.cbm")
        assert_refused(old_model_bytes[:cut], "corrupt_model", "truncated", obj=obj)


@settings(max_examples=40, deadline=None)
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_no_truncation_of_a_model_is_accepted(old_model_bytes: bytes, fraction: float) -> None:
    cut = 4 + int(fraction * (len(old_model_bytes) - 4))
    with pytest.raises(PermanentError) as caught:
        card_of(old_model_bytes[:cut])
    assert caught.value.code == "corrupt_model"


def test_no_cut_through_a_categorical_models_tables_is_accepted(old_model_bytes: bytes) -> None:
    """CatBoost crashes the process loading some of these: each must be refused first."""
    core = int.from_bytes(old_model_bytes[4:8], "little")
    tables_start = 8 + core
    assert len(old_model_bytes) > tables_start  # the model has categorical tables
    for cut in range(tables_start - 2, len(old_model_bytes)):
        with pytest.raises(PermanentError, match="truncated") as caught:
            card_of(old_model_bytes[:cut])
        assert caught.value.code == "corrupt_model"
    with pytest.raises(PermanentError, match="bytes after the end of the model"):
        card_of(old_model_bytes + b"\0")


def test_garbage_appended_to_a_numeric_model_is_refused(tmp_path: Path) -> None:
    path = train_model(
        TrainingSpec(categorical=False, rows=500, iterations=5, depth=2), tmp_path / "n.cbm"
    )
    data = path.read_bytes()
    assert card_of(data).features  # the file as CatBoost wrote it is fine
    for garbage in (b"\0", b"appended by a careless copy"):
        with pytest.raises(PermanentError, match="bytes after the end of the model"):
            card_of(data + garbage)


def test_a_corrupt_model_is_refused(old_model_bytes: bytes) -> None:
    damaged = bytearray(old_model_bytes)
    for offset in range(16, 48):
        damaged[offset] ^= 0xFF
    error = assert_refused(bytes(damaged), "corrupt_model", "CatBoost could not load")
    assert "Flatbuffers" in error.message or "verification" in error.message


@pytest.mark.parametrize(
    "case",
    [
        ("training_start_date", "02/11/2025", "is not a date"),
        ("training_end_date", "2026-02-30", "is not a date"),
        ("training_end_date", "soon", "is not a date"),
        ("expected_mae", "four point one", "is not a number"),
        ("expected_mae", "-1", "outside"),
        ("expected_mae", "nan", "outside"),
        ("expected_hit_rate", "74.6%", "is not a number"),
        ("expected_hit_rate", "120", "outside"),
        ("expected_hit_rate", "inf", "outside"),
        ("trained_at", "yesterday", "is not a timestamp"),
        ("trained_at", "2026-13-01T00:00:00Z", "is not a timestamp"),
        ("system_id", "catboost v9", "system_id"),
        ("system_id", "..", "system_id"),
        ("system_id", "../other_system", "system_id"),
    ],
)
@pytest.mark.parametrize("source", ["catboost", "object"])
def test_unparseable_declared_facts_are_refused(
    old_model_bytes: bytes, tmp_path: Path, case: tuple[str, str, str], source: str
) -> None:
    fact, raw, problem = case
    if source == "catboost":
        data, obj = edited(old_model_bytes, tmp_path, {fact: raw}), stored()
    else:
        data, obj = old_model_bytes, stored(metadata={fact: raw})
    assert_refused(data, "bad_metadata", fact, repr(raw), problem, obj=obj)


def test_training_end_before_start_is_refused(old_model_bytes: bytes, tmp_path: Path) -> None:
    data = edited(old_model_bytes, tmp_path, {"training_end_date": "2025-10-01"})
    assert_refused(data, "bad_metadata", "training_end_date 2025-10-01", "2025-11-02")
    # Also when the two dates come from different sources.
    assert_refused(
        edited(old_model_bytes, tmp_path, drop=("training_end_date",)),
        "bad_metadata",
        "before",
        obj=stored(metadata={"training_end_date": "2025-01-01"}),
    )


def test_an_unparseable_train_finish_time_is_refused(models: Any, tmp_path: Path) -> None:
    data = edited(models.factless.read_bytes(), tmp_path, {"train_finish_time": "whenever"})
    assert_refused(data, "bad_metadata", "trained_at", "'whenever'")


def test_load_catboost_reports_intrinsic_facts(old_model_bytes: bytes) -> None:
    loaded = load_catboost(old_model_bytes)
    assert loaded.tree_count == 30
    assert loaded.loss_function == "RMSE"
    assert loaded.metadata["system_id"] == "catboost_v9"


# --- object names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "models/../../etc/passwd.cbm",
        "../models/x.cbm",
        "/models/x.cbm",
        "models\\..\\x.cbm",
        "models/x\x00.cbm",
    ],
)
def test_names_that_could_escape_the_bucket_folder_are_refused(name: str) -> None:
    with pytest.raises(PermanentError) as caught:
        check_object_name(name)
    assert caught.value.code == "unsafe_object_name"
    assert repr(name) in caught.value.message


def test_an_empty_name_is_not_a_gcs_object_name() -> None:
    with pytest.raises(PermanentError) as caught:
        check_object_name("")
    assert caught.value.code == "bad_object_name"
    assert "1-1024" in caught.value.message


@pytest.mark.parametrize("name", ["models/catboost_v9.cbm", "models/2026/02/v9 final.cbm"])
def test_ordinary_names_are_safe(name: str) -> None:
    assert check_object_name(name) == name
