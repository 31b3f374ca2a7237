"""The one place that wires ports to adapters, from Settings.

Each port's adapter is chosen on its own (``Settings.object_store_kind``, ``warehouse_kind``,
``publisher_kind``; ATTRIBUTION_BACKEND gives their defaults), so the local stack can run
the GCS and Pub/Sub adapters over a DuckDB warehouse.

Entry points call ``app()``; it is built once per process (warm instances reuse clients)
and the CLI shares the very same instance, so in-process events reach the same warehouse.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from attribution.config import (
    Backend,
    DuckDBAccess,
    ObjectStoreKind,
    PublisherKind,
    Settings,
    WarehouseKind,
    load_settings,
)
from attribution.errors import SettingsError
from attribution.history.ledger import ActiveModelCache, DeploymentLedger
from attribution.logs import configure_logging
from attribution.model_card.registry import CardRegistry
from attribution.ports import LineageEmitter, Notifier, ObjectStore, Publisher, Warehouse

if TYPE_CHECKING:
    from attribution.batches.predictor import BatchPredictor
    from attribution.history.backfill import Backfill
    from attribution.model_card.loading import ModelCache
    from attribution.verification.html_report.publishing import ReportDestination
    from attribution.verification.post_run import PostRunVerification
    from attribution.verification.verifier import Verifier


@dataclass
class App:
    settings: Settings
    warehouse: Warehouse
    publisher: Publisher
    notifier: Notifier
    _stores: dict[str, ObjectStore] = field(default_factory=dict)
    _cached: dict[str, Any] = field(default_factory=dict)

    def store(self, bucket: str) -> ObjectStore:
        if bucket not in self._stores:
            self._stores[bucket] = _make_store(self.settings, bucket)
        return self._stores[bucket]

    @property
    def models(self) -> ObjectStore:
        return self.store(self.settings.models_bucket)

    @property
    def cards(self) -> ObjectStore:
        return self.store(self.settings.cards_bucket)

    @property
    def registry(self) -> CardRegistry:
        return CardRegistry(self.warehouse)

    @property
    def ledger(self) -> DeploymentLedger:
        return DeploymentLedger(self.warehouse, self.registry)

    def batch_predictor(self) -> BatchPredictor:
        """Built once per instance: its model and ledger caches outlive one invocation."""
        if "batch_predictor" not in self._cached:
            from attribution.batches.claims import BatchClaims
            from attribution.batches.completion import CompletionAnnouncer
            from attribution.batches.predictor import BatchPredictor, PredictionSettings

            self._cached["batch_predictor"] = BatchPredictor(
                warehouse=self.warehouse,
                registry=self.registry,
                active_models=self.active_models(),
                models=self.model_cache(),
                claims=BatchClaims(
                    self.models,
                    self.settings.batch_inputs_prefix,
                    lease=timedelta(seconds=self.settings.batch_lease_seconds),
                ),
                store_for=self.store,
                lineage=self.lineage(),
                completions=CompletionAnnouncer(
                    self.publisher, self.settings.batch_completions_topic
                )
                if self.settings.post_run_verification
                else None,
                settings=PredictionSettings(
                    min_edge=self.settings.min_edge,
                    over_probability_threshold=self.settings.over_probability_threshold,
                    inputs_bucket=self.settings.models_bucket,
                    inputs_prefix=self.settings.batch_inputs_prefix,
                ),
            )
        predictor: BatchPredictor = self._cached["batch_predictor"]
        return predictor

    def lineage(self) -> LineageEmitter:
        """One per instance: OpenLineage events through the client's own configuration
        (attribution.lineage.client), else, on the embedded default, a file in the home."""
        if "lineage" not in self._cached:
            self._cached["lineage"] = _make_lineage(self.settings)
        emitter: LineageEmitter = self._cached["lineage"]
        return emitter

    def active_models(self) -> ActiveModelCache:
        """One per instance: which model serves each system, cached for a few seconds."""
        if "active_models" not in self._cached:
            self._cached["active_models"] = ActiveModelCache(
                self.ledger, ttl_seconds=self.settings.ledger_cache_seconds
            )
        cache: ActiveModelCache = self._cached["active_models"]
        return cache

    def model_cache(self) -> ModelCache:
        """One per instance, shared by prediction and replay: a model is loaded once."""
        if "model_cache" not in self._cached:
            from attribution.model_card.loading import ModelCache

            self._cached["model_cache"] = ModelCache(
                self.store, capacity=self.settings.model_cache_size
            )
        cache: ModelCache = self._cached["model_cache"]
        return cache

    def backfill(self) -> Backfill:
        from attribution.history.backfill import Backfill, BackfillSettings

        return Backfill(
            warehouse=self.warehouse,
            ledger=self.ledger,
            models=self.model_cache(),
            store_for=self.store,
            inputs_bucket=self.settings.models_bucket,
            inputs_prefix=self.settings.batch_inputs_prefix,
            lineage=self.lineage(),
            settings=BackfillSettings(
                ambiguity=timedelta(minutes=self.settings.backfill_ambiguity_minutes)
            ),
        )

    def verifier(self) -> Verifier:
        from attribution.verification.settings import load_verifier_settings
        from attribution.verification.verifier import Verifier

        settings = load_verifier_settings()
        return Verifier(
            warehouse=self.warehouse,
            registry=self.registry,
            store_for=self.store,
            notifier=self.notifier,
            settings=settings,
            reports=self.report_destination(settings.report_days),
        )

    def report_destination(self, days: int) -> ReportDestination:
        """The bucket the verifier publishes the HTML report to, and the link to an object
        of it: the Cloud Console's page on GCS, the file itself on the local bucket."""
        from attribution.verification.html_report.publishing import ReportDestination

        store = self.store(self.settings.reports_bucket)
        if self.settings.object_store_kind is ObjectStoreKind.GCS:
            return ReportDestination(store, lambda stored: stored.console_url, days)
        folder = self.settings.bucket_root.resolve()
        return ReportDestination(
            store, lambda stored: str(folder / stored.bucket / stored.name), days
        )

    def post_run_verification(self) -> PostRunVerification:
        from attribution.verification.post_run import PostRunVerification
        from attribution.verification.settings import load_verifier_settings

        # The in-process bus delivers each completion while its batch's caller waits, one
        # at a time: there is nothing to coalesce, and a wait would stop that caller.
        synchronous = self.settings.publisher_kind is PublisherKind.INPROCESS
        return PostRunVerification(
            warehouse=self.warehouse,
            verifier=self.verifier(),
            window_seconds=0.0 if synchronous else load_verifier_settings().coalesce_seconds,
        )

    def card_publisher(self) -> Any:
        from attribution.model_card.publishing import CardPublisher

        return CardPublisher(
            settings=self.settings,
            models=self.models,
            cards=self.cards,
            registry=self.registry,
            publisher=self.publisher,
            notifier=self.notifier,
            lineage=self.lineage(),
        )


