"""The verification request: ``{"game_date": "YYYY-MM-DD", "system_id": optional}``.

A scheduler cannot write today's date into a fixed payload, so ``game_date`` may also be
``"today"`` or ``"yesterday"``, resolved in ``VERIFY_TIMEZONE`` (default America/New_York,
where the reference system's schedule lives).

A request is small: its body is refused (``request_too_large``, ``request_too_deep``) over
``MAX_REQUEST_BYTES`` or nested deeper than ``MAX_REQUEST_DEPTH``, before it is parsed, so
no body can exhaust the parser. ``system_id`` must look like one (``SYSTEM_ID_PATTERN``, the
rule of ``attribution.limits``); whether the system exists is the verifier's question.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from attribution import limits
from attribution.errors import PermanentError
from attribution.verification.settings import load_verifier_settings

MAX_REQUEST_BYTES = 64 * 1024
MAX_REQUEST_DEPTH = 32
# The system id rule of every entry point (``attribution.limits``): no batch can name another.
SYSTEM_ID_PATTERN = re.compile(limits.SYSTEM_ID_PATTERN)
# Content types a JSON body may arrive with (HTTP): schedulers and curl often send text/plain.
JSON_CONTENT_TYPES = ("application/json", "text/plain")


def is_json_content_type(mimetype: str) -> bool:
    """``application/json``, ``text/plain`` or any ``application/*+json`` (no parameters)."""
    kind = mimetype.strip().lower()
    return kind in JSON_CONTENT_TYPES or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def nesting_exceeds(data: bytes, limit: int) -> bool:
    """Whether JSON text opens more than ``limit`` arrays/objects inside one another
    (brackets inside strings do not count). Reads the bytes once; parses nothing."""
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def decode_request_body(data: bytes | str, *, what: str = "verification request") -> Any:
    """The JSON document in ``data``, refused unparsed when too large or too deep."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_REQUEST_BYTES:
        raise PermanentError(
            "request_too_large",
            f"{what} is {len(raw)} bytes, over the {MAX_REQUEST_BYTES}-byte limit",
        )
    if nesting_exceeds(raw, MAX_REQUEST_DEPTH):
        raise PermanentError(
            "request_too_deep",
            f"{what} nests JSON deeper than {MAX_REQUEST_DEPTH} levels",
        )
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise PermanentError("malformed_message", f"{what} is not JSON") from None


@dataclass(frozen=True)
class VerificationRequest:
    game_date: date
    system_id: str | None = None


def resolve_game_date(raw: str, *, now: datetime | None = None) -> date:
    relative = {"today": 0, "yesterday": 1}
    if raw.strip().lower() in relative:
        zone = ZoneInfo(load_verifier_settings().timezone)
        local = (now or datetime.now(UTC)).astimezone(zone).date()
        return local - timedelta(days=relative[raw.strip().lower()])
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PermanentError(
            "invalid_message", f"game_date {raw!r} is not a date, 'today' or 'yesterday'"
        ) from None


def parse_verification_request(document: Any) -> VerificationRequest:
    if isinstance(document, bytes | str):
        document = decode_request_body(document)
    if not isinstance(document, dict):
        raise PermanentError("malformed_message", "verification request must be a JSON object")
    raw_date = document.get("game_date")
    if not isinstance(raw_date, str):
        raise PermanentError("invalid_message", "verification request needs game_date (YYYY-MM-DD)")
    game_date = resolve_game_date(raw_date)
    system_id = document.get("system_id")
    if system_id is not None and (not isinstance(system_id, str) or not system_id):
        raise PermanentError("invalid_message", "system_id must be a non-empty string")
    unknown = set(document) - {"game_date", "system_id"}
    if unknown:
        raise PermanentError("invalid_message", f"unknown fields: {', '.join(sorted(unknown))}")
    return VerificationRequest(game_date=game_date, system_id=system_id)
