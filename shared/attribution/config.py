"""Settings from the environment, read once per process; every knob has a default.

Precedence: an explicit argument (tests, CLI flags) over the environment over the default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from attribution.errors import SettingsError


class Backend(StrEnum):
    """A preset for the three ports below; each can be overridden on its own."""

    EMBEDDED = "embedded"
    GCP = "gcp"


_E = TypeVar("_E", bound=StrEnum)


class ObjectStoreKind(StrEnum):
    LOCAL = "local"
    GCS = "gcs"


class WarehouseKind(StrEnum):
    DUCKDB = "duckdb"
    BIGQUERY = "bigquery"


class PublisherKind(StrEnum):
    INPROCESS = "inprocess"
    PUBSUB = "pubsub"


class DuckDBAccess(StrEnum):
    # The process keeps the file open (fastest; no other process can open it meanwhile).
    EXCLUSIVE = "exclusive"
    # The file is opened per operation, so several processes can take turns (the local stack
    # and the CLI next to it).
    SHARED = "shared"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{name}={raw!r} must be {_form(name)}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{name}={raw!r} must be {_form(name)}") from None
    if not math.isfinite(value):
        raise SettingsError(name, f"{name}={raw!r} must be {_form(name)}")
    return value


def _choice(env: Mapping[str, str], name: str, kind: type[_E]) -> _E | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise SettingsError(name, f"{name}={raw!r} must be one of: {allowed}") from None


@dataclass(frozen=True)
class _Limit:
    """The values one numeric setting may take."""

    variable: str
    whole: bool
    low: float
    high: float | None = None
    low_included: bool = True

    def allows(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value >= self.low if self.low_included else value > self.low
        return above and (self.high is None or value <= self.high)

    @property
    def form(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        low = f"{self.low:g}"
        if self.high is not None:
            return f"{kind} from {low} to {self.high:g}"
        return f"{kind} of at least {low}" if self.low_included else f"{kind} greater than {low}"


# Every numeric setting, by field: its variable and the values that make sense.
_LIMITS: dict[str, _Limit] = {
    "max_model_bytes": _Limit("MAX_MODEL_BYTES", whole=True, low=1),
    "min_edge": _Limit("MIN_EDGE", whole=False, low=0),
    # OVER at or above it, UNDER at or below one minus it: below 0.5 the two would overlap.
    "over_probability_threshold": _Limit(
        "OVER_PROBABILITY_THRESHOLD", whole=False, low=0.5, high=1
    ),
    "ledger_cache_seconds": _Limit("LEDGER_CACHE_SECONDS", whole=False, low=0),
    "model_cache_size": _Limit("MODEL_CACHE_SIZE", whole=True, low=1),
    "backfill_ambiguity_minutes": _Limit("BACKFILL_AMBIGUITY_MINUTES", whole=False, low=0),
    "batch_lease_seconds": _Limit("BATCH_LEASE_SECONDS", whole=False, low=0, low_included=False),
}
_BY_VARIABLE = {limit.variable: limit for limit in _LIMITS.values()}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _form(variable: str) -> str:
    limit = _BY_VARIABLE.get(variable)
    return limit.form if limit else "a number"


def _prefix(raw: str) -> str:
    raw = raw.strip("/")
    return f"{raw}/" if raw else ""


@dataclass(frozen=True)
class Settings:
    backend: Backend = Backend.EMBEDDED
    # Per-port choices; None takes the backend's (embedded: local, duckdb, inprocess;
    # gcp: gcs, bigquery, pubsub). The local stack mixes them: gcs, duckdb, pubsub.
    object_store: ObjectStoreKind | None = None
    warehouse: WarehouseKind | None = None
    publisher: PublisherKind | None = None
    duckdb_access: DuckDBAccess = DuckDBAccess.EXCLUSIVE
    home: Path = field(default_factory=lambda: Path(".attribution"))
    project: str | None = None
    models_bucket: str = "models"
    cards_bucket: str = "models"
    models_prefix: str = "models/"
    cards_prefix: str = "cards/"
    batch_inputs_prefix: str = "batches/"
    max_model_bytes: int = 1024 * 1024 * 1024
    dataset: str = "nba_predictions"
    bq_location: str = "US"
    duckdb_path: Path | None = None
    model_uploads_topic: str = "model-uploads"
    model_cards_topic: str = "model-cards"
    prediction_batches_topic: str = "prediction-batches"
    verification_requests_topic: str = "verification-requests"
    # "auto": Slack / email from SLACK_WEBHOOK_URL and SMTP_* (attribution.alerts.channel_settings),
    # console when neither is set; "console": console only. A Settings built in code (tests)
    # stays on the console; load_settings() (the deployed functions) defaults to "auto".
    notifier: str = "console"
    log_level: str = "INFO"
    min_edge: float = 1.0
    # An over/under classifier picks a side only when it is at least this likely to win:
    # the break-even probability at -110 is 110/210 = 52.4%.
    over_probability_threshold: float = 0.524
    ledger_cache_seconds: float = 5.0
    model_cache_size: int = 4
    backfill_ambiguity_minutes: float = 30.0
    batch_lease_seconds: float = 30.0

    def __post_init__(self) -> None:
        """Every numeric setting within its limits, the log level a real one: a Settings
        that passes runs; one that does not names the variable and what it accepts."""
        for name, limit in _LIMITS.items():
            value = getattr(self, name)
            if not limit.allows(value) or (limit.whole and value != int(value)):
                raise SettingsError(
                    limit.variable, f"{limit.variable}={value!r} must be {limit.form}"
                )
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(
                "LOG_LEVEL", f"LOG_LEVEL={self.log_level!r} must be one of: {', '.join(LOG_LEVELS)}"
            )

    @property
    def object_store_kind(self) -> ObjectStoreKind:
        if self.object_store is not None:
            return self.object_store
        return ObjectStoreKind.GCS if self.backend is Backend.GCP else ObjectStoreKind.LOCAL

    @property
    def warehouse_kind(self) -> WarehouseKind:
        if self.warehouse is not None:
            return self.warehouse
        return WarehouseKind.BIGQUERY if self.backend is Backend.GCP else WarehouseKind.DUCKDB

    @property
    def publisher_kind(self) -> PublisherKind:
        if self.publisher is not None:
            return self.publisher
        return PublisherKind.PUBSUB if self.backend is Backend.GCP else PublisherKind.INPROCESS

    def named_by(self, env_name: str) -> str | None:
        """The topic or bucket a function manifest names by its variable (``topic_env``,
        ``notifying_bucket_env``), as these settings resolve it."""
        return {
            "MODEL_UPLOADS_TOPIC": self.model_uploads_topic,
            "MODEL_CARDS_TOPIC": self.model_cards_topic,
            "PREDICTION_BATCHES_TOPIC": self.prediction_batches_topic,
            "VERIFICATION_REQUESTS_TOPIC": self.verification_requests_topic,
            "MODELS_BUCKET": self.models_bucket,
        }.get(env_name)

    @property
    def bucket_root(self) -> Path:
        return self.home / "buckets"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.home / "warehouse.duckdb"

    def with_home(self, home: Path) -> Settings:
        return replace(self, home=home)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    models_bucket = env.get("MODELS_BUCKET", "models")
    duckdb_path = env.get("DUCKDB_PATH")
    return Settings(
        backend=_choice(env, "ATTRIBUTION_BACKEND", Backend) or Backend.EMBEDDED,
        object_store=_choice(env, "OBJECT_STORE", ObjectStoreKind),
        warehouse=_choice(env, "WAREHOUSE", WarehouseKind),
        publisher=_choice(env, "PUBLISHER", PublisherKind),
        duckdb_access=_choice(env, "DUCKDB_ACCESS", DuckDBAccess) or DuckDBAccess.EXCLUSIVE,
        home=Path(env.get("ATTRIBUTION_HOME", ".attribution")),
        project=env.get("GCP_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or None,
        models_bucket=models_bucket,
        cards_bucket=env.get("CARDS_BUCKET", models_bucket),
        models_prefix=_prefix(env.get("MODELS_PREFIX", "models/")),
        cards_prefix=_prefix(env.get("CARDS_PREFIX", "cards/")),
        batch_inputs_prefix=_prefix(env.get("BATCH_INPUTS_PREFIX", "batches/")),
        max_model_bytes=_int(env, "MAX_MODEL_BYTES", 1024 * 1024 * 1024),
        dataset=env.get("BQ_DATASET", "nba_predictions"),
        bq_location=env.get("BQ_LOCATION", "US"),
        duckdb_path=Path(duckdb_path) if duckdb_path else None,
        model_uploads_topic=env.get("MODEL_UPLOADS_TOPIC", "model-uploads"),
        model_cards_topic=env.get("MODEL_CARDS_TOPIC", "model-cards"),
        prediction_batches_topic=env.get("PREDICTION_BATCHES_TOPIC", "prediction-batches"),
        verification_requests_topic=env.get("VERIFICATION_REQUESTS_TOPIC", "verification-requests"),
        notifier=env.get("ALERT_NOTIFIER", "auto"),
        log_level=(env.get("LOG_LEVEL") or "INFO").strip().upper(),
        min_edge=_float(env, "MIN_EDGE", 1.0),
        over_probability_threshold=_float(env, "OVER_PROBABILITY_THRESHOLD", 0.524),
        ledger_cache_seconds=_float(env, "LEDGER_CACHE_SECONDS", 5.0),
        model_cache_size=_int(env, "MODEL_CACHE_SIZE", 4),
        backfill_ambiguity_minutes=_float(env, "BACKFILL_AMBIGUITY_MINUTES", 30.0),
        batch_lease_seconds=_float(env, "BATCH_LEASE_SECONDS", 30.0),
    )
