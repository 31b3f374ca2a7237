"""A real HTTP server for OpenLineage's HttpTransport: records every event posted to
``/api/v1/lineage`` (the client's default endpoint) and answers as it is told to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDPOINT = "/api/v1/lineage"


@dataclass
class LineageServer:
    url: str
    events: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay_seconds: float = 0.0


@contextmanager
def lineage_server() -> Iterator[LineageServer]:
    recorder = LineageServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(recorder.delay_seconds)
            if self.path == ENDPOINT and recorder.status == 200:
                recorder.events.append(json.loads(body))
            self.send_response(recorder.status if self.path == ENDPOINT else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows logs
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
