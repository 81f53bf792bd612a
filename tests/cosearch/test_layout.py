"""The package's shape, read from its source with `ast`: no private names of other packages, one-way layers, no
import cycle, and no import inside a function except of the heavy libraries loaded where they are used."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cosearch"
OTHER_PACKAGES = ("nets", "accel_models", "mappings")
LAYERS = ("config", "search", "report", "pipeline")
"""cosearch's layers in the order data flows; a layer imports only from layers before it."""
LAZY_OK = ("optuna", "torch", "matplotlib", "sqlalchemy", "nets.estimators")
"""What may be imported inside a function: libraries that take 0.3-2 s to import and are needed only there."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], bool]]:
    """(absolute module, imported names, inside a function) for every import statement of a module."""
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
            found.append((base, names, id(node) in in_function))
            found += [(f"{base}.{n}", [], id(node) in in_function) for n in names if f"{base}.{n}" in MODULES]
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_the_package_is_read():
    assert {"cosearch.config.options", "cosearch.search.trial", "cosearch.report.writer"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_of_other_packages(name):
    for module, names, _ in IMPORTS[name]:
        if module.split(".")[0] in OTHER_PACKAGES:
            assert not any(p.startswith("_") for p in module.split(".")), f"{name} imports private module {module}"
            assert not [n for n in names if n.startswith("_")], f"{name} imports private names of {module}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layers_import_only_earlier_layers(name):
    mine = _layer(name)
    for module, _, _ in IMPORTS[name]:
        theirs = _layer(module)
        if mine is not None and theirs is not None:
            assert theirs <= mine, f"{name} ({LAYERS[mine]}) imports {module} ({LAYERS[theirs]})"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_inside_functions_are_heavy_libraries_only(name):
    for module, _, inside in IMPORTS[name]:
        if inside:
            assert module.startswith(LAZY_OK), f"{name} imports {module} inside a function"


def test_no_import_cycle():
    graph = {name: {m for m, _, inside in IMPORTS[name] if m in MODULES and m != name and not inside}
             for name in MODULES}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in MODULES:
        if name not in state:
            visit(name, [name])
