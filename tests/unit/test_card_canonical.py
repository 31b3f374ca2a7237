"""The card's canonical form: spelling never changes card_id, content always does."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from attribution.model_card.card import (
    ATTRIBUTION_COLUMNS,
    DECLARED_FACTS,
    OPTIONAL_FACTS,
    VERSION_2_FIELDS,
    CardStatus,
    FactConflict,
    FactSource,
    ModelCard,
    attribution_columns,
    canonical_json,
    card_from_json,
    compute_card_id,
    required_facts,
    seal,
)
from attribution.model_card.interface import (
    CatBoostOutput,
    FeatureType,
    ModelFeature,
    PredictionType,
)
from attribution.model_card.profile import TrainingProfile, numeric_bins
from attribution.package_folders import schemas_dir

# A card registered before schema version 2, as the code of that time wrote it: its
# card_id must never change.
VERSION_1_CARD = (
    '{"card_id":"5b70fe33d3d5c8af7fcd5863acf160c309e3f665a226188be396763c80b595a9",'
    '"catboost_version":"1.2.10","conflicts":[],"expected_hit_rate":74.6,"expected_mae":4.12,'
    '"fact_sources":{"system_id":"catboost_metadata"},'
    '"feature_names":["points_avg_last_5","points_avg_last_10"],"loss_function":"RMSE",'
    '"missing_facts":[],"model_file_name":"catboost_v9_2026_02.cbm",'
    '"model_generation":"1738400000000000","model_md5":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",'
    '"model_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",'
    '"model_uri":"gs://models/models/catboost_v9_2026_02.cbm",'
    '"params":{"depth":6,"learning_rate":0.08},"schema_version":1,"size_bytes":1234,'
    '"status":"complete","system_id":"catboost_v9","trained_at":"2026-02-01T06:30:00Z",'
    '"training_end_date":"2026-01-31","training_start_date":"2025-11-02","tree_count":300,'
    '"uploaded_at":"2026-02-01T07:00:00.123456Z"}'
)

HEX = "0123456789abcdef"
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
names = st.text(
    # GCS object names hold no "/" within a file name and never CR or LF.
    st.characters(codec="utf-8", exclude_characters="/\r\n"),
    min_size=1,
    max_size=20,
)
system_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}\Z")
timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
dates = st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 1, 1))
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite | names
params = st.dictionaries(
    names,
    st.recursive(
        json_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=5,
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def conflicts(draw: st.DrawFn) -> FactConflict:
    raw = optional(st.text(max_size=12))
    return FactConflict(
        fact=draw(st.sampled_from(DECLARED_FACTS)),
        catboost_metadata=draw(raw),
        object_metadata=draw(raw),
        catboost_train_finish_time=draw(raw),
        chosen=draw(st.sampled_from(list(FactSource))),
    )


@st.composite
def interfaces(draw: st.DrawFn) -> dict[str, Any]:
    """How to call a model, as a schema version 2 card records it: a points model, an
    over/under classifier, or a model batches cannot use."""
    feature_names = draw(st.lists(names, max_size=5, unique=True))
    features = tuple(
        ModelFeature(name=n, index=i, type=draw(st.sampled_from(list(FeatureType))))
        for i, n in enumerate(feature_names)
    )
    base: dict[str, Any] = {
        "features": features,
        "feature_names": tuple(feature_names),
        "nan_mode": draw(optional(st.sampled_from(["Min", "Max", "Forbidden"]))),
        "categorical_missing_value": draw(optional(names)),
        "expected_brier_score": draw(optional(st.floats(0, 1))),
        "expected_log_loss": draw(optional(st.floats(0, 50))),
    }
    kind = draw(st.sampled_from(["points", "classifier", "unservable"]))
    if kind == "points":
        output = draw(st.sampled_from([CatBoostOutput.RAW_FORMULA_VAL, CatBoostOutput.EXPONENT]))
        return base | {"prediction_type": PredictionType.POINTS, "catboost_output": output}
    if kind == "classifier":
        classes = draw(optional(st.lists(names, min_size=2, max_size=2, unique=True)))
        over = None if classes is None else draw(st.sampled_from(classes))
        return base | {
            "prediction_type": PredictionType.OVER_PROBABILITY,
            "catboost_output": CatBoostOutput.PROBABILITY,
            "class_names": None if classes is None else tuple(classes),
            "over_class": over,
        }
    return base | {"servable": False, "unservable_reason": draw(names)}


@st.composite
def card_fields(draw: st.DrawFn, version: int = 2) -> dict[str, Any]:
    """Every input field of a card; status and missing_facts are derived by ``build``."""
    start = draw(optional(dates))
    end = draw(optional(dates))
    if start is not None and end is not None and end < start:
        start, end = end, start
    bucket = draw(st.from_regex(r"\A[a-z0-9][a-z0-9_.\-]{2,20}\Z"))
    file_name = draw(names)
    return {
        "system_id": draw(optional(system_ids)),
        "model_file_name": file_name,
        "model_uri": f"gs://{bucket}/models/{file_name}",
        "model_generation": draw(optional(st.integers(1, 2**62).map(str))),
        "model_sha256": draw(st.text(HEX, min_size=64, max_size=64)),
        "model_md5": draw(optional(st.text(HEX, min_size=32, max_size=32))),
        "size_bytes": draw(st.integers(1, 2**40)),
        "training_start_date": start,
        "training_end_date": end,
        "expected_mae": draw(optional(st.floats(0, 1e6))),
        "expected_hit_rate": draw(optional(st.floats(0, 100))),
        "trained_at": draw(optional(timestamps)),
        "uploaded_at": draw(optional(timestamps)),
        "catboost_version": draw(optional(st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]\Z"))),
        "loss_function": draw(optional(st.sampled_from(["RMSE", "MAE", "Quantile:alpha=0.5"]))),
        "tree_count": draw(st.integers(0, 10_000)),
        "feature_names": tuple(draw(st.lists(names, max_size=6))),
        "params": draw(params),
        "fact_sources": draw(
            st.dictionaries(st.sampled_from(DECLARED_FACTS), st.sampled_from(list(FactSource)))
        ),
        "conflicts": tuple(draw(st.lists(conflicts(), max_size=2))),
    } | ({"schema_version": 1} if version == 1 else draw(interfaces()))


def build(fields: dict[str, Any]) -> ModelCard:
    missing = tuple(
        f for f in required_facts(fields.get("prediction_type")) if fields.get(f) is None
    )
    return seal(
        ModelCard(
            **fields,
            status=CardStatus.INCOMPLETE if missing else CardStatus.COMPLETE,
            missing_facts=missing,
        )
    )


cards = st.one_of(card_fields(), card_fields(version=1)).map(build)

# --- a JSON writer that spells the same document many ways -----------------------------------


def float_spellings(value: float) -> list[str]:
    """JSON number literals that all parse to exactly ``value`` (and stay floats)."""
    if value == 0:
        zero = "-0" if math.copysign(1.0, value) < 0 else "0"
        return [f"{zero}.0", f"{zero}.000", f"{zero}e0", f"{zero}.0E+5"]
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    minus = "-" if sign else ""
    plain = format(Decimal(repr(value)), "f")
    return [
        repr(value),
        f"{minus}{mantissa}e{exponent}",  # 412e-2
        f"{minus}{mantissa}000E{exponent - 3}",  # 412000E-5
        f"{minus}0.{mantissa}e{exponent + len(mantissa)}",  # 0.412e1
        plain + ("000" if "." in plain else ".000"),  # 4.12000
    ]


def spell(value: Any, rnd: random.Random) -> str:
    """Write ``value`` as JSON with random key order, whitespace and number spelling."""

    def space() -> str:
        return "".join(rnd.choice(" \t\n\r") for _ in range(rnd.randint(0, 2)))

    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        body = ",".join(
            f"{space()}{json.dumps(k, ensure_ascii=rnd.random() < 0.5)}{space()}:"
            f"{space()}{spell(v, rnd)}{space()}"
            for k, v in items
        )
        return "{" + body + space() + "}"
    if isinstance(value, list):
        return "[" + ",".join(space() + spell(v, rnd) + space() for v in value) + space() + "]"
    if isinstance(value, float):
        return rnd.choice(float_spellings(value))
    return json.dumps(value, ensure_ascii=rnd.random() < 0.5)


def as_float_if_integral(document: Any) -> Any:
    """Turn integral numbers back into floats (4 -> 4.0), as a non-canonical writer might."""
    if isinstance(document, dict):
        return {k: as_float_if_integral(v) for k, v in document.items()}
    if isinstance(document, list):
        return [as_float_if_integral(v) for v in document]
    if isinstance(document, int) and not isinstance(document, bool) and abs(document) < 2**53:
        return float(document)
    return document


# --- properties ------------------------------------------------------------------------------


@PROPERTY
@given(card=cards, rnd=st.randoms(use_true_random=False))
def test_spelling_never_changes_card_id(card: ModelCard, rnd: random.Random) -> None:
    text = spell(card.to_document(), rnd)
    again = card_from_json(text)
    assert again.card_id == card.card_id
    assert again == card
    assert again.canonical_json() == card.canonical_json()


@PROPERTY
@given(card=cards, rnd=st.randoms(use_true_random=False))
def test_integral_numbers_spelled_as_floats_keep_card_id(
    card: ModelCard, rnd: random.Random
) -> None:
    document = as_float_if_integral(card.to_document())
    assert card_from_json(spell(document, rnd)).card_id == card.card_id


@PROPERTY
@given(card=cards, indent=st.none() | st.integers(0, 4), spaced=st.booleans())
def test_json_dumps_layouts_keep_card_id(card: ModelCard, indent: int | None, spaced: bool) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(card.to_document(), indent=indent, separators=separators, sort_keys=False)
    assert card_from_json(text).card_id == card.card_id
    assert card_from_json(text.encode("utf-8")).card_id == card.card_id


@PROPERTY
@given(card=cards, offset_minutes=st.integers(-14 * 60, 14 * 60))
def test_timestamp_offsets_keep_card_id(card: ModelCard, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    document = card.to_document()
    for field in ("trained_at", "uploaded_at"):
        value = getattr(card, field)
        if value is not None:
            document[field] = value.astimezone(zone).isoformat()
    assert card_from_json(json.dumps(document)).card_id == card.card_id


@pytest.fixture(scope="module")
def card_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "model_card.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@PROPERTY
@given(card=cards)
def test_every_valid_card_satisfies_the_json_schema(
    card_schema: jsonschema.Draft202012Validator, card: ModelCard
) -> None:
    card_schema.validate(json.loads(card.canonical_json()))


def test_canonical_json_is_sorted_and_compact() -> None:
    text = canonical_json({"b": 1.0, "a": [0.1, 2.50, 1e22], "c": {"z": None, "y": "é"}})
    assert text == '{"a":[0.1,2.5,1e+22],"b":1,"c":{"y":"é","z":null}}'


# Changing any one input field gives a different card: a new value for each field is drawn
# from these, and kept when it differs from the old one.
FIELD_CHANGES: dict[str, st.SearchStrategy[Any]] = {
    "system_id": optional(system_ids),
    "model_file_name": names,
    "model_generation": optional(st.integers(1, 2**62).map(str)),
    "model_sha256": st.text(HEX, min_size=64, max_size=64),
    "model_md5": optional(st.text(HEX, min_size=32, max_size=32)),
    "size_bytes": st.integers(1, 2**40),
    "expected_mae": optional(st.floats(0, 1e6)),
    "expected_hit_rate": optional(st.floats(0, 100)),
    "trained_at": optional(timestamps),
    "uploaded_at": optional(timestamps),
    "catboost_version": optional(st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]\Z")),
    "loss_function": optional(st.sampled_from(["RMSE", "MAE", "Poisson"])),
    "tree_count": st.integers(0, 10_000),
    "feature_names": st.lists(names, max_size=6).map(tuple),
    "params": params,
    "fact_sources": st.dictionaries(
        st.sampled_from(DECLARED_FACTS), st.sampled_from(list(FactSource))
    ),
    "conflicts": st.lists(conflicts(), max_size=2).map(tuple),
    "training_start_date": optional(dates),
    "training_end_date": optional(dates),
    "expected_brier_score": optional(st.floats(0, 1)),
    "expected_log_loss": optional(st.floats(0, 50)),
    "nan_mode": optional(st.sampled_from(["Min", "Max", "Forbidden"])),
    "categorical_missing_value": optional(names),
    "features": st.lists(
        st.builds(
            ModelFeature,
            name=names,
            index=st.integers(0, 50),
            type=st.sampled_from(list(FeatureType)),
        ),
        max_size=4,
    ).map(tuple),
    "training_profile": optional(
        st.builds(
            lambda values, rows: TrainingProfile(
                rows=rows, features=(numeric_bins("points_avg_last_5", np.array(values)),)
            ),
            st.lists(st.floats(0, 60) | st.just(math.nan), min_size=1, max_size=40),
            st.integers(1, 10_000),
        )
    ),
}
# Fields that change together (what a model predicts, how CatBoost is asked, its classes,
# whether it can be served): changed as a whole interface, below.
INTERFACE_FIELDS = {
    "prediction_type",
    "catboost_output",
    "class_names",
    "over_class",
    "servable",
    "unservable_reason",
}


@pytest.mark.parametrize("field", sorted(FIELD_CHANGES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=card_fields(), data=st.data())
def test_any_field_change_changes_card_id(
    field: str, fields: dict[str, Any], data: st.DataObject
) -> None:
    before = build(fields)
    new_value = data.draw(FIELD_CHANGES[field], label=field)
    changed = dict(fields, **{field: new_value})
    if field == "model_file_name":
        changed["model_uri"] = fields["model_uri"].rsplit("/", 1)[0] + "/" + new_value
    start, end = changed["training_start_date"], changed["training_end_date"]
    assume(start is None or end is None or start <= end)
    after = build(changed)
    assume(getattr(after, field) != getattr(before, field))
    assert after.card_id != before.card_id


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=card_fields(), other=interfaces())
def test_a_different_interface_changes_card_id(
    fields: dict[str, Any], other: dict[str, Any]
) -> None:
    before = build(fields)
    changed = {k: v for k, v in fields.items() if k not in INTERFACE_FIELDS}
    changed |= {k: v for k, v in other.items() if k in INTERFACE_FIELDS}
    after = build(changed)
    assume(any(getattr(after, f) != getattr(before, f) for f in INTERFACE_FIELDS))
    assert after.card_id != before.card_id


def test_the_field_change_table_covers_every_input_field() -> None:
    derived = {"card_id", "schema_version", "status", "missing_facts", "model_uri"}
    covered = set(FIELD_CHANGES) | INTERFACE_FIELDS
    assert covered == set(ModelCard.model_fields) - derived


def test_a_version_1_card_keeps_its_card_id_and_says_nothing_of_its_interface() -> None:
    card = card_from_json(VERSION_1_CARD)
    assert card.card_id == "5b70fe33d3d5c8af7fcd5863acf160c309e3f665a226188be396763c80b595a9"
    assert card.schema_version == 1
    assert card.interface is None
    assert card.canonical_json() == VERSION_1_CARD
    assert not VERSION_2_FIELDS & set(json.loads(card.canonical_json()))


def test_a_version_1_card_cannot_carry_version_2_fields() -> None:
    document = json.loads(VERSION_1_CARD)
    document.pop("card_id")
    with pytest.raises(ValidationError, match="schema version 1"):
        ModelCard.model_validate(document | {"nan_mode": "Min"})


@PROPERTY
@given(fields=card_fields())
def test_a_version_2_card_carries_its_interface(fields: dict[str, Any]) -> None:
    card = build(fields)
    interface = card.interface
    assert interface is not None
    assert interface.prediction_type == fields.get("prediction_type")
    assert interface.servable == fields.get("servable", True)
    assert interface.features == fields["features"]


def test_a_classifier_card_does_not_need_an_expected_mae() -> None:
    assert "expected_mae" not in required_facts(PredictionType.OVER_PROBABILITY)
    assert "expected_mae" in required_facts(PredictionType.POINTS)
    assert set(OPTIONAL_FACTS).isdisjoint(required_facts(None))


# --- refusals --------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(card=cards, wrong=st.text(HEX, min_size=64, max_size=64))
def test_a_wrong_stored_card_id_is_refused(card: ModelCard, wrong: str) -> None:
    assume(wrong != card.card_id)
    document = card.to_document() | {"card_id": wrong}
    with pytest.raises(ValueError, match="does not match"):
        card_from_json(json.dumps(document))
    with pytest.raises(ValidationError, match="does not match"):
        ModelCard.model_validate(document)


@settings(max_examples=50, deadline=None)
@given(card=cards)
def test_content_edited_under_a_kept_card_id_is_refused(card: ModelCard) -> None:
    document = card.to_document()
    document["tree_count"] = card.tree_count + 1
    with pytest.raises(ValueError, match="does not match"):
        card_from_json(json.dumps(document))


@pytest.fixture(scope="module")
def sample_card() -> ModelCard:
    return build(
        {
            "system_id": "catboost_v9",
            "model_file_name": "catboost_v9_2026_02.cbm",
            "model_uri": "gs://models/models/catboost_v9_2026_02.cbm",
            "model_generation": "1738400000000000",
            "model_sha256": "a" * 64,
            "model_md5": "b" * 32,
            "size_bytes": 1234,
            "training_start_date": date(2025, 11, 2),
            "training_end_date": date(2026, 1, 31),
            "expected_mae": 4.12,
            "expected_hit_rate": 74.6,
            "trained_at": datetime(2026, 2, 1, 6, 30, tzinfo=UTC),
            "uploaded_at": datetime(2026, 2, 1, 7, 0, 0, 123456, tzinfo=UTC),
            "catboost_version": "1.2.10",
            "loss_function": "RMSE",
            "tree_count": 300,
            "feature_names": ("points_avg_last_5", "points_avg_last_10"),
            "params": {"depth": 6, "learning_rate": 0.08},
            "fact_sources": {"system_id": FactSource.CATBOOST_METADATA},
            "conflicts": (),
            "features": (
                ModelFeature(name="points_avg_last_5", index=0, type=FeatureType.NUMERIC),
                ModelFeature(name="points_avg_last_10", index=1, type=FeatureType.NUMERIC),
            ),
            "nan_mode": "Min",
            "prediction_type": PredictionType.POINTS,
            "catboost_output": CatBoostOutput.RAW_FORMULA_VAL,
        }
    )


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["expected_mae", "expected_hit_rate", "params"])
def test_non_finite_numbers_are_refused(sample_card: ModelCard, literal: str, where: str) -> None:
    document = sample_card.to_document()
    document.pop("card_id")
    text = json.dumps(document)
    if where == "params":
        text = text.replace('"learning_rate": 0.08', f'"learning_rate": {literal}')
    else:
        text = text.replace(f'"{where}": {document[where]}', f'"{where}": {literal}')
    assert literal in text
    with pytest.raises(ValueError):
        card_from_json(text)


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(ValueError):
        canonical_json({"x": [float("inf")]})


def test_the_sample_card_has_a_pinned_spelling(sample_card: ModelCard) -> None:
    text = sample_card.canonical_json()
    assert text.startswith('{"card_id":"')
    assert '"uploaded_at":"2026-02-01T07:00:00.123456Z"' in text
    assert '"trained_at":"2026-02-01T06:30:00Z"' in text
    assert '"expected_mae":4.12' in text
    assert ": " not in text
    assert ", " not in text
    assert sample_card.card_id == compute_card_id(sample_card)
    assert len(sample_card.card_id) == 64


def test_status_and_missing_facts_must_agree(sample_card: ModelCard) -> None:
    document = sample_card.to_document()
    document.pop("card_id")
    with pytest.raises(ValidationError, match="status"):
        ModelCard.model_validate(document | {"status": "incomplete"})
    with pytest.raises(ValidationError, match="missing_facts"):
        ModelCard.model_validate(document | {"expected_mae": None})
    incomplete = ModelCard.model_validate(
        document | {"expected_mae": None, "status": "incomplete", "missing_facts": ["expected_mae"]}
    )
    assert not incomplete.is_complete


def test_cards_are_immutable(sample_card: ModelCard) -> None:
    with pytest.raises(ValidationError):
        sample_card.expected_mae = 1.0


# The product's specification names these six per prediction row, beside the card's identity.
SPECIFIED_COLUMNS = {
    "model_file_name": "model_file_name",
    "model_training_start_date": "training_start_date",
    "model_training_end_date": "training_end_date",
    "model_expected_mae": "expected_mae",
    "model_expected_hit_rate": "expected_hit_rate",
    "model_trained_at": "trained_at",
}


@settings(max_examples=25)
@given(card=cards)
def test_the_attribution_columns_are_the_specified_six_and_the_cards_identity(
    card: ModelCard,
) -> None:
    columns = attribution_columns(card)
    assert tuple(columns) == ATTRIBUTION_COLUMNS
    assert set(columns) == set(SPECIFIED_COLUMNS) | {"model_sha256", "model_card_id"}
    for column, field in SPECIFIED_COLUMNS.items():
        assert columns[column] == getattr(card, field)
    assert (columns["model_sha256"], columns["model_card_id"]) == (card.model_sha256, card.card_id)