@contextmanager
def _embedded(variable: str, value: str) -> Iterator[None]:
    """Import an adapter of the embedded family, which staged functions leave out."""
    try:
        yield
    except ImportError as exc:
        raise SettingsError(
            variable,
            f"{variable}={value} needs the embedded adapters ({exc.name}), which a deployed "
            f"function does not carry: set ATTRIBUTION_BACKEND=gcp, or {variable} to the "
            "Google Cloud one",
        ) from None


def _make_store(settings: Settings, bucket: str) -> ObjectStore:
    if settings.object_store_kind is ObjectStoreKind.GCS:
        from attribution.adapters.google_cloud.gcs_store import GcsStore

        return GcsStore(bucket, project=settings.project)
    with _embedded("OBJECT_STORE", settings.object_store_kind.value):
        from attribution.adapters.embedded.local_bucket import LocalBucket

    return LocalBucket(settings.bucket_root, bucket)


def _make_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse_kind is WarehouseKind.BIGQUERY:
        from attribution.adapters.google_cloud.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse(
            project=settings.project, dataset=settings.dataset, location=settings.bq_location
        )
    with _embedded("WAREHOUSE", settings.warehouse_kind.value):
        from attribution.adapters.embedded.duckdb_shared import SharedDuckDBWarehouse
        from attribution.adapters.embedded.duckdb_warehouse import (
            DuckDBWarehouse,
            is_unreadable_database,
            unavailable,
        )
    from attribution.warehouse.migrations import migrate

    path = settings.warehouse_path
    try:
        if settings.duckdb_access is DuckDBAccess.SHARED:
            shared = SharedDuckDBWarehouse(path)
            with shared.session() as held:
                migrate(held)
            return shared
        warehouse = DuckDBWarehouse(path)
        migrate(warehouse)
        return warehouse
    except Exception as exc:
        # A file DuckDB opens but cannot read (truncated, a damaged block) fails here, on
        # the first read: the same "cannot be opened" as a file it refuses outright.
        if is_unreadable_database(exc):
            raise unavailable(path, exc) from exc
        raise


