"""Deployment drift: rows stamped with a model neither pinned by their batch nor active for
their system at their time per the ledger; a challenger's rows, from a model that was not
then one of the system's challengers."""

from __future__ import annotations

from datetime import timedelta

from attribution.batches.lineup import Role
from attribution.history.ledger import DeploymentLedger
from attribution.verification.checks import CheckContext
from attribution.verification.outcome import CheckResult, Status


def deployment_drift(ctx: CheckContext) -> CheckResult:
    ledger = DeploymentLedger(ctx.warehouse, ctx.registry)
    timeline = ledger.timeline(ctx.system_id)
    # A batch may run on a ledger answer cached up to this long before a promotion.
    grace = timedelta(seconds=ctx.settings.drift_tolerance_seconds)
    drifted: list[str] = []
    checked = 0
    rows_drifted = 0
    for batch in ctx.query("verify_stamped_batches"):
        checked += int(batch["predictions"])
        at = batch["started_at"] or batch["created_at"]
        model = f"{batch['model_file_name']} ({str(batch['model_sha256'])[:12]})"
        if batch["model_role"] == Role.CHALLENGER:
            if batch["model_sha256"] in timeline.challenger_candidates(at - grace / 2, grace / 2):
                continue
            detail = (
                f"batch {batch['batch_id']}: challenger rows of {model} at "
                f"{at:%Y-%m-%d %H:%M:%SZ}, but it was no challenger of {ctx.system_id} then"
            )
        else:
            pin = batch["model_pin"]
            if pin and pin in (batch["model_sha256"], batch["model_file_name"]):
                continue
            allowed = {c.model_sha256 for c in timeline.candidates(at - grace / 2, grace / 2)}
            if batch["model_sha256"] in allowed:
                continue
            active = timeline.active_at(at)
            detail = (
                f"batch {batch['batch_id']}: stamped {model}, but the ledger had "
                f"{active.model_file_name if active else 'no model'} active at "
                f"{at:%Y-%m-%d %H:%M:%SZ}" + (f" and the batch pinned {pin}" if pin else "")
            )
        rows_drifted += int(batch["predictions"])
        drifted.append(detail)
    status = ctx.judge("deployment_drift", rows_drifted, max(checked, 1))
    return CheckResult(
        "deployment_drift",
        status,
        f"{rows_drifted} of {checked} stamped rows from a model neither pinned nor active",
        {"rows_drifted": rows_drifted, "rows_checked": checked},
        drifted,
        next_step=None
        if status is Status.PASS
        else "Something predicted with a model the ledger did not make active: find who ran "
        "these batches, record the promotion with `attribution promote` (or `ledger import` "
        "for the past) if it was intended, or stop the stray deployment.",
    )
