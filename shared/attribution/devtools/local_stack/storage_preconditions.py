"""gcp-storage-emulator, honouring the generation preconditions Cloud Storage applies.

The emulator release here ignores ``ifGenerationMatch``: an upload or a delete whose
precondition does not hold succeeds anyway, so a create-if-absent or a compare-and-swap
(batch claims, write-once kept inputs) cannot be exercised against it. This wraps its
object insert and delete handlers: the precondition is checked against the object's live
generation (``0`` when there is none) under one lock with the write, and one that does not
hold is answered 412, as Cloud Storage answers it. A resumable upload is checked when it is
started. Run as ``python -m attribution.devtools.local_stack.storage_preconditions`` with
the emulator's own arguments (``start --port=...``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from gcp_storage_emulator import server
from gcp_storage_emulator.__main__ import main as emulator_main
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

Handler = Callable[..., Any]
_WRITES = threading.Lock()
PRECONDITION_FAILED = {
    "error": {
        "code": 412,
        "message": "At least one of the pre-conditions you specified did not hold.",
        "errors": [{"reason": "conditionNotMet", "domain": "global"}],
    }
}


def _object_name(request: Any) -> str | None:
    if "object_id" in request.params:
        return str(request.params["object_id"])
    if "name" in request.query:
        return str(request.query["name"][0])
    data = request.data
    meta = data.get("meta") if isinstance(data, dict) else None
    return str(meta["name"]) if isinstance(meta, dict) and "name" in meta else None


def _live_generation(storage: Any, bucket: str, name: str) -> str:
    try:
        return str(storage.get_file_obj(bucket, name)["generation"])
    except NotFound:
        return "0"


def honouring_preconditions(handler: Handler) -> Handler:
    def guarded(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
        expected = request.query.get("ifGenerationMatch")
        if not expected:
            return handler(request, response, storage, *args, **kwargs)
        with _WRITES:
            name = _object_name(request)
            bucket = request.params["bucket_name"]
            if name is not None and _live_generation(storage, bucket, name) != expected[0]:
                response.status = HTTPStatus.PRECONDITION_FAILED
                response.json(PRECONDITION_FAILED)
                return None
            return handler(request, response, storage, *args, **kwargs)

    return guarded


def install() -> None:
    """Wrap the emulator's insert and delete handlers wherever its router holds them."""
    wrapped = {h: honouring_preconditions(h) for h in (objects.insert, objects.delete)}
    for _, methods in server.HANDLERS:
        for verb, handler in list(methods.items()):
            if handler in wrapped:
                methods[verb] = wrapped[handler]
    objects.insert = wrapped[objects.insert]  # the router's fallback for bare upload paths


if __name__ == "__main__":
    install()
    sys.exit(emulator_main(sys.argv[1:]))
