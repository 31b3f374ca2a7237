"""What every benchmark needs besides its own measurement: the machine, and cached models."""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from attribution.devtools.training import TrainingSpec, train_model
from attribution.model_card.extraction import CATBOOST_MAGIC

# The benchmarks' model: 500 trees of depth 6 on numeric features only, none missing (the
# model the earlier figures were measured on); a benchmark sets its system_id and features.
BENCH_MODEL = TrainingSpec(
    iterations=500, depth=6, rows=20_000, seed=0, categorical=False, missing_share=0.0
)


def catboost_version() -> str:
    import catboost

    return str(catboost.__version__)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cached_model(
    path: Path, train: Callable[[Path], object], *, label: str
) -> tuple[Path, float | None]:
    """The model at ``path``, trained into it first when absent; and the training seconds
    (None when it was already there). A half-written file is never taken for a model."""
    if path.is_file():
        with path.open("rb") as handle:
            if handle.read(len(CATBOOST_MAGIC)) == CATBOOST_MAGIC:
                return path, None
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{label}] training {path.name} (once; cached in {path.parent})", file=sys.stderr)
    partial = path.with_name(f"{path.name}.partial")
    start = time.perf_counter()
    train(partial)
    elapsed = time.perf_counter() - start
    os.replace(partial, path)
    return path, elapsed


def spec_model(spec: TrainingSpec, directory: Path, *, label: str) -> tuple[Path, float | None]:
    """The cached model ``train_model`` makes for ``spec``, named by its recipe and CatBoost:
    its features (numeric only, or with the categorical ones), the share of training rows
    missing a value, the loss and the model kind are part of the name."""
    kind = "cat" if spec.categorical else "num"
    if spec.over_under:
        kind += "-overunder"
    loss = "logloss" if spec.over_under else re.sub(r"[^A-Za-z0-9.]+", "_", spec.loss_function)
    name = (
        f"model-{kind}-{loss}-d{spec.depth}-i{spec.iterations}-r{spec.rows}-s{spec.seed}"
        f"-miss{spec.missing_share:g}-cb{catboost_version()}.cbm"
    )
    return cached_model(directory / name, lambda out: train_model(spec, out), label=label)
