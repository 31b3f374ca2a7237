"""Locate the repository's ``schemas/`` folder, in a checkout or in a staged function."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


@cache
def schemas_dir() -> Path:
    override = os.environ.get("ATTRIBUTION_SCHEMAS_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas", here.parent.parent / "schemas"):
        if (candidate / "bigquery").is_dir():
            return candidate
    raise FileNotFoundError(
        "cannot find the schemas/ folder; set ATTRIBUTION_SCHEMAS_DIR to its path"
    )
