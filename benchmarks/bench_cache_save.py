"""The per-trial save of a co-search worker's mapping cache (`MappingCache.save`), on synthetic trials.

    python benchmarks/bench_cache_save.py [--trials 200] [--records 1000] [--first-shapes 1000] [--new-shapes 6]

Each synthetic trial is what a default co-search trial leaves in the warm starts, by the counts measured on
`python run_cosearch.py --workers 1 --trials 60 --time-limit none` (seed 0): about 1000 shapes searched on the
trial's accelerator (a 4-level design), of about 1000 shapes met by the first trial and 6 more per trial after
(1458 shapes, 4308 records kept after its 81 trials). The
mappings are random factors, not searched (the file holds integers of the same shapes either way). Per trial:
the records are added, then the cache is saved (appended, or the file rewritten); CPU ms of each save, the
file's size, and the load time at the end. Last line: `cache save: mean X ms CPU per trial (trials >= 50), ...`.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import MappingArrays, get_preset  # noqa: E402
from mappings import MappingCache  # noqa: E402

LEVELS = 4
"""Levels of a co-search design (DRAM, global buffer, register file, MACs); estimate of the usual case."""


def _mapping(rng: np.random.Generator) -> MappingArrays:
    m = MappingArrays.empty(1, LEVELS)
    m.temporal[:] = rng.integers(1, 64, m.temporal.shape)
    m.order[:] = np.argsort(rng.random(m.order.shape), axis=-1)
    return m


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--records", type=int, default=1000, help="shapes searched per trial")
    ap.add_argument("--first-shapes", type=int, default=1000, help="shapes the first trial meets")
    ap.add_argument("--new-shapes", type=int, default=6, help="shapes each later trial meets first")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    base = get_preset("eyeriss")
    cache = MappingCache()
    shapes: list[tuple] = []
    path = Path(tempfile.mkdtemp()) / "mapper-cache-0.log"
    save_ms, sizes = [], []
    for t in range(args.trials):
        acc = copy.deepcopy(base)  # a new accelerator object per trial, as the co-search's designs
        shapes += [(3, 3, 7 + n, 7, 32, 64, 1, 1, 1, 1, 1, 1)
                   for n in range(len(shapes), len(shapes) + (args.new_shapes if t else args.first_shapes))]
        picked = rng.choice(len(shapes), min(args.records, len(shapes)), replace=False)
        for i in picked:
            cache.warm.remember(shapes[i], acc, _mapping(rng))
        c0 = time.process_time()
        cache.save(path, t)
        save_ms.append(1e3 * (time.process_time() - c0))
        sizes.append(path.stat().st_size)
    c0 = time.process_time()
    loaded = MappingCache()
    loaded.load(path)
    load_s = time.process_time() - c0
    late = save_ms[50:] or save_ms
    for t in range(0, args.trials, max(1, args.trials // 10)):
        print(f"trial {t:4d}: save {save_ms[t]:6.1f} ms CPU, file {sizes[t] / 1e6:5.2f} MB")
    print(f"kept {len(cache.warm)} records of {len(shapes)} shapes; load {load_s:.2f} s CPU "
          f"({len(loaded.warm)} records)")
    print(f"cache save: mean {statistics.mean(late):.1f} ms CPU per trial (trials >= 50), median "
          f"{statistics.median(late):.1f}, max {max(late):.1f}; file at most {max(sizes) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
