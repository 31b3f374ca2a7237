"""``attribution cards export``: a registered card as a Hugging Face model card (its
``model-index`` the card's expected figures and, once results are graded, the realized ones
with their date range, read back with ``huggingface_hub``) and as Model Card Toolkit JSON,
valid against the toolkit's published schema v0.0.2 (vendored in tests/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import ModelCard as HubModelCard
from jsonschema import Draft7Validator

from attribution.cli.main import main
from attribution.verification.report import model_report

from .support import DAY, World

MCT_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "model_card_toolkit"


def _export(world: World, *args: str) -> int:
    return main(["--home", str(world.app.settings.home), "cards", "export", *args])


def _results(text: str) -> dict[tuple[str, str], float]:
    """The model-index results of a Hugging Face card: (split, metric type) to value."""
    card = HubModelCard(text)
    assert card.data.eval_results, card.data
    return {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}


def test_an_ungraded_card_exports_its_expected_figures_only(
    ungraded_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    card = ungraded_world.a
    assert _export(ungraded_world, card.card_id[:12], "--format", "hf") == 0
    text = capsys.readouterr().out
    assert _results(text) == {
        ("holdout", "mae"): card.expected_mae,
        ("holdout", "high_edge_hit_rate"): card.expected_hit_rate,
    }
    hub = HubModelCard(text)
    assert hub.data.library_name == "catboost"
    assert hub.data.model_name == card.model_file_name
    assert hub.data.to_dict()["model_attribution"]["model_sha256"] == card.model_sha256
    assert "No results are graded yet." in text


def test_a_graded_card_exports_what_it_realized_and_over_which_games(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    card = world.a
    report = model_report(world.app.warehouse)
    (row,) = [r for r in report if r["model_sha256"] == card.model_sha256]
    out = tmp_path / "README.md"
    assert _export(world, card.model_file_name, "--format", "hf", "--out", str(out)) == 0
    assert str(out) in capsys.readouterr().out
    results = _results(out.read_text())
    assert results[("realized-champion", "mae")] == row["mae"]
    assert results[("realized-champion", "high_edge_hit_rate")] == row["high_edge_hit_rate"]
    assert results[("holdout", "mae")] == card.expected_mae
    assert f"games {DAY} to {DAY}" in out.read_text()
    # The hit rate's basis, counted by hand from the graded rows: picks, and the high-edge ones.
    graded = world.app.warehouse.query(
        "SELECT edge FROM prediction_accuracy WHERE model_sha256 = @sha "
        "AND model_role = 'champion' AND prediction_correct IS NOT NULL",
        {"sha": card.model_sha256},
    )
    high_edge = sum(abs(r["edge"]) >= 5.0 for r in graded)
    assert f"({len(graded)} graded picks, {high_edge} with |edge| >= 5):" in out.read_text()


def test_a_toolkit_export_is_valid_against_the_published_schema(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = json.loads((MCT_SCHEMA / "model_card.schema.json").read_text())
    assert _export(world, world.a.model_uri, "--format", "mct") == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER).validate(document)
    assert document["schema_version"] == "0.0.2"
    assert document["model_details"]["name"] == world.a.model_file_name
    slices = {m["slice"] for m in document["quantitative_analysis"]["performance_metrics"]}
    assert slices == {
        "expected, held-out games of the training window",
        f"realized as champion, games {DAY} to {DAY}",
    }
    # The schema refuses what is not a card: the test can fail.
    errors = Draft7Validator(schema).iter_errors({**document, "unknown": 1})
    assert [e.validator for e in errors] == ["additionalProperties"]


def test_json_output_is_json_in_either_format(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--json",
                "--home",
                str(world.app.settings.home),
                "cards",
                "export",
                world.a.card_id,
                "--format",
                "hf",
            ]
        )
        == 0
    )
    exported = json.loads(capsys.readouterr().out)
    assert exported["card_id"] == world.a.card_id
    assert HubModelCard(exported["model_card"]).data.library_name == "catboost"
    assert _export(world, "--json", world.a.card_id, "--format", "mct") == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == "0.0.2"


def test_an_unknown_reference_or_a_folder_to_write_is_refused(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _export(world, "no_such_model.cbm", "--format", "mct") != 0
    assert _export(world, world.a.card_id, "--format", "hf", "--out", str(tmp_path)) != 0
    assert "is a folder" in capsys.readouterr().err
