"""The Google Cloud object store: one GCS bucket through google-cloud-storage.

The client is created on first use and shared by every store of the process (warm
function instances reuse it). With ``STORAGE_EMULATOR_HOST`` set, the client library
talks to that emulator; it then gets anonymous credentials.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.cloud.storage import Client as StorageClient
from google.cloud.storage.retry import DEFAULT_RETRY

from attribution.adapters.google_cloud.google_errors import transient_errors
from attribution.errors import PermanentError
from attribution.objects import StoredObject, check_bucket_name, check_object_name

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"

_clients: dict[tuple[str | None, str | None], Any] = {}
_clients_lock = threading.Lock()


def storage_client(project: str | None = None) -> Any:
    """The process's storage client for ``project`` (and the current emulator, if any)."""
    emulator = os.environ.get(EMULATOR_ENV) or None
    key = (project, emulator)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if emulator:
                from google.auth.credentials import AnonymousCredentials

                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
                client = StorageClient(project=project or "local-emulator", credentials=credentials)
            else:
                client = StorageClient(project=project)
            _clients[key] = client
        return client


def md5_hex(md5_base64: str | None) -> str | None:
    """GCS reports MD5 as base64 of the 16 digest bytes; the card wants hex."""
    if not md5_base64:
        return None
    try:
        digest = base64.b64decode(md5_base64, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 16 else None


def _generation(value: Any) -> str | None:
    return None if value is None else str(value)


class GcsStore:
    """An ``ObjectStore`` over one GCS bucket."""

    def __init__(
        self,
        bucket: str,
        project: str | None = None,
        *,
        timeout: float = 60.0,
        retry_timeout: float = 120.0,
    ) -> None:
        # Names are held to GCS's own rules before any request: a refused name never reaches
        # the backend (nor a URL path, where ``..`` could mean something else).
        self.bucket = check_bucket_name(bucket)
        self.project = project
        self.timeout = timeout
        # Calls are retried on 429/5xx/connection errors for up to ``retry_timeout`` seconds
        # (uploads too, as the client library does by default); then it is a TransientError.
        self._retry = DEFAULT_RETRY.with_timeout(retry_timeout)

    def _bucket(self) -> Any:
        return storage_client(self.project).bucket(self.bucket)

    def _uri(self, name: str) -> str:
        return f"gs://{self.bucket}/{name}"

    def _stored(self, blob: Any) -> StoredObject:
        return StoredObject(
            bucket=self.bucket,
            name=blob.name,
            generation=_generation(blob.generation),
            size=None if blob.size is None else int(blob.size),
            md5_hex=md5_hex(blob.md5_hash),
            content_type=blob.content_type,
            time_created=blob.time_created,
            metadata={str(k): str(v) for k, v in (blob.metadata or {}).items()},
        )

    def read(self, name: str) -> bytes:
        check_object_name(name)
        with transient_errors(f"reading {self._uri(name)}"):
            try:
                data: bytes = (
                    self._bucket()
                    .blob(name)
                    .download_as_bytes(timeout=self.timeout, retry=self._retry)
                )
            except api_exceptions.NotFound:
                raise PermanentError(
                    "object_not_found", f"{self._uri(name)} does not exist"
                ) from None
        return data

    def stat(self, name: str) -> StoredObject | None:
        check_object_name(name)
        with transient_errors(f"reading the metadata of {self._uri(name)}"):
            blob = self._bucket().get_blob(name, timeout=self.timeout, retry=self._retry)
        return None if blob is None else self._stored(blob)

    def write(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject:
        check_object_name(name)
        blob = self._bucket().blob(name)
        if metadata:
            blob.metadata = {str(k): str(v) for k, v in metadata.items()}
        with transient_errors(f"writing {self._uri(name)}"):
            blob.upload_from_string(
                data, content_type=content_type, timeout=self.timeout, retry=self._retry
            )
        if blob.generation is None or blob.md5_hash is None:
            # The upload response normally carries the resource; ask when it did not.
            stored = self.stat(name)
            if stored is not None:
                return stored
        return self._stored(blob)

    def create_exclusive(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> StoredObject | None:
        """Create only if absent (``ifGenerationMatch=0``); None when it already exists."""
        return self._conditional_upload(name, data, content_type, metadata, generation=0)

    def replace_if_generation(
        self, name: str, data: bytes, generation: str, *, content_type: str = "application/json"
    ) -> StoredObject | None:
        return self._conditional_upload(name, data, content_type, None, generation=int(generation))

    def delete_if_generation(self, name: str, generation: str) -> bool:
        check_object_name(name)
        with transient_errors(f"deleting {self._uri(name)}"):
            try:
                self._bucket().blob(name).delete(
                    if_generation_match=int(generation), timeout=self.timeout, retry=self._retry
                )
            except (api_exceptions.PreconditionFailed, api_exceptions.NotFound):
                return False
        return True

    def _conditional_upload(
        self,
        name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None,
        *,
        generation: int,
    ) -> StoredObject | None:
        check_object_name(name)
        blob = self._bucket().blob(name)
        if metadata:
            blob.metadata = {str(k): str(v) for k, v in metadata.items()}
        with transient_errors(f"writing {self._uri(name)}"):
            try:
                blob.upload_from_string(
                    data,
                    content_type=content_type,
                    if_generation_match=generation,
                    timeout=self.timeout,
                    retry=self._retry,
                )
            except api_exceptions.PreconditionFailed:
                return None
        return self._stored(blob) if blob.generation is not None else self.stat(name)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        with transient_errors(f"listing gs://{self.bucket}/{prefix}"):
            blobs = storage_client(self.project).list_blobs(
                self.bucket, prefix=prefix or None, timeout=self.timeout, retry=self._retry
            )
            for blob in blobs:
                yield self._stored(blob)
