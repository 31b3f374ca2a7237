"""The Eventarc stand-in: gcp-storage-emulator sends no object notifications, so poll.

A thread lists the models bucket under the models prefix every ``interval`` seconds and,
for each new (name, generation), posts a ``google.cloud.storage.object.v1.finalized``
CloudEvent built from the object's metadata (``GcsStore.stat``, then
``attribution.events.object_finalized_event``) to the model_upload function, as Eventarc
would. A delivery that fails (no answer, or not 2xx) is retried on the next polls, with the
same event id, up to ``max_attempts``; then it is given up and logged.

Differences from Eventarc: a finalize is seen up to ``interval`` late, only objects under
the models prefix are announced (Eventarc announces every object; model_upload ignores the
rest), and objects already in the bucket when the watcher starts are announced once
(model_upload answers "already published" for those it carded before).
"""

from __future__ import annotations

import hashlib
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from cloudevents.conversion import to_structured

from attribution.events import object_finalized_event
from attribution.logs import get_logger
from attribution.ports import ObjectStore

_log = get_logger("attribution.local_stack.watcher")


def _event_id(bucket: str, name: str, generation: str | None) -> str:
    """Stable per object generation, so a retried delivery is the same event."""
    return hashlib.sha256(f"gs://{bucket}/{name}#{generation}".encode()).hexdigest()[:32]


@dataclass
class BucketWatcher:
    store: ObjectStore
    prefix: str
    endpoint: str
    interval: float = 1.0
    max_attempts: int = 5
    timeout: float = 300.0
    delivered: list[tuple[str, str | None, int]] = field(default_factory=list)
    _attempts: dict[tuple[str, str | None], int] = field(default_factory=dict)
    _done: set[tuple[str, str | None]] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def post(self, name: str) -> int | None:
        """Announce the object's current generation; the HTTP status (None: no answer)."""
        obj = self.store.stat(name)
        if obj is None:  # deleted meanwhile: nothing to announce
            return 204
        event = object_finalized_event(
            obj, event_id=_event_id(obj.bucket, obj.name, obj.generation)
        )
        headers, body = to_structured(event)
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, OSError) as exc:
            _log.warning("finalize event not delivered", extra={"object": name, "error": str(exc)})
            return None

    def poll_once(self) -> int:
        """Announce every new object generation; how many were delivered."""
        delivered = 0
        for obj in list(self.store.list(self.prefix)):
            key = (obj.name, obj.generation)
            if key in self._done:
                continue
            status = self.post(obj.name)
            attempts = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempts
            if status is not None and 200 <= status < 300:
                self._done.add(key)
                self.delivered.append((obj.name, obj.generation, status))
                delivered += 1
            elif attempts >= self.max_attempts:
                self._done.add(key)
                _log.error(
                    "finalize event given up after retries",
                    extra={"object": obj.name, "generation": obj.generation, "status": status},
                )
        return delivered

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the emulator restarting, say: keep watching
                _log.warning("bucket poll failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._stop.wait(self.interval)

    def start(self) -> BucketWatcher:
        self._thread = threading.Thread(target=self._run, name="bucket-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
