"""Build one deployable folder per function: ``python -m attribution.devtools.staging --out build``.

``build/<name>/`` gets the function's ``main.py``, the ``attribution`` modules it can import
(``attribution.devtools.import_graph``) with the package's data files, ``schemas/``, a
``requirements.txt`` pinned to the versions installed here, and a ``.gcloudignore``. Every file
is a real copy (deploy tools do not follow symlinks reliably) with a fixed timestamp, so the
same sources give the same zip.

Staging fails when a distribution the function imports is missing from its ``requirements``
in ``functions/manifest.json``, or when an import resolves to nothing installed; it reports
requirements the function never imports and optional imports it does not ship. What a
requirement loads by name (``loaded_at_runtime``) is pinned beside them, unchecked: no import
shows it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from attribution.devtools.import_graph import (
    PACKAGE,
    FunctionGraph,
    PackageSource,
    function_graph,
    normalize,
)
from attribution.function_manifest import FunctionSpec, function_specs
from attribution.package_folders import schemas_dir

# 1980-01-01T00:00:00Z, the earliest time a zip entry can carry: staged files all get it.
FIXED_MTIME = 315532800
GCLOUDIGNORE = """\
# Staged by `make stage`; `gcloud functions deploy --source .` reads this.
.gcloudignore
__pycache__/
*.py[cod]
"""


class StagingError(Exception):
    """A function cannot be staged as it stands (the message says what to change)."""


@dataclass
class RequirementReport:
    """The manifest's requirements of one function held against what its code imports."""

    function: str
    pinned: dict[str, str] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    optional_not_shipped: dict[str, list[str]] = field(default_factory=dict)
    never_imported: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unresolved and not self.never_imported

    def problems(self) -> list[str]:
        lines = [
            f"{self.function}: imports {dist} but its manifest requirements lack it: {chains[0]}"
            for dist, chains in sorted(self.missing.items())
        ]
        lines += [
            f"{self.function}: no installed distribution provides {item}"
            for item in self.unresolved
        ]
        lines += [  # a deployed function carries only what it runs
            f"{self.function}: requirement {dist} is never imported: drop it from the manifest"
            for dist in self.never_imported
        ]
        return lines

    def notes(self) -> list[str]:
        lines = [
            f"{self.function}: optional import of {dist} not shipped ({chains[0]})"
            for dist, chains in sorted(self.optional_not_shipped.items())
        ]
        return lines


@dataclass(frozen=True)
class StagedFunction:
    spec: FunctionSpec
    folder: Path
    graph: FunctionGraph
    report: RequirementReport


def package_root() -> Path:
    """The ``attribution`` package being staged (this module's own package)."""
    return Path(__file__).resolve().parent.parent  # the attribution package


def installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        raise StagingError(
            f"requirement {distribution} is not installed here, so it cannot be pinned"
        ) from None


def check_requirements(spec: FunctionSpec, graph: FunctionGraph) -> RequirementReport:
    """Pin the manifest's requirements and hold them against the function's imports."""
    report = RequirementReport(spec.name)
    listed = {normalize(r): r for r in spec.requirements}
    for name in (*spec.requirements, *spec.loaded_at_runtime):
        report.pinned[name] = installed_version(name)
    required = graph.distributions()
    for dist, imports in required.items():
        if dist.startswith("?"):
            report.unresolved.extend(graph.chain(i) for i in imports)
        elif dist not in listed:
            report.missing[dist] = [graph.chain(i) for i in imports]
    optional = graph.distributions(optional=True)
    for dist, imports in optional.items():
        if dist not in listed:
            report.optional_not_shipped[dist] = [graph.chain(i) for i in imports]
    report.never_imported = sorted(
        name for key, name in listed.items() if key not in required and key not in optional
    )
    return report


def requirements_text(spec: FunctionSpec, report: RequirementReport) -> str:
    lines = [
        f"# {spec.name}: what main.py can import and what those load by name",
        "# (functions/manifest.json, checked by attribution.devtools.staging), pinned to the",
        "# versions it was built and tested with.",
    ]
    lines += [f"{name}=={version}" for name, version in sorted(report.pinned.items())]
    return "\n".join(lines) + "\n"


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _data_files(root: Path) -> list[Path]:
    """The package's files that are not Python modules (SQL, py.typed)."""
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.suffix not in {".py", ".pyc", ".pyo"}
        and "__pycache__" not in path.relative_to(root).parts
    ]


def _pin_timestamps(folder: Path) -> None:
    for path in folder.rglob("*"):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)


def plan_function(spec: FunctionSpec, package: PackageSource) -> StagedFunction:
    """The function's import graph and requirement report; nothing is written."""
    try:
        graph = function_graph(spec.source, package)
    except (ValueError, ImportError, SyntaxError) as exc:
        raise StagingError(f"{spec.name}: {exc}") from None
    return StagedFunction(spec, Path(), graph, check_requirements(spec, graph))


def write_function(
    plan: StagedFunction, out: Path, *, package: PackageSource, schemas: Path
) -> StagedFunction:
    """Write ``out/<name>/`` from a plan whose report is ok."""
    folder = out / plan.spec.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _copy(plan.spec.source, folder / "main.py")
    for module in sorted(plan.graph.modules):
        relative = package.files[module].relative_to(package.root)
        _copy(package.files[module], folder / PACKAGE / relative)
    for path in _data_files(package.root):
        _copy(path, folder / PACKAGE / path.relative_to(package.root))
    shutil.copytree(schemas, folder / "schemas", ignore=shutil.ignore_patterns("__pycache__"))
    _write(folder / "requirements.txt", requirements_text(plan.spec, plan.report))
    _write(folder / ".gcloudignore", GCLOUDIGNORE)
    _pin_timestamps(folder)
    return StagedFunction(plan.spec, folder, plan.graph, plan.report)


def stage(out: Path, names: Sequence[str] = ()) -> list[StagedFunction]:
    """Stage the named function folders (all of the manifest's when none is named) under
    ``out``; an entry point deployed from another function's folder goes with that folder.

    Every function is checked before anything is written; the error lists every problem.
    """
    specs = {name: spec for name, spec in function_specs().items() if spec.folder == name}
    wanted = list(names) or sorted(specs)
    unknown = sorted(set(wanted) - set(specs))
    if unknown:
        raise StagingError(
            f"not a function folder of functions/manifest.json: {', '.join(unknown)}"
        )
    package = PackageSource.at(package_root())
    plans = [plan_function(specs[name], package) for name in wanted]
    problems = [line for plan in plans for line in plan.report.problems()]
    if problems:
        raise StagingError("\n".join(problems))
    schemas = schemas_dir()
    return [write_function(plan, out, package=package, schemas=schemas) for plan in plans]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attribution.devtools.staging",
        description="Build one deployable folder per function (see functions/manifest.json).",
    )
    parser.add_argument("--out", type=Path, default=Path("build"), help="output folder")
    parser.add_argument(
        "--function", action="append", default=[], help="stage only this function (repeatable)"
    )
    args = parser.parse_args(argv)
    try:
        staged = stage(args.out, args.function)
    except StagingError as exc:
        print(f"staging failed:\n{exc}", file=sys.stderr)
        return 1
    for item in staged:
        pins = ", ".join(f"{k}=={v}" for k, v in sorted(item.report.pinned.items()))
        print(f"{item.folder}: {len(item.graph.modules)} modules; {pins}")
        for note in item.report.notes():
            print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
