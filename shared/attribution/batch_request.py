"""The prediction-batch message: validated against ``schemas/prediction_batch.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

from attribution.errors import PermanentError
from attribution.schema_files import schemas_dir

PUBSUB_MAX_MESSAGE_BYTES = 10_000_000


class RunMode(StrEnum):
    """The seed's three daily runs, plus manual backfills."""

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

    def encode(self) -> bytes:
        """The message bytes; an inline batch too large for Pub/Sub is refused with advice."""
        data = json.dumps(self.to_message(), separators=(",", ":"), default=str).encode()
        if len(data) > PUBSUB_MAX_MESSAGE_BYTES:
            raise PermanentError(
                "batch_too_large",
                f"batch {self.batch_id} is {len(data)} bytes inline, over Pub/Sub's "
                f"{PUBSUB_MAX_MESSAGE_BYTES}-byte limit: write the rows to the bucket and send "
                "rows_uri (a claim check) instead",
            )
        return data


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
        prefix = f"batch {batch}: " if isinstance(batch, str) else ""
        raise PermanentError("invalid_message", prefix + _explain(errors[0], document))
    try:
        game_date = date.fromisoformat(document["game_date"])
    except ValueError:
        raise PermanentError(
            "invalid_message", f"game_date {document['game_date']!r} is not a real date"
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
    return f"{where}: {error.message}"


def split_gs_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://") or "/" not in uri[5:]:
        raise PermanentError("bad_uri", f"{uri!r} is not a gs://bucket/name URI")
    bucket, _, name = uri[5:].partition("/")
    return bucket, name
