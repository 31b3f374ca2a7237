"""When a model lands in the bucket: extract its card and publish it, exactly once.

Order matters for crash safety: card object, then the ``model-cards`` message, then the
registry row. The registry row is written last, so its presence means the whole
publication happened; a redelivered event that finds it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from attribution.config import Settings
from attribution.errors import PermanentError
from attribution.events import ObjectFinalized
from attribution.logs import get_logger
from attribution.model_card.card import ModelCard
from attribution.model_card.extraction import extract_card
from attribution.model_card.lineage import PublicationLineage
from attribution.model_card.registry import CardRegistry
from attribution.ports import (
    Alert,
    LineageEmitter,
    NotificationError,
    Notifier,
    ObjectStore,
    Publisher,
)

_log = get_logger("attribution.model_card.publishing")


class UploadResult(StrEnum):
    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already_published"
    IGNORED = "ignored"
    REJECTED = "rejected"


@dataclass(frozen=True)
class UploadOutcome:
    result: UploadResult
    object_uri: str
    card: ModelCard | None = None
    card_uri: str | None = None
    reason: str | None = None


def is_model_object(name: str, settings: Settings) -> bool:
    return name.startswith(settings.models_prefix) and name.lower().endswith(".cbm")


def card_object_name(card: ModelCard, settings: Settings) -> str:
    system = card.system_id or "_unassigned"
    return f"{settings.cards_prefix}{system}/{card.card_id}.json"


class CardPublisher:
    """The model-upload use case, over injected ports."""

    def __init__(
        self,
        *,
        settings: Settings,
        models: ObjectStore,
        cards: ObjectStore,
        registry: CardRegistry,
        publisher: Publisher,
        notifier: Notifier,
        lineage: LineageEmitter | None = None,
    ) -> None:
        self.lineage = PublicationLineage(lineage)
        self.settings = settings
        self.models = models
        self.cards = cards
        self.registry = registry
        self.publisher = publisher
        self.notifier = notifier

    def handle(self, event: ObjectFinalized) -> UploadOutcome:
        obj = event.object
        if obj.bucket != self.models.bucket or not is_model_object(obj.name, self.settings):
            _log.info(
                "ignored object: not a .cbm under the models prefix",
                extra={"object_uri": obj.uri, "models_prefix": self.settings.models_prefix},
            )
            return UploadOutcome(UploadResult.IGNORED, obj.uri, reason="not a model object")
        try:
            return self._publish(event)
        except PermanentError as exc:
            return self._reject(event, exc)

    def _publish(self, event: ObjectFinalized) -> UploadOutcome:
        obj = event.object
        limit = self.settings.max_model_bytes
        if obj.size is not None and obj.size > limit:  # never read it: it may not fit in memory
            raise PermanentError(
                "too_large", f"{obj.uri} is {obj.size} bytes, over the {limit}-byte limit"
            )
        data = self.models.read(obj.name)
        card = extract_card(data, obj, max_bytes=self.settings.max_model_bytes)
        existing = self.registry.for_object_bytes(card.model_uri, card.model_sha256)
        if existing is not None:
            _log.info(
                "model already published",
                extra={"object_uri": obj.uri, "card_id": existing.card_id},
            )
            return UploadOutcome(UploadResult.ALREADY_PUBLISHED, obj.uri, card=existing)
        card_name = card_object_name(card, self.settings)
        stored = self.cards.write(
            card_name,
            card.canonical_json().encode("utf-8"),
            content_type="application/json",
            metadata={"card_id": card.card_id, "model_sha256": card.model_sha256},
        )
        self.publisher.publish(
            self.settings.model_cards_topic,
            card.canonical_json().encode("utf-8"),
            {
                "system_id": card.system_id or "",
                "card_id": card.card_id,
                "model_sha256": card.model_sha256,
                "status": card.status.value,
            },
        )
        self.registry.register(card, card_uri=stored.uri)
        self.lineage.published(card, stored.uri)
        _log.info(
            "model card published",
            extra={
                "card_id": card.card_id,
                "system_id": card.system_id,
                "model_uri": card.model_uri,
                "model_sha256": card.model_sha256,
                "status": card.status.value,
            },
        )
        if not card.is_complete:
            self._announce(
                Alert(
                    title="Model card incomplete",
                    severity="warning",
                    text=f"{obj.uri} was published without: {', '.join(card.missing_facts)}",
                    fields={"card_id": card.card_id, "model_sha256": card.model_sha256},
                )
            )
        return UploadOutcome(UploadResult.PUBLISHED, obj.uri, card=card, card_uri=stored.uri)

    def _announce(self, alert: Alert) -> None:
        """Alert people; a channel being down must not undo or retry the publication."""
        try:
            self.notifier.notify(alert)
        except NotificationError as exc:
            _log.error(
                "alert could not be delivered", extra={"alert": alert.title, "error": str(exc)}
            )

    def _reject(self, event: ObjectFinalized, exc: PermanentError) -> UploadOutcome:
        obj = event.object
        new = self.registry.record_reject(
            obj, code=exc.code, error=exc.message, event_id=event.event_id
        )
        _log.error(
            "model upload rejected",
            extra={"object_uri": obj.uri, "error_code": exc.code, "error": exc.message},
        )
        if new:
            self._announce(
                Alert(
                    title="Model upload rejected",
                    severity="error",
                    text=exc.message,
                    fields={
                        "object": obj.uri,
                        "generation": obj.generation or "",
                        "error_code": exc.code,
                    },
                )
            )
        return UploadOutcome(UploadResult.REJECTED, obj.uri, reason=str(exc))
