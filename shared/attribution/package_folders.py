"""Locate folders that live beside the package: in a checkout (``shared/attribution`` next to
``schemas/`` and ``functions/``) or in a staged function (``schemas/`` copied beside it)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path


def beside_package(folder: str, marker: str, override_env: str) -> Path:
    """``folder`` next to the package or its parent, recognised by ``marker`` inside it."""
    override = os.environ.get(override_env)
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / folder, here.parent.parent / folder):
        if (candidate / marker).exists():
            return candidate
    raise FileNotFoundError(f"cannot find {folder}/{marker}; set {override_env} to the folder")


@cache
def schemas_dir() -> Path:
    return beside_package("schemas", "bigquery", "ATTRIBUTION_SCHEMAS_DIR")
