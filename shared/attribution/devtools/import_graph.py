"""What a function's ``main.py`` can import, read from the source with ``ast`` (nothing runs).

The graph follows the ``attribution`` modules an entry point imports, module-level and lazy
(inside a function) imports alike, and collects the third-party imports along the way.
Two refinements keep it truthful:

- ``if TYPE_CHECKING:`` blocks are skipped: they never run.
- An import inside ``try: ... except ImportError`` is *optional*: the code runs without it.
  What is reached only through optional imports is optional too.

- Some packages are never staged (``NEVER_STAGED``: the embedded adapters, the CLI, the
  developer tools). The graph stops at them; only the wiring module may name them (its
  adapter choices, which turn their absence into a settings error), and any other module
  that imports one fails the graph.

- The wiring point, ``attribution.bootstrap.App``, builds every function's use case in its
  own method, importing it lazily there. A function follows only the imports of the ``App``
  methods it uses: those whose names its ``main.py`` mentions (``app().verifier()``), and the
  methods they use in turn (``self.model_cache()``). So the verifier does not pull in
  ``App.batch_predictor``'s CatBoost.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = "attribution"
WIRING_MODULE = "attribution.bootstrap"
WIRING_CLASS = "App"
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}
NEVER_STAGED = ("attribution.adapters.embedded", "attribution.cli", "attribution.devtools")


@dataclass(frozen=True)
class ImportRef:
    """One import statement's target: ``module`` (absolute), or ``module.name`` for each name
    of a ``from module import name`` (a name may be a submodule)."""

    module: str
    names: tuple[str, ...]
    line: int
    lazy: bool
    optional: bool
    owner: str = ""  # the outermost ``def`` around it, as ``Class.method`` or ``function``

    def candidates(self) -> Iterator[str]:
        """Dotted names this import may load, most specific first."""
        for name in self.names:
            if name != "*":
                yield f"{self.module}.{name}"
        yield self.module


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        (isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS)
        or (isinstance(n, ast.Attribute) and n.attr in _IMPORT_ERRORS)
        for n in names
    )


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, package: str | None) -> None:
        self.package = package  # the package relative imports start from
        self.refs: list[ImportRef] = []
        self._function_depth = 0
        self._optional_depth = 0
        self._scope: list[str] = []  # enclosing class and def names
        self._owner = ""

    def _add(self, module: str, names: tuple[str, ...], line: int) -> None:
        self.refs.append(
            ImportRef(
                module=module,
                names=names,
                line=line,
                lazy=self._function_depth > 0,
                optional=self._optional_depth > 0,
                owner=self._owner,
            )
        )

    def _in_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        outermost = self._function_depth == 0
        if outermost and not isinstance(node, ast.Lambda):
            self._owner = ".".join([*self._scope, node.name])
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1
        if outermost:
            self._owner = ""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._in_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._in_function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in_function(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def _try(self, node: ast.Try | ast.TryStar) -> None:
        optional = any(_catches_import_error(h) for h in node.handlers)
        self._optional_depth += optional
        for statement in node.body:
            self.visit(statement)
        self._optional_depth -= optional
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_Try(self, node: ast.Try) -> None:
        self._try(node)

    def visit_TryStar(self, node: ast.TryStar) -> None:
        self._try(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, (), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__":
            return
        if node.level:
            if self.package is None:
                raise ValueError(f"line {node.lineno}: relative import outside a package")
            parts = self.package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            module = f"{base}.{node.module}" if node.module else base
        else:
            module = node.module or ""
        self._add(module, tuple(alias.name for alias in node.names), node.lineno)


def imports_of(path: Path, package: str | None = None) -> tuple[ImportRef, ...]:
    """Every import in the file at ``path``; ``package`` resolves relative imports."""
    collector = _ImportCollector(package)
    collector.visit(ast.parse(path.read_text(), filename=str(path)))
    return tuple(collector.refs)


def _wiring_methods(path: Path) -> dict[str, set[str]]:
    """``App`` method -> the ``self.<name>`` attributes it uses."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == WIRING_CLASS:
            return {
                item.name: {
                    a.attr
                    for a in ast.walk(item)
                    if isinstance(a, ast.Attribute)
                    and isinstance(a.value, ast.Name)
                    and a.value.id == "self"
                }
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return {}


def used_wiring_methods(entry: Path, wiring: Path) -> set[str]:
    """The ``App`` methods ``entry`` can use: every attribute name it mentions that is one,
    and what those use in turn. Over-approximates (any ``.verifier`` counts), never misses
    a method called on ``app()``."""
    methods = _wiring_methods(wiring)
    tree = ast.parse(entry.read_text(), filename=str(entry))
    mentioned = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    used: set[str] = set()
    pending = [m for m in mentioned if m in methods]
    while pending:
        method = pending.pop()
        if method not in used:
            used.add(method)
            pending.extend(m for m in methods[method] if m in methods)
    return used


# --------------------------------------------------------------------------- distributions


def normalize(distribution: str) -> str:
    """PEP 503 name: ``slack_sdk`` and ``Slack-SDK`` are both ``slack-sdk``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@cache
def _module_owners() -> dict[str, frozenset[str]]:
    """Dotted module name -> the installed distributions whose files provide it."""
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = normalize(dist.metadata["Name"] or "")
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".egg-info", ".data")):
                continue
            if parts[0] == ".." or not all(p.isidentifier() for p in parts[:-1]):
                continue
            stem = parts[-1].split(".", 1)[0]
            if parts[-1].endswith(".py"):
                stem = parts[-1][:-3]
            elif not parts[-1].endswith((".so", ".pyd")):
                continue
            dotted = [*parts[:-1]] if stem == "__init__" else [*parts[:-1], stem]
            if dotted and all(p.isidentifier() for p in dotted):
                owners.setdefault(".".join(dotted), set()).add(name)
    return {module: frozenset(dists) for module, dists in owners.items()}


def distributions_for(module: str) -> frozenset[str]:
    """The installed distributions that provide ``module`` (its longest provided prefix)."""
    owners = _module_owners()
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:end]))
        if found:
            return found
    return frozenset()


def is_stdlib(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in sys.stdlib_module_names


# --------------------------------------------------------------------------- the graph


@dataclass(frozen=True)
class ExternalImport:
    """A third-party import: what is imported, by which module, and where."""

    module: str
    importer: str
    line: int
    optional: bool

    def __str__(self) -> str:
        return f"{self.module} ({self.importer}, line {self.line})"


@dataclass
class FunctionGraph:
    """The ``attribution`` modules a function can load and the third-party imports they make."""

    modules: set[str] = field(default_factory=set)
    optional_modules: set[str] = field(default_factory=set)
    external: list[ExternalImport] = field(default_factory=list)
    unused_references: list[str] = field(default_factory=list)  # App methods left out
    left_out: list[str] = field(default_factory=list)  # the wiring's never-staged choices
    reached_from: dict[str, tuple[str, int]] = field(default_factory=dict)

    def chain(self, item: ExternalImport) -> str:
        """How ``item`` is reached: ``main.py -> attribution.x:12 -> ... -> module``."""
        steps = [f"{item.importer}:{item.line} -> {item.module}"]
        module = item.importer
        while module in self.reached_from:
            module, line = self.reached_from[module]
            steps.append(f"{module}:{line}")
        return " -> ".join(reversed(steps)).replace("__main__", "main.py")

    def externals(self, *, optional: bool) -> list[ExternalImport]:
        return [e for e in self.external if e.optional is optional]

    def distributions(self, *, optional: bool = False) -> dict[str, list[ExternalImport]]:
        """Distribution -> the imports that need it; ``optional`` for the optional ones.

        An import no installed distribution provides is listed under ``?<module>``.
        """
        needed: dict[str, list[ExternalImport]] = {}
        for item in self.externals(optional=optional):
            dists = distributions_for(item.module)
            key = min(dists) if dists else f"?{item.module}"
            needed.setdefault(key, []).append(item)
        return needed


@dataclass(frozen=True)
class PackageSource:
    """The ``attribution`` package on disk: dotted module name -> file."""

    root: Path
    files: Mapping[str, Path]

    @classmethod
    def at(cls, root: Path, name: str = PACKAGE) -> PackageSource:
        files: dict[str, Path] = {}
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in relative:
                continue
            dotted = [name, *relative]
            if dotted[-1] == "__init__":
                dotted.pop()
            files[".".join(dotted)] = path
        return cls(root=root, files=files)

    def is_package(self, module: str) -> bool:
        return self.files.get(module, Path()).name == "__init__.py"

    def loaded_by(self, module: str) -> list[str]:
        """``module`` and the packages above it, which importing it also runs."""
        parts = module.split(".")
        return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]

    def resolve(self, ref: ImportRef) -> list[str]:
        """The package's modules an import loads (a ``from`` name may be a submodule)."""
        found: list[str] = []
        for candidate in ref.candidates():
            if candidate in self.files:
                for module in self.loaded_by(candidate):
                    if module in self.files and module not in found:
                        found.append(module)
        if not found:
            raise ImportError(f"line {ref.line}: no module {ref.module!r} in the package")
        return found


def _internal(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def never_staged(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in NEVER_STAGED)


def function_graph(entry: Path, package: PackageSource) -> FunctionGraph:
    """Walk from ``entry`` (a function's main.py) through the package; see the module doc."""
    wiring = package.files.get(WIRING_MODULE)
    used_methods = used_wiring_methods(entry, wiring) if wiring else set()
    all_methods = set(_wiring_methods(wiring)) if wiring else set()
    refs_of: dict[str, tuple[ImportRef, ...]] = {"__main__": imports_of(entry)}
    for module, path in package.files.items():
        if module not in refs_of:
            home = module if package.is_package(module) else module.rpartition(".")[0]
            refs_of[module] = imports_of(path, home)

    graph = FunctionGraph()
    optional_of: dict[str, bool] = {"__main__": False}
    queue: deque[str] = deque(["__main__"])
    while queue:
        importer = queue.popleft()
        importer_optional = optional_of[importer]
        for ref in refs_of[importer]:
            optional = importer_optional or ref.optional
            if not _internal(ref.module):
                if not is_stdlib(ref.module):
                    module = next((c for c in ref.candidates() if distributions_for(c)), ref.module)
                    graph.external.append(ExternalImport(module, importer, ref.line, optional))
                continue
            if importer == WIRING_MODULE and ref.owner.startswith(f"{WIRING_CLASS}."):
                method = ref.owner.split(".")[1]
                if method in all_methods and method not in used_methods:
                    graph.unused_references.append(
                        f"{importer}:{ref.line} ({ref.owner}, not used) -> {ref.module}"
                    )
                    continue
            if any(never_staged(c) for c in ref.candidates()):
                where = f"{importer}:{ref.line} -> {ref.module}"
                if importer != WIRING_MODULE:
                    raise ImportError(f"{where}: {ref.module} is never staged into a function")
                graph.left_out.append(where)
                continue
            for module in package.resolve(ref):
                known = optional_of.get(module)
                if known is None or (known and not optional):
                    optional_of[module] = optional
                    graph.reached_from[module] = (importer, ref.line)
                    queue.append(module)
    # A module first met through an optional import and later through a required one was
    # walked twice; keep each third-party import once, required if any path requires it.
    required = {(e.module, e.importer, e.line) for e in graph.external if not e.optional}
    seen: set[tuple[str, str, int, bool]] = set()
    kept: list[ExternalImport] = []
    for item in graph.external:
        optional = (item.module, item.importer, item.line) not in required
        key = (item.module, item.importer, item.line, optional)
        if key not in seen:
            seen.add(key)
            kept.append(ExternalImport(item.module, item.importer, item.line, optional))
    graph.external = kept
    graph.modules = {m for m, optional in optional_of.items() if m != "__main__"}
    graph.optional_modules = {m for m in graph.modules if optional_of[m]}
    return graph
