"""One WSGI app serving every function, each under its own path, in one process.

Each function is functions-framework's own app (``create_app(target, source, signature)``,
the code path Cloud Functions runs), mounted with werkzeug's ``DispatcherMiddleware``:

    /model_upload      on_model_uploaded          cloudevent
    /prediction_batch  on_batch_requested         cloudevent
    /verifier          on_verification_requested  cloudevent
    /verify            verify_http                http

One process means one App: one warehouse connection for the three functions, which the
embedded DuckDB file needs.

Pub/Sub push: the emulator POSTs the push body ``{"message": {...}, "subscription": ...}``,
not a CloudEvent. functions-framework converts it natively for ``cloudevent`` functions:
``from_http`` fails (no CloudEvent headers or fields), so it falls back to
``event_conversion.background_event_to_cloud_event``, which recognises a raw Pub/Sub push
body and builds a ``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent whose data is
``{"message": {"data", "attributes", "messageId", "publishTime"}}`` and whose source names
the topic read from the request path (hence push endpoints ending in
``/projects/<project>/topics/<topic>``). No shim is needed here.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from attribution.function_manifest import function_specs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HTTP_VERIFIER_PATH = "/verify"


@dataclass(frozen=True)
class Mount:
    path: str
    target: str
    source: Path
    signature: str
    function: str


def mounts() -> list[Mount]:
    """Every function of the manifest at ``/<name>``, and the HTTP verifier at ``/verify``."""
    specs = function_specs()
    found = [
        Mount(f"/{spec.name}", spec.entry_point, spec.source, spec.signature, spec.name)
        for spec in specs.values()
    ]
    verifier = specs["verifier"]
    found.append(Mount(HTTP_VERIFIER_PATH, "verify_http", verifier.source, "http", "verifier"))
    return found


def _mounted(
    app: WSGIApplication, hold: Callable[[], AbstractContextManager[object]] | None
) -> WSGIApplication:
    """``/<name>`` reaches the function's ``/`` (not a redirect to ``/<name>/``); each request
    runs inside ``hold()`` (the shared DuckDB file, held for the request) when given."""

    def wrapped(wsgi_environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not wsgi_environ.get("PATH_INFO"):
            wsgi_environ["PATH_INFO"] = "/"
        with hold() if hold is not None else contextlib.nullcontext():
            result = app(wsgi_environ, start_response)
            try:
                return list(result)  # functions-framework's responses are small and built
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return wrapped


def _index(routes: list[Mount]) -> WSGIApplication:
    listing = {
        m.path: {"function": m.function, "target": m.target, "signature": m.signature}
        for m in routes
    }

    def index(wsgi_environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(wsgi_environ)
        if request.path in ("", "/") and request.method in ("GET", "HEAD"):
            response = Response(
                json.dumps({"functions": listing}, indent=2), mimetype="application/json"
            )
        else:
            response = Response("no function here; GET / lists them\n", status=404)
        return response(wsgi_environ, start_response)

    return index


def functions_app(hold: Callable[[], AbstractContextManager[object]] | None = None) -> Any:
    """The dispatcher over every function's functions-framework app."""
    import functions_framework

    create_app: Any = functions_framework.create_app
    routes = mounts()
    apps: dict[str, WSGIApplication] = {}
    for mount in routes:
        app = create_app(mount.target, str(mount.source), mount.signature)
        apps[mount.path] = _mounted(app, hold)
    return DispatcherMiddleware(_index(routes), apps)
