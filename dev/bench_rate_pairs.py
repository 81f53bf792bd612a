"""This tree's evaluation rates against an earlier tree's perfect-mapping rate, alternated batch by batch.

    python dev/bench_rate_pairs.py [--rev 69568d2] [--rounds 40] [--batch 100000]

On a shared machine the same benchmark moves by up to a third from one minute to the next (measured on a
2-core Zen 4 virtual machine), and whole runs of `bench_cost_model.py` a minute apart cannot tell two trees apart. Here
two processes stay warm side by side, one per tree (`--rev` unpacked by `git archive`, with a numba cache of its own,
compiled before the timing; `_rate_worker.py`), and evaluate the same batches in turn, a fraction of a second each,
so that both meet the same stretches of the machine's speed:
- `bench_cost_model.py`'s workload: `--batch` random valid perfect mappings of each of its two layers (sampled once, by
  this tree), `evaluate_batch` on one thread, CPU time, through each tree's own public entry point;
- on this tree alone, the temporal-class rows of `bench_cost_model.py --residual 200` (Timeloop's temporal class of
  residual mappings; the older tree may not count them), `_workload.temporal_class_rows`.

A round times every batch once on each side, in an order that alternates between rounds. Its ratios are this tree's
perfect rate over rev's (the lower of the two layers on each side, as `bench_cost_model.py`'s last line) and this
tree's temporal-class rate (the lower layer) over rev's perfect rate. The headline scales each median ratio by the
rate recorded for `--rev` on the machine the targets were set on (`yardstick.RECORDED`, 69568d2's 683,000): the rates
this tree would give there, against the targets of 1,000,000 (perfect) and 200,000 (temporal class).

Last line: `this tree / REV over N rounds: perfect median R (quartiles), temporal class median T (quartiles); at REV's
recorded 683,000: X perfect, Y temporal-class evaluations/s/core`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the benchmarks' shared workload

import numpy as np  # noqa: E402

from accel_models import MappingArrays  # noqa: E402
from mappings import random_valid_mappings  # noqa: E402
from _commands import ROOT, archived_tree  # noqa: E402
from _workload import bench_layers, corpus_eyeriss, residual_rows, temporal_class_rows  # noqa: E402
from yardstick import RECORDED, REV  # noqa: E402

RESIDUAL_MAPPINGS = 200
"""`bench_cost_model.py --residual`'s count, as the temporal-class target is stated."""


class _Side:
    """A warm `_rate_worker.py` process for one tree."""

    def __init__(self, tree: Path, env: dict) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_rate_worker.py")), str(tree)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree, env=env)
        self.rows: dict[str, int] = {}

    def _ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise SystemExit(f"bench_rate_pairs: the worker for {self.proc.args[-1]} ended (status "
                             f"{self.proc.wait()}) on {line!r}")
        return answer.strip()

    def load(self, name: str, layer: str, path: Path) -> None:
        self.rows[name] = int(self._ask(f"load {name} {layer} {path}").split()[1])

    def rate(self, name: str) -> float:
        """Evaluations per CPU second of batch `name`."""
        return self.rows[name] / float(self._ask(f"run {name}"))

    def close(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.close()
        self.proc.wait()


def _save(maps: MappingArrays, path: Path) -> Path:
    arrays = maps.with_residuals()          # residual ends as arrays (zeros for a perfect mapping)
    np.savez(path, **{k: np.ascontiguousarray(a, dtype=np.int64) for k, a in zip(MappingArrays._fields, arrays)})
    return path


def _quartiles(values: list[float]) -> str:
    q1, q3 = np.percentile(values, [25, 75])
    return f"{statistics.median(values):.3f} (quartiles {q1:.3f}-{q3:.3f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default=REV, help=f"the tree to compare against (default {REV})")
    ap.add_argument("--rounds", type=int, default=40, help="rounds, 1..1000 (default 40)")
    ap.add_argument("--batch", type=int, default=100_000, help="mappings per batch, 1000..1000000 (default 100000)")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 1000:
        print(f"bench_rate_pairs: --rounds {args.rounds}: accepted 1..1000", file=sys.stderr)
        return 2
    if not 1000 <= args.batch <= 1_000_000:
        print(f"bench_rate_pairs: --batch {args.batch}: accepted 1000..1000000", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="rate-pairs-") as scratch_dir:
        scratch = Path(scratch_dir)
        old_tree = archived_tree(args.rev, scratch)
        accelerator = corpus_eyeriss()
        old = _Side(old_tree, {**os.environ, "NUMBA_CACHE_DIR": str(scratch / "numba")})
        new = _Side(ROOT, dict(os.environ))
        layers = list(bench_layers().items())
        print(f"{args.rev} in {old_tree}; sampling {args.batch:,} mappings a layer, then compiling {args.rev}'s "
              f"kernel (untimed)", flush=True)
        for short, layer in layers:
            perfect = _save(random_valid_mappings(layer, accelerator, args.batch, rng=0), scratch / f"{short}.npz")
            old.load(short, short, perfect)
            new.load(short, short, perfect)
            _, temporal = temporal_class_rows(residual_rows(layer, accelerator, RESIDUAL_MAPPINGS))
            new.load(f"{short}-temporal", short, _save(temporal, scratch / f"{short}-temporal.npz"))
        perfect_ratios, temporal_ratios = [], []
        load = os.getloadavg()[0]
        for r in range(args.rounds):
            rates: dict[tuple[str, str], float] = {}
            sides = (("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))
            for short, _ in layers:
                for side_name, side in sides:
                    rates[side_name, short] = side.rate(short)
                rates["temporal", short] = new.rate(f"{short}-temporal")
            old_rate = min(rates["old", s] for s, _ in layers)
            perfect_ratios.append(min(rates["new", s] for s, _ in layers) / old_rate)
            temporal_ratios.append(min(rates["temporal", s] for s, _ in layers) / old_rate)
        old.close()
        new.close()
    print(f"{args.rounds} rounds, load {load:.2f} -> {os.getloadavg()[0]:.2f}")
    p, t = statistics.median(perfect_ratios), statistics.median(temporal_ratios)
    there = (f"; at {args.rev}'s recorded {RECORDED['rate']:,.0f}: {p * RECORDED['rate']:,.0f} perfect, "
             f"{t * RECORDED['rate']:,.0f} temporal-class evaluations/s/core") if args.rev == REV else ""
    print(f"this tree / {args.rev} over {args.rounds} rounds: perfect median {_quartiles(perfect_ratios)}, temporal "
          f"class median {_quartiles(temporal_ratios)}{there}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
