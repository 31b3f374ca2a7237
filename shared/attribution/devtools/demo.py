"""``make demo``: the whole story on the embedded default, from a clean state folder.

Two models (the seed's old V9 and its Feb 2 retrain) are trained the way teams train them
(``CatBoostRegressor`` on a DataFrame with the opponent and position as categorical
columns and a few missing values) with their facts embedded, uploaded, and their cards
printed; a corrupt upload is refused; the old model is promoted and predicts a few game
dates, the retrain is promoted and predicts more; an over/under ``CatBoostClassifier``
system runs beside them on the same slates, two sportsbooks' lines for some players;
results are loaded; per-day counts show which model produced which predictions.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from attribution.bootstrap import app, use_app
from attribution.cli.main import main as cli
from attribution.devtools.slates import slate_for

OLD_MODEL = "catboost_v9_2026_02.cbm"
RETRAIN = "catboost_v9_feb_02_retrain.cbm"
SYSTEM = "catboost_v9"
OVER_UNDER_MODEL = "catboost_ou_v1.cbm"
OVER_UNDER = "catboost_ou"
OLD_DAYS = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)]
# Players who also get a second sportsbook's line on the over/under system's slates.
EXTRA_LINES = 12
NEW_DAYS = [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)]


def step(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 72 - len(title)), flush=True)


def run(*argv: str) -> int:
    print(f"$ attribution {' '.join(argv)}", flush=True)
    code = cli(list(argv))
    sys.stdout.flush()
    return code


def write_jsonl(path: Path, rows: Sequence[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_unattributed_day(day: date, model_file: Path, created_at: datetime) -> None:
    """What the seed's worker did before its attribution deploy: real predictions, no model
    columns, no execution log. Its input was kept, so replay can prove which model it was."""
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
    rows = []
    for row, points in zip(slate.rows, predicted, strict=True):
        edge = points - float(row["line_value"])
        rows.append(
            {
                "prediction_id": f"legacy-{day}-{row['player_lookup']}",
                "batch_id": batch_id,
                "system_id": SYSTEM,
                "game_date": day,
                "player_lookup": row["player_lookup"],
                "line_value": row["line_value"],
                "predicted_points": points,
                "edge": edge,
                "recommendation": "PASS" if abs(edge) < 1 else ("OVER" if edge > 0 else "UNDER"),
                "run_mode": "OVERNIGHT",
                "created_at": created_at,
            }
        )
    app().warehouse.insert_rows("player_prop_predictions", rows)
    print(f"(a worker without stamping wrote {len(rows)} predictions for {day} at {created_at})")


def main() -> int:
    home = Path(os.environ.get("ATTRIBUTION_DEMO_HOME", ".attribution/demo"))
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["ATTRIBUTION_HOME"] = str(home)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    work = home / "files"
    work.mkdir()
    use_app(None)
    app()  # one App for the whole story: the CLI and the functions share it

    step("1. Train two models; the facts travel inside the .cbm files")
    print("(expected MAE and high-edge hit rate are measured on a holdout and declared)")
    run(
        "train",
        "--out",
        str(work / OLD_MODEL),
        "--seed",
        "1",
        "--training-start",
        "2025-10-01",
        "--training-end",
        "2025-12-31",
        "--iterations",
        "40",
        "--depth",
        "4",
        "--rows",
        "4000",
    )
    run(
        "train",
        "--out",
        str(work / RETRAIN),
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

    print("(and an over/under CatBoostClassifier for a second system: labels OVER/UNDER,")
    print(" the line one of its features; it predicts the probability that the OVER hits)")
    run(
        "train",
        "--out",
        str(work / OVER_UNDER_MODEL),
        "--over-under",
        "--system-id",
        OVER_UNDER,
        "--seed",
        "3",
        "--training-start",
        "2025-10-15",
        "--training-end",
        "2026-01-25",
        "--iterations",
        "150",
    )

    step("2. Upload them: the model_upload function extracts and publishes each card")
    print("(each card says how to call its model: features and their types, nan_mode, and")
    print(" what it predicts: points, or the OVER's probability)")
    run("upload", str(work / OLD_MODEL))
    run("upload", str(work / RETRAIN))
    run("upload", str(work / OVER_UNDER_MODEL))

    step("3. Upload a corrupt file: a clear error, and the registry stays consistent")
    corrupt = work / "catboost_v9_corrupt.cbm"
    corrupt.write_bytes((work / RETRAIN).read_bytes()[:4096])
    run("upload", str(corrupt))
    run("cards")

    step("4. Promote the old model and predict three game dates")
    first_day = datetime.now(UTC) - timedelta(hours=2)
    run("promote", SYSTEM, OLD_MODEL, "--by", "demo", "--at", first_day.isoformat())
    for day in OLD_DAYS:
        slate = slate_for(day)
        run(
            "predict",
            "--system-id",
            SYSTEM,
            "--game-date",
            day.isoformat(),
            "--input",
            str(write_jsonl(work / f"props_{day}.jsonl", slate.rows)),
        )

    step("5. Promote the retrain (no redeploy) and predict three more")
    run("promote", SYSTEM, RETRAIN, "--by", "demo", "--note", "Feb 2 retrain")
    app().active_models().forget()  # the demo does not wait out the TTL
    for day in NEW_DAYS:
        slate = slate_for(day)
        rows = slate.rows
        if day == NEW_DAYS[-1]:
            rows = [*rows[:-2], {**rows[-2], "line_value": "n/a"}, {**rows[-1], "opponent": None}]
        run(
            "predict",
            "--system-id",
            SYSTEM,
            "--game-date",
            day.isoformat(),
            "--input",
            str(write_jsonl(work / f"props_{day}.jsonl", rows)),
        )
    run("deployments")

    step("5b. The over/under classifier on the same days, two books' lines for some players")
    run("promote", OVER_UNDER, OVER_UNDER_MODEL, "--by", "demo", "--at", first_day.isoformat())
    for day in OLD_DAYS + NEW_DAYS:
        slate = slate_for(day, extra_lines=EXTRA_LINES)
        run(
            "predict",
            "--system-id",
            OVER_UNDER,
            "--game-date",
            day.isoformat(),
            "--input",
            str(write_jsonl(work / f"props_{day}_two_books.jsonl", slate.rows)),
        )

    step("6. Load results, then per-day counts with the model that produced them")
    all_results = [r for day in OLD_DAYS + NEW_DAYS for r in slate_for(day).results]
    run("results", "--input", str(write_jsonl(work / "results.jsonl", all_results)))
    run(
        "predictions",
        "--game-date",
        OLD_DAYS[0].isoformat(),
        "--to",
        NEW_DAYS[-1].isoformat(),
        "--per-day",
    )

    step("7. Verify every game date: attribution, completeness, registry, performance")
    for day in OLD_DAYS + NEW_DAYS:
        run("verify", "--game-date", day.isoformat())

    step("8. The seed's gap: a worker without stamping writes a day; verify FAILs and alerts")
    legacy_day = NEW_DAYS[-1] + timedelta(days=1)
    write_unattributed_day(legacy_day, work / RETRAIN, datetime(2026, 2, 5, 21, 38, tzinfo=UTC))
    all_results = slate_for(legacy_day).results
    run("results", "--input", str(write_jsonl(work / "results_legacy.jsonl", all_results)))
    code = run("verify", "--game-date", legacy_day.isoformat())
    print(f"(exit code {code}: 0 PASS, 1 FAIL, 3 PARTIAL, 4 UNKNOWN)")

    step("9. History from the deploy logs, then backfill: inferred, then proven by replay")
    history = work / "deploy_history.csv"
    history.write_text(
        "system_id,model_file_name,active_from,by,note\n"
        f"{SYSTEM},{OLD_MODEL},2026-01-09T15:00:00Z,deploy-log,Session 80 deploy\n"
        f"{SYSTEM},{RETRAIN},2026-02-02T22:00:00Z,deploy-log,Session 82 deploy\n"
    )
    run("ledger", "import", str(history))
    run("ledger", "import", str(history))
    run("backfill", "--system-id", SYSTEM, "--dry-run")
    run("backfill", "--system-id", SYSTEM, "--replay")
    run("backfill", "--system-id", SYSTEM, "--replay")
    code = run("verify", "--game-date", legacy_day.isoformat())
    print(f"(exit code {code})")

    step("10. Which model produced which performance? (the seed's Priority 3 question)")
    run("report", "models", "--system-id", SYSTEM)
    print("\n(the over/under system: hit rate of its picks, Brier score and log loss; no MAE)")
    run("report", "models", "--system-id", OVER_UNDER)
    print(f"\nState kept in {home} (DuckDB: {home / 'warehouse.duckdb'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
