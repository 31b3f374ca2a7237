"""Cloud Function: verify a run's attribution; Pub/Sub (scheduled) or HTTP (manual)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from attribution.bootstrap import app
from attribution.dead_letters import refuse_event
from attribution.errors import PermanentError
from attribution.events import parse_pubsub_message
from attribution.logs import get_logger
from attribution.verification.request import parse_verification_request

_log = get_logger("functions.verifier")


@functions_framework.cloud_event
def on_verification_requested(cloud_event: CloudEvent) -> None:
    try:
        message = parse_pubsub_message(cloud_event)
        request = parse_verification_request(message.data)
    except PermanentError as exc:
        refuse_event(
            app().warehouse,
            source="verifier",
            event_id=str(cloud_event["id"]),
            payload=cloud_event.get_data(),
            error=exc,
        )
        return
    for verdict in (
        app()
        .verifier()
        .verify(
            request.game_date,
            request.system_id,
            request_id=f"{message.message_id}@{message.publish_time}",
        )
    ):
        _log.info(
            "verdict", extra={"system_id": verdict.system_id, "verdict": verdict.verdict.value}
        )


@functions_framework.http
def verify_http(request: flask.Request) -> tuple[dict[str, Any], int]:
    body = request.get_json(silent=True) or dict(request.args)
    try:
        parsed = parse_verification_request(body)
    except PermanentError as exc:
        return {"error": exc.message, "code": exc.code}, 400
    verdicts = app().verifier().verify(parsed.game_date, parsed.system_id)
    return {"verdicts": [v.to_document() for v in verdicts]}, 200
