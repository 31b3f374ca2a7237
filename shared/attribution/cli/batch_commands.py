"""``promote``, ``deployments``, ``predict``, ``results``, ``predictions``."""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import date
from pathlib import Path
from typing import Any

from attribution.batch_request import PUBSUB_MAX_MESSAGE_BYTES, BatchRequest, ModelPin, RunMode
from attribution.batch_rows import format_of, parse_jsonl, read_rows
from attribution.bootstrap import App
from attribution.cli.output import print_json, print_table
from attribution.cli.waiting import add_wait_argument, poll_until
from attribution.config import PublisherKind
from attribution.errors import PermanentError
from attribution.extraction import parse_timestamp
from attribution.ports import Row
from attribution.prediction_batch import kept_input_name
from attribution.results import load_results
from attribution.sql_text import sql

INLINE_LIMIT_BYTES = PUBSUB_MAX_MESSAGE_BYTES // 2


def add_parsers(sub: Any) -> None:
    promote = sub.add_parser("promote", help="make a model the active one for a system")
    promote.add_argument("system_id")
    promote.add_argument("model_ref", help="card id, model sha256 (or 8+ char prefix), file name")
    promote.add_argument("--at", help="RFC 3339 instant it becomes active (default: now)")
    promote.add_argument("--by", help="who promoted it")
    promote.add_argument("--note")
    promote.set_defaults(handler=cmd_promote)

    deployments = sub.add_parser("deployments", help="the deployment ledger")
    deployments.add_argument("--system-id")
    deployments.set_defaults(handler=cmd_deployments)

    predict = sub.add_parser("predict", help="publish a prediction batch for a file of rows")
    predict.add_argument("--system-id", required=True)
    predict.add_argument("--game-date", required=True, type=date.fromisoformat)
    predict.add_argument("--input", required=True, type=Path, help="JSONL, CSV or Parquet")
    predict.add_argument("--run-mode", default="OVERNIGHT")
    predict.add_argument("--batch-id", help="default: derived from system, date, mode, file")
    predict.add_argument("--model", help="pin a model by sha256 or file name")
    add_wait_argument(predict, "the batch's execution log row")
    predict.set_defaults(handler=cmd_predict)

    results = sub.add_parser("results", help="load actual points (game_date, player, points)")
    results.add_argument("--input", required=True, type=Path, help="JSONL, CSV or Parquet")
    results.set_defaults(handler=cmd_results)

    predictions = sub.add_parser("predictions", help="predictions for a game date")
    predictions.add_argument("--game-date", required=True, type=date.fromisoformat)
    predictions.add_argument("--system-id")
    predictions.add_argument("--per-day", action="store_true", help="counts per day and model")
    predictions.add_argument("--to", type=date.fromisoformat, help="last date with --per-day")
    predictions.set_defaults(handler=cmd_predictions)


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"... {message}", file=sys.stderr, flush=True)


