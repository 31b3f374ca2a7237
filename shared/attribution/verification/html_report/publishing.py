"""The verifier's copy of the report: written to the bucket each run as
``reports/<system_id>/<game_date>.html`` (private, like every object: no ACL is set), and
the link an alert gives to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from attribution.objects import StoredObject, report_object_name
from attribution.ports import ObjectStore, Warehouse
from attribution.verification.html_report.data import ReportData, read_report
from attribution.verification.html_report.page import report_page
from attribution.verification.outcome import SystemVerdict
from attribution.verification.settings import VerifierSettings


@dataclass(frozen=True)
class ReportDestination:
    """Where the verifier publishes: the bucket, how a person reaches an object of it (the
    Cloud Console on Google Cloud, the file on the embedded default), and how many days the
    page covers, through the day verified."""

    store: ObjectStore
    link_for: Callable[[StoredObject], str]
    days: int = 60


@dataclass(frozen=True)
class PublishedReport:
    data: ReportData
    stored: StoredObject
    link: str


def publish_report(
    destination: ReportDestination,
    warehouse: Warehouse,
    verdict: SystemVerdict,
    settings: VerifierSettings,
) -> PublishedReport:
    """Write the page of ``verdict``'s system through its day (the verdict itself among the
    history, though it is recorded only after the alert), as the verifier's ``settings``
    judge it."""
    data = read_report(
        warehouse,
        verdict.system_id,
        settings=settings,
        to_date=verdict.game_date,
        not_before=verdict.game_date - timedelta(days=destination.days - 1),
        min_edge=settings.high_edge,
        pending_verdicts=[
            {
                "game_date": verdict.game_date,
                "verdict": verdict.verdict.value,
                "finished_at": verdict.finished_at,
                "run_id": verdict.run_id,
            }
        ],
    )
    stored = destination.store.write(
        report_object_name(verdict.system_id, verdict.game_date),
        report_page(data).encode("utf-8"),
        content_type="text/html; charset=utf-8",
    )
    return PublishedReport(data, stored, destination.link_for(stored))
