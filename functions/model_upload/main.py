"""Cloud Function: a model landed in the bucket, so extract its card and publish it."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app
from attribution.dead_letters import refuse_event
from attribution.errors import PermanentError
from attribution.events import parse_object_finalized
from attribution.logs import get_logger

_log = get_logger("functions.model_upload")


@functions_framework.cloud_event
def on_model_uploaded(cloud_event: CloudEvent) -> None:
    try:
        event = parse_object_finalized(cloud_event)
    except PermanentError as exc:
        refuse_event(
            app().warehouse,
            source="model_upload",
            event_id=str(cloud_event["id"]),
            payload=cloud_event.get_data(),
            error=exc,
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
