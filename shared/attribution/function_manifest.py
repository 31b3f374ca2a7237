"""The manifest of deployable functions (``functions/manifest.json``): entry points and triggers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from attribution.package_folders import beside_package


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entry_point: str
    event_type: str
    source: Path
    topic_env: str | None = None
    # The bucket whose notifications (OBJECT_FINALIZE, JSON_API_V1) are published to topic_env.
    notifying_bucket_env: str | None = None
    requirements: tuple[str, ...] = ()
    signature: str = "cloudevent"


@cache
def functions_dir() -> Path:
    return beside_package("functions", "manifest.json", "ATTRIBUTION_FUNCTIONS_DIR")


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
            notifying_bucket_env=entry.get("notifying_bucket_env"),
            requirements=tuple(entry.get("requirements", ())),
            signature=entry.get("signature", "cloudevent"),
        )
        for name, entry in manifest.items()
    }
