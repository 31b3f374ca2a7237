"""``import_ledger``: past promotions from a deploy log, checked entry by entry before any is
written; all or nothing; re-importing changes nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from attribution.batches.rows import format_of, read_rows
from attribution.errors import PermanentError
from attribution.history.ledger_import import LedgerImport, import_ledger
from attribution.ports import Row

from .support import FIRST, OTHER_SYSTEM, PROMOTION, SYSTEM, History


def write_csv(path: Path, lines: Sequence[str]) -> Path:
    path.write_text(
        "system_id,model_file_name,model_sha256,active_from,by,note\n" + "\n".join(lines)
    )
    return path


def write_jsonl(path: Path, entries: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(dict(e)) + "\n" for e in entries))
    return path


def load(history: History, path: Path) -> LedgerImport:
    """What ``attribution ledger import FILE`` does with the file."""
    table = read_rows(path.read_bytes(), format_of(path.name), source=str(path))
    return import_ledger(table, history.app.ledger)


def ledger(history: History) -> list[Row]:
    return history.app.ledger.list()


def refused(history: History, path: Path) -> str:
    before = ledger(history)
    with pytest.raises(PermanentError) as caught:
        load(history, path)
    assert caught.value.code == "ledger_conflict"
    assert caught.value.message.startswith("nothing imported: ")
    assert ledger(history) == before  # all or nothing
    return caught.value.message


def test_a_csv_naming_models_by_file_name_is_imported_with_its_authors_and_notes(
    history: History, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-01-09T15:00:00Z,deploy-log,Session 80",
            f"{SYSTEM},{history.new.model_file_name},,2026-02-02T22:00:00Z,,",
        ],
    )

    result = load(history, path)

    assert result == LedgerImport(entries=2, imported=2, already_recorded=0)
    rows = ledger(history)
    assert [(r["model_sha256"], r["active_from"]) for r in rows] == [
        (history.old.model_sha256, FIRST),
        (history.new.model_sha256, PROMOTION),
    ]
    assert [(r["model_card_id"], r["model_file_name"]) for r in rows] == [
        (history.old.card_id, history.old.model_file_name),
        (history.new.card_id, history.new.model_file_name),
    ]
    assert [(r["deployed_by"], r["note"]) for r in rows] == [
        ("deploy-log", "Session 80"),
        ("ledger import", None),
    ]
    timeline = history.app.ledger.timeline(SYSTEM)
    assert timeline.active_at(PROMOTION - timedelta(microseconds=1)) == history.old
    assert timeline.active_at(PROMOTION) == history.new


def test_a_jsonl_naming_models_by_sha256_is_imported(history: History, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "deploys.jsonl",
        [
            {"system_id": SYSTEM, "model_sha256": history.old.model_sha256,
             "active_from": "2026-01-09T15:00:00Z"},
            {"system_id": SYSTEM, "model_sha256": history.new.model_sha256,
             "active_from": "2026-02-02T23:00:00+01:00", "by": "ops", "note": "retrain"},
            {"system_id": OTHER_SYSTEM, "model_sha256": history.other.model_sha256,
             "active_from": "2026-01-20T12:00:00Z"},
        ],
    )  # fmt: skip

    result = load(history, path)

    assert (result.entries, result.imported) == (3, 3)
    assert [(r["system_id"], r["model_sha256"], r["active_from"]) for r in ledger(history)] == [
        (OTHER_SYSTEM, history.other.model_sha256, FIRST.replace(day=20, hour=12)),
        (SYSTEM, history.old.model_sha256, FIRST),
        (SYSTEM, history.new.model_sha256, PROMOTION),  # +01:00 read as the same instant
    ]


def test_importing_the_same_file_again_changes_nothing(history: History, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-01-09T15:00:00Z,deploy-log,",
            f"{SYSTEM},,{history.new.model_sha256},2026-02-02T22:00:00Z,deploy-log,",
        ],
    )
    assert load(history, path).imported == 2
    before = ledger(history)

    again = load(history, path)

    assert again == LedgerImport(entries=2, imported=0, already_recorded=2)
    assert ledger(history) == before


def test_an_entry_already_promoted_live_counts_as_already_recorded(
    history: History, tmp_path: Path
) -> None:
    history.promote(history.new, PROMOTION)
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-01-09T15:00:00Z,deploy-log,",
            f"{SYSTEM},{history.new.model_file_name},,2026-02-02T22:00:00Z,deploy-log,",
        ],
    )

    result = load(history, path)

    assert result == LedgerImport(entries=2, imported=1, already_recorded=1)
    assert len(ledger(history)) == 2


def test_an_unknown_model_is_named_and_nothing_is_imported(
    history: History, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-01-09T15:00:00Z,,",
            f"{SYSTEM},catboost_v9_never_uploaded.cbm,,2026-01-20T15:00:00Z,,",
            f"{SYSTEM},,{'f' * 64},2026-01-25T15:00:00Z,,",
        ],
    )

    message = refused(history, path)

    assert "entry 2" in message and "catboost_v9_never_uploaded.cbm" in message
    assert "entry 3" in message and "f" * 64 in message
    assert "entry 1" not in message
    assert ledger(history) == []


def test_an_entry_contradicting_the_ledger_at_the_same_instant_is_refused(
    history: History, tmp_path: Path
) -> None:
    history.promote(history.new, PROMOTION)
    path = write_jsonl(
        tmp_path / "deploys.jsonl",
        [
            {"system_id": SYSTEM, "model_file_name": history.old.model_file_name,
             "active_from": "2026-01-09T15:00:00Z"},
            {"system_id": SYSTEM, "model_file_name": history.old.model_file_name,
             "active_from": "2026-02-02T23:00:00+01:00"},
        ],
    )  # fmt: skip

    message = refused(history, path)

    assert "entry 2" in message
    assert history.old.model_file_name in message
    assert f"the ledger ({history.new.model_file_name})" in message
    assert "entry 1:" not in message
    assert len(ledger(history)) == 1


def test_entries_contradicting_each_other_are_refused(history: History, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-02-02T22:00:00Z,,",
            f"{SYSTEM},{history.new.model_file_name},,2026-02-02T22:00:00Z,,",
        ],
    )

    message = refused(history, path)

    assert "entry 2" in message and "contradicts entry 1" in message
    assert ledger(history) == []


def test_the_same_instant_for_two_systems_is_no_contradiction(
    history: History, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-02-02T22:00:00Z,,",
            f"{OTHER_SYSTEM},{history.other.model_file_name},,2026-02-02T22:00:00Z,,",
            f"{SYSTEM},{history.old.model_file_name},,2026-02-02T22:00:00Z,,",  # a repeat
        ],
    )

    result = load(history, path)

    assert (result.entries, result.imported, result.already_recorded) == (3, 2, 1)


def test_a_model_of_another_system_is_refused(history: History, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "deploys.csv",
        [
            f"{SYSTEM},{history.old.model_file_name},,2026-01-09T15:00:00Z,,",
            f"{SYSTEM},{history.other.model_file_name},,2026-01-20T15:00:00Z,,",
        ],
    )

    message = refused(history, path)

    assert f"entry 2: {history.other.model_file_name} belongs to {OTHER_SYSTEM}" in message
    assert ledger(history) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{SYSTEM},,,2026-01-09T15:00:00Z,,", "needs system_id, model_sha256 or model_file_name"),
        (",catboost_v9_old.cbm,,2026-01-09T15:00:00Z,,", "needs system_id"),
        (f"{SYSTEM},catboost_v9_old.cbm,,,,", "active_from"),
        (f"{SYSTEM},catboost_v9_old.cbm,,last tuesday,,", "is not a timestamp"),
    ],
)
def test_an_incomplete_or_unreadable_entry_is_refused(
    history: History, tmp_path: Path, line: str, expected: str
) -> None:
    path = write_csv(tmp_path / "deploys.csv", [line])

    message = refused(history, path)

    assert "entry 1" in message and expected in message
