"""``train``, ``upload``, ``card``, ``cards``: making models and publishing their cards."""

from __future__ import annotations

import argparse
import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from attribution.bootstrap import App
from attribution.cli import export_commands
from attribution.cli.arguments import iso_date, number, read_input, whole_number
from attribution.cli.card_references import REF_HELP, registered_card
from attribution.cli.exit_codes import ExitCode
from attribution.cli.output import print_json, print_table
from attribution.cli.progress import progress_bar
from attribution.cli.waiting import (
    Pending,
    add_wait_argument,
    await_function,
    report_pending,
    runs_in_process,
)
from attribution.devtools.training import TrainingSpec, train_model
from attribution.errors import PermanentError
from attribution.limits import (
    MAX_MODEL_FILE_NAME_BYTES,
    check_system_id,
    shown_value,
    trained_at_problem,
)
from attribution.model_card.card import ModelCard
from attribution.model_card.extraction import extract_card, parse_timestamp
from attribution.model_card.publishing import is_model_object
from attribution.objects import StoredObject, check_object_name


def add_parsers(sub: Any) -> None:
    train = sub.add_parser("train", help="train a CatBoost model on synthetic NBA-like data")
    train.add_argument("--out", required=True, type=Path, help="the .cbm file to write")
    train.add_argument(
        "--system-id", default="catboost_v9", help="declared system (default %(default)s)"
    )
    train.add_argument(
        "--training-start",
        type=iso_date,
        default=date(2025, 11, 2),
        metavar="D",
        help="first day of the training window the model declares, not a game date "
        "(default %(default)s)",
    )
    train.add_argument(
        "--training-end",
        type=iso_date,
        default=date(2026, 1, 31),
        metavar="D",
        help="last day of the training window the model declares (default %(default)s)",
    )
    train.add_argument(
        "--expected-mae", type=number(0), help="declared MAE (default: measured on a holdout)"
    )
    train.add_argument(
        "--expected-hit-rate",
        type=number(0, 100),
        help="declared high-edge hit rate, percent (default: measured on a holdout)",
    )
    train.add_argument("--trained-at", default=None, help="RFC 3339; default: CatBoost's own")
    train.add_argument(
        "--seed",
        type=whole_number(0),
        default=0,
        help="of the synthetic data and of CatBoost: the same seed, the same model "
        "(default %(default)s)",
    )
    train.add_argument(
        "--rows", type=whole_number(2), default=20_000, help="training rows (default %(default)s)"
    )
    train.add_argument(
        "--iterations", type=whole_number(1), default=300, help="trees (default %(default)s)"
    )
    train.add_argument(
        "--depth", type=whole_number(1, 16), default=6, help="tree depth (default %(default)s)"
    )
    train.add_argument(
        "--loss",
        default="RMSE",
        help="CatBoostRegressor loss (RMSE, MAE, Poisson, Tweedie:variance_power=1.5, ...)",
    )
    train.add_argument(
        "--over-under",
        action="store_true",
        help="train an over/under CatBoostClassifier (labels OVER/UNDER) instead of points",
    )
    train.add_argument(
        "--numeric-only",
        action="store_true",
        help="leave out the categorical features (opponent, position)",
    )
    train.add_argument(
        "--no-facts", action="store_true", help="embed no declared facts (an incomplete card)"
    )
    train.set_defaults(handler=cmd_train)

    upload = sub.add_parser("upload", help="upload a .cbm into the models bucket")
    upload.add_argument("file", type=Path, help="the CatBoost model (.cbm) to upload")
    upload.add_argument("--name", help="object file name (default: the file's name)")
    upload.add_argument(
        "--meta", action="append", default=[], metavar="KEY=VALUE", help="custom object metadata"
    )
    add_wait_argument(upload, "the card (or the rejection)")
    upload.set_defaults(handler=cmd_upload)

    card = sub.add_parser("card", help="extract and print a model's card; publish nothing")
    card.add_argument("file", type=Path, help="the CatBoost model (.cbm)")
    card.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="custom object metadata, as an upload would carry it",
    )
    card.set_defaults(handler=cmd_card)

    cards = sub.add_parser("cards", help="the card registry, rejected uploads included")
    cards.add_argument("--system-id", help="only this system's cards")
    cards.set_defaults(handler=cmd_cards)
    actions = cards.add_subparsers(dest="cards_action", metavar="{show,export}")
    show = actions.add_parser("show", help="one registered card, in full")
    show.add_argument(
        "ref",
        metavar="REF",
        help=REF_HELP,
    )
    show.set_defaults(handler=cmd_cards_show)
    export_commands.add_parser(actions)


