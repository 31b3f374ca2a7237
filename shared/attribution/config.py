"""Settings: every environment variable the code reads, declared once, with pydantic-settings.

Each variable is a field of a ``DeclaredSettings`` model (``Settings`` here, with the alert
channels in ``AlertChannels``; ``VerifierSettings`` and the ``VERIFY_<CHECK>_<LEVEL>_<KIND>``
thresholds in ``attribution.verification.settings``): its type, its default, its variable
(``validation_alias``) and what it means (``description``). README.md's configuration table
and the Terraform check are held against these declarations (``declared_variables``).

Two ways to build one, one model:

- in code, ``Settings(home=..., min_edge=2)``: the keywords and the defaults, nothing else.
  ``settings_customise_sources`` keeps only pydantic-settings' init source, so no
  environment variable, ``.env`` file or secrets folder can leak into a Settings a test
  builds.
- from the environment, ``load_settings()`` (``os.environ``) or ``load_settings(mapping)``:
  ``EnvironmentSource``, a pydantic-settings source over that mapping, reads each declared
  variable by its name (case-sensitive), and the values are validated exactly as keywords
  would be.

A value is stripped of surrounding blanks (a secret is kept as given), and a blank one is
no value: the field keeps its default, unless the field says otherwise (``KeepsEmpty``: an
empty prefix is "no prefix", an empty threshold turns that trigger off). A value the field
refuses raises ``SettingsError`` naming the variable and the values it takes, in one line:
``MAX_MODEL_BYTES='abc' must be a whole number of at least 1``.
"""

from __future__ import annotations

import math
import os
import types
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from attribution.errors import SettingsError

# --------------------------------------------------------------------------- declaring


@dataclass(frozen=True)
class KeepsEmpty:
    """Field metadata: an empty value is a value of this field, not "use the default"."""


@dataclass(frozen=True)
class Documented:
    """Field metadata: the default as README states it, for a default computed from others."""

    default: str


@dataclass(frozen=True)
class Form:
    """Field metadata: the values the field takes, in words, when its type does not say."""

    text: str


def _whole_number(value: object) -> object:
    # Python's int(): digits with an optional sign, blanks and _ separators; "30.5" and
    # "1e9" are refused rather than rounded (pydantic alone would take "30.0").
    return int(value) if isinstance(value, str) else value


def _number(value: object) -> object:
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, int | float) and not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _prefix(value: str) -> str:
    value = value.strip("/")
    return f"{value}/" if value else ""


Lower = BeforeValidator(_lower)
Upper = BeforeValidator(_upper)
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Number = Annotated[float, BeforeValidator(_number)]
Prefix = Annotated[str, AfterValidator(_prefix), KeepsEmpty()]


def variable(name: str, meaning: str, *more: str, **constraints: Any) -> Any:
    """A field read from the variable ``name`` (or, when it is not set, from ``more``)."""
    alias: str | AliasChoices = AliasChoices(name, *more) if more else name
    return Field(validation_alias=alias, description=meaning, **constraints)


# --------------------------------------------------------------------------- reading


def variable_names(field: FieldInfo) -> tuple[str, ...]:
    """The variables a field is read from, first the one it is named by."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return (alias,)
    if isinstance(alias, AliasChoices):
        return tuple(choice for choice in alias.choices if isinstance(choice, str))
    return ()


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under ``Annotated`` and ``| None`` (``int`` of ``Annotated[int, ...] | None``),
    and the metadata found on the way."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else (annotation, [])
    if get_origin(annotation) is Annotated:
        inner, *metadata = get_args(annotation)
        base, more = _unwrap(inner)
        for item in metadata:
            more.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        return base, more
    return annotation, []


def _base_type(annotation: Any) -> Any:
    return _unwrap(annotation)[0]


def _metadata(field: FieldInfo) -> list[Any]:
    return [*field.metadata, *_unwrap(field.annotation)[1]]


def _is_secret(field: FieldInfo) -> bool:
    return _base_type(field.annotation) is SecretStr


def _is_declared_model(annotation: Any) -> bool:
    base = _base_type(annotation)
    return isinstance(base, type) and issubclass(base, DeclaredSettings)


class EnvironmentSource(PydanticBaseSettingsSource):
    """The variables ``settings_cls`` declares, from ``env``: by name, stripped (secrets as
    given), a blank value left out unless the field ``KeepsEmpty``. A field that is itself a
    ``DeclaredSettings`` (``Settings.alert_channels``) is read from the same ``env``."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for name in variable_names(field):
            raw = self.env.get(name)
            if raw is None:
                continue
            value = raw if _is_secret(field) else raw.strip()
            if value.strip() or any(isinstance(m, KeepsEmpty) for m in _metadata(field)):
                return value, name, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            base = _base_type(field.annotation)
            if _is_declared_model(base):
                found[field_name] = base.from_environment(self.env)
                continue
            value, key, _ = self.get_field_value(field, field_name)
            if value is not None:
                found[key] = value
        return found


