"""What the object store knows about one stored object, independent of the backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from urllib.parse import quote

from attribution.errors import PermanentError
from attribution.limits import shown_value


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

    @property
    def console_url(self) -> str:
        """The object's page in the Google Cloud Console (it asks the reader to sign in, and
        shows the object only to whom the bucket's IAM lets see it)."""
        return (
            "https://console.cloud.google.com/storage/browser/_details/"
            f"{quote(self.bucket, safe='')}/{quote(self.name, safe='/')}"
        )


# --- names: the rules GCS applies, checked the same way on every store -----------------------
#
# https://cloud.google.com/storage/docs/naming-buckets and /naming-objects. A name GCS would
# refuse is ``bad_bucket_name`` / ``bad_object_name``; an object name GCS would take but that
# could climb out of a folder on a file system (``..`` or ``.`` segments, a leading ``/``, a
# backslash, control characters) is ``unsafe_object_name``, refused on every store too, so a
# name means the same object on the local bucket and on GCS.

MAX_OBJECT_NAME_BYTES = 1024
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_SHOWN = 80  # characters of a refused name quoted back in the message


def _shown(name: str) -> str:
    return shown_value(name, _SHOWN)


def _bad_bucket(name: str, problem: str) -> PermanentError:
    return PermanentError(
        "bad_bucket_name", f"bucket name {_shown(name)} is not a GCS bucket name: {problem}"
    )


def check_bucket_name(name: object) -> str:
    """``name`` if GCS would accept it as a bucket name, else PermanentError saying why."""
    if not isinstance(name, str):
        raise PermanentError("bad_bucket_name", f"bucket name must be text, not {name!r}")
    if not 3 <= len(name) <= (222 if "." in name else 63):
        limit = "3-222 characters with dots" if "." in name else "3-63 characters"
        raise _bad_bucket(name, f"{len(name)} characters, not {limit}")
    odd = sorted(set(name) - _BUCKET_CHARS)
    if odd:
        shown = "".join(odd[:10])
        raise _bad_bucket(
            name, f"only lowercase letters, digits, '-', '_' and '.' are allowed, not {shown!r}"
        )
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise _bad_bucket(name, "must start and end with a letter or a digit")
    components = name.split(".")
    if any(not c for c in components):
        raise _bad_bucket(name, "has an empty dot-separated component ('..')")
    if any(len(c) > 63 for c in components):
        raise _bad_bucket(name, "a dot-separated component is longer than 63 characters")
    if len(components) == 4 and all(c.isdigit() for c in components):
        raise _bad_bucket(name, "must not be an IP address in dotted-decimal notation")
    if name.startswith("goog"):
        raise _bad_bucket(name, "must not begin with 'goog'")
    if "google" in name.replace("0", "o"):
        raise _bad_bucket(name, "must not contain 'google' or a close misspelling of it")
    return name


def check_object_name(name: object) -> str:
    """``name`` if it is a GCS object name that stays inside its bucket, else PermanentError."""
    if not isinstance(name, str):
        raise PermanentError("bad_object_name", f"object name must be text, not {name!r}")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise PermanentError(
            "bad_object_name", f"object name {_shown(name)} is not valid Unicode text"
        ) from None
    if not 1 <= size <= MAX_OBJECT_NAME_BYTES:
        raise PermanentError(
            "bad_object_name",
            f"object name {_shown(name)} is {size} bytes in UTF-8: GCS takes 1-1024",
        )
    if "\r" in name or "\n" in name:
        raise PermanentError(
            "bad_object_name", f"object name {_shown(name)} contains a carriage return or line feed"
        )
    if name in (".", ".."):
        raise PermanentError("bad_object_name", f"object name {name!r} is not allowed by GCS")
    if name.startswith(".well-known/acme-challenge/"):
        raise PermanentError(
            "bad_object_name",
            f"object name {_shown(name)} is under .well-known/acme-challenge/, which GCS refuses",
        )
    if name.startswith("/") or "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise PermanentError(
            "unsafe_object_name",
            f"object name {_shown(name)} is not a safe bucket key "
            "(a leading '/', a backslash or a control character)",
        )
    if any(part in ("..", ".") for part in name.split("/")):
        raise PermanentError(
            "unsafe_object_name", f"object name {_shown(name)} would escape the bucket folder"
        )
    return name


def split_gs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/name`` as (bucket, name), both held to the rules GCS applies
    (above): a URI naming no real bucket or a name that would climb out of
    one is refused here, before any store is asked."""
    if not uri.startswith("gs://") or "/" not in uri[5:]:
        raise PermanentError("bad_uri", f"{uri[:200]!r} is not a gs://bucket/name URI")
    bucket, _, name = uri[5:].partition("/")
    try:
        check_bucket_name(bucket)
        check_object_name(name)
    except PermanentError as exc:
        shown = uri if len(uri) <= 200 else f"{uri[:200]}..."
        raise PermanentError(exc.code, f"{shown}: {exc.message}") from None
    return bucket, name


REPORTS_PREFIX = "reports/"


def report_object_name(system_id: str, game_date: date) -> str:
    """Where the verifier publishes a system's HTML report for one verified day."""
    return check_object_name(f"{REPORTS_PREFIX}{system_id}/{game_date.isoformat()}.html")
