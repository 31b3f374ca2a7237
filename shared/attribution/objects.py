"""What the object store knows about one stored object, independent of the backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from attribution.errors import PermanentError


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    name: str
    generation: str | None = None
    size: int | None = None
    md5_hex: str | None = None
    content_type: str | None = None
    time_created: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.name}"

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.name).name


def safe_object_name(name: str) -> str:
    """Reject names that are empty, absolute, or climb out of the bucket with ``..``."""
    if not name or name.startswith("/") or any(c in name for c in "\\\x00\r\n"):
        raise PermanentError("unsafe_object_name", f"object name {name!r} is not a safe bucket key")
    parts = PurePosixPath(name).parts
    if any(part in ("..", ".") for part in parts):
        raise PermanentError(
            "unsafe_object_name", f"object name {name!r} would escape the bucket folder"
        )
    return name
