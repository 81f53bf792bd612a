"""What a fresh clone's first run compiles: one default trial with an empty numba cache, and where the time goes.

    python benchmarks/bench_cold_compile.py [--top 15]

Runs itself again in a child process whose NUMBA_CACHE_DIR is a new empty folder (numba reads it at import),
times one trial of the default co-search (CPU time), and lists the longest numba compilations as numba's
compile events report them (nested: a caller's time includes its callees'). Last line:
`cold first trial: X s CPU (numba compile Y s)`.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(top: int) -> None:
    sys.path.insert(0, str(ROOT))
    from numba.core import event

    spans: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    class _Listener(event.Listener):
        def on_start(self, ev):
            started[id(ev.data.get("dispatcher"))] = time.process_time()

        def on_end(self, ev):
            d = ev.data.get("dispatcher")
            t0 = started.pop(id(d), time.process_time())
            name = f"{d.py_func.__module__}.{d.py_func.__qualname__}" if d is not None else "?"
            spans.append((time.process_time() - t0, name))

    event.register("numba:compile", _Listener())
    import optuna

    import cosearch
    from cosearch.search import TrialObjective, make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.process_time()
    settings = cosearch.make_settings("area=5mm2", trials=1, out=tempfile.mkdtemp(), time_limit=None)
    study = optuna.create_study(direction="minimize", sampler=make_sampler("cmaes", 0))
    study.optimize(TrialObjective(settings), n_trials=1)
    trial_s = time.process_time() - t0
    # the outermost compilations: spans not inside another (events nest; the longest covers its callees)
    spans.sort(reverse=True)
    print(f"{'CPU s':>7s}  numba compilation (nested: includes what it calls)")
    for t, name in spans[:top]:
        print(f"{t:7.2f}  {name}")
    outermost = _outermost_total(spans)
    print(f"compilations: {len(spans)}")
    print(f"cold first trial: {trial_s:.1f} s CPU (numba compile {outermost:.1f} s)")


def _outermost_total(spans: list[tuple[float, str]]) -> float:
    """Compile time not counted twice: the top-level compilations are those of the trial's entry points
    (`run_evolution`, the cost kernel's drivers, the decoder), whose spans contain the others."""
    roots = ("run_evolution", "evaluate_range", "evaluate_batch", "decode_batch", "encode_into")
    by_name: dict[str, float] = {}
    for t, name in spans:
        key = name.rsplit(".", 1)[-1]
        if key in roots:
            by_name[key] = max(by_name.get(key, 0.0), t)
    if "run_evolution" in by_name:  # it compiles the kernel and the decoder inside it
        return by_name["run_evolution"] + sum(v for k, v in by_name.items()
                                              if k not in ("run_evolution", "evaluate_range", "decode_batch"))
    return sum(by_name.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=15, help="compilations listed (default 15)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.top)
        return 0
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; empty numba cache {cache}", flush=True)
        return subprocess.run([sys.executable, __file__, "--child", "--top", str(args.top)], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
