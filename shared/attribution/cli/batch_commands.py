"""``promote``, ``deployments``, ``predict``, ``results``, ``predictions``."""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from attribution.batches.inputs import inline_bytes, kept_input_name, reused_batch_id, write_once
from attribution.batches.lineup import Role
from attribution.batches.request import (
    PUBSUB_MAX_MESSAGE_BYTES,
    BatchRequest,
    ModelPin,
    RunMode,
    check_batch_fields,
    check_pin,
)
from attribution.batches.rows import format_of, parse_jsonl, read_rows
from attribution.bootstrap import App
from attribution.cli.arguments import choice_of, game_date, read_input
from attribution.cli.exit_codes import ExitCode
from attribution.cli.game_dates import GameDates, add_game_dates
from attribution.cli.output import print_json, print_table
from attribution.cli.progress import progress_bar
from attribution.cli.waiting import Pending, add_wait_argument, await_function, report_pending
from attribution.clock import now_utc
from attribution.comparison.compare import compare_models, evidence_document, evidence_summary
from attribution.errors import PermanentError
from attribution.history.ledger import Deployment, entry_ends
from attribution.limits import MAX_BATCH_ID_CHARS, check_batch_id, check_system_id
from attribution.model_card.card import ModelCard
from attribution.model_card.extraction import parse_timestamp
from attribution.ports import Row
from attribution.verification.game_results import RESULT_COLUMNS, load_results
from attribution.warehouse.sql_text import sql
from attribution.warehouse.tables import table_spec

INLINE_LIMIT_BYTES = PUBSUB_MAX_MESSAGE_BYTES // 2


def add_parsers(sub: Any) -> None:
    promote = sub.add_parser("promote", help="make a model the active one for a system")
    _ledger_entry(promote, "whose active model it becomes", "it becomes active", "promoted it")
    promote.set_defaults(handler=cmd_promote)

    challenge = sub.add_parser(
        "challenge",
        help="run a model as a challenger beside the champion",
        description="From --at (default now) until --until, retire or promotion, every batch "
        "of the system also scores this model on the same rows; its rows go to "
        "challenger_predictions and `attribution report compare` grades it against the champion.",
    )
    _ledger_entry(challenge, "whose champion it challenges", "it starts", "started it")
    challenge.add_argument("--until", help="RFC 3339 instant it stops (default: until retired)")
    challenge.set_defaults(handler=cmd_challenge)

    retire = sub.add_parser("retire", help="stop scoring a challenger")
    _ledger_entry(retire, "it challenges", "it stops", "retired it")
    retire.set_defaults(handler=cmd_retire)

    deployments = sub.add_parser(
        "deployments", help="the deployment ledger: each entry's role, term and when it ended"
    )
    deployments.add_argument("--system-id", help="only this system's promotions")
    deployments.set_defaults(handler=cmd_deployments)

    predict = sub.add_parser("predict", help="publish a prediction batch for a file of rows")
    predict.add_argument("--system-id", required=True, help="the system the batch predicts for")
    predict.add_argument(
        "--game-date", required=True, type=game_date, metavar="D", help="the day the games are on"
    )
    predict.add_argument("--input", required=True, type=Path, help="JSONL, CSV or Parquet")
    add_run_mode(predict)
    predict.add_argument("--batch-id", help="default: derived from system, date, mode, file")
    predict.add_argument("--model", help="pin a model by sha256 or file name")
    add_wait_argument(predict, "the batch's execution log row")
    predict.set_defaults(handler=cmd_predict)

    columns = ", ".join(RESULT_COLUMNS)
    results = sub.add_parser(
        "results",
        help=f"load actual points (columns {columns})",
        description="Load actual points into player_game_results from a file with the columns "
        f"{columns}; a row refused is kept, with its reasons, in player_game_results_rejects.",
    )
    results.add_argument(
        "--input", required=True, type=Path, help=f"JSONL, CSV or Parquet with columns {columns}"
    )
    results.set_defaults(handler=cmd_results)

    predictions = sub.add_parser(
        "predictions",
        help="predictions for a game date or a range of them",
        description="What was predicted, by which model: for one day (--game-date) or every "
        "day of a range (--from/--to); --per-day counts them per day and model instead.",
    )
    add_game_dates(predictions, what="show the predictions", required=True)
    predictions.add_argument("--system-id", help="only this system's predictions")
    predictions.add_argument(
        "--per-day",
        action="store_true",
        help="counts per day and model file instead of each prediction",
    )
    predictions.add_argument(
        "--columns",
        metavar="A,B,...",
        help="the columns to show, comma-separated: any of player_prop_predictions' (with "
        f"--per-day: {', '.join(PER_DAY_COLUMNS)}); default: {', '.join(PREDICTION_COLUMNS)}",
    )
    predictions.set_defaults(handler=cmd_predictions)


