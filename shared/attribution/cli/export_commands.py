"""``cards export REF --format hf|mct [--out FILE]``: a registered card in the formats others
read (``attribution.card_exports``), with its expected figures and, once results are graded,
the realized ones (the figures ``report models`` shows) with their date range."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from attribution.bootstrap import App
from attribution.card_exports.figures import expected_figures, realized_figures
from attribution.card_exports.model_card_toolkit import toolkit_card
from attribution.cli.card_references import REF_HELP, registered_card
from attribution.cli.exit_codes import ExitCode
from attribution.cli.output import print_json
from attribution.errors import PermanentError
from attribution.verification.settings import load_verifier_settings

FORMATS = {"hf": "a Hugging Face model card (README.md)", "mct": "Model Card Toolkit JSON"}


def add_parser(actions: Any) -> None:
    export = actions.add_parser(
        "export", help="one registered card as a Hugging Face model card or Model Card Toolkit JSON"
    )
    export.add_argument("ref", metavar="REF", help=REF_HELP)
    export.add_argument(
        "--format",
        dest="export_format",
        choices=sorted(FORMATS),
        required=True,
        help="hf: " + FORMATS["hf"] + "; mct: " + FORMATS["mct"] + " (schema v0.0.2)",
    )
    export.add_argument("--out", type=Path, metavar="FILE", help="write it there (default: stdout)")
    export.set_defaults(handler=cmd_cards_export)


def cmd_cards_export(app: App | None, args: argparse.Namespace) -> int:
    assert app is not None
    card = registered_card(app, args.ref)
    high_edge = load_verifier_settings().high_edge
    expected = expected_figures(card, high_edge=high_edge)
    realized = realized_figures(app.warehouse, card, high_edge=high_edge)
    if args.export_format == "hf":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read as huggingface_hub is imported
        from attribution.card_exports.huggingface import hugging_face_card

        text = str(hugging_face_card(card, expected, realized))
    else:
        document = toolkit_card(card, expected, realized)
        text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    said = {"card_id": card.card_id, "format": args.export_format}
    if args.out is not None:
        _write(args.out, text)
        if args.json:
            print_json({**said, "out": str(args.out)})
        else:
            print(f"wrote {FORMATS[args.export_format]} of {card.model_file_name} to {args.out}")
    elif args.json and args.export_format == "hf":
        print_json({**said, "model_card": text})  # --json: JSON, the card's text in it
    else:
        sys.stdout.write(text)  # mct is JSON already
    return ExitCode.OK


def _write(path: Path, text: str) -> None:
    if path.is_dir():
        raise PermanentError("bad_argument", f"--out {path} is a folder: give the file to write")
    try:
        path.write_text(text)
    except OSError as exc:
        raise PermanentError(
            "bad_argument", f"--out {path} cannot be written: {exc.strerror or exc}"
        ) from None
