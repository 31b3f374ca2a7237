"""``make demo`` as a person runs it: ``python -m attribution.devtools.demo`` in a terminal
(stderr on a pseudo-terminal, stdout read as printed), once for the module, then its output
and the state it leaves read as a newcomer and as the CLI would.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from browser import open_offline
from lineage_schemas import check_event, read_events
from terminal_support import run_on_a_terminal

from attribution.adapters.embedded.local_bucket import LocalBucket
from attribution.bootstrap import App, build_app
from attribution.cli.main import build_parser
from attribution.clock import now_utc
from attribution.config import Settings
from attribution.devtools.demo import (
    ALERTS_FILE,
    LEGACY_DAY,
    LOG_FILE,
    NEW_DAYS,
    OLD_MODEL,
    OVER_UNDER,
    OVER_UNDER_MODEL,
    REPORTS_FOLDER,
    RETRAIN,
    SYSTEM,
)
from attribution.devtools.story_clock import StoryClock
from attribution.verification.report import model_report

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A log line as the text formatter writes it on a terminal, or as the JSON one writes it.
LOG_LINE = re.compile(r"^\d{2}:\d{2}:\d{2} (DEBUG|INFO|WARNING|ERROR|CRITICAL) |\"severity\": ")
VERDICT = re.compile(r"^(\S+) (\d{4}-\d{2}-\d{2}): (PASS|FAIL|PARTIAL|UNKNOWN) \(previous: ")
POST_RUN = re.compile(r"^  (\S+) (\d{4}-\d{2}-\d{2}): (PASS|FAIL|PARTIAL|UNKNOWN), verified ")


@dataclass(frozen=True)
class DemoRun:
    home: Path
    code: int
    out: str  # stdout, as printed
    screen: str  # what the terminal (stderr) was sent, escape sequences removed

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.out.splitlines() if line.startswith("$ ")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    home = tmp_path_factory.mktemp("demo") / "home"
    code, out, screen = run_on_a_terminal(
        [sys.executable, "-m", "attribution.devtools.demo"],
        {**os.environ, "ATTRIBUTION_DEMO_HOME": str(home), "TERM": "xterm"},
        timeout=240,
    )
    return DemoRun(home, code, out, ANSI.sub("", screen))


@pytest.fixture(scope="module")
def state(demo: DemoRun) -> Iterator[App]:
    """The state the demo left, as the CLI opens it."""
    assert demo.code == 0, demo.screen
    instance = build_app(Settings(home=demo.home))
    yield instance
    close = getattr(instance.warehouse, "close", None)
    if close is not None:
        close()


def test_every_printed_command_parses_with_the_cli_and_names_the_demo_home(
    demo: DemoRun,
) -> None:
    assert demo.code == 0, demo.screen
    assert len(demo.commands) > 30
    parser = build_parser()
    for command in demo.commands:
        argv = shlex.split(command)
        assert argv[0] == "attribution", command
        try:
            args = parser.parse_args(argv[1:])
            flags = getattr(args, "date_flags", None)
            if flags is not None:
                flags.resolve(args)
        except SystemExit as exc:
            pytest.fail(f"`{command}` does not parse (exit {exc.code})")
        assert args.home == demo.home, command
        for name in ("input", "file"):
            path = getattr(args, name, None)
            if isinstance(path, Path):
                assert path.is_file(), f"`{command}` names {path}, which the demo did not leave"
    notes = [c for c in demo.commands if "--note" in c]
    assert notes and all(shlex.split(c)[shlex.split(c).index("--note") + 1] for c in notes)
    assert any("'Feb 2 retrain'" in c for c in notes)


def test_no_log_line_reaches_the_terminal_and_the_log_file_is_named_once(
    demo: DemoRun,
) -> None:
    output = demo.out + demo.screen
    assert not [line for line in output.splitlines() if LOG_LINE.search(line)]
    assert "ALERT" not in output
    log = demo.home / LOG_FILE
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records and all("severity" in r and "message" in r for r in records)
    assert any(r["message"].startswith("Attribution FAIL") for r in records)
    assert "[x] ALERT Attribution FAIL" in (demo.home / ALERTS_FILE).read_text()
    assert output.count(str(log)) == 1
    assert output.count(str(demo.home / ALERTS_FILE)) == 1
    assert demo.out.rstrip().splitlines()[-1].startswith(f"State kept in {demo.home}")


def test_the_corrupt_upload_is_refused_in_one_line(demo: DemoRun) -> None:
    output = demo.out + demo.screen
    refusals = [line for line in output.splitlines() if "catboost_v9_corrupt.cbm was not" in line]
    assert len(refusals) == 1, refusals
    assert refusals[0].startswith("error: ")
    assert output.count("corrupt_model") == 1


def test_the_ledger_and_the_training_times_are_in_the_order_of_the_story(
    demo: DemoRun, state: App
) -> None:
    deployments = sorted(state.ledger.list(), key=lambda d: d["active_from"])
    assert [(d["system_id"], d["model_file_name"], d["role"]) for d in deployments] == [
        (SYSTEM, OLD_MODEL, "champion"),  # from the deploy log, before the ledger existed
        (SYSTEM, OLD_MODEL, "champion"),  # the ledger's first promotion
        (OVER_UNDER, OVER_UNDER_MODEL, "champion"),
        (SYSTEM, RETRAIN, "challenger"),
        (SYSTEM, RETRAIN, "champion"),  # promoted with the comparison as its evidence
    ]
    assert [d["evidence"] is not None for d in deployments] == [False] * 4 + [True]
    assert len({d["active_from"] for d in deployments}) == len(deployments)
    first_game = {r["model_file_name"]: r["first_game"] for r in model_report(state.warehouse)}
    first_batch = {
        row["model_file_name"]: row
        for row in state.warehouse.query(
            "SELECT model_file_name, MIN(started_at) AS started_at, MIN(game_date) AS game_date "
            "FROM prediction_execution_log GROUP BY model_file_name UNION ALL "
            "SELECT model_file_name, MIN(created_at), MIN(game_date) "
            "FROM challenger_predictions GROUP BY model_file_name"
        )
    }
    for name in (OLD_MODEL, OVER_UNDER_MODEL, RETRAIN):
        card = state.registry.resolve(name)
        assert card.trained_at is not None and card.uploaded_at is not None
        promoted = [d["active_from"] for d in deployments if d["model_file_name"] == name]
        assert card.trained_at < min(promoted), name
        assert card.trained_at < card.uploaded_at, name
        # Its first batch ran after its promotion (or challenge), on the day of its games.
        assert min(promoted) <= first_batch[name]["started_at"], name
        assert first_batch[name]["started_at"].date() == first_batch[name]["game_date"], name
        # The first of its games (the report counts the backfilled day) starts that evening.
        tip_off = datetime.combine(first_game[name], time(23, 0), tzinfo=UTC)
        assert card.trained_at < tip_off, name
    old, retrain = (state.registry.resolve(n).trained_at for n in (OLD_MODEL, RETRAIN))
    assert old is not None and retrain is not None and old < retrain


def test_every_game_date_passes_and_the_day_before_the_ledger_fails_until_proven(
    demo: DemoRun,
) -> None:
    verdicts = [m.groups() for m in map(VERDICT.match, demo.out.splitlines()) if m]
    stamped = verdicts[:-2]
    assert len(stamped) == 12
    assert {verdict for _, _, verdict in stamped} == {"PASS"}
    assert verdicts[-2:] == [(SYSTEM, "2026-01-29", "FAIL"), (SYSTEM, "2026-01-29", "PASS")]


def test_the_first_days_are_verified_as_their_batches_finish_before_anyone_asks(
    demo: DemoRun, state: App
) -> None:
    lines = demo.out.splitlines()
    first_verify = next(
        i for i, line in enumerate(lines) if line.startswith("$ ") and " verify " in line
    )
    post_run = [m.groups() for m in map(POST_RUN.match, lines[:first_verify]) if m]
    days = ("2026-01-30", "2026-01-31", "2026-02-01")
    assert sorted(post_run) == sorted(
        (system, day, "PASS") for system in (SYSTEM, "catboost_ou") for day in days
    )
    triggers = state.warehouse.query("SELECT system_id, game_date FROM verification_triggers")
    assert {(t["system_id"], str(t["game_date"])) for t in triggers} >= {
        (system, day) for system, day, _ in post_run
    }  # each verified from its batch's completion


def test_every_performance_figure_says_its_window_and_what_it_is_compared_with(
    demo: DemoRun,
) -> None:
    figures = [line.strip() for line in demo.out.splitlines() if "hit rate" in line]
    graded = [line for line in figures if "picks (95% interval" in line]
    assert len(graded) == 13  # six days for each system, and the day before the ledger
    for line in graded:
        assert re.search(r", its games through \d{4}-\d{2}-\d{2}: ", line), line
        if "high-edge hit rate" in line:
            assert re.search(
                r"high-edge hit rate [\d.]+% on \d+ picks \([^)]*\) "
                r"\(card's high-edge hit rate [\d.]+%\)",
                line,
            ), line
        else:
            assert re.search(r"hit rate of its picks [\d.]+% .*\(card's [\d.]+%\)", line), line
    assert not re.search(r"\bHR\b", demo.out)


def test_the_output_uses_no_word_a_newcomer_cannot_know(demo: DemoRun) -> None:
    output = demo.out + demo.screen
    for word in ("the seed", "seed's", "V9", "Session 8", "Priority 3", "claim check", "HOME"):
        assert word not in output, word


def test_pass_is_a_verdict_and_a_pick_without_edge_reads_no_bet(demo: DemoRun) -> None:
    as_recommendation = ("no bet (PASS)", "no bet, stored as PASS")
    for line in demo.out.splitlines():
        rest = line
        for phrase in as_recommendation:
            rest = rest.replace(phrase, "")
        if "PASS" in rest:
            assert (
                VERDICT.match(line)
                or POST_RUN.match(line)
                or line.startswith("(verify's exit code was")
            ), line
    assert "no bet (PASS) on " in demo.out


# --- the story's clock ---------------------------------------------------------------------


def test_the_story_clock_is_the_library_s_and_the_bucket_s_while_installed(tmp_path: Path) -> None:
    story = StoryClock(datetime(2026, 1, 30, 15, 0, tzinfo=UTC))
    with story.installed():
        recorded = now_utc()
        stored = LocalBucket(tmp_path, "models").write("models/m.cbm", b"bytes")
        story.advance_to(datetime(2026, 2, 2, 12, 0, tzinfo=UTC))
        later = now_utc()
    assert datetime(2026, 1, 30, 15, 0, tzinfo=UTC) <= recorded < later
    assert stored.time_created is not None and stored.time_created.date() == date(2026, 1, 30)
    assert later - datetime(2026, 2, 2, 12, 0, tzinfo=UTC) < timedelta(minutes=1)
    assert abs(now_utc() - datetime.now(UTC)) < timedelta(seconds=5)  # the machine's again


def test_the_story_clock_runs_on_and_never_goes_back() -> None:
    start = datetime(2026, 1, 30, 15, 0, tzinfo=UTC)
    story = StoryClock(start)
    first = story.now()
    story.advance_to(start)  # already past it: the clock goes on from where it is
    assert first <= story.now()
    with pytest.raises(ValueError, match="the story goes forward"):
        story.advance_to(datetime(2026, 1, 29, tzinfo=UTC))


def test_the_retrain_challenges_for_three_days_is_compared_then_promoted_with_evidence(
    demo: DemoRun, state: App
) -> None:
    per_day = state.warehouse.query(
        "SELECT game_date, model_role, model_file_name, COUNT(*) AS n FROM prediction_accuracy "
        "WHERE system_id = @system AND game_date BETWEEN @first AND @last "
        "GROUP BY game_date, model_role, model_file_name ORDER BY game_date, model_role",
        {"system": SYSTEM, "first": NEW_DAYS[0], "last": NEW_DAYS[-1]},
    )
    for day in NEW_DAYS:
        rows = [
            (r["model_role"], r["model_file_name"], r["n"])
            for r in per_day
            if r["game_date"] == day
        ]
        assert [(role, name) for role, name, _ in rows] == [
            ("challenger", RETRAIN),
            ("champion", OLD_MODEL),
        ], day
        assert rows[0][2] == rows[1][2]  # the same checked rows, scored by both
    compared = demo.out.split("report compare", 1)[1].split("\n=== ", 1)[0]
    assert f"{RETRAIN} (challenger) vs {OLD_MODEL} (champion)" in compared
    assert "paired picks" in compared and "McNemar p=" in compared
    evidence = [line for line in demo.out.splitlines() if line.startswith("  evidence: ")]
    assert len(evidence) == 1 and "paired" not in evidence[0] and " picks, " in evidence[0]


def test_the_demo_leaves_openlineage_events_from_model_and_input_to_predictions(
    demo: DemoRun, state: App
) -> None:
    """Every event valid against the OpenLineage schemas; a finished batch of the old model
    connects its model file and its kept input to the predictions table, with its rows."""
    events = read_events(state.settings.lineage_file)
    assert str(state.settings.lineage_file) in demo.out
    for event in events:
        check_event(event)
    jobs = {e["job"]["name"].split(".")[0] for e in events}
    assert {"model_card_publication", "prediction_batch", "backfill"} <= jobs
    card = state.registry.resolve(OLD_MODEL)
    batches = [
        e
        for e in events
        if e["eventType"] == "COMPLETE"
        and e["job"]["name"] == f"prediction_batch.{SYSTEM}"
        and e["inputs"][0]["facets"]["version"]["datasetVersion"] == card.model_sha256
    ]
    assert batches
    batch = batches[0]
    model, *_, kept = batch["inputs"]
    assert f"{model['namespace']}/{model['name']}" == card.model_uri
    bucket = LocalBucket(state.settings.bucket_root, kept["namespace"].removeprefix("gs://"))
    assert bucket.stat(kept["name"]) is not None  # the kept input is a real object
    batch_id = kept["name"].split("/")[-2]
    (predictions,) = [o for o in batch["outputs"] if o["name"].endswith(".player_prop_predictions")]
    (written,) = state.warehouse.query(
        "SELECT COUNT(*) AS n FROM player_prop_predictions WHERE batch_id = @b", {"b": batch_id}
    )
    assert predictions["outputFacets"]["outputStatistics"]["rowCount"] == written["n"]


def test_the_html_report_tells_the_story_in_pictures(demo: DemoRun, tmp_path: Path) -> None:
    assert demo.code == 0, demo.screen
    for system in (SYSTEM, OVER_UNDER):
        assert f"written to {demo.home / REPORTS_FOLDER / f'{system}.html'}" in demo.out
    opened = open_offline(demo.home / REPORTS_FOLDER / f"{SYSTEM}.html", tmp_path / "v9.png")
    assert opened.console_errors == [] and opened.refused_requests == []
    assert opened.charts and all(c["rendered"] == "true" and c["svg"] for c in opened.charts)
    data = opened.data
    models = {(m["model_file_name"], m["model_role"]) for m in data["models"]}
    assert {(OLD_MODEL, "champion"), (RETRAIN, "challenger"), (RETRAIN, "champion")} <= models
    assert {"day": "2026-02-05", "model_file_name": RETRAIN} in data["promotions"]
    legacy = next(d for d in data["days"] if d["game_date"] == LEGACY_DAY.isoformat())
    assert legacy["replay_verified"] == legacy["predictions"] > 0  # the backfill proved it
    legacy_verdicts = [v["verdict"] for v in data["verdicts"] if v["game_date"] == str(LEGACY_DAY)]
    assert legacy_verdicts == ["FAIL", "PASS"]
    published = demo.home / "buckets" / "models" / "reports" / SYSTEM / f"{LEGACY_DAY}.html"
    assert published.is_file()  # the verifier's own, linked from its alert
    assert str(published) in (demo.home / ALERTS_FILE).read_text()
