"""Cloud Function: a model landed in the bucket, so extract its card and publish it."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app, check_settings
from attribution.entry_points import keeps_unusable_events
from attribution.events import parse_object_finalized
from attribution.logs import get_logger

_log = get_logger("functions.model_upload")
check_settings()  # a bad setting stops the instance at start, not at each event


@functions_framework.cloud_event
@keeps_unusable_events("model_upload")
def on_model_uploaded(cloud_event: CloudEvent) -> None:
    outcome = app().card_publisher().handle(parse_object_finalized(cloud_event))
    _log.info(
        "model upload handled",
        extra={
            "object_uri": outcome.object_uri,
            "result": outcome.result.value,
            "reason": outcome.reason,
        },
    )