# --------------------------------------------------------------------------- errors


def _bound(metadata: list[Any], name: str) -> float | None:
    """A ``Field(ge=...)``-style bound (pydantic keeps it as annotated_types.Ge and kin)."""
    return next((getattr(m, name) for m in metadata if getattr(m, name, None) is not None), None)


def form_of(field: FieldInfo) -> str:
    """The values ``field`` takes, as an error message says them."""
    metadata = _metadata(field)
    stated = [m.text for m in metadata if isinstance(m, Form)]
    if stated:
        return stated[0]
    base = _base_type(field.annotation)
    if isinstance(base, type) and issubclass(base, Enum):
        return "one of: " + ", ".join(str(member.value) for member in base)
    if get_origin(base) is Literal:
        return "one of: " + ", ".join(str(choice) for choice in get_args(base))
    if base is int or base is float:
        kind = "a whole number" if base is int else "a number"
        low, above, high = (_bound(metadata, bound) for bound in ("ge", "gt", "le"))
        if low is not None and high is not None:
            return f"{kind} from {low:g} to {high:g}"
        if low is not None:
            return f"{kind} of at least {low:g}"
        if above is not None:
            return f"{kind} greater than {above:g}"
        return kind
    return "text"


def _named(
    model: type[DeclaredSettings], values: Mapping[str, Any], error: ValidationError
) -> SettingsError:
    """The first refused value of ``error``, as a SettingsError naming its variable and
    quoting the value as it was given (``values``, by field or variable name)."""
    by_key: dict[str, tuple[str, FieldInfo]] = {}
    for field_name, field in model.model_fields.items():
        names = variable_names(field) or (field_name,)
        for key in (field_name, *names):
            by_key[key] = (names[0], field)
    first = error.errors()[0]
    key = str(first["loc"][0])
    if key not in by_key:
        return SettingsError(key, f"{key}: {first['msg']}")
    name, field = by_key[key]
    shown = "[secret]" if _is_secret(field) else repr(values.get(key, first["input"]))
    return SettingsError(name, f"{name}={shown} must be {form_of(field)}")


# --------------------------------------------------------------------------- the base


class DeclaredSettings(BaseSettings):
    """Values declared as environment variables; built in code from keywords only (see the
    module docstring), or from the environment with ``from_environment``."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        case_sensitive=True,
        validate_by_name=True,
        validate_by_alias=True,
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise _named(type(self), values, error) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, **values: Any) -> Self:
        """Read from ``env`` (``os.environ`` when None); ``values`` are set in code."""
        source = EnvironmentSource(cls, os.environ if env is None else env)
        return cls(**source(), **values)

    @classmethod
    def variables(cls) -> dict[str, FieldInfo]:
        """Every variable this model (and a model it holds) declares, to its field."""
        found: dict[str, FieldInfo] = {}
        for field in cls.model_fields.values():
            base = _base_type(field.annotation)
            if _is_declared_model(base):
                found |= base.variables()
            for name in variable_names(field):
                found[name] = field
        return found


def declared_default(field: FieldInfo) -> str:
    """The field's default as README.md states it ("" for none)."""
    stated = [m.default for m in _metadata(field) if isinstance(m, Documented)]
    if stated:
        return stated[0]
    value = field.get_default(call_default_factory=False)
    if value is None:
        return ""
    return str(value.value if isinstance(value, Enum) else value)


# --------------------------------------------------------------------------- the settings


class Backend(StrEnum):
    """A preset for the three ports below; each can be overridden on its own."""

    EMBEDDED = "embedded"
    GCP = "gcp"


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