def cmd_promote(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = app.registry.resolve(args.model_ref)
    at = parse_timestamp(args.at, fact="--at") if args.at else None
    deployment, new = app.ledger.promote(args.system_id, card, at=at, by=args.by, note=args.note)
    if args.json:
        print_json({**deployment.__dict__, "new": new})
    else:
        verb = "promoted" if new else "already recorded:"
        print(
            f"{verb} {card.model_file_name} ({card.model_sha256[:12]}) for {args.system_id} "
            f"from {deployment.active_from:%Y-%m-%d %H:%M:%SZ}"
        )
    return 0


def cmd_deployments(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    rows = app.ledger.list(args.system_id)
    if args.json:
        print_json(rows)
    else:
        print_table(
            rows,
            ["system_id", "model_file_name", "model_sha256", "active_from", "deployed_by", "note"],
        )
    return 0


def default_batch_id(system_id: str, game_date: date, run_mode: RunMode, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{system_id}-{game_date:%Y%m%d}-{run_mode.value.lower()}-{digest}"


def cmd_predict(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    _progress(f"reading {args.input}")
    data = args.input.read_bytes()
    fmt = format_of(args.input.name)
    run_mode = RunMode.parse(args.run_mode)
    batch_id = args.batch_id or default_batch_id(args.system_id, args.game_date, run_mode, data)
    pin = None
    if args.model:
        is_hash = len(args.model) == 64 and all(c in "0123456789abcdef" for c in args.model)
        pin = ModelPin(model_sha256=args.model) if is_hash else ModelPin(model_file_name=args.model)
    rows = None
    rows_uri = None
    if fmt == "jsonl" and len(data) <= INLINE_LIMIT_BYTES:
        rows = parse_jsonl(data, source=str(args.input))
    else:
        name = kept_input_name(app.settings.batch_inputs_prefix, batch_id, fmt)
        stored = app.models.write(name, data)
        rows_uri = stored.uri
        _progress(f"claim check written to {rows_uri}")
    request = BatchRequest(
        batch_id=batch_id,
        system_id=args.system_id,
        game_date=args.game_date,
        run_mode=run_mode,
        pin=pin,
        rows=rows,
        rows_uri=rows_uri,
    )
    _progress(f"publishing batch {batch_id}")
    message_id = app.publisher.publish(
        app.settings.prediction_batches_topic,
        request.encode(),
        {
            "batch_id": batch_id,
            "system_id": args.system_id,
            "game_date": args.game_date.isoformat(),
        },
    )
    in_process = app.settings.publisher_kind is PublisherKind.INPROCESS
    if not in_process and args.wait <= 0:
        result: dict[str, Any] = {"batch_id": batch_id, "message_id": message_id}
        print_json(result) if args.json else print(f"published batch {batch_id} ({message_id})")
        return 0

    def logged() -> Row | None:
        rows = app.warehouse.query(sql("execution_log_for_batch"), {"batch_id": batch_id})
        return rows[0] if rows else None

    if in_process:  # the bus has run the function already
        log = logged()
        if log is None:
            raise PermanentError("batch_not_logged", f"batch {batch_id} left no execution log row")
    else:  # Pub/Sub delivers it to the function elsewhere: wait for its log row
        _progress(f"published ({message_id}); waiting up to {args.wait:.0f} s for the batch")
        log = poll_until(logged, timeout=args.wait)
        if log is None:
            message = f"batch {batch_id} has no execution log row after {args.wait:.0f} s"
            if args.json:
                print_json({"batch_id": batch_id, "message_id": message_id, "pending": message})
            else:
                print(f"published batch {batch_id} ({message_id}), but {message}")
            return 75
    if args.json:
        print_json(log)
    else:
        print(
            f"batch {batch_id}: {log['status']}, {log['rows_written']} written, "
            f"{log['rows_rejected']} rejected of {log['rows_requested']} "
            f"by {log['model_file_name'] or '-'}" + (f" ({log['error']})" if log["error"] else "")
        )
    return 0 if log["status"] in ("success", "partial") else 1


def cmd_results(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    data = args.input.read_bytes()
    table = read_rows(data, format_of(args.input.name), source=str(args.input))
    load = load_results(app.warehouse, table)
    if args.json:
        print_json(load.__dict__)
    else:
        print(
            f"results: {load.loaded} loaded, {load.received - load.loaded - len(load.rejected)} "
            f"already present, {len(load.rejected)} rejected"
        )
        for index, reason in load.rejected[:10]:
            print(f"  row {index}: {reason}")
    return 0 if not load.rejected else 1


def cmd_predictions(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    if args.per_day:
        rows = app.warehouse.query(
            sql("predictions_per_day"),
            {
                "from_date": args.game_date,
                "to_date": args.to or args.game_date,
                "system_id": args.system_id,
            },
        )
        columns = ["game_date", "system_id", "model_file_name", "predictions", "batches"]
    else:
        rows = app.warehouse.query(
            sql("predictions_for_date"),
            {"game_date": args.game_date, "system_id": args.system_id},
        )
        columns = [
            "game_date",
            "system_id",
            "player_lookup",
            "line_value",
            "predicted_points",
            "recommendation",
            "model_file_name",
            "attribution_method",
        ]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, columns)
    return 0
