"""Where a default co-search trial's time goes: one worker's trial loop, CPU time per part, per complete trial.

    python benchmarks/bench_trial_split.py [--trials 12] [--fusion MODE] [--timing MODEL]
        [--out /tmp/bench_trial_split]

Runs the default settings (`run_cosearch.py`'s; `--fusion` another fusion mode, `--timing` another timing model) with
one worker in this process on a new study in OUT, until
`--trials` trials are complete, and times (CPU, `time.process_time`) the parts of each trial by wrapping them:
the whole objective call, the subnet search, the networks' runs (all mapping), the best screened subnets scored
again (`RESCORED_SUBNETS`), the trial's result (`evaluate_network` of its subnet: under a fusion mode the plan with
its kept views searched), the mapper's searches by factor mode and budget, and within them the compiled search
(whichever `search_kernel` hands out), the warm starts, the encodings, the subnet builds and the accuracy predictor;
what is left outside the objective is Optuna's ask and tell, the storage and the worker's loop.
Timers, not a profiler: cProfile's per-call cost inflates the Python parts several times (a network build measured
1 ms under it, 0.2 ms without). Needs a warm numba cache (`python -m cosearch warm-up`): a compile would land in the
first trial. Last line: `CPU per complete trial: X s (kernel Y s, residual searches Z s)`.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cosearch.config.builder import make_settings  # noqa: E402
from cosearch.search import trial as trial_module, workers as workers_module  # noqa: E402
from cosearch.search.accuracy import accuracy_model  # noqa: E402
from cosearch.search.study import prepare_study  # noqa: E402
import mappings.mapper as mapper_module  # noqa: E402
import mappings.strategies.evolution as evolution_strategy  # noqa: E402
import mappings.warm_starts as warm_module  # noqa: E402

TRIAL = "trial (the objective call)"
KERNEL = "  compiled search (search_kernel's)"


def _timer(spent: dict, owner, name: str, label: str, key=None) -> None:
    """Wrap owner.name so that each call adds its CPU time to spent[label (+ key(args))]."""
    f = getattr(owner, name)

    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            entry = spent[label if key is None else label + key(*args, **kwargs)]
            entry[0] += 1
            entry[1] += time.process_time() - t
    setattr(owner, name, timed)


def _time_search_kernel(spent: dict) -> None:
    """Time the compiled search the strategy gets from `search_kernel` (the full or the perfect-factor one)."""
    choose = evolution_strategy.search_kernel

    class _Timed:
        """The search, timed when called; its attributes (`driver`, read by the compile helper) are the search's."""

        def __init__(self, search) -> None:
            self._search = search

        def __getattr__(self, name):
            return getattr(self._search, name)

        def __call__(self, *args, **kwargs):
            t = time.process_time()
            try:
                return self._search(*args, **kwargs)
            finally:
                entry = spent[KERNEL]
                entry[0] += 1
                entry[1] += time.process_time() - t

    evolution_strategy.search_kernel = lambda factors: _Timed(choose(factors))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=12, help="complete trials to run (default 12)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_trial_split"), help="the study's folder")
    ap.add_argument("--fusion", default=None, help="the fusion mode (default: the co-search's)")
    ap.add_argument("--timing", default=None, help="the timing model (default: the co-search's)")
    args = ap.parse_args()
    spent: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    _timer(spent, trial_module.TrialObjective, "__call__", TRIAL)
    _timer(spent, trial_module, "search_subnet", "subnet search (middle loop)")
    _timer(spent, trial_module, "network_run", "network runs (all mapping)")
    _timer(spent, trial_module.TrialObjective, "_rescored", "the best screened subnets scored again")
    _timer(spent, trial_module, "evaluate_network", "the trial's result (its subnet's plan)")
    _timer(spent, mapper_module.MapperSettings, "search", "mapper searches, ",
           key=lambda settings, enc, *a, **k: f"{enc.factors} factors, {settings.budget} evaluations")
    _time_search_kernel(spent)
    _timer(spent, warm_module.WarmStarts, "seeds", "warm-start seeds")
    _timer(spent, mapper_module.MapperSettings, "encoding", "encodings")
    _timer(spent, trial_module, "to_network", "subnet builds (to_network)")
    _timer(spent, workers_module, "save_cache", "saving the warm starts")
    overrides = {k: v for k, v in (("fusion", args.fusion), ("timing", args.timing)) if v is not None}
    settings = make_settings(out=args.out, workers=1, start_over=True, **overrides)
    prepare_study(settings, lambda message: None, None)
    accuracy = accuracy_model(settings)
    _timer(spent, type(accuracy), "score_batch", "accuracy predictor")
    c0, t0 = time.process_time(), time.time()
    report = workers_module.run_worker(settings, 0, args.trials, None, accuracy=accuracy)
    cpu = time.process_time() - c0
    n = max(1, report.complete)
    print(f"{report.complete} complete and {report.pruned} rejected trials, {time.time() - t0:.1f} s wall, "
          f"{cpu:.1f} s CPU, load average {os.getloadavg()[0]:.1f}")
    print(f"{'part':58s} {'calls':>7s} {'CPU s':>8s} {'per trial s':>12s}")
    for label, (calls, s) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        print(f"{label:58s} {calls:7d} {s:8.2f} {s / n:12.3f}")
    outside = cpu - spent[TRIAL][1]
    print(f"{'outside the objective (Optuna, storage, loop)':58s} {'':7s} {outside:8.2f} {outside / n:12.3f}")
    residual = sum(s for label, (_, s) in spent.items() if "residual factors" in label)
    print(f"CPU per complete trial: {cpu / n:.3f} s (kernel {spent[KERNEL][1] / n:.3f} s, residual searches "
          f"{residual / n:.3f} s)")


if __name__ == "__main__":
    main()