class AlertChannels(DeclaredSettings):
    """Where alerts go (``attribution.alerts.channel_settings`` makes the notifier of them).

    Built in code, it has no channel, so "auto" is the console: a test never alerts anyone.
    The secrets are ``SecretStr``: never in a repr, a log or an error message.
    """

    mode: Annotated[Literal["auto", "console"], Lower] = variable(
        "ALERT_NOTIFIER",
        "auto: Slack/email when configured, else the console; console: the console only",
        default="auto",
    )
    channels: Annotated[str | None, Lower] = variable(
        "ALERT_CHANNELS",
        "the configured channels that each deliver every alert: slack, email, or slack,email "
        "(default: every one configured); one configured but not named is the fallback",
        default=None,
    )
    slack_webhook_url: SecretStr | None = variable(
        "SLACK_WEBHOOK_URL", "Slack incoming webhook (secret)", default=None
    )
    smtp_host: str | None = variable("SMTP_HOST", "SMTP server", default=None)
    smtp_port: Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=65535)] | None = (
        variable("SMTP_PORT", "SMTP port (default: the TLS mode's)", default=None)
    )
    smtp_user: str | None = variable("SMTP_USER", "SMTP login", default=None)
    smtp_password: SecretStr | None = variable(
        "SMTP_PASSWORD", "SMTP password (secret)", default=None
    )
    smtp_tls: Annotated[Literal["starttls", "ssl", "none"], Lower] = variable(
        "SMTP_TLS", "starttls, ssl or none", default="starttls"
    )
    email_from: str | None = variable(
        "ALERT_EMAIL_FROM", "sender (default: SMTP_USER if an address)", default=None
    )
    email_to: str | None = variable(
        "ALERT_EMAIL_TO", "recipients, separated by commas", default=None
    )


