"""Staged functions: what each carries, and how fast a fresh instance is ready.

Each function is staged as ``make stage`` does (``attribution.devtools.staging.stage``).

- **Size**: the installed size of its pinned requirements and everything they require
  (the files each distribution installed in this venv), as Cloud Functions would install
  them from ``requirements.txt``.
- **Cold start**: a fresh Python process on the Google Cloud backend (``ATTRIBUTION_BACKEND
  =gcp``, the clients pointed at local emulator addresses), timed from its spawn until the
  first request could begin its own work: the staged ``main.py`` imported, ``app()`` built
  (warehouse, publisher, notifier) and the use case the request calls built with every
  client it holds. Against a floor: a fresh process that imports functions-framework and the
  Google clients that function uses (and CatBoost where its work needs it: prediction_batch
  predicts, model_upload loads every uploaded model to read its card), nothing else. Both
  are timed the same way, interleaved, round by round.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from attribution.devtools.import_graph import normalize
from attribution.devtools.staging import StagedFunction, stage
from bench import Options, Outcome
from bench.section import machine_row, run_row, verdict, versions_row

NAME = "cold_start"
TITLE = "Staged functions: size and cold start"
TARGET_RATIO = 1.5
ROUNDS = 7
MIB = 1024 * 1024

# What the first request of each function calls on the App (its main.py does the same).
USE_CASE = {
    "model_upload": "card_publisher()",
    "prediction_batch": "batch_predictor()",
    "verifier": "verifier()",
}
GOOGLE_CLIENTS = ["google.cloud.bigquery", "google.cloud.storage", "google.cloud.pubsub_v1"]
FLOOR_IMPORTS = {
    "model_upload": ["functions_framework", *GOOGLE_CLIENTS, "catboost"],
    "prediction_batch": ["functions_framework", *GOOGLE_CLIENTS, "catboost"],
    "verifier": ["functions_framework", *GOOGLE_CLIENTS],
}
SUBJECT = """
import main
from attribution.bootstrap import app
import attribution
instance = app()
instance.{use_case}
print("ready", attribution.__file__, flush=True)
"""
FLOOR = """
{imports}
print("ready", flush=True)
"""
# The Google Cloud backend against local emulator addresses: building the clients makes no
# call (they connect on first use), so nothing needs to listen there.
GOOGLE_CLOUD = {
    "ATTRIBUTION_BACKEND": "gcp",
    "GCP_PROJECT": "bench-project",
    "BQ_DATASET": "nba_predictions",
    "MODELS_BUCKET": "bench-models",
    "BIGQUERY_EMULATOR_HOST": "127.0.0.1:9050",
    "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9023",
    "PUBSUB_EMULATOR_HOST": "127.0.0.1:8085",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class FunctionFigures:
    name: str
    size_bytes: int
    largest: list[tuple[str, int]]
    distributions: int
    subject: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.subject) / statistics.median(self.floor)

    @property
    def passed(self) -> bool:
        return self.ratio <= TARGET_RATIO


def _installed_bytes(name: str) -> int:
    dist = metadata.distribution(name)
    total = 0
    for file in dist.files or ():
        path = Path(str(dist.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def requirement_closure(pinned: list[str]) -> dict[str, int]:
    """Every distribution the pins install (their requirements followed, extras and
    environment markers as pip would evaluate them here), with its installed size."""
    sizes: dict[str, int] = {}
    queue = list(pinned)
    while queue:
        name = normalize(queue.pop())
        if name in sizes:
            continue
        sizes[name] = _installed_bytes(name)
        for raw in metadata.requires(name) or ():
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append(requirement.name)
    return sizes


def pinned_requirements(folder: Path) -> list[str]:
    lines = (folder / "requirements.txt").read_text().splitlines()
    return [line.partition("==")[0] for line in lines if line and not line.startswith("#")]


def _environment(home: Path, folder: Path | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONNOUSERSITE": "1",
        **GOOGLE_CLOUD,
    }
    if folder is not None:
        env["PYTHONPATH"] = str(folder)
    return env


def time_to_ready(code: str, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Seconds from spawning a fresh interpreter until it prints ``ready``; and that line."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    _, errors = process.communicate(timeout=120)
    if not line.startswith("ready"):
        raise RuntimeError(f"the process did not get ready: {errors[-2000:]}")
    return elapsed, line.strip()


def measure_function(item: StagedFunction, home: Path, rounds: int) -> FunctionFigures:
    sizes = requirement_closure(pinned_requirements(item.folder))
    figures = FunctionFigures(
        name=item.spec.name,
        size_bytes=sum(sizes.values()),
        largest=sorted(sizes.items(), key=lambda kv: -kv[1])[:4],
        distributions=len(sizes),
    )
    subject = SUBJECT.format(use_case=USE_CASE[item.spec.name])
    floor = FLOOR.format(imports="\n".join(f"import {m}" for m in FLOOR_IMPORTS[item.spec.name]))
    staged_env, floor_env = _environment(home, item.folder), _environment(home, None)
    _, line = time_to_ready(subject, item.folder, staged_env)  # warm-up: bytecode, page cache
    if not line.split()[-1].startswith(str(item.folder)):
        raise RuntimeError(f"{item.spec.name} ran {line.split()[-1]}, not the staged copy")
    time_to_ready(floor, home, floor_env)
    for round_number in range(rounds):
        cases = [("subject", subject, item.folder, staged_env), ("floor", floor, home, floor_env)]
        for case, code, cwd, env in cases if round_number % 2 == 0 else reversed(cases):
            elapsed, _ = time_to_ready(code, cwd, env)
            getattr(figures, case).append(elapsed)
    return figures


def render(
    results: list[FunctionFigures], load: tuple[float, float], rounds: int, options: Options
) -> str:
    duckdb_mib = sum(requirement_closure(["duckdb"]).values()) / MIB
    passed = all(r.passed for r in results)
    rows = "\n".join(
        f"| `{r.name}` | {r.size_bytes / MIB:.0f} MiB ({r.distributions} distributions) | "
        + ", ".join(f"{name} {size / MIB:.0f}" for name, size in r.largest)
        + f" | {statistics.median(r.floor) * 1e3:.0f} | {statistics.median(r.subject) * 1e3:.0f}"
        f" | **{r.ratio:.2f}** | {verdict(r.passed)} |"
        for r in results
    )
    return f"""## {TITLE}

