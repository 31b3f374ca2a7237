"""Post one Pub/Sub CloudEvent to a function served by functions-framework on this machine.

The event is the one Eventarc delivers for a message on the function's topic (a structured
``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent), so a function run on its own
(README: "Run one function with functions-framework") can be tried without an emulator::

    python -m attribution.devtools.post_event batch --url http://localhost:8080 \\
        --system-id catboost_v9 --game-date 2026-02-03          # a synthetic slate of the day
    python -m attribution.devtools.post_event batch --url ... --input slate.jsonl
    python -m attribution.devtools.post_event verify --url ... --game-date 2026-02-03
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudevents.conversion import to_structured

from attribution.batches.request import BatchRequest
from attribution.batches.rows import parse_jsonl
from attribution.cli.arguments import game_date, read_input
from attribution.cli.batch_commands import add_run_mode, default_batch_id
from attribution.config import load_settings
from attribution.errors import PermanentError
from attribution.events import pubsub_event


def batch_message(args: argparse.Namespace) -> tuple[str, bytes]:
    """The prediction-batches topic and a batch request carrying its rows inline."""
    if args.input is None:
        from attribution.devtools.slates import slate_for

        rows = slate_for(args.game_date).rows
    else:
        rows, unreadable = parse_jsonl(read_input(args.input, what="--input"))
        if unreadable or not rows:
            raise PermanentError("unreadable_input", f"{args.input}: JSONL objects, one a line")
    data = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows).encode()
    request = BatchRequest(
        batch_id=args.batch_id
        or default_batch_id(args.system_id, args.game_date, args.run_mode, data),
        system_id=args.system_id,
        game_date=args.game_date,
        run_mode=args.run_mode,
        pin=None,
        rows=rows,
        rows_uri=None,
    )
    return load_settings().prediction_batches_topic, request.encode()


def verification_message(args: argparse.Namespace) -> tuple[str, bytes]:
    """The verification-requests topic and a request for one day (and system)."""
    request: dict[str, Any] = {"game_date": args.game_date.isoformat()}
    if args.system_id:
        request["system_id"] = args.system_id
    return load_settings().verification_requests_topic, json.dumps(request).encode()


def post(
    url: str, topic: str, data: bytes, *, project: str = "local", wait_seconds: float = 30
) -> tuple[int, str]:
    """POST the structured CloudEvent of a message on ``topic``; the answer's status and text.
    A function still starting (connection refused) is tried again for ``wait_seconds``."""
    headers, body = to_structured(pubsub_event(f"projects/{project}/topics/{topic}", data))
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with urllib.request.urlopen(request, timeout=300) as answer:
                return int(answer.status), answer.read().decode(errors="replace")
        except urllib.error.HTTPError as refused:
            return int(refused.code), refused.read().decode(errors="replace")
        except urllib.error.URLError as unreachable:
            if not isinstance(unreachable.reason, ConnectionRefusedError):
                raise
            if time.monotonic() >= deadline:
                raise PermanentError(
                    "function_unreachable",
                    f"nothing listens at {url} after {wait_seconds:g} s: is functions-framework "
                    "running on that port?",
                ) from None
            time.sleep(0.5)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m attribution.devtools.post_event",
        description="Post one Pub/Sub CloudEvent to a function under functions-framework.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    batch = kinds.add_parser("batch", help="a prediction batch, for on_batch_requested")
    batch.add_argument("--system-id", required=True, help="the system the batch predicts for")
    batch.add_argument(
        "--input",
        type=Path,
        help="JSONL rows, one object a line (default: a synthetic slate of the game date)",
    )
    add_run_mode(batch)
    batch.add_argument("--batch-id", help="default: derived from system, date, mode and rows")
    batch.set_defaults(message=batch_message)
    verify = kinds.add_parser("verify", help="a verification request (on_verification_requested)")
    verify.add_argument("--system-id", help="only this system (default: every system)")
    verify.set_defaults(message=verification_message)
    for kind in (batch, verify):
        kind.add_argument("--url", required=True, help="the function, e.g. http://localhost:8080")
        kind.add_argument(
            "--game-date", required=True, type=game_date, metavar="D", help="the day (YYYY-MM-DD)"
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        topic, data = args.message(args)
        status, text = post(args.url, topic, data)
    except PermanentError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    print(f"{status} {text.strip()}".rstrip())
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
