"""Data flows one way between the packages (nets -> accel_models -> mappings -> cosearch), none reaches into
another's private names, no module import cycle (imports inside functions counted), and imports inside functions
are heavy libraries only.

A package's command line (its `__main__`, as `python -m accel_models.timeloop model`) follows its package's
arrows like every other module of it, and nothing imports a command line."""
from __future__ import annotations

import pytest

from _source_imports import PACKAGES, ROOT, find_cycle, imports, modules

MODULES = modules()
IMPORTS = {name: imports(name, path, MODULES) for name, path in MODULES.items()}
ALLOWED = {"nets": set(), "accel_models": {"nets"}, "mappings": {"nets", "accel_models"},
           "cosearch": {"nets", "accel_models", "mappings"}}
LAZY_OK = ("optuna", "torch", "matplotlib", "sqlalchemy", "cmaes", "nets.estimators", "nets.torch_build",
           "nets.transformer.torch_model")
"""What may be imported inside the function that needs it: libraries that take 0.3-2 s to import (the
accuracy estimators and the PyTorch model builders import torch)."""


def test_every_package_is_read():
    assert {name.split(".")[0] for name in MODULES} == set(PACKAGES)
    assert "accel_models.kernel.driver" in MODULES and "cosearch.search.trial" in MODULES


def flow_violations(name: str, found: list[tuple[str, list[str], bool]]) -> list[str]:
    """What is wrong with the imports `found` of module `name`: a command line imported, an arrow against the
    flow, a private module or name of another package."""
    mine = name.split(".")[0]
    wrong = []
    for module, names, _ in found:
        theirs = module.split(".")[0]
        if module.endswith(".__main__"):
            wrong.append(f"{name} imports the command line {module}")
        if theirs not in PACKAGES or theirs == mine:
            continue
        if theirs not in ALLOWED[mine]:
            wrong.append(f"{name} imports {module}: {mine} may import only {sorted(ALLOWED[mine])}")
        if any(p.startswith("_") for p in module.split(".")):
            wrong.append(f"{name} imports private module {module}")
        if [n for n in names if n.startswith("_")]:
            wrong.append(f"{name} imports private names of {module}")
    return wrong


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_follow_the_flow_and_stay_public(name):
    assert not flow_violations(name, IMPORTS[name])


@pytest.mark.parametrize("name, found, wrong", [
    ("accel_models.timeloop.__main__", [("mappings", ["best_mapping"], False)], "accel_models may import only"),
    ("accel_models.timeloop.__main__", [("mappings.timeloop.run", [], False)], "accel_models may import only"),
    ("mappings.timeloop.__main__", [("accel_models.timeloop._fields", [], False)], "private module"),
    ("mappings.timeloop.__main__", [("accel_models.timeloop.command_line", ["_jinja"], False)], "private names"),
    ("cosearch.report", [("accel_models.timeloop.__main__", ["main"], False)], "imports the command line"),
])
def test_an_upward_or_private_import_is_caught_in_a_command_line_too(name, found, wrong):
    assert any(wrong in w for w in flow_violations(name, found))


def test_the_timeloop_commands_sit_one_per_package():
    """timeloop-model's counterpart imports nothing after accel_models; timeloop-mapper's is in mappings."""
    assert "accel_models.timeloop.__main__" in MODULES and "mappings.timeloop.__main__" in MODULES
    assert {m.split(".")[0] for m, _, _ in IMPORTS["accel_models.timeloop.__main__"]} & set(PACKAGES) <= {
        "accel_models"}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_inside_functions_are_heavy_libraries_only(name):
    for module, _, inside in IMPORTS[name]:
        if inside:
            assert module.startswith(LAZY_OK), f"{name} imports {module} inside a function"


def import_graph(imports: dict[str, list[tuple[str, list[str], bool]]]) -> dict[str, set[str]]:
    """Module -> the project's modules it imports, at module level or inside a function (a lazy import is put
    off, not gone: it still ties the two modules together)."""
    return {name: {m for m, _, _ in found if m in MODULES and m != name} for name, found in imports.items()}


def test_no_import_cycle():
    cycle = find_cycle(import_graph(IMPORTS))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_an_import_inside_a_function_closes_a_cycle_too():
    found = {name: list(IMPORTS[name]) for name in MODULES}
    found["nets.layer"] = found["nets.layer"] + [("nets.zoo", ["get_network"], True)]    # nets.zoo imports nets.layer
    assert find_cycle(import_graph(found)) is not None


def test_the_command_line_imports_only_cosearch():
    found = imports("run_cosearch", ROOT / "run_cosearch.py", MODULES)
    assert {m.split(".")[0] for m, _, _ in found} & set(PACKAGES) == {"cosearch"}


@pytest.mark.parametrize("package", ["nets", "accel_models", "mappings", "cosearch"])
def test_each_package_says_its_public_names_once(package):
    """A package's `__all__` is one list (no `+=` blocks), and every name in it exists."""
    import ast
    import importlib

    tree = ast.parse(MODULES[package].read_text())
    assigned = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign))
                and any(isinstance(t, ast.Name) and t.id == "__all__"
                        for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))]
    assert len(assigned) == 1 and isinstance(assigned[0], ast.Assign), package
    module = importlib.import_module(package)
    assert all(hasattr(module, name) for name in module.__all__), package


def test_nets_exports_a_narrow_api():
    """`nets` exports the types and functions every user needs; constants, members and zoo builders live in their
    subpackages (`nets.spaces`, `nets.zoo`, `nets.problem_shape`, ...)."""
    import nets

    assert len(nets.__all__) <= 30 and {"Layer", "Network", "SearchSpace", "get_network", "get_space"} <= set(
        nets.__all__)
