"""Cloud Function: a batch request arrived on Pub/Sub, so predict it and stamp the card."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app, check_settings
from attribution.entry_points import keeps_unusable_events
from attribution.events import parse_pubsub_message
from attribution.logs import get_logger

_log = get_logger("functions.prediction_batch")
check_settings()  # a bad setting stops the instance at start, not at each event


@functions_framework.cloud_event
@keeps_unusable_events("prediction_batch")
def on_batch_requested(cloud_event: CloudEvent) -> None:
    outcome = app().batch_predictor().handle_message(parse_pubsub_message(cloud_event))
    _log.info(
        "batch handled",
        extra={
            "batch_id": outcome.batch_id,
            "status": outcome.status.value,
            "rows_written": outcome.written,
            "rows_rejected": outcome.rejected,
        },
    )
