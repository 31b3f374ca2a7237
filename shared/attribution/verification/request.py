"""The verification request: ``{"game_date": "YYYY-MM-DD", "system_id": optional}``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from attribution.errors import PermanentError


@dataclass(frozen=True)
class VerificationRequest:
    game_date: date
    system_id: str | None = None


def parse_verification_request(document: Any) -> VerificationRequest:
    if isinstance(document, bytes | str):
        try:
            document = json.loads(document)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PermanentError("malformed_message", "verification request is not JSON") from None
    if not isinstance(document, dict):
        raise PermanentError("malformed_message", "verification request must be a JSON object")
    raw_date = document.get("game_date")
    if not isinstance(raw_date, str):
        raise PermanentError("invalid_message", "verification request needs game_date (YYYY-MM-DD)")
    try:
        game_date = date.fromisoformat(raw_date)
    except ValueError:
        raise PermanentError("invalid_message", f"game_date {raw_date!r} is not a date") from None
    system_id = document.get("system_id")
    if system_id is not None and (not isinstance(system_id, str) or not system_id):
        raise PermanentError("invalid_message", "system_id must be a non-empty string")
    unknown = set(document) - {"game_date", "system_id"}
    if unknown:
        raise PermanentError("invalid_message", f"unknown fields: {', '.join(sorted(unknown))}")
    return VerificationRequest(game_date=game_date, system_id=system_id)
