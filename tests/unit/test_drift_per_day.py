"""The HTML report's drift over a range (``psi_per_day``: each quantity's days as one matrix)
says what the drift check says of each day on its own (``counted_drift``), in its order,
including a challenger that first appears on a later day."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pyarrow as pa

from attribution.model_card.card import ModelCard
from attribution.model_card.profile import PREDICTION, CategoryShares, NumericBins, TrainingProfile
from attribution.ports import Row
from attribution.verification.input_drift import counted_drift, psi_per_day
from attribution.verification.settings import VerifierSettings

FIRST = date(2026, 1, 5)
PROFILE = TrainingProfile(
    rows=1000,
    features=(
        NumericBins(name="minutes", edges=(10.0, 20.0, 30.0), shares=(0.2, 0.3, 0.3, 0.2),
                    missing_share=0.0),
        CategoryShares(name="team", categories=("BOS", "LAL"), shares=(0.4, 0.4),
                       other_share=0.15, missing_share=0.05),
    ),
    prediction=NumericBins(name=PREDICTION, edges=(15.0,), shares=(0.5, 0.5), missing_share=0.0),
)  # fmt: skip


def card(sha_letter: str) -> ModelCard:
    stand_in = SimpleNamespace(
        training_profile=PROFILE,
        model_file_name=f"{sha_letter}.cbm",
        model_sha256=sha_letter * 64,
        card_id=f"card-{sha_letter}",
    )
    return cast(ModelCard, stand_in)


CARDS = {f"card-{letter}": card(letter) for letter in "abc"}


def day_rows(day: date, role: str, letter: str, rng: np.random.Generator, shift: int) -> list[Row]:
    rows = []
    for kind, quantity in [
        *((f.kind, f) for f in PROFILE.features),
        (PREDICTION, PROFILE.prediction),
    ]:
        assert quantity is not None
        bins = len(quantity.reference)
        counts = rng.multinomial(300, np.roll(quantity.reference, shift))
        for index in range(bins):
            rows.append({
                "game_date": day, "model_sha256": letter * 64, "model_card_id": f"card-{letter}",
                "model_role": role, "feature": quantity.name if kind != PREDICTION else PREDICTION,
                "feature_kind": kind, "bin_index": index, "row_count": int(counts[index]),
                "batches": 1,
            })  # fmt: skip
    return rows


def test_a_range_at_once_is_each_day_alone() -> None:
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    for offset in range(6):
        day = FIRST + timedelta(days=offset)
        rows += day_rows(day, "champion", "c", rng, shift=offset // 3)
        rows += day_rows(day, "challenger", "b", rng, shift=0)
        if offset >= 2:  # sorts before b, appears later
            rows += day_rows(day, "challenger", "a", rng, shift=1)
    rows.sort(key=lambda r: (r["game_date"], r["model_role"], r["model_sha256"],
                             r["feature_kind"], r["feature"], r["bin_index"]))  # fmt: skip
    settings = VerifierSettings()
    expected: list[dict[str, Any]] = []
    for offset in range(6):
        day = FIRST + timedelta(days=offset)
        for model in counted_drift([r for r in rows if r["game_date"] == day], CARDS.get, settings):
            for f in model.features:
                expected.append({"game_date": day, "model_role": model.model_role,
                                 "model_file_name": model.model_file_name, "feature": f.feature,
                                 "kind": f.kind, "rows": f.rows, "psi": f.psi,
                                 "status": f.status})  # fmt: skip
    table = pa.Table.from_pylist(rows)
    found = [vars(d) for d in psi_per_day(table, CARDS.get, settings)]
    assert found == expected
    assert {d["status"].value for d in found} >= {"PASS", "FAIL"}  # the shifted days judged
    assert [d["model_file_name"] for d in found if d["game_date"] == FIRST + timedelta(days=2)][
        :: len(PROFILE.features) + 1
    ] == ["c.cbm", "a.cbm", "b.cbm"]


def test_an_empty_range_has_no_days() -> None:
    empty = pa.Table.from_pylist([], schema=pa.Table.from_pylist(day_rows(
        FIRST, "champion", "c", np.random.default_rng(0), 0)).schema)  # fmt: skip
    assert psi_per_day(empty, CARDS.get, VerifierSettings()) == []
