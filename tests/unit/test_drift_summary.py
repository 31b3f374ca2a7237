"""The drift check's one line names the inputs that moved, and the model's own predictions
apart from them: an output moves with its inputs, and is no second drifted feature."""

from __future__ import annotations

from attribution.model_card.profile import PREDICTION
from attribution.verification.input_drift import FeatureDrift, ModelDrift, _moved_summary
from attribution.verification.outcome import Status


def moved(name: str, kind: str, psi: float) -> FeatureDrift:
    return FeatureDrift(
        feature=name,
        kind=kind,
        rows=300,
        psi=psi,
        js_distance=0.5,
        g_statistic=900.0,
        chance_limit=30.0,
        missing_share=0.0,
        training_missing_share=0.0,
        unlisted_share=None,
        training_other_share=None,
        moved_bins=(),
        status=Status.FAIL,
    )


def model(*features: FeatureDrift) -> ModelDrift:
    return ModelDrift("m.cbm", "a" * 64, "b" * 64, "champion", 300, 1, features)


def test_the_predictions_are_named_apart_from_the_inputs() -> None:
    minutes, scores = moved("minutes", "numeric", 7.88), moved(PREDICTION, PREDICTION, 2.19)
    summary = _moved_summary(model(minutes, scores), [minutes, scores])
    assert summary == (
        "m.cbm on 300 rows: inputs moved from training: minutes (PSI 7.88); its predictions "
        "moved too (PSI 2.19)"
    )


def test_predictions_that_moved_alone_say_the_inputs_did_not() -> None:
    scores = moved(PREDICTION, PREDICTION, 0.3)
    assert _moved_summary(model(scores), [scores]) == (
        "m.cbm on 300 rows: its predictions moved (PSI 0.30), its profiled inputs within "
        "training's spread"
    )


def test_inputs_past_the_shown_few_are_counted() -> None:
    inputs = [moved(f"f{n}", "numeric", 1.0 - n / 10) for n in range(7)]
    summary = _moved_summary(model(*inputs), inputs)
    assert summary.endswith("f2 (PSI 0.80) and 4 more")
