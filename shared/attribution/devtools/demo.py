"""``make demo``: the whole story on the embedded default, from a clean state folder, on the
calendar of its games (``attribution.devtools.story_clock``).

An old points model (``CatBoostRegressor``, the opponent and position as categorical columns,
a few missing values) and an over/under ``CatBoostClassifier`` are trained with their facts
embedded, uploaded (a corrupt file is refused) and promoted; both systems predict three game
days, two sportsbooks' lines for some players on the classifier's slates; the retrain is
trained and uploaded, and challenges the old model for three more days (both score every
batch, one with bad rows); results are loaded, the two are compared on the same games and
the retrain is promoted with that evidence; every day is verified; then a day written
before the ledger, without stamping, fails verification until the deploy log's history and
the backfill's replay prove which model wrote it; the report says which model produced
which performance; on the last day a feature arriving in seconds is flagged as input
drift against the training profile the model carries, before any result is in; and an HTML
report per system tells the story in pictures.

The story is ``STEPS``, one function a step, in order: a step is added by writing its
function and putting it in the list. Each command is printed as it can be pasted (with the
demo's ``--home``, every argument quoted as a shell needs); logs go to a file in the state
folder and alerts to another (the console channel: the demo alerts nobody), and the last
line says where.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TextIO

from attribution.alerts.console_channel import ConsoleNotifier
from attribution.bootstrap import App, app, build_app, use_app
from attribution.cli.exit_codes import ExitCode
from attribution.cli.main import main as cli
from attribution.config import Settings, load_settings
from attribution.devtools.slates import slate_for, unstamped_prediction
from attribution.devtools.story_clock import StoryClock
from attribution.logs import configure_logging

OLD_MODEL = "catboost_v9_jan_02.cbm"
RETRAIN = "catboost_v9_feb_02_retrain.cbm"
SYSTEM = "catboost_v9"
OVER_UNDER_MODEL = "catboost_ou_v1.cbm"
OVER_UNDER = "catboost_ou"
OLD_DAYS = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)]
NEW_DAYS = [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)]
# The day before the ledger started, written by the worker that stamped nothing.
LEGACY_DAY = date(2026, 1, 29)
LEGACY_WRITTEN_AT = datetime(2026, 1, 29, 17, 38, tzinfo=UTC)
# Players who also get a second sportsbook's line on the over/under system's slates.
EXTRA_LINES = 12
# The day the feature job sends recent minutes in seconds, before any of its results exist.
SECONDS_DAY = date(2026, 2, 6)
SHIFTED_FEATURE = "minutes_avg_last_5"
# A game day's batches run in its morning (10:00 in New York), hours before the games.
BATCH_TIME = time(15, 0, tzinfo=UTC)
DEFAULT_HOME = Path(".attribution/demo")
LOG_FILE = "demo.log"
ALERTS_FILE = "alerts.txt"
REPORTS_FOLDER = "reports"


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Demo:
    home: Path
    clock: StoryClock

    def file(self, name: str) -> Path:
        return self.home / "files" / name

    def run(self, *argv: str | Path, expect: ExitCode = ExitCode.OK) -> None:
        """Print the command as it can be pasted, run it, and stop the story if it does not
        end as the story says it does."""
        command = ["--home", str(self.home), *(str(a) for a in argv)]
        shown = shlex.join(["attribution", *command])
        print(f"$ {shown}", flush=True)
        code = cli(command)
        if code != expect:
            raise SystemExit(f"the demo stopped: `{shown}` exited {code}, not {int(expect)}")

    def report(self, system_id: str) -> Path:
        return self.home / REPORTS_FOLDER / f"{system_id}.html"

    def rows_file(self, name: str, rows: Sequence[dict[str, object]]) -> Path:
        path = self.file(name)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path


@dataclass(frozen=True)
class Step:
    at: datetime  # when on the story's calendar it begins
    title: str
    run: Callable[[Demo], None]


def train_first_models(demo: Demo) -> None:
    print("(each model declares, inside its .cbm file: its system, its training window, when it")
    print(" was trained, and two figures measured on held-out games: its expected MAE and its")
    print(" high-edge hit rate, how often its picks 5 or more points from the line were right)")
    demo.run(
        "train",
        "--out",
        demo.file(OLD_MODEL),
        "--seed",
        "1",
        "--training-start",
        "2025-10-01",
        "--training-end",
        "2025-12-31",
        "--trained-at",
        "2026-01-02T09:00:00Z",
        "--iterations",
        "40",
        "--depth",
        "4",
        "--rows",
        "4000",
    )
    print("(and an over/under CatBoostClassifier for a second system: labels OVER/UNDER, the")
    print(" line one of its features; it predicts the probability that the OVER hits, and its")
    print(" declared hit rate is that of all its picks)")
    demo.run(
        "train",
        "--out",
        demo.file(OVER_UNDER_MODEL),
        "--over-under",
        "--system-id",
        OVER_UNDER,
        "--seed",
        "3",
        "--training-start",
        "2025-10-15",
        "--training-end",
        "2026-01-25",
        "--trained-at",
        "2026-01-27T09:00:00Z",
        "--iterations",
        "150",
    )


def start_the_ledger(demo: Demo) -> None:
    print("(the model-upload function reads each file's card: its facts, taken from the file")
    print(" itself, with how to call the model; every prediction will carry its model's card)")
    demo.run("upload", demo.file(OLD_MODEL))
    demo.run("upload", demo.file(OVER_UNDER_MODEL))
    print("(a corrupt file is refused before it is uploaded: no card, nothing in the bucket)")
    corrupt = demo.file("catboost_v9_corrupt.cbm")
    corrupt.write_bytes(demo.file(OLD_MODEL).read_bytes()[:4096])
    demo.run("upload", corrupt, expect=ExitCode.USAGE)
    demo.clock.advance_to(at(2026, 1, 30, 12))
    print("(the deployment ledger records which model is active for a system, from when)")
    demo.run("promote", SYSTEM, OLD_MODEL, "--at", "2026-01-30T12:00:00Z", "--by", "demo")
    demo.run(
        "promote", OVER_UNDER, OVER_UNDER_MODEL, "--at", "2026-01-30T12:05:00Z", "--by", "demo"
    )


def predict_days(demo: Demo, days: Sequence[date]) -> None:
    """Each day's morning batches: the points system's slate (the last day's with two bad
    rows), then the classifier's, with a second sportsbook's line for some players."""
    for day in days:
        demo.clock.advance_to(datetime.combine(day, BATCH_TIME))
        points = slate_for(day).rows
        if day == NEW_DAYS[-1]:
            points = [
                *points[:-2],
                {**points[-2], "line_value": "n/a"},
                {**points[-1], "opponent": None},
            ]
        two_books = slate_for(day, extra_lines=EXTRA_LINES).rows
        for system, name, rows in (
            (SYSTEM, f"props_{day}.jsonl", points),
            (OVER_UNDER, f"props_{day}_two_books.jsonl", two_books),
        ):
            demo.run(
                "predict",
                "--system-id",
                system,
                "--game-date",
                day.isoformat(),
                "--input",
                demo.rows_file(name, rows),
            )


def old_model_days(demo: Demo) -> None:
    print("(no model is named: each batch takes the one the ledger has active for its system.")
    print(" A points model's edge is its predicted points minus the line: OVER at 1 point or")
    print(" more, UNDER at -1 or less, else no bet, stored as PASS)")
    predict_days(demo, OLD_DAYS)
    verified_after_each_batch(OLD_DAYS)


def verified_after_each_batch(days: Sequence[date]) -> None:
    print("(nobody ran `verify`: each batch announced its end on the batch-completions topic,")
    print(" and the verifier checked that system and day at once; performance waits for the")
    print(" results)")
    print_verifications(days)


def print_verifications(days: Sequence[date]) -> None:
    runs = app().warehouse.query(
        "SELECT system_id, game_date, verdict, finished_at FROM verification_runs "
        "WHERE game_date BETWEEN @first AND @last ORDER BY finished_at",
        {"first": min(days), "last": max(days)},
    )
    for run in runs:
        print(
            f"  {run['system_id']} {run['game_date']}: {run['verdict']}, verified "
            f"{run['finished_at']:%Y-%m-%d %H:%M:%S}Z"
        )


def challenge_with_the_retrain(demo: Demo) -> None:
    demo.run(
        "train",
        "--out",
        demo.file(RETRAIN),
        "--seed",
        "2",
        "--training-start",
        "2025-11-02",
        "--training-end",
        "2026-01-31",
        "--trained-at",
        "2026-02-02T10:15:00Z",
        "--iterations",
        "300",
    )
    demo.clock.advance_to(at(2026, 2, 2, 11))
    demo.run("upload", demo.file(RETRAIN))
    demo.clock.advance_to(at(2026, 2, 2, 12))
    print("(not promoted yet: it challenges the old model. Every batch of the system scores")
    print(" both on the same rows; the old model's rows stay the system's predictions, the")
    print(" retrain's go to challenger_predictions)")
    demo.run(
        "challenge",
        SYSTEM,
        RETRAIN,
        "--at",
        "2026-02-02T12:00:00Z",
        "--by",
        "demo",
        "--note",
        "Feb 2 retrain",
    )
    app().active_models().forget()  # the demo does not wait out the ledger cache's seconds


def challenger_days(demo: Demo) -> None:
    predict_days(demo, NEW_DAYS)


def compare_on_the_same_games(demo: Demo) -> None:
    print("(the retrain against the old model on the predictions both made, now graded: the")
    print(" picks both made, each one's hit rate and MAE there, the difference with its 95%")
    print(" interval, McNemar's exact test on the picks where one was right and the other")
    print(" wrong, and whether that decides it)")
    demo.run("report", "compare", "--system-id", SYSTEM)


def promote_with_evidence(demo: Demo) -> None:
    print("(promoting a challenger records that comparison in the ledger beside the promotion)")
    demo.run(
        "promote",
        SYSTEM,
        RETRAIN,
        "--at",
        "2026-02-05T13:30:00Z",
        "--by",
        "demo",
        "--note",
        "three days beside the old model",
    )
    app().active_models().forget()
    demo.run("deployments", "--system-id", SYSTEM)


def load_results(demo: Demo) -> None:
    days = OLD_DAYS + NEW_DAYS
    results = [r for day in days for r in slate_for(day).results]
    demo.run("results", "--input", demo.rows_file("results.jsonl", results))
    demo.run(
        "predictions", "--from", days[0].isoformat(), "--to", days[-1].isoformat(), "--per-day"
    )


def verify_days(demo: Demo) -> None:
    print("(for each system and day: are its predictions attributed, its batches complete, its")
    print(" models as the registry has them, none used out of turn; and each model's performance")
    print(" over all its games through that day, beside what its card declared. An alert goes")
    print(" out when a system's verdict changes)")
    days = OLD_DAYS + NEW_DAYS
    demo.run("verify", "--from", days[0].isoformat(), "--to", days[-1].isoformat())


def write_unattributed_day(day: date, model_file: Path, created_at: datetime) -> None:
    """What a worker without stamping wrote: real predictions, no model columns, no execution
    log. Its input was kept, so replay can prove which model it was."""
    import pandas as pd
    from catboost import CatBoostRegressor

    slate = slate_for(day)
    batch_id = f"legacy-worker-{day}"
    lines = "".join(json.dumps(r) + "\n" for r in slate.rows)
    app().models.write(f"batches/{batch_id}/input.jsonl", lines.encode())
    model = CatBoostRegressor()
    model.load_model(str(model_file))
    frame = pd.DataFrame(slate.rows)[model.feature_names_]
    predicted = [float(p) for p in model.predict(frame)]
    rows = [
        unstamped_prediction(
            row,
            points,
            prediction_id=f"legacy-{day}-{row['player_lookup']}",
            batch_id=batch_id,
            system_id=SYSTEM,
            created_at=created_at,
        )
        for row, points in zip(slate.rows, predicted, strict=True)
    ]
    app().warehouse.insert_rows("player_prop_predictions", rows)
    print(f"(on {created_at:%Y-%m-%d at %H:%M}Z a worker that stamps nothing wrote {len(rows)}")
    print(f" predictions for {day}: no model named on them, no batch logged)")


def unattributed_day(demo: Demo) -> None:
    write_unattributed_day(LEGACY_DAY, demo.file(OLD_MODEL), LEGACY_WRITTEN_AT)
    legacy_results = slate_for(LEGACY_DAY).results
    demo.run("results", "--input", demo.rows_file("results_legacy.jsonl", legacy_results))
    demo.run("verify", "--game-date", LEGACY_DAY.isoformat(), expect=ExitCode.FAILED)
    print("(verify's exit code was 1, FAIL; 0 is PASS, 3 PARTIAL, 4 UNKNOWN)")


def prove_the_history(demo: Demo) -> None:
    history = demo.file("deploy_history.csv")
    history.write_text(
        "system_id,model_file_name,active_from,by,note\n"
        f"{SYSTEM},{OLD_MODEL},2026-01-09T15:00:00Z,deploy-log,deployed before the ledger\n"
    )
    print("(the deploy log says since when the old model ran; the ledger takes that history)")
    demo.run("ledger", "import", history)
    demo.run("deployments")
    print("(the backfill infers each row's model from the ledger, then proves it by running")
    print(" the candidate models again on the kept input: replay_verified)")
    demo.run("backfill", "--system-id", SYSTEM, "--dry-run")
    demo.run("backfill", "--system-id", SYSTEM, "--replay")
    demo.run("verify", "--game-date", LEGACY_DAY.isoformat())
    print("(verify's exit code was 0, PASS)")


def report_models(demo: Demo) -> None:
    print("(each model over all its games, first_game to last_game. A points model's card")
    print(" declares a high-edge hit rate (expected_hit_rate): compare it with")
    print(" high_edge_hit_rate; hit_rate counts every pick)")
    demo.run("report", "models", "--system-id", SYSTEM)
    print("\n(the over/under classifier's card declares the hit rate of every pick: compare")
    print(" expected_hit_rate with hit_rate; Brier score and log loss, no MAE)")
    demo.run("report", "models", "--system-id", OVER_UNDER)


def minutes_in_seconds(demo: Demo) -> None:
    print("(every model `attribution train` makes carries a profile of its training rows: each")
    print(" feature's decile bins and shares, its categories, its own predictions. Today the")
    print(f" feature job sends {SHIFTED_FEATURE} in seconds; no result exists yet)")
    demo.clock.advance_to(datetime.combine(SECONDS_DAY, BATCH_TIME))
    rows = [
        {**row, SHIFTED_FEATURE: row[SHIFTED_FEATURE] * 60}
        if isinstance(row.get(SHIFTED_FEATURE), float)
        else row
        for row in slate_for(SECONDS_DAY).rows
    ]
    demo.run(
        "predict",
        "--system-id",
        SYSTEM,
        "--game-date",
        SECONDS_DAY.isoformat(),
        "--input",
        demo.rows_file(f"props_{SECONDS_DAY}_seconds.jsonl", rows),
    )
    print("(the post-run verifier held the batch's counts against the champion's profile at")
    print(" once: its drift check names the feature with its PSI, and the alert (in")
    print(f" {ALERTS_FILE}) says so)")
    print_verifications([SECONDS_DAY])
    demo.run("report", "drift", "--system-id", SYSTEM, "--game-date", SECONDS_DAY.isoformat())


def the_story_in_pictures(demo: Demo) -> None:
    print("(one self-contained page per system, which opens offline in a browser: which model")
    print(" was live in which role, each one's hit rate per day against its card with its 95%")
    print(" band, MAE, coverage by attribution method, rejected rows, RED days and verdicts)")
    for system in (SYSTEM, OVER_UNDER):
        demo.run("report", "html", "--system-id", system, "--out", demo.report(system))
    print("(the verifier also wrote one at each run, linked from its alert, in the bucket:")
    print(f" {demo.home / 'buckets' / 'models' / 'reports'})")


STEPS: tuple[Step, ...] = (
    Step(
        at(2026, 1, 2, 9),
        "Jan 2 and Jan 27: train two models, their facts inside the .cbm files",
        train_first_models,
    ),
    Step(
        at(2026, 1, 30, 11),
        "Jan 30: upload both, refuse a corrupt file, start the ledger",
        start_the_ledger,
    ),
    Step(
        datetime.combine(OLD_DAYS[0], BATCH_TIME),
        "Jan 30 to Feb 1: each morning, both systems' batches",
        old_model_days,
    ),
    Step(
        at(2026, 2, 2, 10, 15),
        "Feb 2: train and upload the retrain; it challenges the old model (no redeploy)",
        challenge_with_the_retrain,
    ),
    Step(
        datetime.combine(NEW_DAYS[0], BATCH_TIME),
        "Feb 2 to Feb 4: the batches, catboost_v9's scored by both models",
        challenger_days,
    ),
    Step(
        at(2026, 2, 5, 13),
        "Feb 5: the results; per day, the model behind the predictions",
        load_results,
    ),
    Step(
        at(2026, 2, 5, 13, 15),
        "Feb 5: the retrain against the old model, on the same games",
        compare_on_the_same_games,
    ),
    Step(
        at(2026, 2, 5, 13, 30),
        "Feb 5: promote the retrain, with its evidence",
        promote_with_evidence,
    ),
    Step(
        at(2026, 2, 5, 14),
        "Feb 5: verify every game date",
        verify_days,
    ),
    Step(
        at(2026, 2, 5, 15),
        "A day before the ledger, Jan 29, written without stamping: FAIL",
        unattributed_day,
    ),
    Step(
        at(2026, 2, 5, 15, 30),
        "The deploy log's history, then the backfill: inferred, then proven",
        prove_the_history,
    ),
    Step(
        at(2026, 2, 5, 16),
        "Which model produced which performance?",
        report_models,
    ),
    Step(
        datetime.combine(SECONDS_DAY, BATCH_TIME),
        "Feb 6: minutes arrive in seconds; input drift is flagged before any result",
        minutes_in_seconds,
    ),
    Step(
        datetime.combine(SECONDS_DAY, time(16, tzinfo=UTC)),
        "The story in pictures: an HTML report per system",
        the_story_in_pictures,
    ),
)


def heading(number: int, title: str) -> None:
    text = f"{number}. {title}"
    print(f"\n=== {text} " + "=" * max(0, 72 - len(text)), flush=True)


def demo_app(home: Path, log: TextIO, alerts: TextIO) -> App:
    """One App for the whole story (the CLI and the functions share it), its logs written to
    ``log`` and its alerts to ``alerts``."""
    settings = load_settings(
        {**os.environ, "ATTRIBUTION_HOME": str(home), "ALERT_NOTIFIER": "console"}
    )
    configure_logging(settings.log_level, settings.log_format, stream=log)  # build_app keeps it
    return replace(build_app(settings), notifier=ConsoleNotifier(alerts))


def stop_logging_into(log: TextIO) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and handler.stream is log:
            root.removeHandler(handler)


def main() -> int:
    home = Path(os.environ.get("ATTRIBUTION_DEMO_HOME") or DEFAULT_HOME)
    shutil.rmtree(home, ignore_errors=True)
    (home / "files").mkdir(parents=True)
    (home / REPORTS_FOLDER).mkdir()
    clock = StoryClock(STEPS[0].at)
    with (
        (home / LOG_FILE).open("w", encoding="utf-8") as log,
        (home / ALERTS_FILE).open("w", encoding="utf-8") as alerts,
        clock.installed(),
    ):
        use_app(demo_app(home, log, alerts))
        try:
            demo = Demo(home, clock)
            for number, step in enumerate(STEPS, 1):
                clock.advance_to(step.at)
                heading(number, step.title)
                step.run(demo)
        finally:
            use_app(None)
            stop_logging_into(log)
    print(
        f"\nState kept in {home} (DuckDB: {home / 'warehouse.duckdb'}); logs in "
        f"{home / LOG_FILE}, the alerts the console channel sent in {home / ALERTS_FILE}, "
        f"and the runs' OpenLineage events in {Settings(home=home).lineage_file}"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
