"""Calls each public entry into the numba kernels as the first thing a fresh process does, and reports what numba did.

    python tests/accel_models/_kernel_entries.py [entry ...]     (one JSON object per line)

Imports every module of the packages first (an import must load, compile and delete nothing), then forks once per
entry, so that each entry starts with no kernel in memory and the cache guard not yet run. Per entry: `early`,
how often numba took its compiler lock (which it holds to load a kernel from its cache or to compile one) before
`accel_models.jit` had checked the cache; `compiled`, the functions numba compiled; `hits`, the kernels it
loaded from its cache. Used by tests/accel_models/test_numba_cache.py.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from numba.core import event  # noqa: E402
from numba.core.dispatcher import Dispatcher  # noqa: E402
from numba.core.registry import cpu_target  # noqa: E402

PACKAGES = ("nets", "accel_models", "mappings", "cosearch")
state = {"early": 0, "compiled": []}


class _Lock(event.Listener):
    def on_start(self, ev):
        from accel_models.jit import _freshness as numba_cache
        state["early"] += not numba_cache.guard_has_run()

    def on_end(self, ev):
        pass


class _Compile(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        d = ev.data["dispatcher"]
        state["compiled"].append(f"{type(d).__name__}:{d.py_func.__module__}.{d.py_func.__qualname__}")


event.register("numba:compiler_lock", _Lock())
event.register("numba:compile", _Compile())

MODULES = []
for _package in PACKAGES:
    _pkg = importlib.import_module(_package)
    MODULES.append(_pkg)
    for _info in pkgutil.walk_packages(_pkg.__path__, _package + "."):
        if not _info.name.endswith("__main__"):
            MODULES.append(importlib.import_module(_info.name))

from accel_models import evaluate_batch, explain, get_preset  # noqa: E402
from accel_models.jit import _freshness as numba_cache  # noqa: E402
from accel_models.geometry import accelerator_arrays, layer_arrays  # noqa: E402
from accel_models.jit import callee_steps  # noqa: E402
from mappings import Encoding, MapperSettings, MappingCache, best_mapping, random_mappings  # noqa: E402
from mappings.compile_plan import mapper_compile_plan  # noqa: E402
from mappings.fitness import fitness  # noqa: E402
from mappings.transfer import transfer_mapping  # noqa: E402
from nets import Layer  # noqa: E402

cpu_target.target_context.refresh()  # numba's one-time set-up of its registries (~1 s), shared by the children

ACC = get_preset("eyeriss")
OTHER = get_preset("nvdla_256")
LAYER = Layer.conv(16, 32, 3, 8, name="conv")
MAPS = random_mappings(LAYER, ACC, 8, 0)


def _split_compile() -> None:
    import cosearch
    from cosearch.search.worker_compile import compile_plan
    from accel_models.jit import SplitCompile
    with tempfile.TemporaryDirectory() as folder:
        settings = cosearch.make_settings("area=5mm2", trials=1, out=folder, time_limit=None)
        SplitCompile(compile_plan(settings), Path(folder) / "steps", say=lambda text: None).start()


ENTRIES = {
    "evaluate_batch": lambda: evaluate_batch(LAYER, ACC, MAPS),
    "explain": lambda: explain(LAYER, ACC, MAPS.row(0)),
    "best_mapping es": lambda: best_mapping(LAYER, ACC, budget_evals=300),
    "MappingCache.result": lambda: MappingCache(MapperSettings(budget_evals=300)).result(LAYER, ACC, "edp"),
    "Encoding.decode": lambda: Encoding(LAYER, ACC).decode(np.full((2, Encoding(LAYER, ACC).size), 0.5)),
    "Encoding.encode": lambda: Encoding(LAYER, ACC).encode(MAPS),
    "transfer_mapping": lambda: transfer_mapping(MAPS, ACC, OTHER),
    "fitness": lambda: fitness(SimpleNamespace(reason=np.zeros(2, np.int64), energy_pj=np.ones(2),
                                               cycles=np.ones(2, np.int64)), "edp"),
    "callee_steps": lambda: callee_steps(layer_arrays(LAYER), accelerator_arrays(ACC))[0].run(),
    "mapper_compile_plan": lambda: [s.run() for s in mapper_compile_plan(LAYER, ACC, MappingCache(MapperSettings(budget_evals=300)))],
    "split_compile": _split_compile,
}


def _hits() -> int:
    seen = {id(v): v for m in MODULES for v in vars(m).values() if isinstance(v, Dispatcher)}
    return sum(sum(d.stats.cache_hits.values()) for d in seen.values())


def _run(name: str) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one entry, then its report
        os.close(read)
        state.update(early=0, compiled=[])
        report = {"entry": name}
        t0 = time.perf_counter()
        try:
            ENTRIES[name]()
            report.update(state, hits=_hits(), guard=numba_cache.guard_has_run(),
                          wall_s=round(time.perf_counter() - t0, 3))
        except BaseException as exc:  # noqa: BLE001  (reported to the parent, which fails the test)
            report["error"] = f"{type(exc).__name__}: {exc}"
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"entry": name, "error": "the child died"}


def main(names: list[str]) -> None:
    imports = {"entry": "(imports)", **state, "hits": _hits(), "guard": numba_cache.guard_has_run(),
               "wall_s": round(time.perf_counter() - T0, 3)}
    print(json.dumps(imports), flush=True)
    for name in names or ENTRIES:
        print(json.dumps(_run(name)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
