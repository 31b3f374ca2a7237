"""The package layout is the architecture: each feature package imports only the packages
below it, so the tree read top-down is the order in which the system is built.

Read from the source with ``ast`` (every import counts: module-level, lazy, and those under
``if TYPE_CHECKING``), independently of the staging import graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "shared" / "attribution"
FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# Lower layers never import higher ones; a package imports its own layer only within itself.
# cli and devtools are the outer ring: the demo drives the CLI, the CLI serves the dev tools.
LAYERS = {
    "kernel": 0,  # the modules directly under attribution/: ports, errors, events, settings
    "warehouse": 1,
    "alerts": 1,
    "lineage": 1,  # OpenLineage events of the runs the use cases describe (ports.LineageRun)
    "model_card": 2,
    "adapters.google_cloud": 2,
    "adapters.embedded": 2,
    "batches": 3,
    "history": 4,
    "comparison": 4,  # champion and challengers on the same games: paired statistics
    "profiles": 4,  # training profiles: made from training rows, distances from a day
    "verification": 5,
    "app": 6,  # attribution.bootstrap (wires ports to adapters) and entry_points
    "card_exports": 6,  # the card as Hugging Face and Model Card Toolkit read it (CLI only)
    "cli": 7,
    "devtools": 7,
}
OUTER_RING = {"cli", "devtools"}
NEVER_IN_A_FUNCTION = {"adapters.embedded", "devtools", "cli"}


def module_name(path: Path) -> str:
    parts = ["attribution", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    parts = module.split(".")[1:]
    if parts in (["bootstrap"], ["entry_points"]):
        return "app"
    if parts[:1] == ["adapters"]:  # the adapters package itself only holds the two families
        return f"adapters.{parts[1]}" if len(parts) > 1 else "kernel"
    if parts and (PACKAGE_ROOT / parts[0]).is_dir():
        return parts[0]
    return "kernel"


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("attribution."):
                found.add(node.module)
            elif node.module == "attribution":
                found |= {f"attribution.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("attribution.")}
    return found


def package_imports() -> dict[str, set[str]]:
    return {
        module_name(path): imported(path)
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def test_every_package_has_a_layer() -> None:
    layers = {layer_of(m) for m in package_imports()}
    assert layers == set(LAYERS), layers ^ set(LAYERS)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        source = layer_of(module)
        for target in targets:
            destination = layer_of(target)
            if destination == source or {source, destination} <= OUTER_RING:
                continue
            if LAYERS[destination] >= LAYERS[source]:
                wrong.append(f"{module} ({source}) imports {target} ({destination})")
    return sorted(wrong)


def test_imports_go_down_the_layers_only() -> None:
    wrong = upward_imports(package_imports())
    assert not wrong, "\n".join(wrong)


def test_the_rule_reports_an_upward_or_sideways_import(tmp_path: Path) -> None:
    upward = tmp_path / "upward.py"
    upward.write_text(
        "from attribution.batches.rows import read_rows\n"
        "from attribution.adapters.embedded import duckdb_warehouse\n"
        "import attribution.warehouse.tables\n"
    )
    graph = {
        "attribution.warehouse.sql_text": imported(upward),
        "attribution.adapters.google_cloud.gcs_store": imported(upward),
    }
    assert upward_imports(graph) == [
        "attribution.adapters.google_cloud.gcs_store (adapters.google_cloud) imports "
        "attribution.adapters.embedded (adapters.embedded)",
        "attribution.adapters.google_cloud.gcs_store (adapters.google_cloud) imports "
        "attribution.batches.rows (batches)",
        "attribution.warehouse.sql_text (warehouse) imports "
        "attribution.adapters.embedded (adapters.embedded)",
        "attribution.warehouse.sql_text (warehouse) imports attribution.batches.rows (batches)",
    ]


def test_no_module_import_cycle() -> None:
    graph = package_imports()
    modules = set(graph)
    edges = {m: {t for t in targets if t in modules and t != m} for m, targets in graph.items()}
    state: dict[str, int] = defaultdict(int)  # 0 unseen, 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state[target] == 1:
                cycles.append([*path[path.index(target) :], target])
            elif state[target] == 0:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(modules):
        if state[module] == 0:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("main", sorted(FUNCTIONS.glob("*/main.py")), ids=lambda p: p.parent.name)
def test_a_function_imports_neither_the_embedded_family_nor_the_tools(main: Path) -> None:
    layers = {layer_of(t) for t in imported(main)}
    assert layers and not layers & NEVER_IN_A_FUNCTION, layers
