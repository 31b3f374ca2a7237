"""Run every check for a game date, decide a verdict per system, remember it, alert on change."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from attribution.clock import now_utc
from attribution.errors import PermanentError
from attribution.json_safe import dumps_finite, json_default
from attribution.logs import get_logger
from attribution.model_card.registry import CardRegistry
from attribution.ports import Alert, NotificationError, Notifier, ObjectStore, Warehouse
from attribution.verification import checks
from attribution.verification.alerts import alert_for
from attribution.verification.challengers import challengers, decided_alert, newly_decided
from attribution.verification.deployment_drift import deployment_drift
from attribution.verification.input_drift import input_drift
from attribution.verification.outcome import CheckResult, Status, SystemVerdict, overall
from attribution.verification.request import SYSTEM_ID_PATTERN
from attribution.verification.settings import VerifierSettings
from attribution.warehouse.sql_text import sql

if TYPE_CHECKING:
    from attribution.verification.html_report.publishing import (
        PublishedReport,
        ReportDestination,
    )

_log = get_logger("attribution.verifier")


class UnknownSystemError(PermanentError):
    """A verification asked about a ``system_id`` that no card, deployment, prediction or
    logged batch has: answered "unknown system" (CLI exit 5, HTTP 404, a dead letter on
    Pub/Sub), with no verdict row and no alert."""

    def __init__(self, system_id: str, known: list[str]) -> None:
        shown = repr(system_id) if len(system_id) <= 80 else f"{system_id[:80]!r}..."
        listed = ", ".join(known) if known else "none yet"
        super().__init__(
            "unknown_system",
            f"unknown system {shown}: no model card, deployment, prediction or logged batch "
            f"has this system_id (systems with cards or deployments: {listed})",
        )
        self.system_id = system_id

    def to_document(self) -> dict[str, Any]:
        """The answer to the request, the same on the command line and over HTTP."""
        return {"error": self.message, "code": self.code, "system_id": self.system_id}


Check = Callable[[checks.CheckContext], CheckResult | list[CheckResult]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("coverage", checks.coverage),
    ("model_distribution", checks.model_distribution),
    ("completeness", checks.completeness),
    ("bucket_vs_registry", checks.registry_consistency),
    ("performance", checks.performance),
    ("recommendation_skew", checks.recommendation_skew),
    ("leakage", checks.leakage),
    ("challengers", challengers),
    ("deployment_drift", deployment_drift),
    ("drift", input_drift),
)


@dataclass
class Verifier:
    warehouse: Warehouse
    registry: CardRegistry
    store_for: Callable[[str], ObjectStore]
    notifier: Notifier
    settings: VerifierSettings
    extra_checks: list[tuple[str, Check]] = field(default_factory=list)
    # Where each run publishes the system's HTML report (None: it publishes none).
    reports: ReportDestination | None = None

    def systems_for(self, game_date: date) -> list[str]:
        rows = self.warehouse.query(sql("verify_systems_for_date"), {"game_date": game_date})
        return [r["system_id"] for r in rows]

    def is_known(self, system_id: str) -> bool:
        """A system exists when it has a model card, a deployment, predictions or a logged
        batch (on any date); an id no batch could carry exists nowhere."""
        if not SYSTEM_ID_PATTERN.fullmatch(system_id):
            return False
        rows = self.warehouse.query(sql("verify_system_known"), {"system_id": system_id})
        return bool(rows and rows[0]["known"])

    def require_known(self, system_id: str) -> None:
        if not self.is_known(system_id):
            known = [r["system_id"] for r in self.warehouse.query(sql("known_systems"))]
            _log.warning(
                "verification of an unknown system refused",
                extra={"system_id": system_id[:128], "error_code": "unknown_system"},
            )
            raise UnknownSystemError(system_id, known)

    def verify(
        self, game_date: date, system_id: str | None = None, *, request_id: str | None = None
    ) -> list[SystemVerdict]:
        """Verdicts for ``system_id`` (or every system with predictions or batches that day);
        ``UnknownSystemError`` for a system that does not exist, before anything is recorded."""
        if system_id is not None:
            self.require_known(system_id)
        systems = [system_id] if system_id else self.systems_for(game_date)
        if not systems:
            systems = ["*"]
        return [self._verify_system(game_date, s, request_id) for s in systems]

    def context(self, game_date: date, system_id: str) -> checks.CheckContext:
        """What every check of one system's day reads."""
        return checks.CheckContext(
            warehouse=self.warehouse,
            registry=self.registry,
            store_for=self.store_for,
            settings=self.settings,
            game_date=game_date,
            system_id=system_id,
        )

    def _verify_system(
        self, game_date: date, system_id: str, request_id: str | None
    ) -> SystemVerdict:
        started_at = now_utc()
        run_id = (
            hashlib.sha256(f"{request_id}|{game_date}|{system_id}".encode()).hexdigest()[:32]
            if request_id
            else uuid.uuid4().hex
        )
        ctx = self.context(game_date, system_id)
        results: list[CheckResult] = []
        for name, check in [*CHECKS, *self.extra_checks]:
            try:
                outcome = check(ctx)
            except Exception as exc:  # a check that cannot decide must not hide the others
                _log.exception("check could not run", extra={"check": name})
                outcome = CheckResult(
                    name,
                    Status.UNKNOWN,
                    f"could not run: {type(exc).__name__}: {exc}",
                    next_step="The warehouse or bucket failed during verification; run "
                    f"`attribution verify --game-date {game_date}` again once it is back.",
                )
            results.extend(outcome if isinstance(outcome, list) else [outcome])
        verdict = overall(r.status for r in results)
        previous, last_alert = self._memory(system_id, game_date, verdict)
        result = SystemVerdict(
            run_id=run_id,
            game_date=game_date,
            system_id=system_id,
            verdict=verdict,
            previous_verdict=previous,
            checks=results,
            started_at=started_at,
            finished_at=now_utc(),
        )
        if self._already_recorded(run_id):
            _log.info("verification already recorded", extra={"run_id": run_id})
            return SystemVerdict(**{**result.__dict__, "new": False})
        report = self._publish_report(result)
        alerted = False
        if self._should_alert(verdict, previous, last_alert, result.finished_at):
            alerted = self._send(result, report)
        result = SystemVerdict(**{**result.__dict__, "alerted": alerted})
        decided = self._newly_decided(result)
        self._record(result)
        if decided:
            self._deliver(decided_alert(system_id, game_date.isoformat(), decided))
        _log.info(
            "verification finished",
            extra={
                "game_date": game_date.isoformat(),
                "system_id": system_id,
                "verdict": verdict.value,
                "alerted": alerted,
            },
        )
        return result

    def _memory(
        self, system_id: str, game_date: date, verdict: Status
    ) -> tuple[Status | None, datetime | None]:
        """The day's previous verdict for the system (None: its first verification) and when
        the day was last alerted with ``verdict``."""
        rows = self.warehouse.query(
            sql("verification_last_runs"), {"system_id": system_id, "game_date": game_date}
        )
        previous = Status(rows[0]["verdict"]) if rows else None
        last_alert = next(
            (r["finished_at"] for r in rows if r["alerted"] and r["verdict"] == verdict.value),
            None,
        )
        return previous, last_alert

    def _should_alert(
        self,
        verdict: Status,
        previous: Status | None,
        last_alert: datetime | None,
        now: datetime,
    ) -> bool:
        if previous is None or previous is not verdict:
            return True
        if verdict is Status.PASS:
            return False
        window = timedelta(hours=self.settings.repeat_window_hours)
        return last_alert is None or now - last_alert >= window

    def _newly_decided(self, verdict: SystemVerdict) -> list[str]:
        """Challengers that this verification finds better or worse than the champion and
        the system's latest earlier one did not (so each decision is told once)."""
        check = next((c for c in verdict.checks if c.name == "challengers"), None)
        if check is None or not check.figures.get("decisions"):
            return []
        latest = self.warehouse.query(
            sql("verification_latest_run"), {"system_id": verdict.system_id}
        )
        return newly_decided(check, latest)

    def _publish_report(self, verdict: SystemVerdict) -> PublishedReport | None:
        """The system's page through the verified day, in the bucket; None when there is no
        destination or it could not be written (the verdict and its alert go on without)."""
        if self.reports is None:
            return None
        from attribution.verification.html_report.publishing import publish_report

        try:
            return publish_report(self.reports, self.warehouse, verdict, self.settings)
        except Exception as exc:  # a picture must never cost the verdict
            _log.exception(
                "the HTML report could not be published",
                extra={"system_id": verdict.system_id, "error": f"{type(exc).__name__}: {exc}"},
            )
            return None

    def _send(self, verdict: SystemVerdict, report: PublishedReport | None = None) -> bool:
        if report is None:
            return self._deliver(alert_for(verdict))
        from attribution.verification.html_report.day_chart import day_chart_png

        try:
            chart = day_chart_png(report.data)
        except Exception:  # the alert goes without its picture
            _log.exception("the alert's chart could not be drawn")
            chart = None
        return self._deliver(alert_for(verdict, report_link=report.link, chart_png=chart))

    def _deliver(self, alert: Alert) -> bool:
        try:
            self.notifier.notify(alert)
            return True
        except NotificationError as exc:
            _log.error(
                "alert could not be delivered",
                extra={"alert": alert.title, "error": str(exc)},
            )
            return False

    def _already_recorded(self, run_id: str) -> bool:
        return bool(
            self.warehouse.query(
                "SELECT run_id FROM verification_runs WHERE run_id = @run_id", {"run_id": run_id}
            )
        )

    def _record(self, verdict: SystemVerdict) -> None:
        row = {
            "run_id": verdict.run_id,
            "game_date": verdict.game_date,
            "system_id": verdict.system_id,
            "verdict": verdict.verdict.value,
            "previous_verdict": verdict.previous_verdict.value
            if verdict.previous_verdict
            else None,
            "summary": verdict.summary(),
            "predictions": verdict.figure("coverage", "predictions"),
            "attributed": verdict.figure("coverage", "attributed"),
            "coverage_pct": verdict.figure("coverage", "coverage_pct"),
            "checks_json": dumps_finite(
                [c.to_document() for c in verdict.checks], default=json_default, sort_keys=True
            ),
            "alerted": verdict.alerted,
            "started_at": verdict.started_at,
            "finished_at": verdict.finished_at,
        }
        self.warehouse.insert_new_rows("verification_runs", [row], key=["run_id"])