def _instant(text: str | None, flag: str) -> datetime | None:
    try:
        return parse_timestamp(text, fact=flag) if text else None
    except PermanentError as exc:
        raise PermanentError("bad_argument", exc.message) from None


def add_run_mode(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--run-mode",
        type=choice_of(RunMode.parse),
        choices=[mode.value for mode in RunMode],
        default=RunMode.OVERNIGHT.value,
        help="which run this is (default %(default)s; any case, - for _)",
    )


def _ledger_entry(command: argparse.ArgumentParser, system: str, at: str, by: str) -> None:
    """The arguments of a command that records a ledger entry."""
    command.add_argument("system_id", help=f"the system {system}")
    command.add_argument(
        "model_ref", help="card id or model sha256 (or an 8+ char prefix of either), file name"
    )
    command.add_argument("--at", help=f"RFC 3339 instant {at} (default: now)")
    command.add_argument("--by", help=f"who {by} (kept in the ledger)")
    command.add_argument("--note", help="why (kept in the ledger)")


def cmd_promote(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = app.registry.resolve(args.model_ref)
    at = _instant(args.at, "--at")
    evidence = promotion_evidence(app, args.system_id, card, at)
    deployment, new = app.ledger.promote(
        args.system_id, card, at=at, by=args.by, note=args.note, evidence=evidence
    )
    code = _recorded(args, deployment, new, "promoted")
    if evidence and not args.json:
        print(f"  evidence: {evidence_summary(evidence)}")
    return code


def promotion_evidence(
    app: App, system_id: str, card: ModelCard, at: datetime | None
) -> str | None:
    """The comparison with the champion, when a challenger is promoted (JSON), else None."""
    lineup = app.ledger.lineup_at(system_id, at or now_utc())
    if lineup.role_of(card.model_sha256) is not Role.CHALLENGER or lineup.champion is None:
        return None
    champion = lineup.champion.model_sha256
    for comparison in compare_models(app.warehouse, system_id=system_id):
        if (
            comparison.challenger_sha256 == card.model_sha256
            and comparison.champion_sha256 == champion
        ):
            return evidence_document(comparison)
    return None


def cmd_challenge(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = app.registry.resolve(args.model_ref)
    deployment, new = app.ledger.challenge(
        args.system_id,
        card,
        at=_instant(args.at, "--at"),
        until=_instant(args.until, "--until"),
        by=args.by,
        note=args.note,
    )
    return _recorded(args, deployment, new, "challenging with")


def cmd_retire(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = app.registry.resolve(args.model_ref)
    at = _instant(args.at, "--at")
    deployment, new = app.ledger.retire(args.system_id, card, at=at, by=args.by, note=args.note)
    return _recorded(args, deployment, new, "retired")


def _recorded(args: argparse.Namespace, deployment: Deployment, new: bool, verb: str) -> int:
    """One ledger entry as the command that made it says it."""
    if args.json:
        print_json({**deployment.__dict__, "new": new})
        return ExitCode.OK
    until = (
        f" until {deployment.active_until:%Y-%m-%d %H:%M:%SZ}" if deployment.active_until else ""
    )
    print(
        f"{verb if new else 'already recorded:'} {deployment.model_file_name} "
        f"({deployment.model_sha256[:12]}) for {deployment.system_id} "
        f"from {deployment.active_from:%Y-%m-%d %H:%M:%SZ}{until}"
    )
    return ExitCode.OK


def cmd_deployments(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    entries = app.ledger.list(args.system_id)
    rows = [{**row, "ended": end} for row, end in zip(entries, entry_ends(entries), strict=True)]
    if args.json:
        print_json(rows)
    else:
        print_table(
            [{**row, "evidence": evidence_summary(row.get("evidence"))} for row in rows],
            [
                "system_id",
                "role",
                "model_file_name",
                "model_sha256",
                "active_from",
                "active_until",
                "ended",
                "deployed_by",
                "note",
                "evidence",
            ],
        )
    return ExitCode.OK


def default_batch_id(system_id: str, game_date: date, run_mode: RunMode, data: bytes) -> str:
    """``<system>-<yyyymmdd>-<mode>-<12 hex of the input's sha256>``, always a valid batch id:
    a system id too long to fit is cut and ends in 12 hex of its own sha256 instead."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    suffix = f"-{game_date:%Y%m%d}-{run_mode.value.lower()}-{digest}"
    room = MAX_BATCH_ID_CHARS - len(suffix)
    if len(system_id) > room:
        system_hash = hashlib.sha256(system_id.encode()).hexdigest()[:12]
        system_id = f"{system_id[: room - 13]}.{system_hash}"
    return system_id + suffix


def _no_rows(data: bytes, fmt: str, source: str) -> bool:
    """Whether the input plainly holds no rows (checked before anything is written): blank,
    a CSV of a header alone, a Parquet file of no rows."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        return True
    if fmt == "csv":
        return len([line for line in data.splitlines() if line.strip()]) <= 1
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows) == 0
        except (pa.ArrowException, OSError) as exc:
            raise PermanentError(
                "unreadable_input", f"{source}: cannot read parquet rows: {exc}"
            ) from None
    return False


def _batch_summary(batch_id: str, log: Row) -> str:
    """One line from the batch's log row; parts the row does not have are left out."""
    status = log.get("status") or "unknown"
    text = f"batch {batch_id}: {status}"
    counts = (log.get("rows_written"), log.get("rows_rejected"), log.get("rows_requested"))
    if all(count is not None for count in counts):
        text += f", {counts[0]} written, {counts[1]} rejected of {counts[2]}"
    if log.get("model_file_name"):
        text += f" by {log['model_file_name']}"
    for challenger in json.loads(log.get("challengers") or "[]"):
        text += f"; challenger {challenger['model_file_name']}: " + (
            challenger["error"] or f"{challenger['rows_written']} written"
        )
    error = log.get("error")
    if not error and status == "failed" and log.get("rows_requested") == 0:
        error = "no rows"
    return text + (f" ({error})" if error else "")


def cmd_predict(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    fmt = format_of(args.input.name)
    run_mode: RunMode = args.run_mode
    check_system_id(args.system_id, field="--system-id")
    if args.batch_id is not None:
        check_batch_id(args.batch_id, field="--batch-id")
    pin = None
    if args.model:
        is_hash = len(args.model) == 64 and all(c in "0123456789abcdef" for c in args.model)
        pin = ModelPin(model_sha256=args.model) if is_hash else ModelPin(model_file_name=args.model)
        try:
            check_pin(pin)
        except PermanentError as exc:
            raise PermanentError(exc.code, f"--model: {exc.message}") from None
    data = read_input(args.input, what="--input")
    if _no_rows(data, fmt, str(args.input)):
        raise PermanentError("no_rows", f"{args.input} has no rows: there is nothing to predict")
    batch_id = args.batch_id or default_batch_id(args.system_id, args.game_date, run_mode, data)
    # Everything the message says is checked before anything is written under the batch id.
    check_batch_fields(batch_id, args.system_id, args.game_date)
    rows = None
    rows_uri = None
    parsed, unreadable = parse_jsonl(data) if fmt == "jsonl" else ([], ())
    if fmt == "jsonl" and not parsed and not unreadable:
        raise PermanentError("no_rows", f"{args.input} has no rows: there is nothing to predict")
    if fmt == "jsonl" and len(data) <= INLINE_LIMIT_BYTES and not unreadable:
        rows = parsed
    else:  # a claim check; lines that are no rows reach the function, which rejects them
        name = kept_input_name(app.settings.batch_inputs_prefix, batch_id, fmt)
        write_once(app.models, name, data, batch_id)
        rows_uri = f"gs://{app.models.bucket}/{name}"
    request = BatchRequest(
        batch_id=batch_id,
        system_id=args.system_id,
        game_date=args.game_date,
        run_mode=run_mode,
        pin=pin,
        rows=rows,
        rows_uri=rows_uri,
    )
    with progress_bar(f"batch {batch_id}"):  # in-process, the batch runs in the publish
        message_id = app.publisher.publish(
            app.settings.prediction_batches_topic,
            request.encode(),
            {
                "batch_id": batch_id,
                "system_id": args.system_id,
                "game_date": args.game_date.isoformat(),
            },
        )
    sent = hashlib.sha256(inline_bytes(request) if rows is not None else data).hexdigest()

    def logged() -> Row | None:
        """The batch's log row once it has finished (or refused these rows)."""
        rows = app.warehouse.query(sql("execution_log_for_batch"), {"batch_id": batch_id})
        if not rows:
            return None
        if rows[0]["input_sha256"] not in (None, sent):
            raise reused_batch_id(batch_id, rows[0]["input_sha256"])
        return rows[0] if rows[0]["status"] != "running" else None

    log = await_function(app.settings, logged, wait=args.wait, what=f"batch {batch_id}")
    if isinstance(log, Pending):  # Pub/Sub delivers it to the function elsewhere
        return report_pending(
            log,
            as_json=args.json,
            handed={"batch_id": batch_id, "message_id": message_id},
            said=f"published batch {batch_id} ({message_id})",
            missing=f"batch {batch_id} has no execution log row",
        )
    if log is None:
        raise PermanentError("batch_not_logged", f"batch {batch_id} left no execution log row")
    if args.json:
        print_json(log)
    else:
        print(_batch_summary(batch_id, log))
    return ExitCode.OK if log["status"] in ("success", "partial") else ExitCode.FAILED


def cmd_results(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    data = read_input(args.input, what="--input")
    table = read_rows(data, format_of(args.input.name), source=str(args.input))
    load = load_results(app.warehouse, table, source=str(args.input.resolve()))
    if args.json:
        print_json({**load.__dict__, "already_present": load.already_present})
    else:
        print(
            f"results: {load.loaded} loaded, {load.already_present} "
            f"already present, {len(load.rejected)} rejected"
        )
        for index, reason in load.rejected[:10]:
            print(f"  row {index}: {reason}")
        if load.rejected:
            more = f" (+{len(load.rejected) - 10} more)" if len(load.rejected) > 10 else ""
            print(f"  rejected rows are kept in player_game_results_rejects{more}")
    return ExitCode.FAILED if load.rejected else ExitCode.OK


PER_DAY_COLUMNS = ("game_date", "system_id", "model_file_name", "predictions", "batches")
# Which prediction, and which model made it: the attribution every row is stamped with.
PREDICTION_COLUMNS = (
    "game_date",
    "system_id",
    "player_lookup",
    "line_value",
    "predicted_points",
    "over_probability",
    "recommendation",
    "model_file_name",
    "model_sha256",
    "model_trained_at",
    "model_card_id",
    "attribution_method",
)


def _columns(text: str | None, default: tuple[str, ...], valid: list[str]) -> list[str]:
    """The --columns named (comma-separated), else the default; an unknown name is refused,
    naming those there are."""
    if text is None:
        return list(default)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        what = f"has no column {', '.join(unknown)}" if unknown else "names no column"
        raise PermanentError("unknown_column", f"--columns {what}: choose from {', '.join(valid)}")
    return names


def cmd_predictions(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    dates: GameDates = args.dates
    if args.per_day:
        columns = _columns(args.columns, PER_DAY_COLUMNS, list(PER_DAY_COLUMNS))
        rows = _per_day(app, dates, args.system_id)
    else:
        valid = table_spec("player_prop_predictions").column_names
        columns = _columns(args.columns, PREDICTION_COLUMNS, valid)
        rows = _predictions(app, dates, args.system_id)
    if args.json:
        print_json([{c: row.get(c) for c in columns} for row in rows] if args.columns else rows)
    else:
        print_table(rows, columns)
    return ExitCode.OK


def _per_day(app: App, dates: GameDates, system_id: str | None) -> list[Row]:
    return app.warehouse.query(
        sql("predictions_per_day"),
        {"from_date": dates.first, "to_date": dates.last, "system_id": system_id},
    )


def _predictions(app: App, dates: GameDates, system_id: str | None) -> list[Row]:
    """Every prediction of the days, day by day; over a range, only the days that have any
    are asked for."""
    days = (
        [dates.first]
        if dates.first == dates.last
        else sorted({row["game_date"] for row in _per_day(app, dates, system_id)})
    )
    rows: list[Row] = []
    for day in days:
        rows += app.warehouse.query(
            sql("predictions_for_date"), {"game_date": day, "system_id": system_id}
        )
    return rows
