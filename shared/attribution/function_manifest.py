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
    # Distributions a requirement loads by name when configured to (a plugin, such as the
    # OpenLineage client's gcplineage transport): no import of the function's shows them.
    loaded_at_runtime: tuple[str, ...] = ()
    signature: str = "cloudevent"

    @property
    def folder(self) -> str:
        """The function folder it is deployed from: its own, or one it shares (another
        entry point of the same main.py, such as the verifier's post-run trigger)."""
        return self.source.parent.name


@cache
def functions_dir() -> Path:
    return beside_package("functions", "manifest.json", "ATTRIBUTION_FUNCTIONS_DIR")


@cache
def function_specs() -> dict[str, FunctionSpec]:
    folder = functions_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    specs = {}
    for name, entry in manifest.items():
        shared = entry.get("folder", name)
        specs[name] = FunctionSpec(
            name=name,
            entry_point=entry["entry_point"],
            event_type=entry["event_type"],
            source=folder / shared / "main.py",
            topic_env=entry.get("topic_env"),
            notifying_bucket_env=entry.get("notifying_bucket_env"),
            # One folder, one requirements.txt: an entry sharing a folder takes its pins.
            requirements=tuple(manifest[shared].get("requirements", ())),
            loaded_at_runtime=tuple(manifest[shared].get("loaded_at_runtime", {})),
            signature=entry.get("signature", "cloudevent"),
        )
    return specs
