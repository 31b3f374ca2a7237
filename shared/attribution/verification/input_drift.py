"""Input drift: a day's rows against the training profile each model carries.

Batches count their rows into the profile's bins (``batches.profile_counts``); this sums a
day's counts per model and compares every feature, and the predictions, with training: PSI,
Jensen-Shannon distance, the missing share, and for a category the share the profile does
not list (unseen in training when the profile lists every training category).

A day of a few hundred rows spreads unevenly by chance alone, and PSI counts a bin the day
left empty heavily (through its floor). So a feature is judged by its PSI only when the day's
counts differ from training's shares by more than chance: when their G statistic reaches the
chi-square quantile that chance stays under on 999 days of 1000, corrected for bins that
expect few rows (``chance_limit``). Features
named in ``VERIFY_DRIFT_EXEMPT`` (one whose day is never training's, such as the opponent on a
night's slate) are reported and never judged.
The ``drift`` check judges the champion; challengers' figures are in the report.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from attribution.batches.lineup import Role
from attribution.model_card.card import ModelCard
from attribution.model_card.profile import (
    PREDICTION,
    CategoryShares,
    NumericBins,
    TrainingProfile,
)
from attribution.ports import Row
from attribution.profiles.distance import (
    g_per_row,
    g_statistic,
    js_distance,
    psi,
    psi_per_row,
)
from attribution.verification.checks import CheckContext
from attribution.verification.outcome import CheckResult, Status, overall
from attribution.verification.settings import VerifierSettings

CHECK = "drift"
CHANCE_Z = 3.09  # the normal quantile of 0.999
MOVED_BINS_SHOWN = 3
FEATURES_SHOWN = 3
EPOCH = date(1970, 1, 1)  # day 0 of an Arrow date32


@dataclass(frozen=True)
class MovedBin:
    label: str
    training_share: float
    day_share: float


@dataclass(frozen=True)
class FeatureDrift:
    """One profiled feature (or the predictions) of one model on one day."""

    feature: str
    kind: str
    rows: int
    psi: float
    js_distance: float
    g_statistic: float
    chance_limit: float
    missing_share: float
    training_missing_share: float
    unlisted_share: float | None
    training_other_share: float | None
    moved_bins: tuple[MovedBin, ...]
    status: Status

    @property
    def text(self) -> str:
        bins = ", ".join(
            f"{b.label} {100 * b.day_share:.1f}% (training {100 * b.training_share:.1f}%)"
            for b in self.moved_bins
        )
        return f"{self.feature}: PSI {self.psi:.3f}, JS {self.js_distance:.3f}; most moved: {bins}"

    def to_document(self) -> dict[str, Any]:
        document = asdict(self)
        document["status"] = self.status.value
        return document


@dataclass(frozen=True)
class ModelDrift:
    model_file_name: str
    model_sha256: str
    model_card_id: str
    model_role: str
    rows: int
    batches: int
    features: tuple[FeatureDrift, ...]

    @property
    def status(self) -> Status:
        return overall(f.status for f in self.features)

    @property
    def drifted(self) -> list[FeatureDrift]:
        """Features PARTIAL or FAIL, the most moved first."""
        moved = [f for f in self.features if f.status in (Status.PARTIAL, Status.FAIL)]
        return sorted(moved, key=lambda f: -f.psi)

    def to_document(self) -> dict[str, Any]:
        return {
            "model_file_name": self.model_file_name,
            "model_sha256": self.model_sha256,
            "model_card_id": self.model_card_id,
            "model_role": self.model_role,
            "rows": self.rows,
            "batches": self.batches,
            "status": self.status.value,
            "features": [f.to_document() for f in self.features],
        }


def chance_limit(bins: int, rows: int) -> float:
    """The G statistic that a day of ``rows`` drawn from training's own spread over ``bins``
    stays under on 999 days of 1000: the chi-square 99.9% quantile (Wilson-Hilferty), times
    Williams' correction. G runs above chi-square when bins expect few rows each (30
    categories on a 140-row slate); the correction brings the false alarms from about 2.4 to
    1.4 days in 1000 there."""
    degrees_of_freedom = bins - 1
    if degrees_of_freedom < 1 or rows < 1:
        return math.inf
    k = 2 / (9 * degrees_of_freedom)
    quantile = degrees_of_freedom * (1 - k + CHANCE_Z * math.sqrt(k)) ** 3
    return float(quantile * (1 + (bins + 1) / (6 * rows)))


def _judged(
    name: str, kind: str, value: float, beyond_chance: bool, settings: VerifierSettings
) -> Status:
    if name in settings.drift_exempt_features and kind != PREDICTION:
        return Status.INFO
    if beyond_chance and value >= settings.drift_psi_fail:
        return Status.FAIL
    if beyond_chance and value >= settings.drift_psi_partial:
        return Status.PARTIAL
    return Status.PASS


def _quantities(profile: TrainingProfile) -> list[tuple[str, NumericBins | CategoryShares]]:
    """Every profiled quantity with its kind, the predictions last."""
    found: list[tuple[str, NumericBins | CategoryShares]] = [(f.kind, f) for f in profile.features]
    if profile.prediction is not None:
        found.append((PREDICTION, profile.prediction))
    return found


def _counted_as(kind: str, quantity: NumericBins | CategoryShares) -> tuple[str, str]:
    """The (feature_kind, feature) its counts are kept under."""
    return kind, PREDICTION if kind == PREDICTION else quantity.name


@dataclass(frozen=True)
class DailyPsi:
    """One model's PSI for one profiled quantity on one day, and how the check judges it."""

    game_date: date
    model_role: str
    model_file_name: str
    feature: str
    kind: str
    rows: int
    psi: float
    status: Status


