"""infra/terraform's .tf files as python-hcl2 reads them, for the tests that hold the
Terraform against the code and the docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals: ``'"gcp"'`` -> ``gcp``."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def clean(node: Any) -> Any:
    """A parse without the quotes of its strings and keys, nor python-hcl2's block markers."""
    if isinstance(node, dict):
        return {unquote(k): clean(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [clean(v) for v in node]
    return unquote(node)


def read_module(folder: Path) -> dict[str, Any]:
    """Every block of the module's .tf files, merged: resource and data by type and name,
    locals and variables by name."""
    merged: dict[str, Any] = {"resource": {}, "data": {}, "locals": {}, "variable": {}}
    for path in sorted(folder.glob("*.tf")):
        with path.open() as handle:
            parsed = clean(hcl2.load(handle))
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    merged[kind].setdefault(rtype, {}).update(named)
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
        for block in parsed.get("variable", []):
            merged["variable"].update(block)
    return merged
