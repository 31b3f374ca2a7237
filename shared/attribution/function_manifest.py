"""The manifest of deployable functions (``functions/manifest.json``): entry points and triggers."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entry_point: str
    event_type: str
    source: Path
    topic_env: str | None = None
    trigger_bucket_env: str | None = None
    requirements: tuple[str, ...] = ()
    signature: str = "cloudevent"


@cache
def functions_dir() -> Path:
    override = os.environ.get("ATTRIBUTION_FUNCTIONS_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "functions", here.parent.parent / "functions"):
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError(
        "cannot find functions/manifest.json; set ATTRIBUTION_FUNCTIONS_DIR to the folder"
    )


@cache
def function_specs() -> dict[str, FunctionSpec]:
    folder = functions_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    return {
        name: FunctionSpec(
            name=name,
            entry_point=entry["entry_point"],
            event_type=entry["event_type"],
            source=folder / name / "main.py",
            topic_env=entry.get("topic_env"),
            trigger_bucket_env=entry.get("trigger_bucket_env"),
            requirements=tuple(entry.get("requirements", ())),
            signature=entry.get("signature", "cloudevent"),
        )
        for name, entry in manifest.items()
    }