def psi_per_day(
    counts: pa.Table,
    card_for: Callable[[str], ModelCard | None],
    settings: VerifierSettings,
) -> list[DailyPsi]:
    """What ``counted_drift`` says of PSI and status for each day of ``counts`` (a range as
    ``profile_counts_per_day`` sums it, read as Arrow), in its order: each model's quantity
    is one matrix of days by bins, its days' PSI and G computed at once."""
    if counts.num_rows == 0:
        return []
    columns = counts.select(["model_role", "model_sha256", "feature_kind", "feature"]).to_pydict()
    rows_of: dict[tuple[str, str], dict[tuple[str, str], list[int]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for index, (role, sha256, kind, feature) in enumerate(
        zip(columns["model_role"], columns["model_sha256"], columns["feature_kind"],
            columns["feature"], strict=True)
    ):  # fmt: skip
        rows_of[(role, sha256)][(kind, feature)].append(index)
    day_numbers = counts["game_date"].cast(pa.int32()).to_numpy()
    bin_index = counts["bin_index"].to_numpy()
    row_count = counts["row_count"].to_numpy()
    card_ids = counts["model_card_id"]
    found: list[tuple[tuple[int, bool, str, str, int], DailyPsi]] = []
    for (role, sha256), features in rows_of.items():
        first = next(iter(features.values()))[0]
        card = card_for(card_ids[first].as_py())
        if card is None or card.training_profile is None:
            continue
        for order, (kind, quantity) in enumerate(_quantities(card.training_profile)):
            taken = features.get(_counted_as(kind, quantity))
            if not taken:
                continue
            days, day_of_row = np.unique(day_numbers[taken], return_inverse=True)
            matrix = np.zeros((len(days), len(quantity.reference)), dtype=np.int64)
            np.add.at(matrix, (day_of_row, bin_index[taken]), row_count[taken])
            values = psi_per_row(quantity.reference, matrix).tolist()
            gs = g_per_row(quantity.reference, matrix).tolist()
            bins = matrix.shape[1]
            for number, n, value, g in zip(
                days.tolist(), matrix.sum(axis=1).tolist(), values, gs, strict=True
            ):
                day = EPOCH + timedelta(days=number)
                status = _judged(quantity.name, kind, value, g >= chance_limit(bins, n), settings)
                psi_day = DailyPsi(day, role, card.model_file_name, quantity.name, kind, n,
                                   round(value, 4), status)  # fmt: skip
                found.append(((number, role != Role.CHAMPION, role, sha256, order), psi_day))
    return [psi_day for _, psi_day in sorted(found, key=lambda f: f[0])]


def _feature_drift(
    profile: NumericBins | CategoryShares,
    kind: str,
    counts: np.ndarray,
    settings: VerifierSettings,
) -> FeatureDrift:
    rows = int(counts.sum())
    expected = np.asarray(profile.reference, dtype=np.float64)
    day = counts / rows if rows else np.zeros(len(counts))
    value = psi(expected, counts)
    g = g_statistic(expected, counts)
    limit = chance_limit(len(counts), rows)
    status = _judged(profile.name, kind, value, g >= limit, settings)
    order = np.argsort(-np.abs(day - expected), kind="stable")[:MOVED_BINS_SHOWN]
    labels = profile.labels
    moved = tuple(
        MovedBin(labels[i], round(float(expected[i]), 4), round(float(day[i]), 4)) for i in order
    )
    categorical = isinstance(profile, CategoryShares)
    return FeatureDrift(
        feature=profile.name,
        kind=kind,
        rows=rows,
        psi=round(value, 4),
        js_distance=round(js_distance(expected, counts), 4),
        g_statistic=round(g, 2),
        chance_limit=round(limit, 2),
        missing_share=round(float(day[-1]), 4),
        training_missing_share=profile.missing_share,
        unlisted_share=round(float(day[-2]), 4) if categorical else None,
        training_other_share=profile.other_share if isinstance(profile, CategoryShares) else None,
        moved_bins=moved,
        status=status,
    )


def day_drift(ctx: CheckContext) -> list[ModelDrift]:
    """Every model with profile counts on the day, the champion first."""
    counts = ctx.query("profile_counts_per_day", from_date=ctx.game_date, to_date=ctx.game_date)
    return counted_drift(counts, ctx.registry.get, ctx.settings)


def counted_drift(
    counts: Iterable[Row],
    card_for: Callable[[str], ModelCard | None],
    settings: VerifierSettings,
) -> list[ModelDrift]:
    """Every model of one day's ``counts`` (as ``profile_counts_per_day`` sums them) whose card,
    looked up by ``card_for`` its id, carries a profile, the champion first."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in counts:
        grouped[(row["model_role"], row["model_sha256"])].append(row)
    found: list[ModelDrift] = []
    for (role, _), rows in sorted(grouped.items(), key=lambda i: i[0][0] != Role.CHAMPION):
        card = card_for(rows[0]["model_card_id"])
        if card is None or card.training_profile is None:
            continue
        found.append(_model_drift(card, role, rows, settings))
    return found


def _model_drift(
    card: ModelCard, role: str, rows: list[dict[str, Any]], settings: VerifierSettings
) -> ModelDrift:
    profile = card.training_profile
    assert profile is not None
    by_feature: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for row in rows:
        by_feature[(row["feature_kind"], row["feature"])][int(row["bin_index"])] = int(
            row["row_count"]
        )
    features: list[FeatureDrift] = []
    for kind, quantity in _quantities(profile):
        counted = by_feature.get(_counted_as(kind, quantity))
        if not counted:
            continue
        counts = np.array([counted.get(i, 0) for i in range(len(quantity.reference))])
        features.append(_feature_drift(quantity, kind, counts, settings))
    return ModelDrift(
        model_file_name=card.model_file_name,
        model_sha256=card.model_sha256,
        model_card_id=card.card_id,
        model_role=role,
        rows=max((f.rows for f in features), default=0),
        batches=max(int(r["batches"]) for r in rows),
        features=tuple(features),
    )


def input_drift(ctx: CheckContext) -> CheckResult:
    """The ``drift`` check: the champion's inputs and predictions against its training."""
    models = day_drift(ctx)
    champion = next((m for m in models if m.model_role == Role.CHAMPION), None)
    if champion is None:
        return _no_profile(ctx)
    figures: dict[str, Any] = {"models": [m.to_document() for m in models]}
    if champion.rows < ctx.settings.drift_min_rows:
        return CheckResult(
            CHECK,
            Status.INFO,
            f"{champion.rows} profiled rows of {champion.model_file_name}: fewer than "
            f"{ctx.settings.drift_min_rows}, input drift not judged",
            figures,
        )
    drifted = champion.drifted
    if not drifted:
        worst = max(champion.features, key=lambda f: f.psi)
        return CheckResult(
            CHECK,
            Status.PASS,
            f"{len(champion.features)} profiled quantities of {champion.model_file_name} within "
            f"training's spread (largest PSI {worst.psi:.3f}, {worst.feature})",
            figures,
        )
    return CheckResult(
        CHECK,
        champion.status,
        _moved_summary(champion, drifted),
        figures,
        [f.text for f in drifted],
        next_step="Look at the day's values of these features against training: a unit "
        "change (seconds for minutes), a new category, a column sent blank. "
        f"`attribution report drift --system-id {ctx.system_id} --game-date {ctx.game_date}` "
        "lists every feature.",
    )


def _moved_summary(champion: ModelDrift, drifted: list[FeatureDrift]) -> str:
    """The features that moved, by PSI, and apart from them the model's own predictions
    (an output: they move with its inputs)."""
    inputs = [f for f in drifted if f.kind != PREDICTION]
    outputs = [f for f in drifted if f.kind == PREDICTION]
    named = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in inputs[:FEATURES_SHOWN])
    more = f" and {len(inputs) - FEATURES_SHOWN} more" if len(inputs) > FEATURES_SHOWN else ""
    head = f"{champion.model_file_name} on {champion.rows} rows: "
    scores = "; its predictions moved too" if inputs else "its predictions moved"
    tail = f"{scores} (PSI {outputs[0].psi:.2f})" if outputs else ""
    if inputs:
        return f"{head}inputs moved from training: {named}{more}{tail}"
    return f"{head}{tail}, its profiled inputs within training's spread"


def _no_profile(ctx: CheckContext) -> CheckResult:
    """Information only: the champion carries no profile, or no batch counted into it."""
    models = [m for m in ctx.query("verify_model_distribution") if m["model_card_id"]]
    cards = [ctx.registry.get(m["model_card_id"]) for m in models]
    bare = [c.model_file_name for c in cards if c is not None and c.training_profile is None]
    if bare:
        return CheckResult(
            CHECK,
            Status.INFO,
            f"no training profile to compare with: {', '.join(bare)} carries none",
            {"models": []},
            [
                "embed one with `attribution profile embed MODEL --data TRAIN_FILE` (or "
                "attribution.profiles.building.embed_profile before save_model), then upload it"
            ],
        )
    return CheckResult(
        CHECK,
        Status.INFO,
        f"no rows counted into a training profile for {ctx.system_id} on {ctx.game_date}",
        {"models": []},
    )
