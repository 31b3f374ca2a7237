"""The embedded object store: a folder per bucket, metadata in a sidecar JSON per object."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.logs import get_logger
from attribution.objects import StoredObject, check_bucket_name, check_object_name

_META_DIR = ".object-metadata"
# A file name is at most 255 bytes on the usual file systems; the metadata sidecar adds ".json".
_MAX_SEGMENT_BYTES = 250
_TEMPORARY = re.compile(r"\.[0-9a-f]{32}\.tmp")  # a write in progress (``_atomic_write``)
_log = get_logger("attribution.local_bucket")
_locks: dict[Path, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock_for(root: Path) -> threading.RLock:
    """One lock per bucket folder in this process: data and metadata change together."""
    with _locks_guard:
        return _locks.setdefault(root, threading.RLock())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own length, so any object name that fits the folder fits its temporary.
    temporary = path.with_name(f".{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class LocalBucket:
    """Objects under ``root/<bucket>/``; each write makes a new generation, like GCS.

    Bucket and object names are held to the rules GCS applies (``attribution.objects``), and
    every path is resolved (symlinks followed) and refused unless it stays inside its bucket
    folder, which itself must stay inside ``root``.
    """

    def __init__(self, root: Path, bucket: str) -> None:
        check_bucket_name(bucket)
        self.bucket = bucket
        base = root.resolve()
        folder = base / bucket
        self.root = self._inside_base(base, folder)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root = self._inside_base(base, folder)  # resolved again once it exists
        self._lock = _lock_for(self.root)

    def _inside_base(self, base: Path, folder: Path) -> Path:
        resolved = folder.resolve()
        if resolved.parent != base:
            raise PermanentError(
                "unsafe_bucket",
                f"bucket folder {folder} resolves to {resolved}, outside the buckets folder "
                f"{base}: a bucket folder must not be a link out of it",
            )
        return resolved

    def _escapes(self, name: str) -> PermanentError:
        return PermanentError(
            "unsafe_object_name",
            f"object name {name!r} (gs://{self.bucket}/{name}) would escape the bucket folder: "
            "it resolves outside it, through a link",
        )

    def _path(self, name: str) -> Path:
        check_object_name(name)
        if any(len(part.encode()) > _MAX_SEGMENT_BYTES for part in name.split("/")):
            raise PermanentError(
                "object_name_too_long",
                f"object name {name[:80]!r}... has a path segment over {_MAX_SEGMENT_BYTES} "
                "bytes: GCS takes it, a file system folder cannot (use the gcs object store)",
            )
        path = (self.root / name).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise self._escapes(name)
        if _META_DIR in path.relative_to(self.root).parts:
            raise PermanentError(
                "unsafe_object_name", f"object name {name!r} is inside the metadata folder"
            )
        return path

    def _meta_path(self, name: str) -> Path:
        meta_root = self.root / _META_DIR
        path = (meta_root / f"{name}.json").resolve()
        if not path.is_relative_to(meta_root.resolve()):
            raise self._escapes(name)
        return path

    def read(self, name: str) -> bytes:
        path = self._path(name)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise PermanentError(
                "object_not_found", f"gs://{self.bucket}/{name} does not exist"
            ) from None

    def stat(self, name: str) -> StoredObject | None:
        with self._lock:
            return self._stat_locked(name)

    def _stat_locked(self, name: str) -> StoredObject | None:
        path = self._path(name)
        if not path.is_file():
            return None
        meta_path = self._meta_path(name)
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        stat = path.stat()
        return StoredObject(
            bucket=self.bucket,
            name=name,
            generation=meta.get("generation", str(stat.st_mtime_ns)),
            size=stat.st_size,
            md5_hex=meta.get("md5_hex"),
            content_type=meta.get("content_type"),
            time_created=datetime.fromisoformat(meta["time_created"])
            if "time_created" in meta
            else datetime.fromtimestamp(stat.st_mtime, UTC),
            metadata=meta.get("metadata", {}),
        )

    def write(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        with self._lock:
            return self._write_locked(name, data, content_type, metadata)

    def create_exclusive(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject | None:
        with self._lock:
            if self._path(name).exists():
                return None
            return self._write_locked(name, data, content_type, metadata)

    def replace_if_generation(
        self, name: str, data: bytes, generation: str, *, content_type: str = "application/json"
    ) -> StoredObject | None:
        with self._lock:
            current = self.stat(name)
            if current is None or current.generation != generation:
                return None
            return self._write_locked(name, data, content_type, None)

    def delete_if_generation(self, name: str, generation: str) -> bool:
        with self._lock:
            current = self.stat(name)
            if current is None or current.generation != generation:
                return False
            self._path(name).unlink()
            self._meta_path(name).unlink(missing_ok=True)
            return True

    def _write_locked(
        self,
        name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None,
    ) -> StoredObject:
        path = self._path(name)
        if path.is_dir() or any(p.is_file() for p in path.parents if p.is_relative_to(self.root)):
            raise PermanentError(
                "object_name_conflict",
                f"gs://{self.bucket}/{name} cannot be kept in the local bucket folder: it would "
                "be both a file and a folder of other objects",
            )
        meta = {
            "generation": str(time.time_ns()),
            "md5_hex": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "content_type": content_type,
            "time_created": now_utc().isoformat(),
            "metadata": dict(metadata or {}),
        }
        _atomic_write(path, data)
        _atomic_write(self._meta_path(name), json.dumps(meta).encode())
        stored = self.stat(name)
        assert stored is not None
        return stored

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if (
                not path.is_file()
                or relative.parts[0] == _META_DIR
                or _TEMPORARY.fullmatch(path.name)
            ):
                continue
            name = relative.as_posix()
            if name.startswith(prefix):
                try:
                    stored = self.stat(name)
                except PermanentError as exc:  # a link out of the bucket, a name GCS refuses
                    _log.warning("object skipped", extra={"bucket": self.bucket, "error": str(exc)})
                    continue
                if stored is not None:
                    yield stored

    def path_of(self, name: str) -> Path:
        return self._path(name)
