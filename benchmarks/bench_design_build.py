"""What a co-search trial's design costs before any mapping: building an accelerator and checking its area.

    python benchmarks/bench_design_build.py [--designs 300] [--repeats 5]

Two per-trial steps that run for every design the sampler asks, rejected or not: `build_accelerator` over a grid of
array shapes, register files and global buffers (as the presets and the accelerator space build them), and
`AcceleratorSpace.check` (the modelled area against a 5 mm2 budget) on random designs of the default space. Each is
timed in CPU time, the best of `--repeats`. A trial's mapping takes seconds, so a few milliseconds here would be
noise; more would mean these steps started doing a mapping's work.

Last line: `design build: A us a build, B us a check`.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from accel_models.builder import build_accelerator  # noqa: E402
from cosearch.search import AcceleratorSpace  # noqa: E402


def _best_cpu_s(f, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", type=int, default=300, help="random designs checked, 1-100000 (default 300)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats, the best kept, 1-100000 (default 5)")
    args = ap.parse_args()
    for flag, value in (("--designs", args.designs), ("--repeats", args.repeats)):
        if not 1 <= value <= 100_000:
            ap.error(f"{flag}: must be a whole number in [1, 100000], got {value}")
    sizes = [(x, y, rf, glb) for x in (4, 8, 12, 16) for y in (2, 8, 14) for rf in (8, 24, (224, 12, 24))
             for glb in (8192, 55296, 131072)]

    def build_all():
        for x, y, rf, glb in sizes:
            build_accelerator(pe_array=(x, y), rf_words=rf, glb_words=glb, word_bits=16, technology_nm=65)

    space = AcceleratorSpace(5.0)
    rng = np.random.default_rng(1)
    designs = [space.decode(space.sample(rng)) for _ in range(args.designs)]

    def check_all():
        for d in designs:
            space.check(d)

    build_us = _best_cpu_s(build_all, args.repeats) / len(sizes) * 1e6
    check_us = _best_cpu_s(check_all, args.repeats) / len(designs) * 1e6
    print(f"{len(sizes)} builds, {len(designs)} checks, best of {args.repeats}, CPU time")
    print(f"design build: {build_us:.1f} us a build, {check_us:.1f} us a check")


if __name__ == "__main__":
    main()
