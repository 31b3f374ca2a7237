"""Cloud Function: a batch request arrived on Pub/Sub, so predict it and stamp the card."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app
from attribution.dead_letters import refuse_event
from attribution.errors import PermanentError
from attribution.events import parse_pubsub_message
from attribution.logs import get_logger

_log = get_logger("functions.prediction_batch")


@functions_framework.cloud_event
def on_batch_requested(cloud_event: CloudEvent) -> None:
    try:
        message = parse_pubsub_message(cloud_event)
    except PermanentError as exc:
        refuse_event(
            app().warehouse,
            source="prediction_batch",
            event_id=str(cloud_event["id"]),
            payload=cloud_event.get_data(),
            error=exc,
        )
        return
    outcome = app().batch_predictor().handle_message(message)
    _log.info(
        "batch handled",
        extra={
            "batch_id": outcome.batch_id,
            "status": outcome.status.value,
            "rows_written": outcome.written,
            "rows_rejected": outcome.rejected,
        },
    )
