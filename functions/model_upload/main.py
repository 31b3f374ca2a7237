"""Cloud Function: a model landed in the bucket, so extract its card and publish it."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app
from attribution.errors import PermanentError
from attribution.events import parse_object_finalized
from attribution.logs import get_logger

_log = get_logger("functions.model_upload")


@functions_framework.cloud_event
def on_model_uploaded(cloud_event: CloudEvent) -> None:
    try:
        event = parse_object_finalized(cloud_event)
    except PermanentError as exc:
        _log.error(
            "unusable storage event", extra={"event_id": cloud_event["id"], "error": str(exc)}
        )
        return
    outcome = app().card_publisher().handle(event)
    _log.info(
        "model upload handled",
        extra={
            "object_uri": outcome.object_uri,
            "result": outcome.result.value,
            "reason": outcome.reason,
        },
    )
