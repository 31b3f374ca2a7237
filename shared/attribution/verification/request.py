"""The verification request: ``{"game_date": "YYYY-MM-DD", "system_id": optional}``.

A scheduler cannot write today's date into a fixed payload, so ``game_date`` may also be
``"today"`` or ``"yesterday"``, resolved in ``VERIFY_TIMEZONE`` (default America/New_York,
where the seed's schedule lives).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from attribution.errors import PermanentError


@dataclass(frozen=True)
class VerificationRequest:
    game_date: date
    system_id: str | None = None


def resolve_game_date(raw: str, *, now: datetime | None = None) -> date:
    relative = {"today": 0, "yesterday": 1}
    if raw.strip().lower() in relative:
        zone = ZoneInfo(os.environ.get("VERIFY_TIMEZONE", "America/New_York"))
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
        try:
            document = json.loads(document)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PermanentError("malformed_message", "verification request is not JSON") from None
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
