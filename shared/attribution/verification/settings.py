"""The verifier's settings, each declared as an environment variable (``attribution.config``
says how declarations are read and checked).

The thresholds are ``VERIFY_<CHECK>_<LEVEL>_<KIND>``, e.g. ``VERIFY_ATTRIBUTION_FAIL_PCT=1``
or ``VERIFY_COMPLETENESS_PARTIAL_COUNT=5``: one variable per check of ``DEFAULT_THRESHOLDS``
and trigger of ``Threshold``, declared by ``ThresholdVariables``. An empty value turns that
trigger off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, create_model

from attribution.config import DeclaredSettings, Form, KeepsEmpty, Number, WholeNumber, variable
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
    "deployment_drift": Threshold(partial_count=None, fail_count=1),
}


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a time zone") from None
    return name


def _empty_is_off(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# A trigger: a count of problems, or a percent of the total; empty turns it off.
Count = Annotated[WholeNumber | None, BeforeValidator(_empty_is_off), KeepsEmpty()]
Percent = Annotated[Number | None, BeforeValidator(_empty_is_off), KeepsEmpty()]


def _trigger(check: str, trigger: str) -> tuple[Any, Any]:
    """The field of ``VERIFY_<CHECK>_<TRIGGER>``, its default ``DEFAULT_THRESHOLDS``'."""
    level, unit = trigger.split("_")
    meaning = f"{check}: {level.upper()} at this {'many' if unit == 'count' else 'percent'}"
    default = getattr(DEFAULT_THRESHOLDS[check], trigger)
    name = f"VERIFY_{check.upper()}_{trigger.upper()}"
    return (Count if unit == "count" else Percent), variable(name, meaning, default=default)


_TRIGGERS: dict[str, Any] = {
    f"{check}_{item.name}": _trigger(check, item.name)
    for check in DEFAULT_THRESHOLDS
    for item in fields(Threshold)
}
ThresholdVariables = create_model(
    "ThresholdVariables",
    __base__=DeclaredSettings,
    __doc__="Every VERIFY_<CHECK>_<LEVEL>_<KIND> variable, as the field <check>_<level>_<kind>.",
    **_TRIGGERS,
)


class VerifierSettings(DeclaredSettings):
    thresholds: dict[str, Threshold] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    high_edge: Number = variable("VERIFY_HIGH_EDGE", "|edge| of a high-edge pick", default=5.0)
    mae_tolerance: Number = variable(
        "VERIFY_MAE_TOLERANCE", "MAE may exceed the card's by this much", default=1.0
    )
    brier_tolerance: Number = variable(
        "VERIFY_BRIER_TOLERANCE", "Brier score may exceed the card's by this much", default=0.02
    )
    log_loss_tolerance: Number = variable(
        "VERIFY_LOG_LOSS_TOLERANCE", "log loss may exceed the card's by this much", default=0.05
    )
    min_sample: WholeNumber = variable(
        "VERIFY_MIN_SAMPLE", "fewer high-edge picks: hit rate not judged", default=30
    )
    red_day_share: Number = variable(
        "VERIFY_RED_DAY_SHARE", "one side's share that makes a RED day", default=75.0
    )
    sample_size: WholeNumber = variable(
        "VERIFY_SAMPLE_SIZE", "sample of ids listed for missing attribution", default=10
    )
    repeat_window_hours: Number = variable(
        "ALERT_REPEAT_WINDOW_HOURS",
        "an unchanged failure is re-alerted at most this often",
        default=6.0,
    )
    drift_tolerance_seconds: Number = variable(
        "VERIFY_DEPLOYMENT_DRIFT_TOLERANCE_SECONDS",
        "a batch may use the model active this long before it started",
        default=60.0,
    )
    drift_psi_partial: Number = variable(
        "VERIFY_DRIFT_PSI_PARTIAL", "a feature's PSI against training that is PARTIAL", default=0.1
    )
    drift_psi_fail: Number = variable(
        "VERIFY_DRIFT_PSI_FAIL", "a feature's PSI against training that is FAIL", default=0.25
    )
    drift_exempt: str = variable(
        "VERIFY_DRIFT_EXEMPT",
        "features, comma-separated, whose drift is reported and never judged",
        default="",
    )
    drift_min_rows: WholeNumber = variable(
        "VERIFY_DRIFT_MIN_ROWS", "fewer profiled rows in a day: input drift not judged", default=50
    )
    coalesce_seconds: Number = variable(
        "VERIFY_COALESCE_SECONDS",
        "batches finishing within this window are verified once, at its end",
        default=10.0,
    )

    @property
    def drift_exempt_features(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.drift_exempt.split(",") if n.strip())

    timezone: Annotated[
        str, AfterValidator(_time_zone), Form("an IANA time zone name, e.g. America/New_York")
    ] = variable(
        "VERIFY_TIMEZONE", 'resolves "game_date": "today" / "yesterday"', default="America/New_York"
    )
    report_days: WholeNumber = variable(
        "VERIFY_REPORT_DAYS",
        "game days the HTML report each run publishes covers, through the day verified",
        default=60,
        ge=1,
    )


def _thresholds(variables: DeclaredSettings) -> dict[str, Threshold]:
    return {
        check: Threshold(
            **{item.name: getattr(variables, f"{check}_{item.name}") for item in fields(Threshold)}
        )
        for check in DEFAULT_THRESHOLDS
    }


def load_verifier_settings(env: Mapping[str, str] | None = None) -> VerifierSettings:
    """The verifier's settings of ``env`` (``os.environ`` when None); SettingsError names a
    bad one."""
    thresholds = _thresholds(ThresholdVariables.from_environment(env))
    return VerifierSettings.from_environment(env, thresholds=thresholds)