class Settings(DeclaredSettings):
    backend: Annotated[Backend, Lower] = variable(
        "ATTRIBUTION_BACKEND",
        "embedded (local folder, DuckDB, in-process bus) or gcp: the default of the ports",
        default=Backend.EMBEDDED,
    )
    # Per-port choices; None takes the backend's (embedded: local, duckdb, inprocess;
    # gcp: gcs, bigquery, pubsub). The local stack mixes them: gcs, duckdb, pubsub.
    object_store: Annotated[
        Annotated[ObjectStoreKind, Lower] | None, Documented("from the backend")
    ] = variable("OBJECT_STORE", "local (a folder per bucket) or gcs", default=None)
    warehouse: Annotated[Annotated[WarehouseKind, Lower] | None, Documented("from the backend")] = (
        variable("WAREHOUSE", "duckdb or bigquery", default=None)
    )
    publisher: Annotated[Annotated[PublisherKind, Lower] | None, Documented("from the backend")] = (
        variable("PUBLISHER", "inprocess or pubsub", default=None)
    )
    duckdb_access: Annotated[DuckDBAccess, Lower] = variable(
        "DUCKDB_ACCESS",
        "exclusive or shared (opened per operation)",
        default=DuckDBAccess.EXCLUSIVE,
    )
    home: Path = variable(
        "ATTRIBUTION_HOME",
        "embedded state: buckets/, warehouse.duckdb, bus/, lineage/",
        default=Path(".attribution"),
    )
    project: str | None = variable(
        "GCP_PROJECT", "project for the Google clients", "GOOGLE_CLOUD_PROJECT", default=None
    )
    models_bucket: str = variable(
        "MODELS_BUCKET", "bucket the .cbm files land in", default="models"
    )
    cards_bucket: Annotated[str, Documented("MODELS_BUCKET")] = variable(
        "CARDS_BUCKET",
        "where card JSON objects are written",
        default_factory=lambda values: values["models_bucket"],
    )
    reports_bucket: Annotated[str, Documented("MODELS_BUCKET")] = variable(
        "REPORTS_BUCKET",
        "where the verifier publishes each system's HTML report",
        default_factory=lambda values: values["models_bucket"],
    )
    models_prefix: Prefix = variable(
        "MODELS_PREFIX", "only .cbm objects under it", default="models/"
    )
    cards_prefix: Prefix = variable("CARDS_PREFIX", "card objects' folder", default="cards/")
    batch_inputs_prefix: Prefix = variable(
        "BATCH_INPUTS_PREFIX", "every batch's input kept under it", default="batches/"
    )
    max_model_bytes: WholeNumber = variable(
        "MAX_MODEL_BYTES", "larger uploads are rejected", default=1024 * 1024 * 1024, ge=1
    )
    dataset: str = variable("BQ_DATASET", "BigQuery dataset", default="nba_predictions")
    bq_location: str = variable("BQ_LOCATION", "BigQuery location", default="US")
    duckdb_path: Annotated[Path | None, Documented("$ATTRIBUTION_HOME/warehouse.duckdb")] = (
        variable("DUCKDB_PATH", "the embedded warehouse file", default=None)
    )
    model_uploads_topic: str = variable(
        "MODEL_UPLOADS_TOPIC", "topic the models bucket notifies", default="model-uploads"
    )
    model_cards_topic: str = variable(
        "MODEL_CARDS_TOPIC", "topic cards are announced on", default="model-cards"
    )
    prediction_batches_topic: str = variable(
        "PREDICTION_BATCHES_TOPIC", "topic batch requests arrive on", default="prediction-batches"
    )
    verification_requests_topic: str = variable(
        "VERIFICATION_REQUESTS_TOPIC",
        "topic verification requests arrive on",
        default="verification-requests",
    )
    post_run_verification: bool = variable(
        "POST_RUN_VERIFICATION",
        "announce each finished batch, so its day is verified at once (off: only the "
        "scheduled and manual verifications)",
        default=True,
    )
    batch_completions_topic: str = variable(
        "BATCH_COMPLETIONS_TOPIC",
        "topic a finished batch is announced on (the post-run verifier listens)",
        default="batch-completions",
    )
    alert_channels: AlertChannels = Field(default_factory=AlertChannels, repr=False)
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], Upper] = (
        variable("LOG_LEVEL", "the least severe level logged", default="INFO")
    )
    log_format: Annotated[Literal["auto", "json", "text"], Lower] = variable(
        "LOG_FORMAT",
        "json lines, text lines, or auto: text on a terminal, JSON otherwise",
        default="auto",
    )
    min_edge: Number = variable(
        "MIN_EDGE", "below this |edge| the recommendation is PASS", default=1.0, ge=0
    )
    # An over/under classifier picks a side only when it is at least this likely to win:
    # the break-even probability at -110 is 110/210 = 52.4%. Below 0.5 OVER and UNDER
    # would overlap.
    over_probability_threshold: Number = variable(
        "OVER_PROBABILITY_THRESHOLD",
        "OVER at or above it, UNDER at or below one minus it",
        default=0.524,
        ge=0.5,
        le=1,
    )
    ledger_cache_seconds: Number = variable(
        "LEDGER_CACHE_SECONDS", "how long 'which model is active' is cached", default=5.0, ge=0
    )
    model_cache_size: WholeNumber = variable(
        "MODEL_CACHE_SIZE", "loaded models kept per instance", default=4, ge=1
    )
    backfill_ambiguity_minutes: Number = variable(
        "BACKFILL_AMBIGUITY_MINUTES",
        "a row this close to a promotion is ambiguous",
        default=30.0,
        ge=0,
    )
    batch_lease_seconds: Number = variable(
        "BATCH_LEASE_SECONDS", "a batch's claim lease", default=30.0, gt=0
    )
    lineage_namespace: str = variable(
        "LINEAGE_NAMESPACE",
        "the OpenLineage namespace of the jobs (the transport: the client's own configuration)",
        default="model-attribution",
    )
    lineage_timeout_seconds: Number = variable(
        "LINEAGE_TIMEOUT_SECONDS",
        "how long a run waits for its lineage event to be sent",
        default=2.0,
        gt=0,
    )

    @property
    def notifier(self) -> str:
        """ALERT_NOTIFIER: ``auto`` or ``console``."""
        return self.alert_channels.mode

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
            "BATCH_COMPLETIONS_TOPIC": self.batch_completions_topic,
            "MODELS_BUCKET": self.models_bucket,
        }.get(env_name)

    @property
    def bucket_root(self) -> Path:
        return self.home / "buckets"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.home / "warehouse.duckdb"

    @property
    def lineage_file(self) -> Path:
        """Where the embedded default writes OpenLineage events, one JSON line each."""
        return self.home / "lineage" / "events.jsonl"

    def with_home(self, home: Path) -> Settings:
        return self.model_copy(update={"home": home})


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of ``env`` (``os.environ`` when None); SettingsError names a bad one."""
    return Settings.from_environment(env)
