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

STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


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


def _data_dict(event: CloudEvent) -> dict[str, Any]:
    data = event.get_data()
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            raise PermanentError("malformed_event", "event data is not JSON") from None
    if not isinstance(data, dict):
        raise PermanentError("malformed_event", "event data is not a JSON object")
    return data


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
    if event["type"] != STORAGE_FINALIZED:
        raise PermanentError(
            "wrong_event_type", f"expected {STORAGE_FINALIZED}, got {event['type']}"
        )
    data = _data_dict(event)
    bucket, name = data.get("bucket"), data.get("name")
    if not isinstance(bucket, str) or not isinstance(name, str):
        raise PermanentError("malformed_event", "storage event lacks bucket or name")
    size = data.get("size")
    metadata = data.get("metadata") or {}
    return ObjectFinalized(
        event_id=str(event["id"]),
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
    data = _data_dict(event)
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


def object_finalized_event(obj: StoredObject, *, event_id: str | None = None) -> CloudEvent:
    created = (obj.time_created or datetime.now(UTC)).astimezone(UTC)
    data: dict[str, Any] = {
        "bucket": obj.bucket,
        "name": obj.name,
        "generation": obj.generation,
        "metageneration": "1",
        "size": str(obj.size) if obj.size is not None else None,
        "contentType": obj.content_type,
        "timeCreated": created.isoformat().replace("+00:00", "Z"),
        "updated": created.isoformat().replace("+00:00", "Z"),
        "metadata": dict(obj.metadata),
    }
    if obj.md5_hex:
        data["md5Hash"] = base64.b64encode(bytes.fromhex(obj.md5_hex)).decode()
    return CloudEvent(
        {
            "type": STORAGE_FINALIZED,
            "source": f"//storage.googleapis.com/projects/_/buckets/{obj.bucket}",
            "subject": f"objects/{obj.name}",
            "id": event_id or uuid.uuid4().hex,
            "time": created.isoformat().replace("+00:00", "Z"),
        },
        {k: v for k, v in data.items() if v is not None},
    )


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
