"""The whole event-driven stack on one machine, with the Google Cloud adapters.

``LocalStack`` starts (or is given) the Pub/Sub emulator and gcp-storage-emulator, points the
process at them, builds the App on the mixed backend (GCS and Pub/Sub adapters, the DuckDB
warehouse opened in shared mode so the CLI can use it too), serves the three functions from
one functions-framework dispatcher, creates the topics with push subscriptions to them, and
runs the bucket watcher that stands in for Eventarc. ``stop()`` undoes all of it.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from attribution.adapters.embedded.duckdb_shared import SharedDuckDBWarehouse
from attribution.bootstrap import App, build_app, current_app, use_app
from attribution.config import (
    DuckDBAccess,
    ObjectStoreKind,
    PublisherKind,
    Settings,
    WarehouseKind,
    load_settings,
)
from attribution.devtools.local_stack.dispatcher import HTTP_VERIFIER_PATH, functions_app, mounts
from attribution.devtools.local_stack.emulators import EmulatorProcess, start_pubsub, start_storage
from attribution.devtools.local_stack.topology import (
    PushRoute,
    SubscriptionInfo,
    ensure_buckets,
    ensure_pubsub,
)
from attribution.devtools.local_stack.watcher import BucketWatcher
from attribution.function_manifest import function_specs
from attribution.logs import get_logger

_log = get_logger("attribution.devtools.local_stack")

DEFAULT_PROJECT = "local-attribution"
STACK_FILE = "stack.json"
ENV_FILE = "stack.env"
WALKTHROUGH_DAY = date(2026, 2, 3)
WALKTHROUGH_SYSTEM = "catboost_v9"


@dataclass(frozen=True)
class StackConfig:
    home: Path = Path(".attribution/stack")
    host: str = "127.0.0.1"
    port: int = 8080  # the functions; 0 takes any free port
    project: str = DEFAULT_PROJECT
    pubsub_port: int = 8085
    storage_port: int = 9023
    pubsub_emulator: str | None = None  # host:port of a running emulator: start none
    storage_emulator: str | None = None  # URL of a running gcp-storage-emulator: start none
    watch_interval: float = 1.0


def stack_environment(
    config: StackConfig, *, home: Path, pubsub_host: str, storage_url: str, models_bucket: str
) -> dict[str, str]:
    """What a process needs in its environment to use the stack (the CLI included)."""
    return {
        "ATTRIBUTION_HOME": str(home),
        "OBJECT_STORE": ObjectStoreKind.GCS.value,
        "WAREHOUSE": WarehouseKind.DUCKDB.value,
        "DUCKDB_ACCESS": DuckDBAccess.SHARED.value,
        "PUBLISHER": PublisherKind.PUBSUB.value,
        "GCP_PROJECT": config.project,
        "MODELS_BUCKET": models_bucket,
        "STORAGE_EMULATOR_HOST": storage_url,
        "PUBSUB_EMULATOR_HOST": pubsub_host,
    }


class _RequestLog(WSGIRequestHandler):
    """One structured log line per request (werkzeug's own lines carry terminal colours)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        _log.info(
            "request",
            extra={"method": self.command, "path": self.path, "status": str(code)},
        )


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.home = config.home.resolve()
        self.app: App | None = None
        self.env: dict[str, str] = {}
        self.base_url = ""
        self.subscriptions: list[SubscriptionInfo] = []
        self.samples: dict[str, Path] = {}
        self._emulators: list[EmulatorProcess] = []
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._watchers: list[BucketWatcher] = []
        self._saved_env: dict[str, str] | None = None
        self._previous_app: App | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / STACK_FILE).unlink(missing_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        config = self.config
        logs = self.home / "logs"
        storage_url = config.storage_emulator
        if storage_url is None:
            storage = start_storage(
                config.storage_port,
                logs / "storage-emulator.log",
                host=config.host,
                data_dir=self.home / "storage",
            )
            self._emulators.append(storage)
            storage_url = f"http://{config.host}:{storage.port}"
        pubsub_host = config.pubsub_emulator
        if pubsub_host is None:
            pubsub = start_pubsub(
                config.pubsub_port, logs / "pubsub-emulator.log", host=config.host
            )
            self._emulators.append(pubsub)
            pubsub_host = f"{config.host}:{pubsub.port}"

        models_bucket = os.environ.get("MODELS_BUCKET") or Settings().models_bucket
        self.env = stack_environment(
            config,
            home=self.home,
            pubsub_host=pubsub_host,
            storage_url=storage_url,
            models_bucket=models_bucket,
        )
        self._set_environment(self.env)
        settings = load_settings()
        self._previous_app = current_app()
        self.app = build_app(settings)
        use_app(self.app)
        ensure_buckets(config.project, [settings.models_bucket, settings.cards_bucket])

        warehouse = self.app.warehouse
        hold = warehouse.session if isinstance(warehouse, SharedDuckDBWarehouse) else None
        self._serve(functions_app(hold))

        specs = function_specs().values()
        routes = [
            PushRoute(topic, spec.name, f"{self.base_url}/{spec.name}")
            for spec in specs
            if spec.topic_env and (topic := settings.named_by(spec.topic_env))
        ]
        pushed = {r.topic for r in routes}
        pull_topics = [t for t in [settings.model_cards_topic] if t not in pushed]
        self.subscriptions = ensure_pubsub(config.project, routes, pull_topics)

        for spec in specs:  # model_upload: the models bucket's notifications
            if spec.notifying_bucket_env and spec.topic_env:
                watcher = BucketWatcher(
                    self.app.models,
                    settings.models_prefix,
                    self.app.publisher,
                    str(settings.named_by(spec.topic_env)),
                    interval=config.watch_interval,
                )
                self._watchers.append(watcher.start())

        self.samples = self._write_samples()
        self._write_stack_files()
        _log.info("local stack ready", extra={"functions_url": self.base_url})

    def _serve(self, wsgi_app: Any) -> None:
        from werkzeug.serving import make_server

        self._server = make_server(
            self.config.host,
            self.config.port,
            wsgi_app,
            threaded=True,
            request_handler=_RequestLog,
        )
        self.base_url = f"http://{self.config.host}:{self._server.server_port}"
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, name="functions", daemon=True
        )
        self._server_thread.start()

    def stop(self) -> None:
        """Stop the watcher, the functions and the emulators this stack started."""
        (self.home / STACK_FILE).unlink(missing_ok=True)
        for watcher in self._watchers:
            watcher.stop()
        self._watchers.clear()
        if self._server is not None:
            if self._server_thread is not None and self._server_thread.is_alive():
                self._server.shutdown()  # returns once serve_forever has returned
                self._server_thread.join(10)
            self._server.server_close()
            self._server = None
        self._server_thread = None
        for emulator in reversed(self._emulators):
            try:
                emulator.stop()
            except Exception as exc:
                _log.error(
                    "emulator did not stop", extra={"emulator": emulator.name, "error": str(exc)}
                )
        self._emulators.clear()
        if self.app is not None:
            close = getattr(self.app.warehouse, "close", None)
            if close is not None:
                close()
            if current_app() is self.app:
                use_app(self._previous_app)
            self.app = None
        self._restore_environment()

    def problem(self) -> str | None:
        """Why the stack is no longer whole (an emulator or the server died), or None."""
        for emulator in self._emulators:
            if not emulator.running():
                return f"the {emulator.name} emulator exited; its log: {emulator.log}"
        if self._server_thread is not None and not self._server_thread.is_alive():
            return "the functions server stopped"
        return None

    # ------------------------------------------------------------------ environment

    def _set_environment(self, env: dict[str, str]) -> None:
        if self._saved_env is None:
            self._saved_env = os.environ.copy()
        os.environ.update(env)

    def _restore_environment(self) -> None:
        saved, self._saved_env = self._saved_env, None
        if saved is None:
            return
        for key in self.env:
            if key in saved:
                os.environ[key] = saved[key]
            else:
                del os.environ[key]

    # ------------------------------------------------------------------ files

    def _write_samples(self) -> dict[str, Path]:
        from attribution.devtools.slates import slate_for

        folder = self.home / "walkthrough"
        folder.mkdir(exist_ok=True)
        slate = slate_for(WALKTHROUGH_DAY)
        files = {
            "slate": folder / f"slate-{WALKTHROUGH_DAY}.jsonl",
            "results": folder / f"results-{WALKTHROUGH_DAY}.jsonl",
        }
        for key, rows in (("slate", slate.rows), ("results", slate.results)):
            files[key].write_text("".join(json.dumps(r) + "\n" for r in rows))
        return files

    def description(self) -> dict[str, Any]:
        return {
            "functions_url": self.base_url,
            "functions": {
                m.path: {"function": m.function, "target": m.target, "signature": m.signature}
                for m in mounts()
            },
            "env": self.env,
            "pids": {
                "serve": os.getpid(),
                **{e.name: e.pid for e in self._emulators},
            },
            "subscriptions": [s.__dict__ for s in self.subscriptions],
            "samples": {k: str(v) for k, v in self.samples.items()},
        }

    def _write_stack_files(self) -> None:
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.env.items())
        (self.home / ENV_FILE).write_text(exports)
        # stack.json last: its presence says the stack is ready.
        temporary = self.home / f".{STACK_FILE}.tmp"
        temporary.write_text(json.dumps(self.description(), indent=2) + "\n")
        temporary.replace(self.home / STACK_FILE)

    # ------------------------------------------------------------------ usage

    def usage(self) -> str:
        settings = load_settings(self.env)
        bucket = settings.models_bucket
        model = self.home / "walkthrough" / f"{WALKTHROUGH_SYSTEM}_local.cbm"
        day = WALKTHROUGH_DAY.isoformat()
        started = {e.name for e in self._emulators}
        lines = [
            "Local stack is up. Ctrl-C (or SIGTERM) stops everything it started.",
            "",
            f"Functions: functions-framework, one process, {self.base_url}",
        ]
        triggers = {
            "/model_upload": "finalize events from the bucket watcher",
            "/prediction_batch": f"push from {settings.prediction_batches_topic}",
            "/verifier": f"push from {settings.verification_requests_topic}",
            HTTP_VERIFIER_PATH: 'POST {"game_date": "YYYY-MM-DD"}',
        }
        for m in mounts():
            lines.append(
                f"  POST {m.path:<18} {m.target} ({m.signature})  <- {triggers.get(m.path, '')}"
            )
        lines += [
            "",
            "Emulators:",
            f"  Pub/Sub  {self.env['PUBSUB_EMULATOR_HOST']}"
            + ("  (started here; in memory)" if "Pub/Sub" in started else "  (given)"),
            f"  Storage  {self.env['STORAGE_EMULATOR_HOST']}  bucket gs://{bucket}"
            + (
                f"  (started here; objects in {self.home / 'storage'})"
                if "GCS" in started
                else "  (given)"
            ),
            "",
            "Subscriptions (each topic has a <topic>-dead-letter topic with a -pull subscription):",
        ]
        for s in self.subscriptions:
            target = f"push {s.push_endpoint}" if s.push_endpoint else "pull"
            lines.append(f"  {s.subscription.rsplit('/', 1)[-1]:<42} {target}")
        lines += [
            "",
            "Eventarc stand-in: gcp-storage-emulator sends no notifications, so a watcher lists",
            f"gs://{bucket}/{settings.models_prefix} every {self.config.watch_interval:g} s and "
            "posts a finalize CloudEvent to /model_upload",
            "for each new object generation.",
            "",
            f"In another shell, activate this Python's environment (. {_activate_script()})",
            "and export (or: . " + str(self.home / ENV_FILE) + "):",
            *(f"  export {k}={shlex.quote(v)}" for k, v in self.env.items()),
            "",
            "Walkthrough:",
            f"  attribution train --out {model} --rows 5000 --iterations 100",
            f"  attribution upload {model}",
            f"      # writes gs://{bucket}/{settings.models_prefix}{model.name}; the watcher fires "
            "model_upload; waits for the card",
            "  attribution cards",
            f"  attribution promote {WALKTHROUGH_SYSTEM} {model.name}",
            f"  attribution predict --system-id {WALKTHROUGH_SYSTEM} --game-date {day} "
            f"--input {self.samples.get('slate', '')}",
            f"      # publishes on {settings.prediction_batches_topic}; the push runs "
            "prediction_batch; waits for the execution log row",
            f"  attribution predictions --game-date {day}",
            f"  attribution results --input {self.samples.get('results', '')}",
            f"  attribution verify --game-date {day}",
            f"  curl -s -X POST {self.base_url}{HTTP_VERIFIER_PATH} "
            f"-H 'Content-Type: application/json' -d '{{\"game_date\": \"{day}\"}}'",
            "",
            f"Logs: the functions' JSON logs on this terminal's stderr; emulators in "
            f"{self.home / 'logs'}.",
        ]
        return "\n".join(lines)


def _activate_script() -> str:
    """The ``activate`` script of the environment serving the stack (where ``attribution``
    is), relative to the working folder when it is below it."""
    script = Path(sys.prefix) / "bin" / "activate"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def run_stack(config: StackConfig, stop: threading.Event, *, check_every: float = 1.0) -> int:
    """Start the stack, print its usage, serve until ``stop`` is set; 0, or 1 if it broke."""
    with LocalStack(config) as stack:
        print(stack.usage(), flush=True)
        while not stop.wait(check_every):
            problem = stack.problem()
            if problem:
                _log.error("local stack broken", extra={"problem": problem})
                return 1
    _log.info("local stack stopped")
    return 0
