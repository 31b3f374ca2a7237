"""The HTML report's timeline from hand-written ledger rows: its segments, and the note the
page carries when no entry was in force on the report's days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from attribution.ports import Row
from attribution.verification.html_report.data import ReportData, Segment
from attribution.verification.html_report.page import ledger_note, render_page

FIRST, LAST = date(2026, 1, 2), date(2026, 1, 10)


def entry(name: str, role: str, when: datetime, until: datetime | None = None) -> Row:
    return {
        "system_id": "s",
        "model_file_name": name,
        "model_sha256": name * 8,
        "role": role,
        "active_from": when,
        "active_until": until,
    }


def report(deployments: list[Row]) -> ReportData:
    return ReportData("s", FIRST, LAST, 5.0, 0.2, [], [], [], [], deployments)


def test_segments_are_clipped_to_the_days_and_end_where_the_ledger_says() -> None:
    data = report(
        [
            entry("old.cbm", "champion", datetime(2025, 12, 1, tzinfo=UTC)),
            entry("new.cbm", "challenger", datetime(2026, 1, 3, 9, tzinfo=UTC)),
            entry("new.cbm", "champion", datetime(2026, 1, 6, 15, tzinfo=UTC)),
            entry("gone.cbm", "challenger", datetime(2026, 1, 4, tzinfo=UTC)),
            entry("gone.cbm", "retired", datetime(2026, 1, 5, tzinfo=UTC)),
        ]
    )
    assert sorted(data.segments, key=lambda s: (s.start, s.model_file_name)) == [
        Segment("old.cbm", "champion", FIRST, date(2026, 1, 6)),
        Segment("new.cbm", "challenger", date(2026, 1, 3), date(2026, 1, 6)),
        Segment("gone.cbm", "challenger", date(2026, 1, 4), date(2026, 1, 5)),
        Segment("new.cbm", "champion", date(2026, 1, 6), date(2026, 1, 11)),
    ]
    assert ledger_note(data) is None


def test_a_ledger_that_starts_after_the_games_is_said_so_on_the_page() -> None:
    data = report([entry("late.cbm", "champion", datetime(2026, 12, 3, 11, 5, tzinfo=UTC))])
    assert data.segments == []
    note = ledger_note(data)
    assert note is not None
    assert "late.cbm as champion from 2026-12-03 11:05Z" in note and "after these" in note
    page = render_page(data, [])
    assert '<p class="note" id="ledger-note">No timeline: the ledger&#x27;s first entry' in page


def test_no_ledger_and_an_ended_ledger_each_have_their_note() -> None:
    assert ledger_note(report([])) == (
        "No timeline: the deployment ledger has no entry for this system."
    )
    ended = report(
        [
            entry("a.cbm", "challenger", datetime(2025, 11, 1, tzinfo=UTC)),
            entry("a.cbm", "retired", datetime(2025, 11, 20, tzinfo=UTC)),
        ]
    )
    assert ended.segments == []
    assert "every entry had ended" in (ledger_note(ended) or "")
