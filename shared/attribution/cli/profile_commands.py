"""``profile embed`` (keep a training profile in a saved model) and ``profile show``."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa

from attribution import bootstrap
from attribution.bootstrap import App
from attribution.cli.arguments import read_input
from attribution.cli.card_references import REF_HELP, registered_card
from attribution.cli.exit_codes import ExitCode
from attribution.cli.output import print_json, print_table
from attribution.errors import PermanentError
from attribution.model_card.profile import (
    PROFILE_METADATA_KEY,
    CategoryShares,
    ProfileError,
    TrainingProfile,
    parse_profile,
)
from attribution.profiles.building import embed_profile, read_training_rows


def add_parsers(sub: Any) -> None:
    profile = sub.add_parser("profile", help="the training profile a model carries")
    kinds = profile.add_subparsers(dest="profile", required=True, metavar="{embed,show}")
    embed = kinds.add_parser(
        "embed",
        help="profile a model's training rows and keep the profile in the model file",
        description="Read the rows the model was trained on (CSV, JSONL or Parquet, a column "
        "per feature, categories as text) as a batch reads its own, and keep in the model's "
        "metadata: each numeric feature's decile bins and missing share, each categorical "
        "feature's commonest categories, and the spread of the model's own predictions on "
        "those rows (at most 64 KB). Upload the file after: its card carries the profile, and "
        "the verifier's drift check holds every batch against it.",
    )
    embed.add_argument("file", metavar="MODEL", type=Path, help="the CatBoost model (.cbm)")
    embed.add_argument("--data", required=True, type=Path, help="the training rows")
    embed.add_argument(
        "--out", type=Path, help="write the profiled model here (default: replace MODEL)"
    )
    embed.set_defaults(handler=cmd_profile_embed)
    show = kinds.add_parser(
        "show", help="the training profile a model file, or a registered card, carries"
    )
    show.add_argument(
        "ref",
        metavar="MODEL_OR_CARD_REF",
        help=f"a CatBoost model file (.cbm), or a registered card: {REF_HELP}",
    )
    show.set_defaults(handler=cmd_profile_show)


def _load(path: Path) -> Any:
    from catboost import CatBoost, CatBoostError

    data = read_input(path, what="model file")
    model = CatBoost()
    try:
        model.load_model(blob=data)
    except CatBoostError as exc:
        raise PermanentError("corrupt_model", f"{path}: CatBoost cannot load it: {exc}") from None
    return model


def cmd_profile_embed(app: App | None, args: argparse.Namespace) -> int:
    model = _load(args.file)
    rows = _training_rows(args.data, model)
    try:
        profile = embed_profile(model, rows)
    except ProfileError as exc:
        raise PermanentError("bad_profile", f"{args.data}: {exc}") from None
    out: Path = args.out or args.file
    _save(model, out)
    size = len(model.get_metadata()[PROFILE_METADATA_KEY].encode())
    if args.json:
        print_json({"model": str(out), "bytes": size, "profile": profile.model_dump(mode="json")})
        return ExitCode.OK
    print(
        f"profiled {profile.rows} rows into {out}: {len(profile.features)} features"
        + (" and the predictions" if profile.prediction else "")
        + f", {size} bytes"
    )
    _print_profile(profile)
    return ExitCode.OK


def _training_rows(path: Path, model: Any) -> pa.Table:
    try:
        return read_training_rows(path, model)
    except OSError:
        read_input(path, what="--data")  # raises, saying what is wrong with the path
        raise


def _save(model: Any, out: Path) -> None:
    """Written beside ``out``, then moved over it: a failure leaves the file as it was, and
    a replaced file keeps its permissions."""
    written = out.with_name(f".{out.name}.{os.getpid()}.partial")
    written.open("xb").close()  # an unwritable folder is an OSError here, not CatBoost's
    try:
        model.save_model(str(written))
        if out.exists():
            shutil.copymode(out, written)
        written.replace(out)
    finally:
        written.unlink(missing_ok=True)


def cmd_profile_show(app: App | None, args: argparse.Namespace) -> int:
    shown, profile = _profile_of(args.ref)
    if args.json:
        document = profile.model_dump(mode="json") if profile else None
        print_json({**shown, "profile": document})
    elif profile is None:
        print(f"{args.ref} carries no training profile (`attribution profile embed`)")
    else:
        print(f"{args.ref}: a profile of {profile.rows} training rows")
        _print_profile(profile)
    return ExitCode.OK


def _profile_of(reference: str) -> tuple[dict[str, str], TrainingProfile | None]:
    """What REF names (a local model file, else a registered card) and its profile."""
    path = Path(reference)
    if path.is_file():
        text = _load(path).get_metadata().get(PROFILE_METADATA_KEY)
        try:
            return {"model": reference}, None if text is None else parse_profile(text)
        except ProfileError as exc:
            raise PermanentError("bad_profile", f"{path}: {exc}") from None
    try:
        card = registered_card(bootstrap.app(), reference)
    except PermanentError as exc:
        if exc.code != "unknown_model":
            raise
        raise PermanentError(
            "unknown_model",
            f"{reference} is neither a model file nor a registered card: give a .cbm file's "
            "path, or a card id, model sha256 or file name `attribution cards` lists",
        ) from None
    return {"model": card.model_uri, "card_id": card.card_id}, card.training_profile


def _print_profile(profile: TrainingProfile) -> None:
    quantities = [*profile.features, *([profile.prediction] if profile.prediction else [])]
    print_table(
        [
            {
                "feature": q.name,
                "kind": q.kind if q is not profile.prediction else "prediction",
                "bins": len(q.reference),
                "missing": f"{100 * q.missing_share:.1f}%",
                "spread": ", ".join(
                    f"{label} {100 * share:.1f}%"
                    for label, share in list(zip(q.labels, q.reference, strict=True))[:3]
                )
                + (", ..." if len(q.reference) > 3 else ""),
                "other": f"{100 * q.other_share:.1f}%" if isinstance(q, CategoryShares) else "",
            }
            for q in quantities
        ],
        ["feature", "kind", "bins", "missing", "other", "spread"],
    )