**{verdict(passed)}**: every staged function is ready within \
{TARGET_RATIO} times its floor (median of {rounds} interleaved rounds). None carries duckdb, \
the embedded adapters or the developer tools; the verifier carries no CatBoost. duckdb, which \
every staged function pinned before, would add {duckdb_mib:.0f} MiB to each.

| Function | Installed | Largest (MiB) | floor ms | ready ms | ratio | <= {TARGET_RATIO} |
|---|---|---|---:|---:|---:|---|
{rows}

| | |
|---|---|
| Subject | a fresh `python -c` in the staged folder (`make stage`): `import main`, \
`app()` on the Google Cloud backend (BigQuery, GCS and Pub/Sub clients pointed at local \
emulator addresses), then the App method the request calls \
({", ".join(f"`{k}`: `{v}`" for k, v in USE_CASE.items())}); timed from spawn to its `ready` line |
| Floor | a fresh `python -c` importing functions-framework and the function's Google clients \
(`google.cloud.bigquery`, `storage`, `pubsub_v1`), and CatBoost for the two whose work needs \
it (`prediction_batch` predicts; `model_upload` loads each uploaded model to read its card) |
| Size | the files installed in this venv by each pinned requirement and what it requires \
(markers evaluated here), as `pip install -r requirements.txt` would install them |
{machine_row(load)}
{versions_row()}
{run_row(NAME, options)}
"""


def run(options: Options) -> Outcome:
    rounds = options.rounds or (3 if options.quick else ROUNDS)
    out = options.work_dir / "stage"
    home = options.work_dir / "cold-start-home"
    home.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    results = [measure_function(item, home, rounds) for item in stage(out)]
    load = (load_start, os.getloadavg()[0])
    passed = all(r.passed for r in results)
    summary = f"{TITLE}: {verdict(passed)} " + ", ".join(
        f"{r.name} {r.ratio:.2f} ({r.size_bytes / MIB:.0f} MiB)" for r in results
    )
    return Outcome(
        name=NAME,
        title=TITLE,
        passed=passed,
        markdown=render(results, load, rounds, options),
        summary=summary,
    )
