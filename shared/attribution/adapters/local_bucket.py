"""The embedded object store: a folder per bucket, metadata in a sidecar JSON per object."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from attribution.errors import PermanentError
from attribution.objects import StoredObject, safe_object_name

_META_DIR = ".object-metadata"


class LocalBucket:
    """Objects under ``root/<bucket>/``; each write makes a new generation, like GCS."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.bucket = bucket
        self.root = (root / bucket).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        safe_object_name(name)
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or _META_DIR in path.relative_to(self.root).parts:
            raise PermanentError(
                "unsafe_object_name", f"object name {name!r} would escape the bucket folder"
            )
        return path

    def _meta_path(self, name: str) -> Path:
        return self.root / _META_DIR / f"{name}.json"

    def read(self, name: str) -> bytes:
        path = self._path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise PermanentError(
                "object_not_found", f"gs://{self.bucket}/{name} does not exist"
            ) from None

    def stat(self, name: str) -> StoredObject | None:
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
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        now = datetime.now(UTC)
        meta = {
            "generation": str(time.time_ns()),
            "md5_hex": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "content_type": content_type,
            "time_created": now.isoformat(),
            "metadata": dict(metadata or {}),
        }
        meta_path = self._meta_path(name)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps(meta))
        stored = self.stat(name)
        assert stored is not None
        return stored

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if not path.is_file() or relative.parts[0] == _META_DIR or path.name.endswith(".tmp"):
                continue
            name = relative.as_posix()
            if name.startswith(prefix):
                stored = self.stat(name)
                if stored is not None:
                    yield stored

    def path_of(self, name: str) -> Path:
        return self._path(name)
