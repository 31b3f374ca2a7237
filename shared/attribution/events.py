"""CloudEvents in and out: parse platform events into typed commands, and build them.

The builders make the same events Eventarc delivers, so the in-process bus and the tests
drive entry points exactly as Google Cloud does.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.http import CloudEvent

from attribution.errors import PermanentError
from attribution.objects import StoredObject

PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
# A bucket notification (JSON_API_V1) announcing a new object generation: model uploads
# arrive this way, on a topic of ours, so Cloud Storage may publish to that topic only.
OBJECT_FINALIZE = "OBJECT_FINALIZE"
NOTIFICATION_PAYLOAD = "JSON_API_V1"


@dataclass(frozen=True)
class ObjectFinalized:
    """A new object generation landed in a bucket."""

    event_id: str
    object: StoredObject


@dataclass(frozen=True)
class PubSubMessage:
    event_id: str
    message_id: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    publish_time: datetime | None = None
    subscription: str | None = None


def _json_object(raw: Any, what: str) -> dict[str, Any]:
    if isinstance(raw, bytes | str):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PermanentError("malformed_event", f"{what} is not JSON") from None
    if not isinstance(raw, dict):
        raise PermanentError("malformed_event", f"{what} is not a JSON object")
    return raw


def _timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _md5_hex(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        digest = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 16 else None


def parse_object_finalized(event: CloudEvent) -> ObjectFinalized:
    """The bucket notification Cloud Storage published for a new object (JSON_API_V1)."""
    message = parse_pubsub_message(event)
    kind = message.attributes.get("eventType")
    if kind != OBJECT_FINALIZE:
        raise PermanentError(
            "wrong_event_type", f"expected a {OBJECT_FINALIZE} bucket notification, got {kind}"
        )
    payload_format = message.attributes.get("payloadFormat")
    if payload_format != NOTIFICATION_PAYLOAD:
        raise PermanentError(
            "malformed_event",
            f"the bucket notification's payload format is {payload_format}: "
            f"it must be {NOTIFICATION_PAYLOAD}, which carries the object's metadata",
        )
    data = _json_object(message.data, "the notification's object")
    bucket, name = data.get("bucket"), data.get("name")
    if not isinstance(bucket, str) or not isinstance(name, str):
        raise PermanentError("malformed_event", "the notification's object lacks bucket or name")
    size = data.get("size")
    metadata = data.get("metadata") or {}
    return ObjectFinalized(
        event_id=message.message_id,
        object=StoredObject(
            bucket=bucket,
            name=name,
            generation=str(data["generation"]) if data.get("generation") is not None else None,
            size=int(size) if isinstance(size, str | int) and str(size).isdigit() else None,
            md5_hex=_md5_hex(data.get("md5Hash")),
            content_type=data.get("contentType"),
            time_created=_timestamp(data.get("timeCreated")),
            metadata={str(k): str(v) for k, v in metadata.items()}
            if isinstance(metadata, dict)
            else {},
        ),
    )


def parse_pubsub_message(event: CloudEvent) -> PubSubMessage:
    if event["type"] != PUBSUB_PUBLISHED:
        raise PermanentError(
            "wrong_event_type", f"expected {PUBSUB_PUBLISHED}, got {event['type']}"
        )
    data = _json_object(event.get_data(), "event data")
    message = data.get("message")
    if not isinstance(message, dict):
        raise PermanentError("malformed_event", "Pub/Sub event has no message")
    try:
        payload = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        raise PermanentError("malformed_event", "message data is not base64") from None
    attributes = message.get("attributes") or {}
    return PubSubMessage(
        event_id=str(event["id"]),
        message_id=str(message.get("messageId") or message.get("message_id") or event["id"]),
        data=payload,
        attributes={str(k): str(v) for k, v in attributes.items()},
        publish_time=_timestamp(message.get("publishTime") or message.get("publish_time")),
        subscription=data.get("subscription"),
    )


def object_notification(obj: StoredObject) -> tuple[bytes, dict[str, str]]:
    """The message Cloud Storage publishes to a bucket's notification topic when ``obj``
    is finalized: the object's metadata (JSON_API_V1) and the notification's attributes."""
    created = (obj.time_created or datetime.now(UTC)).astimezone(UTC)
    stamp = created.isoformat().replace("+00:00", "Z")
    resource: dict[str, Any] = {
        "kind": "storage#object",
        "bucket": obj.bucket,
        "name": obj.name,
        "generation": obj.generation,
        "metageneration": "1",
        "size": str(obj.size) if obj.size is not None else None,
        "contentType": obj.content_type,
        "timeCreated": stamp,
        "updated": stamp,
        "metadata": dict(obj.metadata),
    }
    if obj.md5_hex:
        resource["md5Hash"] = base64.b64encode(bytes.fromhex(obj.md5_hex)).decode()
    attributes = {
        "eventType": OBJECT_FINALIZE,
        "payloadFormat": NOTIFICATION_PAYLOAD,
        "bucketId": obj.bucket,
        "objectId": obj.name,
        "eventTime": stamp,
    }
    if obj.generation is not None:
        attributes["objectGeneration"] = obj.generation
    data = json.dumps({k: v for k, v in resource.items() if v is not None}).encode()
    return data, attributes


def object_finalized_event(
    obj: StoredObject,
    *,
    topic_path: str = "projects/local/topics/model-uploads",
    event_id: str | None = None,
) -> CloudEvent:
    """The CloudEvent Eventarc delivers for ``obj``'s bucket notification."""
    data, attributes = object_notification(obj)
    return pubsub_event(topic_path, data, attributes, message_id=event_id)


def pubsub_event(
    topic_path: str,
    data: bytes,
    attributes: Mapping[str, str] | None = None,
    *,
    message_id: str | None = None,
    subscription: str | None = None,
) -> CloudEvent:
    message_id = message_id or uuid.uuid4().hex
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return CloudEvent(
        {
            "type": PUBSUB_PUBLISHED,
            "source": f"//pubsub.googleapis.com/{topic_path}",
            "id": message_id,
            "time": now,
        },
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": dict(attributes or {}),
                "messageId": message_id,
                "publishTime": now,
            },
            "subscription": subscription or f"{topic_path}-local",
        },
    )
