"""The embedded event bus: delivers real CloudEvents to the functions' own entry points.

Each function is served by functions-framework's own app (the same code path as in
Cloud Functions), and events are posted to it as structured CloudEvents. A delivery that
answers 5xx is retried like Pub/Sub would, then dead-lettered to a file under the bus
folder. Every published message is also appended to ``topics/<topic>.jsonl``.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent

from attribution.events import object_notification, pubsub_event
from attribution.function_manifest import FunctionSpec, function_specs
from attribution.logs import get_logger
from attribution.objects import StoredObject

_log = get_logger("attribution.bus")


@dataclass(frozen=True)
class Delivery:
    function: str
    status_code: int
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class InProcessBus:
    """A Publisher, plus the models bucket's notifications, for the embedded default.

    ``named_by`` resolves the manifest's variables (``topic_env``, ``notifying_bucket_env``)
    to the topics and buckets of these settings.
    """

    def __init__(
        self,
        folder: Path,
        *,
        named_by: Callable[[str], str | None],
        max_attempts: int = 3,
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_attempts = max_attempts
        self._named_by = named_by
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def _client(self, spec: FunctionSpec) -> Any:
        with self._lock:
            if spec.name not in self._clients:
                import functions_framework

                create_app: Any = functions_framework.create_app
                app = create_app(spec.entry_point, str(spec.source), "cloudevent")
                self._clients[spec.name] = app.test_client()
            return self._clients[spec.name]

    def _subscribers(self, topic: str) -> list[FunctionSpec]:
        return [
            spec
            for spec in function_specs().values()
            if spec.topic_env is not None and self._named_by(spec.topic_env) == topic
        ]

    def _notification_topics(self, bucket: str) -> list[str]:
        """The topics ``bucket``'s notifications are published to (Terraform's
        ``google_storage_notification``)."""
        topics = {
            self._named_by(spec.topic_env)
            for spec in function_specs().values()
            if spec.notifying_bucket_env is not None
            and spec.topic_env is not None
            and self._named_by(spec.notifying_bucket_env) == bucket
        }
        return sorted(t for t in topics if t is not None)

    def deliver(self, spec: FunctionSpec, event: CloudEvent) -> Delivery:
        headers, body = to_structured(event)
        status = 0
        attempt = 0
        for attempt in range(1, self.max_attempts + 1):
            response = self._client(spec).post("/", headers=headers, data=body)
            status = response.status_code
            if 200 <= status < 300:
                break
            _log.warning(
                "delivery failed; redelivering",
                extra={
                    "function": spec.name,
                    "status_code": status,
                    "attempt": attempt,
                    "event_id": event["id"],
                },
            )
        delivery = Delivery(spec.name, status, attempt)
        self.deliveries.append(delivery)
        if not delivery.ok:
            self._dead_letter(spec, event, status)
        return delivery

    def _dead_letter(self, spec: FunctionSpec, event: CloudEvent, status: int) -> None:
        _, body = to_structured(event)
        record = {
            "function": spec.name,
            "status_code": status,
            "dead_lettered_at": datetime.now(UTC).isoformat(),
            "event": json.loads(body),
        }
        with (self.folder / "dead-letters.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")
        _log.error("event dead-lettered", extra={"function": spec.name, "event_id": event["id"]})

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        message_id, _ = self._publish(topic, data, attributes)
        return message_id

    def _publish(
        self, topic: str, data: bytes, attributes: Mapping[str, str]
    ) -> tuple[str, list[Delivery]]:
        message_id = uuid.uuid4().hex
        record = {
            "message_id": message_id,
            "published_at": datetime.now(UTC).isoformat(),
            "attributes": dict(attributes),
            "data": base64.b64encode(data).decode(),
        }
        topics = self.folder / "topics"
        topics.mkdir(exist_ok=True)
        with (topics / f"{topic}.jsonl").open("a") as out:
            out.write(json.dumps(record) + "\n")
        event = pubsub_event(
            f"projects/local/topics/{topic}", data, attributes, message_id=message_id
        )
        return message_id, [self.deliver(spec, event) for spec in self._subscribers(topic)]

    def object_finalized(self, obj: StoredObject) -> list[Delivery]:
        """Cloud Storage's part: publish ``obj``'s notification to its bucket's topics."""
        data, attributes = object_notification(obj)
        return [
            delivery
            for topic in self._notification_topics(obj.bucket)
            for delivery in self._publish(topic, data, attributes)[1]
        ]
