"""``serve``: the local stack (emulators, the three functions, push subscriptions)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from attribution.bootstrap import App
from attribution.cli.arguments import number, whole_number
from attribution.cli.exit_codes import ExitCode

# attribution.devtools.local_stack is imported by the command only: the others start faster.
DEFAULT_HOME = Path(".attribution/stack")


def add_parsers(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="the local stack: Pub/Sub and GCS emulators, the three functions, push delivery",
        description="The local stack, until Ctrl-C or SIGTERM; its state folder is --home, "
        f"else $ATTRIBUTION_HOME, else {DEFAULT_HOME}.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    port = whole_number(0, 65535)
    serve.add_argument("--port", type=port, default=8080, help="functions port (0: any free one)")
    serve.add_argument("--pubsub-port", type=port, default=8085, help="for the emulator it starts")
    serve.add_argument("--storage-port", type=port, default=9023, help="for the emulator it starts")
    serve.add_argument(
        "--pubsub-emulator", metavar="HOST:PORT", help="use this running Pub/Sub emulator"
    )
    serve.add_argument(
        "--storage-emulator", metavar="URL", help="use this running gcp-storage-emulator"
    )
    serve.add_argument(
        "--watch-interval", type=number(0.01), default=1.0, help="seconds between bucket polls"
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(app: App | None, args: argparse.Namespace) -> int:
    from attribution.devtools.local_stack.emulators import EmulatorError
    from attribution.devtools.local_stack.stack import DEFAULT_PROJECT, StackConfig, run_stack

    home = args.home or Path(os.environ.get("ATTRIBUTION_HOME") or DEFAULT_HOME)
    config = StackConfig(
        home=home,
        host=args.host,
        port=args.port,
        project=os.environ.get("GCP_PROJECT") or DEFAULT_PROJECT,
        pubsub_port=args.pubsub_port,
        storage_port=args.storage_port,
        pubsub_emulator=args.pubsub_emulator,
        storage_emulator=args.storage_emulator,
        watch_interval=args.watch_interval,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, on_signal) for sig in handled}
    try:
        return run_stack(config, stop)
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.UNAVAILABLE
    except OSError as exc:  # the functions port is taken, say
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.UNAVAILABLE
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
