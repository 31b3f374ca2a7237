"""The plausibility limits every entry point applies the same way, kept in one place.

The CLI, the batch message (``schemas/prediction_batch.schema.json`` spells the same
patterns; a test keeps them equal), the card extraction and the row checks import them from
here, so a limit is changed once. Nothing here imports more than the standard library.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from attribution.errors import PermanentError

# A system id: the card's rule, and the batch message's.
SYSTEM_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}"
SYSTEM_ID_RULE = "1-128 letters, digits, _ . - and start with a letter or digit"
# A batch id, the idempotency key of a batch: it names the batch's objects too.
BATCH_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}"
BATCH_ID_RULE = "1-128 letters, digits, _ . : - and start with a letter or digit"
MAX_BATCH_ID_CHARS = 128

# Game dates a batch may be for (and the CLI's --game-date).
EARLIEST_GAME_DATE = date(2000, 1, 1)
LATEST_GAME_DATE = date(2100, 12, 31)

# The longest player_lookup a row may carry (batch rows, results): a key, not a document.
MAX_PLAYER_LOOKUP_CHARS = 256

# A model's file name (the last part of its object name): file systems allow 255 bytes, and
# the local bucket keeps a temporary file and a metadata file named after it beside it.
MAX_MODEL_FILE_NAME_BYTES = 200
# (A whole object name: ``attribution.objects.check_object_name``, GCS's rules.)

# How far in the future a model's trained_at may be: clocks disagree by this much, no more.
TRAINED_AT_CLOCK_SKEW = timedelta(minutes=10)
# A training window's last day begins this long before midnight UTC somewhere (UTC+14).
_EARLIEST_ZONE = timezone(timedelta(hours=14))


def check_system_id(value: str, *, field: str = "system_id") -> str:
    if not re.fullmatch(SYSTEM_ID_PATTERN, value):
        raise PermanentError(
            "bad_system_id", f"{field}={shown_value(value)} must be {SYSTEM_ID_RULE}"
        )
    return value


def check_batch_id(value: str, *, field: str = "batch_id") -> str:
    if not re.fullmatch(BATCH_ID_PATTERN, value):
        raise PermanentError(
            "bad_batch_id", f"{field}={shown_value(value)} must be {BATCH_ID_RULE}"
        )
    return value


def check_game_date(value: date, *, field: str = "game_date") -> date:
    if not EARLIEST_GAME_DATE <= value <= LATEST_GAME_DATE:
        raise PermanentError(
            "bad_game_date",
            f"{field} {value.isoformat()} is outside {EARLIEST_GAME_DATE}..{LATEST_GAME_DATE}",
        )
    return value


def trained_at_problem(
    trained_at: datetime, training_end_date: date | None, now: datetime
) -> str | None:
    """Why a model cannot have been trained at ``trained_at`` (UTC), or None if it can.

    Not before its training window's last day began (in the earliest time zone, so a team
    anywhere passes), and not in the future beyond ``TRAINED_AT_CLOCK_SKEW``.
    """
    shown = _utc_text(trained_at)
    if training_end_date is not None:
        last_day = datetime.combine(training_end_date, time(0), tzinfo=_EARLIEST_ZONE)
        if trained_at < last_day:
            return (
                f"trained_at {shown} is before the training window ends "
                f"(training_end_date {training_end_date}): a model is trained after its data"
            )
    if trained_at > now + TRAINED_AT_CLOCK_SKEW:
        minutes = int(TRAINED_AT_CLOCK_SKEW.total_seconds() // 60)
        return (
            f"trained_at {shown} is in the future (now {_utc_text(now)}; "
            f"{minutes} minutes of clock skew allowed)"
        )
    return None


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shown_value(value: str, limit: int = 60) -> str:
    """A value for a message: its repr, cut short when long (with its length)."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"
