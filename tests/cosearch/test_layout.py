"""cosearch's layers, read from its source with `ast`: nas_strategies -> config -> search -> report -> pipeline, each
importing only from the layers before it (the rules between packages are `tests/test_package_flow.py`'s)."""
from __future__ import annotations

import pytest

from _source_imports import imports, modules

MODULES = modules(("cosearch",))
IMPORTS = {name: imports(name, path, MODULES) for name, path in MODULES.items()}
LAYERS = ("nas_strategies", "config", "search", "report", "pipeline")
"""cosearch's layers in the order data flows; a layer imports only from layers before it (the network search
strategies come first: the option table checks `--nas-strategy` against their registry)."""


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[0] == "cosearch" and parts[1] in LAYERS else None


def test_the_package_is_read():
    assert {"cosearch.config.options", "cosearch.search.trial", "cosearch.report.writer"} <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layers_import_only_earlier_layers(name):
    mine = _layer(name)
    for module, _, _ in IMPORTS[name]:
        theirs = _layer(module)
        if mine is not None and theirs is not None:
            assert theirs <= mine, f"{name} ({LAYERS[mine]}) imports {module} ({LAYERS[theirs]})"
