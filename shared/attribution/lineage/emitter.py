"""Emitting never fails a run nor holds it up beyond a bounded timeout.

One worker thread sends the events in order through the client's transport; ``emit`` waits
for its event at most ``timeout_seconds``. An event that cannot be built or sent, one still
unsent when the wait ends, and one refused because too many are waiting are logged and
counted (``counts``); the run goes on.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field, replace

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent

from attribution.lineage.events import TableNaming, run_event
from attribution.logs import get_logger
from attribution.ports import LineageRun

_log = get_logger("attribution.lineage")

MAX_WAITING = 1000


@dataclass(frozen=True)
class LineageCounts:
    sent: int = 0
    failed: int = 0  # not built, or the transport raised
    late: int = 0  # not sent within the timeout (it may still be sent)
    dropped: int = 0  # too many waiting: never sent


@dataclass
class _Pending:
    event: RunEvent
    done: threading.Event = field(default_factory=threading.Event)


class OpenLineageEmitter:
    """``ports.LineageEmitter`` over an openlineage-python client."""

    def __init__(
        self,
        client: OpenLineageClient,
        *,
        namespace: str,
        tables: TableNaming,
        timeout_seconds: float,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.tables = tables
        self.timeout_seconds = timeout_seconds
        self._counts = LineageCounts()
        self._lock = threading.Lock()
        self._waiting: queue.Queue[_Pending] = queue.Queue(maxsize=MAX_WAITING)
        self._worker: threading.Thread | None = None

    @property
    def counts(self) -> LineageCounts:
        with self._lock:
            return self._counts

    def emit(self, run: LineageRun) -> None:
        try:
            pending = _Pending(run_event(run, namespace=self.namespace, tables=self.tables))
        except Exception as exc:
            self._count("failed", run, f"not built: {type(exc).__name__}: {exc}")
            return
        self._start_worker()
        try:
            self._waiting.put_nowait(pending)
        except queue.Full:
            self._count("dropped", run, f"{MAX_WAITING} events are already waiting")
            return
        if not pending.done.wait(self.timeout_seconds):
            self._count("late", run, f"not sent within {self.timeout_seconds:g} s")

    def _start_worker(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._send_all, name="openlineage-emitter", daemon=True
                )
                self._worker.start()

    def _send_all(self) -> None:
        while True:
            pending = self._waiting.get()
            try:
                self.client.emit(pending.event)
            except Exception as exc:
                self._count("failed", pending.event, f"{type(exc).__name__}: {exc}")
            else:
                with self._lock:
                    self._counts = replace(self._counts, sent=self._counts.sent + 1)
            finally:
                pending.done.set()

    def _count(self, what: str, run: LineageRun | RunEvent, reason: str) -> None:
        with self._lock:
            self._counts = replace(self._counts, **{what: getattr(self._counts, what) + 1})
            counts = self._counts
        if isinstance(run, RunEvent):
            job, run_id = run.job.name, run.run.runId
            state = run.eventType.value if run.eventType else None
        else:
            job, run_id, state = run.job, str(run.run_id), run.state.value
        _log.error(
            "lineage event not sent",
            extra={
                "job": job,
                "run_id": run_id,
                "event_type": state,
                "transport": self.client.transport.kind,
                "error": reason,
                "lineage_counts": counts.__dict__,
            },
        )
