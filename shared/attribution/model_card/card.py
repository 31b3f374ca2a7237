"""The model card: an immutable, content-addressed description of one model artifact.

``card_id`` is the SHA-256 of the card's canonical JSON (every field but ``card_id``,
sorted keys, no whitespace, floats in Python's shortest round-trip spelling), so the same
artifact and object always give the same card, whoever computes it.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attribution.model_card.interface import ModelInterface, PredictionType
from attribution.model_card.profile import TrainingProfile

CARD_SCHEMA_VERSION = 2

DECLARED_FACTS: tuple[str, ...] = (
    "system_id",
    "training_start_date",
    "training_end_date",
    "expected_mae",
    "expected_hit_rate",
    "trained_at",
)
# Declared when known, never required: the figures an over/under classifier promises.
OPTIONAL_FACTS: tuple[str, ...] = ("expected_brier_score", "expected_log_loss")
# Facts that mean nothing for a model of a given kind, so their absence is no gap.
NOT_APPLICABLE: dict[PredictionType, tuple[str, ...]] = {
    PredictionType.OVER_PROBABILITY: ("expected_mae",),
}
# What schema version 1 cards did not have: left out of their canonical form, so a card
# registered before version 2 keeps its card_id.
VERSION_2_FIELDS: frozenset[str] = frozenset({*ModelInterface.model_fields, *OPTIONAL_FACTS})
# Left out of the canonical form when absent, so a card made before profiles keeps its id.
OMITTED_WHEN_ABSENT: tuple[str, ...] = ("training_profile",)


def required_facts(prediction_type: PredictionType | None) -> tuple[str, ...]:
    skipped = NOT_APPLICABLE.get(prediction_type, ()) if prediction_type else ()
    return tuple(f for f in DECLARED_FACTS if f not in skipped)


class CardStatus(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


class FactSource(StrEnum):
    CATBOOST_METADATA = "catboost_metadata"
    OBJECT_METADATA = "object_metadata"
    CATBOOST_TRAIN_FINISH_TIME = "catboost_train_finish_time"


class FactConflict(BaseModel):
    """Two sources declared different values for one fact; ``chosen`` says which won."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fact: str
    catboost_metadata: str | None = None
    object_metadata: str | None = None
    catboost_train_finish_time: str | None = None
    chosen: FactSource


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; microseconds only when present."""
    value = _utc(value)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


class ModelCard(ModelInterface):
    """What is known about one uploaded model artifact. Never mutated once built.

    Its fields include the model's interface (how to call it); a schema version 1 card
    predates them and says nothing of them: ``interface`` is None and a batch reads the
    interface off the loaded model instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    card_id: str = ""
    schema_version: int = CARD_SCHEMA_VERSION

    system_id: str | None
    model_file_name: str = Field(pattern=r"^[^/\r\n]+$")
    model_uri: str = Field(pattern=r"^gs://[^/\s]+/[^\r\n]+$")
    model_generation: str | None
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    model_md5: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    size_bytes: int = Field(ge=0)

    training_start_date: date | None
    training_end_date: date | None
    expected_mae: float | None = Field(default=None, ge=0)
    expected_hit_rate: float | None = Field(default=None, ge=0, le=100)
    trained_at: datetime | None
    uploaded_at: datetime | None
    expected_brier_score: float | None = Field(default=None, ge=0, le=1)
    expected_log_loss: float | None = Field(default=None, ge=0)

    catboost_version: str | None
    loss_function: str | None
    tree_count: int = Field(ge=0)
    feature_names: tuple[str, ...]
    params: dict[str, Any]

    status: CardStatus
    missing_facts: tuple[str, ...] = ()
    fact_sources: dict[str, FactSource] = Field(default_factory=dict)
    conflicts: tuple[FactConflict, ...] = ()
    training_profile: TrainingProfile | None = None

    @field_validator("trained_at", "uploaded_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)

    @field_validator(
        "expected_mae", "expected_hit_rate", "expected_brier_score", "expected_log_loss"
    )
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return None if value is None else float(value)

    @model_validator(mode="after")
    def _consistent(self) -> ModelCard:
        if (
            self.training_start_date is not None
            and self.training_end_date is not None
            and self.training_end_date < self.training_start_date
        ):
            raise ValueError(
                f"training_end_date {self.training_end_date} is before "
                f"training_start_date {self.training_start_date}"
            )
        if self.schema_version < 2:
            defaults = {
                name: info.default
                for name, info in ModelCard.model_fields.items()
                if name in VERSION_2_FIELDS
            }
            carried = [name for name, value in defaults.items() if getattr(self, name) != value]
            if carried:
                raise ValueError(f"a schema version 1 card has no {', '.join(carried)}")
        elif self.servable and self.prediction_type is None:
            raise ValueError("a servable card says what the model predicts (prediction_type)")
        required = required_facts(self.prediction_type)
        missing = tuple(f for f in required if getattr(self, f) is None)
        if tuple(sorted(self.missing_facts)) != tuple(sorted(missing)):
            raise ValueError(f"missing_facts {self.missing_facts} should be {missing}")
        expected = CardStatus.INCOMPLETE if missing else CardStatus.COMPLETE
        if self.status is not expected:
            raise ValueError(f"status {self.status} should be {expected}")
        if self.card_id and self.card_id != compute_card_id(self):
            raise ValueError("card_id does not match the card's content")
        return self

    def to_document(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field, in canonical spelling."""
        document: dict[str, Any] = _canonical_value(self.model_dump(mode="python"))
        if self.schema_version < 2:
            for name in VERSION_2_FIELDS:
                document.pop(name, None)
        for name in OMITTED_WHEN_ABSENT:
            if document.get(name) is None:
                document.pop(name, None)
        return document

    def canonical_json(self) -> str:
        """The card's canonical JSON, ``card_id`` included."""
        return canonical_json(self.to_document())

    @property
    def is_complete(self) -> bool:
        return self.status is CardStatus.COMPLETE

    @property
    def interface(self) -> ModelInterface | None:
        """How to call the model, as the card recorded it (None on a version 1 card)."""
        if self.schema_version < 2:
            return None
        return ModelInterface.model_validate(
            {name: getattr(self, name) for name in ModelInterface.model_fields}
        )


def _canonical_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _canonical_value(value.model_dump(mode="python"))
    if isinstance(value, dict):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("cards hold finite numbers only")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    return value


def canonical_json(document: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, shortest round-trip floats, integral floats as ints."""
    return json.dumps(
        _canonical_value(document),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def compute_card_id(card: ModelCard) -> str:
    document = card.to_document()
    document.pop("card_id", None)
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def seal(card: ModelCard) -> ModelCard:
    """Return the card with its content-derived ``card_id`` filled in."""
    return card.model_copy(update={"card_id": compute_card_id(card)})


def card_from_json(text: str | bytes) -> ModelCard:
    """Parse a card from any JSON spelling and re-derive its id from content.

    A stored ``card_id`` that does not match the content is an error, never silently fixed.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("a card is a JSON object")
    stored_id = document.pop("card_id", "")
    card = seal(ModelCard.model_validate(document))
    if stored_id and stored_id != card.card_id:
        raise ValueError(f"card_id {stored_id} does not match the card's content ({card.card_id})")
    return card


# The columns a card stamps on every prediction row: the six the product was specified with
# (file, training window, expected MAE and hit rate, trained at) and the card's identity.
ATTRIBUTION_COLUMNS = (
    "model_file_name",
    "model_training_start_date",
    "model_training_end_date",
    "model_expected_mae",
    "model_expected_hit_rate",
    "model_trained_at",
    "model_sha256",
    "model_card_id",
)


def attribution_columns(card: ModelCard) -> dict[str, Any]:
    """The card's attribution columns (``ATTRIBUTION_COLUMNS``), for one prediction row."""
    values = (
        card.model_file_name,
        card.training_start_date,
        card.training_end_date,
        card.expected_mae,
        card.expected_hit_rate,
        card.trained_at,
        card.model_sha256,
        card.card_id,
    )
    return dict(zip(ATTRIBUTION_COLUMNS, values, strict=True))
