"""The verifier's thresholds, each overridable from the environment.

``VERIFY_<CHECK>_<LEVEL>_<KIND>``, e.g. ``VERIFY_ATTRIBUTION_FAIL_PCT=1`` or
``VERIFY_COMPLETENESS_PARTIAL_COUNT=5``; an empty value disables that trigger.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from attribution.verification.outcome import Threshold

DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    "attribution": Threshold(partial_count=1, fail_pct=1.0, fail_count=10),
    "completeness": Threshold(partial_count=1, fail_pct=5.0, fail_count=25),
    "failed_batches": Threshold(partial_count=None, fail_count=1),
    "rejected_rows": Threshold(partial_count=None, partial_pct=10.0, fail_pct=50.0),
    "registry": Threshold(partial_count=None, fail_count=1),
    "orphan_cards": Threshold(partial_count=1),
    "performance": Threshold(partial_count=1),
    "leakage": Threshold(partial_count=None, fail_count=1),
    "drift": Threshold(partial_count=None, fail_count=1),
}


@dataclass(frozen=True)
class VerifierSettings:
    thresholds: dict[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    high_edge: float = 5.0
    mae_tolerance: float = 1.0
    brier_tolerance: float = 0.02
    log_loss_tolerance: float = 0.05
    min_sample: int = 30
    red_day_share: float = 75.0
    sample_size: int = 10
    repeat_window_hours: float = 6.0
    drift_tolerance_seconds: float = 60.0


def _threshold_from_env(name: str, base: Threshold, env: Mapping[str, str]) -> Threshold:
    updates: dict[str, float | int | None] = {}
    for item in fields(Threshold):
        key = f"VERIFY_{name.upper()}_{item.name.upper()}"
        if key in env:
            raw = env[key].strip()
            if raw == "":
                updates[item.name] = None
            elif item.name.endswith("count"):
                updates[item.name] = int(raw)
            else:
                updates[item.name] = float(raw)
    return replace(base, **updates) if updates else base  # type: ignore[arg-type]


def load_verifier_settings(env: Mapping[str, str] | None = None) -> VerifierSettings:
    env = os.environ if env is None else env

    def number(key: str, default: float) -> float:
        raw = env.get(key, "")
        return float(raw) if raw.strip() else default

    return VerifierSettings(
        thresholds={
            name: _threshold_from_env(name, base, env) for name, base in DEFAULT_THRESHOLDS.items()
        },
        high_edge=number("VERIFY_HIGH_EDGE", 5.0),
        mae_tolerance=number("VERIFY_MAE_TOLERANCE", 1.0),
        brier_tolerance=number("VERIFY_BRIER_TOLERANCE", 0.02),
        log_loss_tolerance=number("VERIFY_LOG_LOSS_TOLERANCE", 0.05),
        min_sample=int(number("VERIFY_MIN_SAMPLE", 30)),
        red_day_share=number("VERIFY_RED_DAY_SHARE", 75.0),
        sample_size=int(number("VERIFY_SAMPLE_SIZE", 10)),
        repeat_window_hours=number("ALERT_REPEAT_WINDOW_HOURS", 6.0),
        drift_tolerance_seconds=number("VERIFY_DRIFT_TOLERANCE_SECONDS", 60.0),
    )
