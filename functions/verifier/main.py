"""Cloud Function: verify a run's attribution: when its batches end (their completions on
Pub/Sub), on a schedule (Pub/Sub), or by hand (HTTP).

A request naming a system that does not exist is answered "unknown system": HTTP 404, or on
Pub/Sub acknowledged and kept as a dead letter; no verdict is recorded and nobody is alerted.
Request bodies are bounded (``MAX_REQUEST_BYTES``, ``MAX_REQUEST_DEPTH``: 400 past either)
and read as JSON under ``application/json``, ``text/plain``, ``application/*+json`` or no
content type at all.
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from attribution.batches.completion import parse_batch_completion
from attribution.bootstrap import app, check_settings
from attribution.entry_points import keeps_unusable_events
from attribution.errors import PermanentError
from attribution.events import parse_pubsub_message
from attribution.json_safe import dumps_finite
from attribution.logs import get_logger
from attribution.verification.outcome import verification_document
from attribution.verification.request import (
    MAX_REQUEST_BYTES,
    decode_request_body,
    is_json_content_type,
    parse_verification_request,
)
from attribution.verification.settings import load_verifier_settings
from attribution.verification.verifier import UnknownSystemError

_log = get_logger("functions.verifier")
# A bad setting stops the instance at start, not at each event.
check_settings()
load_verifier_settings()


@functions_framework.cloud_event
@keeps_unusable_events("verifier")  # a bad request, or an unknown system: no retry mends it
def on_verification_requested(cloud_event: CloudEvent) -> None:
    message = parse_pubsub_message(cloud_event)
    request = parse_verification_request(message.data)
    verdicts = (
        app()
        .verifier()
        .verify(
            request.game_date,
            request.system_id,
            request_id=f"{message.message_id}@{message.publish_time}",
        )
    )
    for verdict in verdicts:
        _log.info(
            "verdict", extra={"system_id": verdict.system_id, "verdict": verdict.verdict.value}
        )


@functions_framework.cloud_event
@keeps_unusable_events("post_run_verifier")  # an unreadable completion: no retry mends it
def on_batch_completed(cloud_event: CloudEvent) -> None:
    completion = parse_batch_completion(parse_pubsub_message(cloud_event).data)
    outcome = app().post_run_verification().handle(completion)
    _log.info(
        "batch completion handled",
        extra={
            "batch_id": completion.batch_id,
            "trigger_id": outcome.trigger_id,
            "coalesced": outcome.coalesced,
            "verdicts": [v.verdict.value for v in outcome.verdicts],
        },
    )


def _request_document(request: flask.Request) -> Any:
    """The JSON body, bounded before it is read; the query parameters when there is none."""
    declared = request.content_length
    if declared is not None and declared > MAX_REQUEST_BYTES:
        raise PermanentError(
            "request_too_large",
            f"verification request is {declared} bytes, over the {MAX_REQUEST_BYTES}-byte limit",
        )
    data = request.stream.read(MAX_REQUEST_BYTES + 1)
    if not data.strip():
        return dict(request.args)
    if request.mimetype and not is_json_content_type(request.mimetype):
        raise PermanentError(
            "unsupported_content_type",
            f"content type {request.mimetype!r} is not JSON: send the request as "
            "application/json (text/plain and application/*+json are read as JSON too)",
        )
    return decode_request_body(data)


@functions_framework.http
def verify_http(request: flask.Request) -> flask.Response:
    """The verdicts as ``attribution --json verify`` prints them, serialised here (not by
    flask, which writes dates as HTTP dates): dates ISO 8601, non-finite numbers null."""
    document: dict[str, Any]
    try:
        parsed = parse_verification_request(_request_document(request))
    except PermanentError as exc:
        status = 415 if exc.code == "unsupported_content_type" else 400
        document = {"error": exc.message, "code": exc.code}
    else:
        try:
            verdicts = app().verifier().verify(parsed.game_date, parsed.system_id)
            document, status = verification_document(verdicts), 200
        except UnknownSystemError as exc:
            document, status = exc.to_document(), 404
    return flask.Response(
        dumps_finite(document, sort_keys=True), status=status, mimetype="application/json"
    )
