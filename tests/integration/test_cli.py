"""The ``attribution`` command, run in-process on a temporary ATTRIBUTION_HOME."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest

from attribution.bootstrap import current_app
from attribution.cli.main import main
from attribution.package_folders import schemas_dir
from attribution.warehouse.migrations import migration_files

SMALL = ["--rows", "2000", "--iterations", "30", "--depth", "4"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def card_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "model_card.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def bus_messages(home: Path) -> list[str]:
    topic = home / "bus" / "topics" / "model-cards.jsonl"
    return topic.read_text().splitlines() if topic.exists() else []


def card_objects(home: Path) -> list[Path]:
    return sorted((home / "buckets" / "models" / "cards").rglob("*.json"))


def test_train_upload_and_list(home: Path, tmp_path: Path, capsys: Any) -> None:
    model = tmp_path / "catboost_v9_2026_02.cbm"
    trained = run_json(capsys, "train", "--out", str(model), "--seed", "5", *SMALL)
    assert trained["model"] == str(model)
    assert trained["size_bytes"] == model.stat().st_size > 0

    uploaded = run_json(capsys, "upload", str(model))
    assert uploaded["uploaded"] == "gs://models/models/catboost_v9_2026_02.cbm"
    card = uploaded["card"]
    card_validator().validate(card)
    assert card["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert card["status"] == "complete"
    assert card["system_id"] == "catboost_v9"
    assert current_app() is None  # the command cleaned up the App it built

    listed = run_json(capsys, "cards")
    assert [c["card_id"] for c in listed["cards"]] == [card["card_id"]]
    assert listed["cards"][0]["model_file_name"] == "catboost_v9_2026_02.cbm"
    assert listed["rejected_uploads"] == []
    assert len(bus_messages(home)) == 1
    assert [p.name for p in card_objects(home)] == [f"{card['card_id']}.json"]

    # The same file again: a new generation of the same bytes, the same card.
    again = run_json(capsys, "upload", str(model))
    assert again["card"]["card_id"] == card["card_id"]
    assert len(run_json(capsys, "cards")["cards"]) == 1
    assert len(bus_messages(home)) == 1

    code, out, _ = run(capsys, "cards")
    assert code == 0
    assert "catboost_v9_2026_02.cbm" in out
    assert "Rejected uploads" in out


def test_card_prints_a_card_and_publishes_nothing(home: Path, models: Any, capsys: Any) -> None:
    document = run_json(capsys, "card", str(models.old))
    card_validator().validate(document)
    assert document["model_file_name"] == models.old.name
    assert document["model_sha256"] == hashlib.sha256(models.old.read_bytes()).hexdigest()
    assert document["expected_mae"] == 4.12

    with_meta = run_json(
        capsys,
        "card",
        str(models.factless),
        "--meta",
        "system_id=catboost_v8",
        "--meta",
        "expected_mae=4.4",
    )
    assert with_meta["system_id"] == "catboost_v8"
    assert with_meta["fact_sources"]["system_id"] == "object_metadata"
    assert "expected_mae" not in with_meta["missing_facts"]

    code, out, _ = run(capsys, "card", str(models.old))
    assert code == 0
    assert document["card_id"] in out

    assert run_json(capsys, "cards") == {"cards": [], "rejected_uploads": []}
    assert bus_messages(home) == []
    assert card_objects(home) == []
    assert not list((home / "buckets" / "models").rglob("*.cbm"))


def test_card_on_a_bad_file_is_a_clear_error(tmp_path: Path, home: Path, capsys: Any) -> None:
    bad = tmp_path / "notes.cbm"
    bad.write_text("these are my notes, not a model")
    code, out, err = run(capsys, "card", str(bad))
    assert code == 2
    assert out == ""
    assert "notes.cbm" in err
    assert "not a CatBoost binary model" in err
    assert "(not_catboost)" in err
    code, _, err = run(capsys, "card", "--meta", "oops", str(bad))
    assert code == 2
    assert "--meta 'oops' is not KEY=VALUE" in err


def test_a_corrupt_upload_is_refused_before_anything_is_written(
    home: Path, models: Any, tmp_path: Path, capsys: Any
) -> None:
    good = run_json(capsys, "upload", str(models.old))["card"]
    data = models.retrain.read_bytes()
    corrupt = tmp_path / "catboost_v9_retrain.cbm"
    corrupt.write_bytes(data[: len(data) * 2 // 3])

    for flags in ([], ["--json"]):
        code, out, err = run(capsys, *flags, "upload", str(corrupt))
        assert (code, out) == (2, "")
        assert err.startswith(
            f"error: {corrupt} was not uploaded: the model-upload function would make no card "
            "of it: the file is truncated: "
        ), err
        assert err.endswith(" (corrupt_model)\n") and len(err.splitlines()) == 1

    listed = run_json(capsys, "cards")
    assert [c["card_id"] for c in listed["cards"]] == [good["card_id"]]
    assert listed["rejected_uploads"] == []  # nothing reached the bucket to be rejected
    stored = sorted(p.name for p in (home / "buckets" / "models" / "models").glob("*"))
    assert stored == [models.old.name]
    assert len(bus_messages(home)) == 1
    assert len(card_objects(home)) == 1

    # The real file under the same name is then accepted beside the old card.
    corrupt.write_bytes(data)
    fixed = run_json(capsys, "upload", str(corrupt))["card"]
    listed = run_json(capsys, "cards")
    assert {c["card_id"] for c in listed["cards"]} == {good["card_id"], fixed["card_id"]}


def test_the_card_before_the_upload_differs_from_the_uploaded_one_by_the_object_alone(
    home: Path, models: Any, capsys: Any
) -> None:
    before = run_json(capsys, "card", str(models.old))
    uploaded = run_json(capsys, "upload", str(models.old))["card"]

    sha256 = hashlib.sha256(models.old.read_bytes()).hexdigest()
    assert before["model_sha256"] == uploaded["model_sha256"] == sha256
    assert before["card_id"] != uploaded["card_id"]
    differing = {key for key in before.keys() | uploaded.keys() if before[key] != uploaded[key]}
    assert differing == {"card_id", "model_uri", "model_generation", "uploaded_at"}
    assert (before["model_generation"], before["uploaded_at"]) == (None, None)
    assert uploaded["model_uri"] == f"gs://models/models/{models.old.name}"


def test_an_empty_or_too_large_upload_is_refused_naming_the_local_file(
    home: Path, models: Any, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.cbm"
    empty.write_bytes(b"")
    code, out, err = run(capsys, "upload", str(empty))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {empty} was not uploaded: the model-upload function would make no card of it: "
        "the file is empty (0 bytes) (empty_file)\n"
    )

    size = models.old.stat().st_size
    monkeypatch.setenv("MAX_MODEL_BYTES", str(size - 1))
    code, out, err = run(capsys, "upload", str(models.old), "--name", "big.cbm")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {models.old} was not uploaded: the model-upload function would make no card of "
        f"it: the file is {size} bytes, over the {size - 1}-byte limit (too_large)\n"
    )
    assert list(home.rglob("*.cbm")) == []  # nothing was written to the bucket


def test_migrate_twice(home: Path, capsys: Any) -> None:
    every = [p.stem for p in migration_files()]
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert "views refreshed: prediction_accuracy" in out
    second = run_json(capsys, "migrate")
    assert second["created_tables"] == []
    assert second["applied"] == []
    assert second["views"] == ["prediction_accuracy"]
    code, out, _ = run(capsys, "migrate")
    assert "migrations applied: none (up to date)" in out

    with duckdb.connect(str(home / "warehouse.duckdb")) as db:
        recorded = db.execute("SELECT migration_id FROM schema_migrations ORDER BY 1").fetchall()
        tables = db.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert [r[0] for r in recorded] == every
    assert {"model_cards", "player_prop_predictions", "prediction_accuracy"} <= {
        r[0] for r in tables
    }


def test_home_flag_overrides_the_environment(tmp_path: Path, capsys: Any) -> None:
    other = tmp_path / "elsewhere"
    assert run_json(capsys, "--home", str(other), "cards") == {"cards": [], "rejected_uploads": []}
    assert (other / "warehouse.duckdb").is_file()
