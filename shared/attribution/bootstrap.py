"""The one place that wires ports to adapters, from Settings.

Each port's adapter is chosen on its own (``Settings.object_store_kind``, ``warehouse_kind``,
``publisher_kind``; ATTRIBUTION_BACKEND gives their defaults), so the local stack can run
the GCS and Pub/Sub adapters over a DuckDB warehouse.

Entry points call ``app()``; it is built once per process (warm instances reuse clients)
and the CLI shares the very same instance, so in-process events reach the same warehouse.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from attribution.config import (
    DuckDBAccess,
    ObjectStoreKind,
    PublisherKind,
    Settings,
    WarehouseKind,
    load_settings,
)
from attribution.deployments import ActiveModelCache, DeploymentLedger
from attribution.logs import configure_logging
from attribution.ports import Notifier, ObjectStore, Publisher, Warehouse
from attribution.registry import CardRegistry

if TYPE_CHECKING:
    from attribution.backfill import Backfill
    from attribution.model_loading import ModelCache
    from attribution.prediction_batch import BatchPredictor
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
            from attribution.batch_claims import BatchClaims
            from attribution.prediction_batch import BatchPredictor, PredictionSettings

            self._cached["batch_predictor"] = BatchPredictor(
                warehouse=self.warehouse,
                registry=self.registry,
                active_models=ActiveModelCache(
                    self.ledger, ttl_seconds=self.settings.ledger_cache_seconds
                ),
                models=self.model_cache(),
                claims=BatchClaims(
                    self.models,
                    self.settings.batch_inputs_prefix,
                    lease=timedelta(seconds=self.settings.batch_lease_seconds),
                ),
                store_for=self.store,
                settings=PredictionSettings(
                    min_edge=self.settings.min_edge,
                    over_probability_threshold=self.settings.over_probability_threshold,
                    inputs_bucket=self.settings.models_bucket,
                    inputs_prefix=self.settings.batch_inputs_prefix,
                ),
            )
        predictor: BatchPredictor = self._cached["batch_predictor"]
        return predictor

    def model_cache(self) -> ModelCache:
        """One per instance, shared by prediction and replay: a model is loaded once."""
        if "model_cache" not in self._cached:
            from attribution.model_loading import ModelCache

            self._cached["model_cache"] = ModelCache(
                self.store, capacity=self.settings.model_cache_size
            )
        cache: ModelCache = self._cached["model_cache"]
        return cache

    def backfill(self) -> Backfill:
        from attribution.backfill import Backfill, BackfillSettings

        return Backfill(
            warehouse=self.warehouse,
            ledger=self.ledger,
            models=self.model_cache(),
            store_for=self.store,
            inputs_bucket=self.settings.models_bucket,
            inputs_prefix=self.settings.batch_inputs_prefix,
            settings=BackfillSettings(
                ambiguity=timedelta(minutes=self.settings.backfill_ambiguity_minutes)
            ),
        )

    def verifier(self) -> Verifier:
        from attribution.verification.settings import load_verifier_settings
        from attribution.verification.verifier import Verifier

        return Verifier(
            warehouse=self.warehouse,
            registry=self.registry,
            store_for=self.store,
            notifier=self.notifier,
            settings=load_verifier_settings(),
        )

    def card_publisher(self) -> Any:
        from attribution.upload import CardPublisher

        return CardPublisher(
            settings=self.settings,
            models=self.models,
            cards=self.cards,
            registry=self.registry,
            publisher=self.publisher,
            notifier=self.notifier,
        )


def _make_store(settings: Settings, bucket: str) -> ObjectStore:
    if settings.object_store_kind is ObjectStoreKind.GCS:
        from attribution.adapters.gcs_store import GcsStore

        return GcsStore(bucket, project=settings.project)
    from attribution.adapters.local_bucket import LocalBucket

    return LocalBucket(settings.bucket_root, bucket)


def _make_warehouse(settings: Settings) -> Warehouse:
    if settings.warehouse_kind is WarehouseKind.BIGQUERY:
        from attribution.adapters.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse(
            project=settings.project, dataset=settings.dataset, location=settings.bq_location
        )
    from attribution.migrations import migrate

    if settings.duckdb_access is DuckDBAccess.SHARED:
        from attribution.adapters.duckdb_shared import SharedDuckDBWarehouse

        shared = SharedDuckDBWarehouse(settings.warehouse_path)
        with shared.session() as held:
            migrate(held)
        return shared
    from attribution.adapters.duckdb_warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(settings.warehouse_path)
    migrate(warehouse)
    return warehouse


def _make_publisher(settings: Settings) -> Publisher:
    if settings.publisher_kind is PublisherKind.PUBSUB:
        from attribution.adapters.pubsub_publisher import PubSubPublisher

        if not settings.project:
            raise ValueError("GCP_PROJECT must be set to publish on Pub/Sub (PUBLISHER=pubsub)")
        return PubSubPublisher(settings.project)
    from attribution.adapters.inprocess_bus import InProcessBus

    env_values = {
        "PREDICTION_BATCHES_TOPIC": settings.prediction_batches_topic,
        "VERIFICATION_REQUESTS_TOPIC": settings.verification_requests_topic,
        "MODEL_CARDS_TOPIC": settings.model_cards_topic,
        "MODELS_BUCKET": settings.models_bucket,
    }
    return InProcessBus(
        settings.home / "bus",
        topic_for_env=env_values.get,
        bucket_for_env=env_values.get,
    )


def _make_notifier(settings: Settings) -> Notifier:
    """Slack (falling back to email), email, or the console: see attribution.notifier_config.

    The secrets (webhook URL, SMTP password) are read from the environment here, at build
    time, and live only inside the adapters; they are not part of Settings.
    """
    from attribution.notifier_config import channels_from_env

    return channels_from_env(mode=settings.notifier)


def build_app(settings: Settings) -> App:
    configure_logging(settings.log_level)
    return App(
        settings=settings,
        warehouse=_make_warehouse(settings),
        publisher=_make_publisher(settings),
        notifier=_make_notifier(settings),
    )


_lock = threading.Lock()
_app: App | None = None


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