def _meta(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PermanentError("bad_argument", f"--meta {pair!r} is not KEY=VALUE")
        result[key] = value
    return result


def _check_training_facts(args: argparse.Namespace) -> None:
    """The facts the model will declare, held to the rules its card will be: refused now,
    not after training, at upload."""
    check_system_id(args.system_id, field="--system-id")
    if args.training_end < args.training_start:
        raise PermanentError(
            "bad_argument",
            f"--training-end {args.training_end} is before --training-start {args.training_start}",
        )
    now = datetime.now(UTC)
    given = args.trained_at is not None
    # Without --trained-at the card takes CatBoost's own finish time: about now.
    try:
        trained_at = parse_timestamp(args.trained_at, fact="--trained-at") if given else now
    except PermanentError as exc:
        raise PermanentError("bad_argument", exc.message) from None
    if not args.no_facts:
        problem = trained_at_problem(trained_at, args.training_end, now)
        if problem is not None:
            flag = "--trained-at" if given else "trained_at (now: CatBoost's clock)"
            raise PermanentError("bad_argument", problem.replace("trained_at", flag, 1))
    if args.out.is_dir():
        raise PermanentError(
            "bad_argument", f"--out {args.out} is a folder: give the path of the .cbm to write"
        )


def _catboost_message(exc: Exception) -> str:
    """CatBoost's error without the C++ source location it starts with."""
    return re.sub(r"^\S+\.(?:cpp|h):\d+: ", "", str(exc).strip())


def cmd_train(app: App | None, args: argparse.Namespace) -> int:
    from catboost import CatBoostError

    _check_training_facts(args)
    spec = TrainingSpec(
        system_id=args.system_id,
        training_start=args.training_start,
        training_end=args.training_end,
        expected_mae=args.expected_mae,
        expected_hit_rate=args.expected_hit_rate,
        trained_at=args.trained_at,
        seed=args.seed,
        rows=args.rows,
        iterations=args.iterations,
        depth=args.depth,
        measure_expected=True,
        loss_function=args.loss,
        over_under=args.over_under,
        categorical=not args.numeric_only,
    )
    try:
        with progress_bar(f"training {args.out.name}", total=args.iterations) as trees:
            path = train_model(spec, args.out, declare_facts=not args.no_facts, progress=trees)
    except CatBoostError as exc:
        raise PermanentError(
            "training_failed",
            f"CatBoost could not train or save the model: {_catboost_message(exc)}",
        ) from None
    result = {"model": str(path), "size_bytes": path.stat().st_size, "system_id": args.system_id}
    if args.json:
        print_json(result)
    else:
        print(f"trained {path} ({result['size_bytes']} bytes) for {args.system_id}")
    return ExitCode.OK


def _model_object_name(app: App, args: argparse.Namespace) -> str:
    """The object name the upload is written under, checked before anything is written:
    a name the model-upload function would ignore (not a .cbm) or a store would refuse is an
    error that says why, not an upload that silently makes no card."""
    file_name: str = args.name or args.file.name
    flag = "--name" if args.name else "the file's name (or --name)"
    size = len(file_name.encode("utf-8", "surrogateescape"))
    if size > MAX_MODEL_FILE_NAME_BYTES:
        raise PermanentError(
            "bad_argument",
            f"{flag} is {size} bytes long: a model file name may be at most "
            f"{MAX_MODEL_FILE_NAME_BYTES} bytes",
        )
    name = app.settings.models_prefix + file_name
    check_object_name(name)
    if not is_model_object(name, app.settings):
        raise PermanentError(
            "not_a_model_name",
            f"{shown_value(file_name)} does not end in .cbm, so the model-upload function would "
            "ignore it and make no card: upload a CatBoost .cbm, or pass --name NAME.cbm",
        )
    return name


def cmd_upload(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    name = _model_object_name(app, args)
    metadata = _meta(args.meta)
    data = read_input(args.file, what="model file")
    target = StoredObject(bucket=app.models.bucket, name=name, metadata=metadata)
    _refuse_what_makes_no_card(app, args.file, data, target)
    stored = app.models.write(name, data, metadata=metadata)
    digest = _sha256(data)
    if runs_in_process(app.settings):
        from attribution.adapters.embedded.inprocess_bus import InProcessBus

        bus = app.publisher
        assert isinstance(bus, InProcessBus)
        with progress_bar(f"making the card of {stored.uri}"):
            bus.object_finalized(stored)  # the function runs here, now
    answer = await_function(
        app.settings,
        lambda: _upload_outcome(app, stored, digest),
        wait=args.wait,
        what=f"the card of {stored.uri}",
    )
    if isinstance(answer, Pending):  # the bucket's trigger runs the function elsewhere
        return report_pending(
            answer,
            as_json=args.json,
            handed={"uploaded": stored.uri, "generation": stored.generation},
            said=f"uploaded {stored.uri}",
            missing="the bucket's trigger has made no card or rejection",
        )
    outcome = answer or (
        None,
        "the model-upload function published no card and recorded no rejection "
        "(its log lines above say why)",
    )
    card, reason = outcome
    if card is not None:
        if args.json:
            print_json({"uploaded": stored.uri, "card": card.to_document()})
        else:
            print(f"uploaded {stored.uri}")
            _print_card(card.to_document())
        return ExitCode.OK
    if args.json:
        print_json({"uploaded": stored.uri, "rejected": reason})
    else:
        print(f"uploaded {stored.uri}, but it was REJECTED: {reason}")
    return ExitCode.USAGE


def _refuse_what_makes_no_card(app: App, path: Path, data: bytes, target: StoredObject) -> None:
    """Before anything is written: the extraction the model-upload function will run on
    ``target``; a file it would make no card of (not a CatBoost model, corrupt, implausible
    facts) is refused now with its reason, instead of uploaded to be rejected elsewhere."""
    try:
        extract_card(data, target, max_bytes=app.settings.max_model_bytes)
    except PermanentError as exc:
        reason = exc.message.removeprefix(f"{target.uri}: ")
        raise PermanentError(
            exc.code,
            f"{path} was not uploaded: the model-upload function would make no card of it: "
            f"{reason}",
        ) from None


def _upload_outcome(
    app: App, stored: StoredObject, sha256: str
) -> tuple[ModelCard | None, str] | None:
    """The card published for these bytes, or the rejection of this generation; None: neither."""
    card = app.registry.for_object_bytes(stored.uri, sha256)
    if card is not None:
        return card, ""
    rejects = [
        r
        for r in app.registry.rejects()
        if r["object_uri"] == stored.uri
        and (stored.generation is None or r["object_generation"] == stored.generation)
    ]
    return (None, rejects[-1]["error"]) if rejects else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _print_card(document: dict[str, Any], *, full: bool = False) -> None:
    """The card's facts, one a line; ``full``: every field, none left out for being empty."""
    order = [
        "card_id",
        "status",
        "system_id",
        "model_file_name",
        "model_uri",
        "model_generation",
        "model_sha256",
        "size_bytes",
        "training_start_date",
        "training_end_date",
        "expected_mae",
        "expected_hit_rate",
        "expected_brier_score",
        "expected_log_loss",
        "trained_at",
        "uploaded_at",
        "catboost_version",
        "loss_function",
        "tree_count",
        "prediction_type",
        "catboost_output",
        "class_names",
        "over_class",
        "nan_mode",
        "categorical_missing_value",
        "servable",
        "unservable_reason",
        "missing_facts",
        "fact_sources",
        "conflicts",
    ]
    optional = (
        "missing_facts",
        "conflicts",
        "expected_brier_score",
        "expected_log_loss",
        "class_names",
        "over_class",
        "categorical_missing_value",
        "unservable_reason",
    )
    if full:
        order += sorted(set(document) - set(order) - {"features"})
    width = max(len(k) for k in order)
    for key in order:
        value = document.get(key)
        if value in (None, [], {}) and key in optional and not full:
            continue
        print(f"  {key.ljust(width)}  {value if value is not None else '-'}")
    features = document.get("features")
    if features:
        described = ", ".join(
            f["name"] if f["type"] == "numeric" else f"{f['name']} ({f['type']})" for f in features
        )
        print(f"  {'features'.ljust(width)}  {described}")
    elif not full:
        print(f"  {'feature_names'.ljust(width)}  {', '.join(document.get('feature_names', []))}")


def cmd_card(app: App | None, args: argparse.Namespace) -> int:
    data = read_input(args.file, what="model file")
    obj = StoredObject(
        bucket="local-file",
        name=args.file.name,
        md5_hex=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        metadata=_meta(args.meta),
    )
    max_bytes = app.settings.max_model_bytes if app else 1024**3
    card = extract_card(data, obj, max_bytes=max_bytes)
    if args.json:
        print_json(card.to_document())
    else:
        _print_card(card.to_document())
    return ExitCode.OK


def cmd_cards(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    cards = app.registry.list(args.system_id)
    rejects = app.registry.rejects()
    if args.json:
        print_json({"cards": cards, "rejected_uploads": rejects})
        return ExitCode.OK
    print("Model cards")
    print_table(
        cards,
        [
            "card_id",
            "system_id",
            "model_file_name",
            "status",
            "training_start_date",
            "training_end_date",
            "expected_mae",
            "expected_hit_rate",
            "tree_count",
            "registered_at",
        ],
    )
    print("\nRejected uploads")
    print_table(rejects, ["object_uri", "error_code", "error", "rejected_at"])
    return ExitCode.OK


def cmd_cards_show(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = registered_card(app, args.ref)
    if args.json:
        print_json(card.to_document())
    else:
        _print_card(card.to_document(), full=True)
    return ExitCode.OK
