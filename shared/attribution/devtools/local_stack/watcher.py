"""The bucket notification's stand-in: gcp-storage-emulator sends no notifications, so poll.

A thread lists the models bucket under the models prefix every ``interval`` seconds and,
for each new (name, generation), publishes the notification Cloud Storage would
(``attribution.events.object_notification``: OBJECT_FINALIZE, JSON_API_V1, built from
``ObjectStore.stat``) to the model uploads topic on the Pub/Sub emulator, whose push
subscription delivers it to model_upload as Eventarc would. A publish that fails is
retried on the next polls up to ``max_attempts``, then given up and logged; delivery
retries are the emulator's.

Differences from Cloud Storage: a finalize is seen up to ``interval`` late, and objects
already in the bucket when the watcher starts are announced once (model_upload answers
"already published" for those it carded before).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from attribution.events import object_notification
from attribution.logs import get_logger
from attribution.ports import ObjectStore, Publisher

_log = get_logger("attribution.devtools.local_stack.watcher")


@dataclass
class BucketWatcher:
    store: ObjectStore
    prefix: str
    publisher: Publisher
    topic: str
    interval: float = 1.0
    max_attempts: int = 5
    published: list[tuple[str, str | None, str]] = field(default_factory=list)
    _attempts: dict[tuple[str, str | None], int] = field(default_factory=dict)
    _done: set[tuple[str, str | None]] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def announce(self, name: str) -> str | None:
        """Publish the notification of the object's current generation; its message id
        (None: the publish failed). An object deleted meanwhile is announced as done."""
        obj = self.store.stat(name)
        if obj is None:
            return ""
        data, attributes = object_notification(obj)
        try:
            return self.publisher.publish(self.topic, data, attributes)
        except Exception as exc:  # the emulator restarting, say: the next poll retries
            _log.warning(
                "bucket notification not published",
                extra={"object": name, "error": f"{type(exc).__name__}: {exc}"},
            )
            return None

    def poll_once(self) -> int:
        """Announce every new object generation; how many were published."""
        published = 0
        for obj in list(self.store.list(self.prefix)):
            key = (obj.name, obj.generation)
            if key in self._done:
                continue
            message_id = self.announce(obj.name)
            attempts = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempts
            if message_id is not None:
                self._done.add(key)
                self.published.append((obj.name, obj.generation, message_id))
                published += 1
            elif attempts >= self.max_attempts:
                self._done.add(key)
                _log.error(
                    "bucket notification given up after retries",
                    extra={"object": obj.name, "generation": obj.generation},
                )
        return published

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
