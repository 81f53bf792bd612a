"""The imports of the project's modules and the names their code uses, read from their source with `ast` (for the
layout and kernel tests)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("nets", "accel_models", "mappings", "cosearch")
"""The top-level packages, in the order data flows: each imports only from those before it."""


def modules(packages=PACKAGES) -> dict[str, Path]:
    """{dotted module name: path} of every module of `packages`."""
    out = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, list[str], bool]]:
    """(absolute module, imported names, inside a function) for every import statement of a module;
    `from x import y` where x.y is a module of `known` counts as importing x.y."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    in_function = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for n in ast.walk(f) if n is not f}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], id(node) in in_function) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            submodules = [n for n in names if f"{base}.{n}" in known]
            if len(submodules) < len(names):    # `from pkg import sub` imports the submodule, not pkg's own names
                found.append((base, [n for n in names if n not in submodules], id(node) in in_function))
            found += [(f"{base}.{n}", [], id(node) in in_function) for n in submodules]
    return found


def resolve(node: ast.expr, names: dict):
    """The object a dotted name (`a`, `a.b.c`) denotes in a module's globals `names`, or None."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in names:
        return None
    value = names[node.id]
    for attr in reversed(attrs):
        value = getattr(value, attr, None)
    return value


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, trail + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None
