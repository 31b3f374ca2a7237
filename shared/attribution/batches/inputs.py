"""A batch's input: its bytes and their hash, kept once under its batch id, read as rows.

A batch id names one input. The input is kept at ``batches/<batch_id>/input.<fmt>``
(replay relies on it) and written there at most once: when something is already kept
under the id, it must be the same bytes, or the batch is refused as a reused id and the
kept evidence is left as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from attribution.batches.request import BatchRequest
from attribution.batches.rows import RowsRead, format_of, read_input_rows, rows_to_table
from attribution.errors import PermanentError
from attribution.json_safe import json_default
from attribution.objects import split_gs_uri
from attribution.ports import ObjectStore


def kept_input_name(prefix: str, batch_id: str, fmt: str) -> str:
    """Where a batch's input is kept: derived from its batch_id alone."""
    return f"{prefix}{batch_id}/input.{fmt}"


@dataclass(frozen=True)
class BatchInput:
    data: bytes
    fmt: str
    sha256: str
    kept_bucket: str
    kept_name: str
    # The object it was read from, when it was a claim check.
    source: tuple[str, str] | None

    @property
    def kept_uri(self) -> str:
        return f"gs://{self.kept_bucket}/{self.kept_name}"


def inline_bytes(request: BatchRequest) -> bytes:
    """Inline rows as the JSONL they are kept as (one object a line, keys sorted)."""
    assert request.rows is not None
    return "".join(
        json.dumps(row, default=json_default, sort_keys=True) + "\n" for row in request.rows
    ).encode()


def read_batch_input(
    request: BatchRequest, store_for: Callable[[str], ObjectStore], bucket: str, prefix: str
) -> BatchInput:
    """The batch's input bytes and hash; nothing is written."""
    if request.rows is not None:
        data, fmt, source = inline_bytes(request), "jsonl", None
    else:
        assert request.rows_uri is not None
        source = split_gs_uri(request.rows_uri)
        fmt = format_of(source[1])
        data = store_for(source[0]).read(source[1])
    return BatchInput(
        data=data,
        fmt=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        kept_bucket=bucket,
        kept_name=kept_input_name(prefix, request.batch_id, fmt),
        source=source,
    )


def keep_input(batch_input: BatchInput, store: ObjectStore, batch_id: str) -> None:
    """Keep the input under its batch id, once; refuse other bytes under the same id."""
    if batch_input.source == (batch_input.kept_bucket, batch_input.kept_name):
        return  # the claim check was written where inputs are kept
    content_type = "application/x-ndjson" if batch_input.fmt == "jsonl" else None
    write_once(store, batch_input.kept_name, batch_input.data, batch_id, content_type)


def write_once(
    store: ObjectStore, name: str, data: bytes, batch_id: str, content_type: str | None = None
) -> None:
    """Write ``data`` at ``name`` unless it is there already; other bytes there mean the batch
    id names another input (``batch_id_reused``), and they are left as they are."""
    created = store.create_exclusive(
        name, data, content_type=content_type or "application/octet-stream"
    )
    if created is not None:
        return
    kept = hashlib.sha256(store.read(name)).hexdigest()
    if kept != hashlib.sha256(data).hexdigest():
        raise reused_batch_id(batch_id, kept)


def reused_batch_id(batch_id: str, kept_sha256: str) -> PermanentError:
    return PermanentError(
        "batch_id_reused",
        f"batch_id {batch_id} already names another input (sha256 {kept_sha256[:12]}): a "
        "batch id names one input; send these rows under a new batch_id",
    )


def input_rows(
    batch_input: BatchInput, request: BatchRequest, text_columns: tuple[str, ...]
) -> RowsRead:
    """The input's rows, with the lines that are no rows set aside."""
    if request.rows is not None:
        return RowsRead(rows_to_table(request.rows))
    return read_input_rows(
        batch_input.data,
        batch_input.fmt,
        source=request.rows_uri or batch_input.kept_uri,
        text_columns=text_columns,
    )