def _make_publisher(settings: Settings) -> Publisher:
    if settings.publisher_kind is PublisherKind.PUBSUB:
        from attribution.adapters.google_cloud.pubsub_publisher import PubSubPublisher

        if not settings.project:
            raise SettingsError(
                "GCP_PROJECT",
                "GCP_PROJECT must be set to publish on Pub/Sub (PUBLISHER=pubsub): set it to "
                "the project's id, or PUBLISHER=inprocess",
            )
        return PubSubPublisher(settings.project)
    with _embedded("PUBLISHER", settings.publisher_kind.value):
        from attribution.adapters.embedded.inprocess_bus import InProcessBus

    return InProcessBus(settings.home / "bus", named_by=settings.named_by)


def _make_lineage(settings: Settings) -> LineageEmitter:
    from attribution.lineage.client import lineage_client
    from attribution.lineage.emitter import OpenLineageEmitter
    from attribution.lineage.events import TableNaming

    if settings.warehouse_kind is WarehouseKind.BIGQUERY:
        project = f"{settings.project}." if settings.project else ""
        tables = TableNaming("bigquery", f"{project}{settings.dataset}.")
    else:
        tables = TableNaming(f"duckdb://{settings.warehouse_path.resolve()}", "main.")
    # Google Cloud has no folder to keep a file in: there, the client's own fallback (the log).
    on_gcp = settings.backend is Backend.GCP
    return OpenLineageEmitter(
        lineage_client(None if on_gcp else settings.lineage_file),
        namespace=settings.lineage_namespace,
        tables=tables,
        timeout_seconds=settings.lineage_timeout_seconds,
    )


def _make_notifier(settings: Settings) -> Notifier:
    """Slack (falling back to email), email, or the console, as ``settings.alert_channels``
    ask (attribution.alerts.channel_settings). The secrets (webhook URL, SMTP password) are
    ``SecretStr`` there, unwrapped only to be handed to the adapters.
    """
    from attribution.alerts.channel_settings import notifier_for

    return notifier_for(settings.alert_channels)


def build_app(settings: Settings) -> App:
    configure_logging(settings.log_level, log_format=settings.log_format)
    # The notifier and the publisher first: a setting they refuse stops the start before the
    # warehouse is opened (or created).
    notifier = _make_notifier(settings)
    publisher = _make_publisher(settings)
    return App(
        settings=settings,
        warehouse=_make_warehouse(settings),
        publisher=publisher,
        notifier=notifier,
    )


_lock = threading.Lock()
_app: App | None = None


def check_settings() -> None:
    """Check the environment's settings and the alert channels they configure; nothing is
    opened. A function's module calls it on import, so that a bad value stops the instance
    as it starts, before its first event, rather than failing (and being redelivered) on
    every event."""
    _make_notifier(load_settings())


def app() -> App:
    """The process's App, built on first use from the environment."""
    global _app
    with _lock:
        if _app is None:
            _app = build_app(load_settings())
        return _app


def current_app() -> App | None:
    """The installed App, if any, without building one."""
    with _lock:
        return _app


def use_app(instance: App | None) -> None:
    """Install (or clear) the process's App: for the CLI and tests."""
    global _app
    with _lock:
        _app = instance
