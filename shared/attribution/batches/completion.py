"""A finished batch's announcement: what ran, for which system and day, and how it ended.

Plain values only, so that the verifier reading it imports nothing of the batch code.

The prediction-batch function publishes one on the completions topic when a batch ends
(success, partial or failed); the post-run verifier reads it and verifies that system and day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from attribution.errors import PermanentError
from attribution.json_safe import json_default
from attribution.ports import Publisher

KIND = "batch_completion"


@dataclass(frozen=True)
class BatchCompletion:
    batch_id: str
    system_id: str
    game_date: date
    run_mode: str  # a RunMode's value
    status: str  # a final BatchStatus's value: success, partial or failed
    rows_requested: int
    rows_written: int
    rows_rejected: int
    finished_at: datetime

    def encode(self) -> bytes:
        document = {"kind": KIND, **self.__dict__}
        return json.dumps(document, default=json_default, sort_keys=True).encode()


def parse_batch_completion(data: bytes) -> BatchCompletion:
    """The completion in a message's data; ``bad_completion`` names what is wrong."""
    try:
        document: Any = json.loads(data)
        if not isinstance(document, dict) or document.get("kind") != KIND:
            raise ValueError(f"not a {KIND} message")
        return BatchCompletion(
            batch_id=_text(document, "batch_id"),
            system_id=_text(document, "system_id"),
            game_date=date.fromisoformat(_text(document, "game_date")),
            run_mode=_text(document, "run_mode"),
            status=_text(document, "status"),
            rows_requested=int(document["rows_requested"]),
            rows_written=int(document["rows_written"]),
            rows_rejected=int(document["rows_rejected"]),
            finished_at=datetime.fromisoformat(_text(document, "finished_at")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError("bad_completion", f"batch completion unreadable: {exc}") from None


def _text(document: dict[str, Any], key: str) -> str:
    value = document[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


@dataclass(frozen=True)
class CompletionAnnouncer:
    """Publishes completions on one topic."""

    publisher: Publisher
    topic: str

    def announce(self, completion: BatchCompletion) -> None:
        attributes = {"kind": KIND, "batch_id": completion.batch_id}
        self.publisher.publish(self.topic, completion.encode(), attributes)
