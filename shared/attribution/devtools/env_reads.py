"""The environment variables the code reads, found in the source with ``ast``.

Recognised reads: ``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)``, and the
same on any mapping named ``env``/``environ`` (``env.get("X")``, ``env["X"]``, ``"X" in
env``); plus calls to helpers that pass one of their parameters to such a read
(``_int(env, "MAX_MODEL_BYTES", ...)``, ``number("VERIFY_HIGH_EDGE", 5.0)``). A key may be a
string literal, a module-level or local string constant, or an f-string, which becomes a
pattern (``VERIFY_{name}_{kind}`` reads ``VERIFY_<X>_<Y>``). A read whose key is none of
these is reported as unresolved, so a new idiom cannot slip by unnoticed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_ENV_NAMES = {"env", "environ", "environment"}
_READ_METHODS = {"get", "setdefault", "pop"}


@dataclass(frozen=True)
class EnvRead:
    """One read: a literal name or a pattern (from an f-string), and where it is."""

    name: str
    is_pattern: bool
    module: str
    line: int

    def matches(self, variable: str) -> bool:
        if self.is_pattern:
            return re.fullmatch(self.name, variable) is not None
        return self.name == variable


@dataclass
class EnvReads:
    reads: list[EnvRead] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {r.name for r in self.reads if not r.is_pattern}

    @property
    def patterns(self) -> set[str]:
        return {r.name for r in self.reads if r.is_pattern}

    def reads_variable(self, variable: str) -> bool:
        return any(r.matches(variable) for r in self.reads)


def _is_env(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in _ENV_NAMES


def _string_constants(body: Iterable[ast.stmt]) -> dict[str, ast.expr]:
    """Names bound once by a plain assignment in ``body`` (not nested), to their value."""
    found: dict[str, ast.expr] = {}
    repeated: set[str] = set()
    for statement in body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                if target.id in found:
                    repeated.add(target.id)
                found[target.id] = value
    return {k: v for k, v in found.items() if k not in repeated}


def _function_locals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """Assignments anywhere in the function body (loops included), to their value."""
    statements = [n for n in ast.walk(function) if isinstance(n, ast.stmt)]
    return _string_constants(s for s in statements if s is not function)


class _Scanner:
    def __init__(self, module: str, tree: ast.Module) -> None:
        self.module = module
        self.tree = tree
        self.constants = _string_constants(tree.body)
        self.result = EnvReads()
        self.helpers: dict[str, int] = {}  # function name -> index of the key parameter

    def _resolve(
        self, key: ast.expr, local: dict[str, ast.expr], depth: int = 0
    ) -> tuple[str, bool] | None:
        if depth > 5:
            return None
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value, False
        if isinstance(key, ast.JoinedStr):
            parts = [
                re.escape(p.value)
                if isinstance(p, ast.Constant) and isinstance(p.value, str)
                else "[A-Za-z0-9_]+"
                for p in key.values
            ]
            return "".join(parts), True
        if isinstance(key, ast.Name):
            bound = local.get(key.id, self.constants.get(key.id))
            if bound is not None:
                return self._resolve(bound, local, depth + 1)
        return None

    def _keys_read(self, node: ast.AST) -> list[ast.expr]:
        """The key expressions ``node`` reads from the environment, if it is a read."""
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            return [node.slice] if _is_env(node.value) else []
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _READ_METHODS:
                return [node.args[0]] if _is_env(func.value) else []
            if isinstance(func, ast.Attribute) and func.attr == "getenv":
                return [node.args[0]]
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and _is_env(node.comparators[0])
        ):
            return [node.left]
        return []

    def _functions(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [
            n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]

    def find_helpers(self) -> None:
        for function in self._functions():
            params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            for node in ast.walk(function):
                for key in self._keys_read(node):
                    if isinstance(key, ast.Name) and key.id in params:
                        self.helpers[function.name] = params.index(key.id)

    def _record(self, key: ast.expr, local: dict[str, ast.expr], line: int) -> None:
        resolved = self._resolve(key, local)
        if resolved is None:
            self.result.unresolved.append(f"{self.module}:{line}: {ast.unparse(key)}")
        else:
            self.result.reads.append(EnvRead(resolved[0], resolved[1], self.module, line))

    def scan(self) -> EnvReads:
        self.find_helpers()
        scopes: list[tuple[ast.AST, dict[str, ast.expr], list[str]]] = [(self.tree, {}, [])]
        scopes += [
            (f, _function_locals(f), [a.arg for a in (*f.args.posonlyargs, *f.args.args)])
            for f in self._functions()
        ]
        for scope, local, params in scopes:
            for node in _own_nodes(scope):
                for key in self._keys_read(node):
                    if isinstance(key, ast.Name) and key.id in params:
                        continue  # a helper's own parameter: its callers are scanned
                    self._record(key, local, getattr(node, "lineno", 0))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    index = self.helpers.get(node.func.id)
                    if index is not None and index < len(node.args):
                        self._record(node.args[index], local, node.lineno)
        return self.result


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of ``scope`` that are not inside a nested function."""
    found: list[ast.AST] = []
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def env_reads_of(path: Path, module: str) -> EnvReads:
    return _Scanner(module, ast.parse(path.read_text(), filename=str(path))).scan()


def env_reads(files: dict[str, Path]) -> EnvReads:
    """The reads of every module in ``files`` (dotted name -> path), together."""
    total = EnvReads()
    for module, path in sorted(files.items()):
        found = env_reads_of(path, module)
        total.reads.extend(found.reads)
        total.unresolved.extend(found.unresolved)
    return total
