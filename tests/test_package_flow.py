"""Data flows one way between the packages (nets -> accel_models + mappings -> cosearch), none reaches into
another's private names, no module import cycle, and imports inside functions are heavy libraries only.

A package's `__main__` module is a command line (`python -m accel_models.timeloop mapper ...`): like
run_cosearch.py it stands at the end of the flow, so it may import any package, and nothing imports it."""
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


def _is_command_line(module: str) -> bool:
    return module.endswith(".__main__")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_follow_the_flow_and_stay_public(name):
    mine = name.split(".")[0]
    for module, names, _ in IMPORTS[name]:
        theirs = module.split(".")[0]
        assert not _is_command_line(module), f"{name} imports the command line {module}"
        if theirs not in PACKAGES or theirs == mine:
            continue
        if not _is_command_line(name):
            assert theirs in ALLOWED[mine], f"{name} imports {module}: {mine} may import only {sorted(ALLOWED[mine])}"
        assert not any(p.startswith("_") for p in module.split(".")), f"{name} imports private module {module}"
        assert not [n for n in names if n.startswith("_")], f"{name} imports private names of {module}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_inside_functions_are_heavy_libraries_only(name):
    for module, _, inside in IMPORTS[name]:
        if inside:
            assert module.startswith(LAZY_OK), f"{name} imports {module} inside a function"


def test_no_import_cycle():
    graph = {name: {m for m, _, inside in IMPORTS[name] if m in MODULES and m != name and not inside}
             for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_command_line_imports_only_cosearch():
    found = imports("run_cosearch", ROOT / "run_cosearch.py", MODULES)
    assert {m.split(".")[0] for m, _, _ in found} & set(PACKAGES) == {"cosearch"}
