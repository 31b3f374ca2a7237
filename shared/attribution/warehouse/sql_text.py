"""Queries live once, in BigQuery Standard SQL, in ``attribution/warehouse/sql/*.sql``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    path = _SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {_SQL_DIR}")
    return path.read_text()
