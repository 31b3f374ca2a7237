"""Messages no function could use are kept, with the reason, in ``dead_letters``."""

from __future__ import annotations

import hashlib
import json

from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.logs import get_logger
from attribution.ports import Warehouse

_log = get_logger("attribution.dead_letters")


def keep_dead_letter(
    warehouse: Warehouse,
    *,
    source: str,
    event_id: str | None,
    error_code: str,
    error: str,
    payload: bytes | str,
) -> bool:
    """Record the raw message and why it was refused; once per (source, event)."""
    text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    identity = f"{source}|{event_id or hashlib.sha256(text.encode()).hexdigest()}"
    row = {
        "dead_letter_id": hashlib.sha256(identity.encode()).hexdigest()[:32],
        "source": source,
        "event_id": event_id,
        "error_code": error_code,
        "error": error,
        "payload": text,
        "received_at": now_utc(),
    }
    return warehouse.insert_new_rows("dead_letters", [row], ["dead_letter_id"]) == 1


def refuse_event(
    warehouse: Warehouse, *, source: str, event_id: str, payload: object, error: PermanentError
) -> None:
    """An event a function cannot use at all: keep it with the reason, log it, acknowledge."""
    keep_dead_letter(
        warehouse,
        source=source,
        event_id=event_id,
        error_code=error.code,
        error=error.message,
        payload=json.dumps(payload, default=str)
        if not isinstance(payload, str | bytes)
        else payload,
    )
    _log.error(
        "unusable event", extra={"source": source, "event_id": event_id, "error": str(error)}
    )
