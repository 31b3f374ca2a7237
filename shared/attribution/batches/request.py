"""The prediction-batch message: validated against ``schemas/prediction_batch.schema.json``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

from attribution.errors import PermanentError
from attribution.limits import (
    BATCH_ID_RULE,
    SYSTEM_ID_RULE,
    check_batch_id,
    check_game_date,
    check_system_id,
    shown_value,
)
from attribution.package_folders import schemas_dir

PUBSUB_MAX_MESSAGE_BYTES = 10_000_000


class RunMode(StrEnum):
    """The reference system's three daily runs, plus manual backfills."""

    EARLY = "EARLY"
    OVERNIGHT = "OVERNIGHT"
    SAME_DAY = "SAME_DAY"
    BACKFILL = "BACKFILL"

    @classmethod
    def parse(cls, raw: str) -> RunMode:
        aliases = {"REAL_LINES_ONLY": cls.EARLY, "ALL_PLAYERS": cls.OVERNIGHT}
        key = raw.strip().upper().replace("-", "_")
        if key in aliases:
            return aliases[key]
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join([*cls.__members__, *aliases])
            raise PermanentError(
                "bad_run_mode", f"run_mode {raw!r} is not one of {allowed}"
            ) from None


@dataclass(frozen=True)
class ModelPin:
    model_sha256: str | None = None
    model_file_name: str | None = None

    @property
    def reference(self) -> str:
        return self.model_sha256 or self.model_file_name or ""


@dataclass(frozen=True)
class BatchRequest:
    batch_id: str
    system_id: str
    game_date: date
    run_mode: RunMode
    pin: ModelPin | None
    rows: Sequence[Mapping[str, Any]] | None
    rows_uri: str | None
    requested_by: str | None = None

    def to_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "batch_id": self.batch_id,
            "system_id": self.system_id,
            "game_date": self.game_date.isoformat(),
            "run_mode": self.run_mode.value,
        }
        if self.pin is not None:
            message["model"] = {
                k: v
                for k, v in (
                    ("model_sha256", self.pin.model_sha256),
                    ("model_file_name", self.pin.model_file_name),
                )
                if v
            }
        if self.rows is not None:
            message["rows"] = [dict(r) for r in self.rows]
        if self.rows_uri is not None:
            message["rows_uri"] = self.rows_uri
        if self.requested_by:
            message["requested_by"] = self.requested_by
        return message

    def check(self) -> None:
        """Refuse (PermanentError naming the field) a batch id, system id, game date or pin
        the message schema and ``attribution.limits`` do not allow: before anything is
        written under the batch id, or published."""
        check_batch_fields(self.batch_id, self.system_id, self.game_date)
        if self.pin is not None:
            check_pin(self.pin)

    def encode(self) -> bytes:
        """The message bytes, checked (``check``); an inline batch too large for Pub/Sub is
        refused with advice."""
        self.check()
        data = json.dumps(self.to_message(), separators=(",", ":"), default=str).encode()
        if len(data) > PUBSUB_MAX_MESSAGE_BYTES:
            raise PermanentError(
                "batch_too_large",
                f"batch {self.batch_id} is {len(data)} bytes inline, over Pub/Sub's "
                f"{PUBSUB_MAX_MESSAGE_BYTES}-byte limit: write the rows to the bucket and send "
                "rows_uri (a claim check) instead",
            )
        return data


def check_batch_fields(batch_id: str, system_id: str, game_date: date) -> None:
    """The batch message's identifying fields within their limits, or PermanentError."""
    check_batch_id(batch_id)
    check_system_id(system_id)
    check_game_date(game_date)


def check_pin(pin: ModelPin) -> None:
    """A pin the message schema takes: a sha256 in lowercase hex, or a file name of 1-1024
    characters on one line."""
    if pin.model_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", pin.model_sha256):
        raise PermanentError(
            "bad_model_pin",
            f"model_sha256 {shown_value(pin.model_sha256)} is not 64 lowercase hex digits",
        )
    name = pin.model_file_name
    if name is not None and not (0 < len(name) <= 1024 and "\n" not in name and "\r" not in name):
        raise PermanentError(
            "bad_model_pin",
            f"model_file_name {shown_value(name)} must be 1-1024 characters on one line",
        )


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads((schemas_dir() / "prediction_batch.schema.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def parse_batch_request(data: bytes) -> BatchRequest:
    """Decode and validate a batch message, or raise PermanentError saying what is wrong."""
    if len(data) > PUBSUB_MAX_MESSAGE_BYTES:
        raise PermanentError(
            "batch_too_large",
            f"message is {len(data)} bytes, over {PUBSUB_MAX_MESSAGE_BYTES}: send rows_uri instead",
        )
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PermanentError("malformed_message", f"batch message is not JSON: {exc}") from None
    errors = sorted(
        _validator().iter_errors(document),
        key=lambda e: (list(e.absolute_path), e.validator == "oneOf"),
    )
    if errors:
        batch = document.get("batch_id") if isinstance(document, dict) else None
        if isinstance(batch, str):
            prefix = f"batch {batch if len(batch) <= 128 else shown_value(batch)}: "
        else:
            prefix = ""
        raise PermanentError("invalid_message", prefix + _explain(errors[0], document))
    try:
        game_date = date.fromisoformat(document["game_date"])
    except ValueError:
        raise PermanentError(
            "invalid_message", f"game_date {document['game_date']!r} is not a real date"
        ) from None
    try:
        check_game_date(game_date)
    except PermanentError as exc:
        raise PermanentError(
            "invalid_message", f"batch {document['batch_id']}: {exc.message}"
        ) from None
    pin_doc = document.get("model")
    return BatchRequest(
        batch_id=document["batch_id"],
        system_id=document["system_id"],
        game_date=game_date,
        run_mode=RunMode.parse(document["run_mode"]),
        pin=ModelPin(**pin_doc) if pin_doc else None,
        rows=document.get("rows"),
        rows_uri=document.get("rows_uri"),
        requested_by=document.get("requested_by"),
    )


def _explain(error: Any, document: Any) -> str:
    """What is wrong, naming the field; the rows/rows_uri choice in words, not a schema dump."""
    if error.validator == "oneOf" and not error.absolute_path and isinstance(document, dict):
        if "rows" in document and "rows_uri" in document:
            return "message: give rows (inline) or rows_uri (a claim check), not both"
        return "message: needs rows (inline) or rows_uri (a claim check)"
    where = "/".join(str(p) for p in error.absolute_path) or "message"
    text = error.message
    if isinstance(error.instance, str) and len(error.instance) > 60:
        # A long value is not quoted back whole (a million-character id, say).
        text = text.replace(repr(error.instance), shown_value(error.instance))
    rule = _RULES.get(where) if error.validator in ("pattern", "type") else None
    return f"{where}: {text}" + (f" ({rule})" if rule else "")


# The rules of the message's identifying fields, as a person reads them.
_RULES = {
    "batch_id": f"it must be {BATCH_ID_RULE}",
    "system_id": f"it must be {SYSTEM_ID_RULE}",
    "game_date": "it must be a date, YYYY-MM-DD",
}
