"""The small interfaces the library talks through; adapters live in ``attribution.adapters``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import pyarrow as pa

from attribution.objects import StoredObject

Row = dict[str, Any]


class ObjectStore(Protocol):
    """A bucket: bytes under names, with generation, md5 and custom metadata."""

    bucket: str

    def read(self, name: str) -> bytes: ...

    def stat(self, name: str) -> StoredObject | None: ...

    def write(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject: ...

    def list(self, prefix: str = "") -> Iterator[StoredObject]: ...

    def create_exclusive(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject | None:
        """Write only if no object has this name; None when one already does (atomic)."""
        ...

    def replace_if_generation(
        self, name: str, data: bytes, generation: str, *, content_type: str = "application/json"
    ) -> StoredObject | None:
        """Overwrite only if the object is still at ``generation``; None otherwise (atomic)."""
        ...

    def delete_if_generation(self, name: str, generation: str) -> bool:
        """Delete only if the object is still at ``generation``."""
        ...


class Warehouse(Protocol):
    """Tables and queries. SQL is BigQuery Standard SQL with ``@name`` parameters."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """The same answer as ``query``, as one Arrow table typed by the warehouse (what a
        query over many rows should read: no Python object per value)."""
        ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]] | pa.Table) -> None:
        """Append rows as they are."""
        ...

    def insert_new_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        scope: Mapping[str, Any] | None = None,
        unique_keys: bool = False,
    ) -> int:
        """Insert the rows whose key is not in the table yet; return how many were new.

        ``unique_keys``: the caller guarantees no two incoming rows share a key, so the
        adapter need not deduplicate them. Safe under redelivery and under two writers racing
        with the same rows. ``scope``
        (column = value) bounds where an existing duplicate can be, so the check reads
        one batch or one partition rather than the whole table.
        """
        ...

    def update_rows(
        self,
        table: str,
        rows: Sequence[Mapping[str, Any]] | pa.Table,
        key: Sequence[str],
        *,
        only_where: str,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        """Set the given columns on rows matched by key, only where ``only_where`` (SQL over
        the target's columns, with ``@name`` parameters from ``params``) still holds at write
        time; return how many rows changed. The columns set are an Arrow table's columns
        other than ``key`` (or the first dict's); every other column keeps its value. On a
        partitioned table ``only_where`` should bound the partition column, so the update
        reads only those partitions."""
        ...

    def table_columns(self, table: str) -> list[str] | None:
        """Column names in order, or None when the table does not exist."""
        ...

    def required_columns(self, table: str) -> set[str]:
        """The columns of ``table`` that refuse NULL (empty when it does not exist)."""
        ...

    def create_table(self, table: str) -> None:
        """Create ``table`` from its schema file if it does not exist."""
        ...


class Publisher(Protocol):
    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str]) -> str:
        """Publish one message; return its message id."""
        ...


@dataclass(frozen=True)
class AlertSection:
    """One titled part of an alert, e.g. one verification check and its figures."""

    title: str
    status: str  # PASS | PARTIAL | FAIL | UNKNOWN | INFO
    lines: Sequence[str] = ()


@dataclass(frozen=True)
class AlertImage:
    """A picture an alert carries (an email shows it inline, by its content id)."""

    content_id: str  # without the angle brackets: "day-chart"
    png: bytes
    description: str  # the image's alt text


@dataclass(frozen=True)
class Alert:
    """Something people should hear about. Nothing in it may hold a secret.

    ``link``: where the full story is (the HTML report: a Cloud Console URL, or a file path
    on the embedded default)."""

    title: str
    severity: str  # "info" | "warning" | "error"
    text: str
    fields: Mapping[str, str] = field(default_factory=dict)
    lines: Sequence[str] = ()
    sections: Sequence[AlertSection] = ()
    link: str | None = None
    images: Sequence[AlertImage] = ()


class NotificationError(Exception):
    """A channel did not accept the alert (e.g. Slack answered anything but 200 ``ok``)."""


class Notifier(Protocol):
    def notify(self, alert: Alert) -> None:
        """Deliver the alert or raise NotificationError."""
        ...


@dataclass(frozen=True)
class ObjectDataset:
    """An object a run read or wrote (``gs://bucket/name``), for lineage.

    ``version`` is the dataset version (a model's SHA-256), ``kind`` its dataset type
    (``MODEL``, ``FILE``), ``card`` the model card document of a model artifact.
    """

    uri: str
    kind: str = "FILE"
    version: str | None = None
    card: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class TableDataset:
    """A warehouse table a run read or wrote; the emitter names it as its warehouse does.
    ``rows``: how many rows the run wrote (or changed) in it."""

    table: str
    rows: int | None = None


LineageDataset = ObjectDataset | TableDataset


class RunState(StrEnum):
    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"


@dataclass(frozen=True)
class LineageRun:
    """One state of one run of a job, what lineage graphs draw: what it read and wrote.
    Nothing in it may hold a secret."""

    job: str
    run_id: UUID
    state: RunState
    at: datetime
    inputs: Sequence[LineageDataset] = ()
    outputs: Sequence[LineageDataset] = ()
    error: str | None = None


class LineageEmitter(Protocol):
    def emit(self, run: LineageRun) -> None:
        """Send the run's event, or log and count why not: never raise, and return within
        the emitter's bounded timeout whatever its transport does."""
        ...
