"""Where the compiled decoder's time goes, step by step, as the search loop calls it (`decode_batch` on batches of
256 rows into buffers it reuses).

    python dev/profile_decoder.py [N]

A copy of `mappings/_decode_kernel.py` made here (its text, with a run-time `stage` argument threaded through and
each step after the stage skipped; compiled without the cache) decodes N random genomes (default 30,000) of
`profile_cost_model.py`'s two layers on the corpus's Eyeriss-like architecture, perfect and residual factors: the CPU
time per mapping after each step, best of 5, each step's share the difference from the stage before. The steps:
the row's reset, keep genes, the canonical residual ends and the auto keep (these last two run at every stage);
the loop orders; the spatial factors (greedy); the axis fill; the temporal factors (nearest divisors, no capacity
check); the capacity check of each factor; the repair's search for the largest factor that fits. Skipping a step
changes what the later ones see (a row without spatial factors has more left for its temporal ones), so a share is
the step's cost on the decoded rows' way, not an exact attribution. Last line: the full decode's ns per mapping.
"""
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "benchmarks"))  # the benchmarks' shared workload

import numpy as np  # noqa: E402
from accel_models import MappingArrays  # noqa: E402
from mappings import Encoding  # noqa: E402
from _cli import mappings_per_layer  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402

STEPS = ["reset, keep, residual ends, auto keep", "loop orders", "spatial factors (greedy)", "axis fill",
         "temporal factors (nearest)", "capacity check", "repair search"]
EDITS = [  # (text of the kernel, its staged form, how many times it occurs)
    ("def decode_batch(x, tables, outputs, scratch):", "def decode_batch(x, tables, outputs, scratch, stage):", 1),
    ("        _loop_orders(b, x,", "        if stage >= 1:\n            _loop_orders(b, x,", 1),
    ("        for fi in range(fan_levels.shape[0]):", "        for fi in range(fan_levels.shape[0] if stage >= 2 else 0):",
     1),
    ("                if fill_idx[l, a] >= 0 and", "                if stage >= 3 and fill_idx[l, a] >= 0 and", 1),
    ("        for l in range(L - 1, 0, -1):\n            _level_start(",
     "        for l in range(L - 1 if stage >= 4 else 0, 0, -1):\n            _level_start(", 1),
    ("def _temporal_factor(b, l, d,", "def _temporal_factor(stage, b, l, d,", 1),
    ("_temporal_factor(b, l, d, _gene(", "_temporal_factor(stage, b, l, d, _gene(", 1),
    ("    probe = hi\n", "    probe = hi\n    if stage < 5:\n        lo = hi\n", 1),
    ("            hi = probe - 1\n", "            hi = probe - 1 if stage >= 6 else 0\n", 1),
    ("cache=True", "cache=False", None),
]


def staged_kernel():
    src = (ROOT / "mappings" / "_decode_kernel.py").read_text()
    for old, new, count in EDITS:
        if count is not None and src.count(old) != count:
            sys.exit(f"profile_decoder: the kernel no longer has {old!r} {count} time(s): update EDITS")
        src = src.replace(old, new)
    path = Path(tempfile.mkdtemp()) / "staged_decode_kernel.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("staged_decode_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module




def main() -> None:
    N = mappings_per_layer(__doc__.splitlines()[0], 30000)
    kernel = staged_kernel()
    eyeriss = corpus_eyeriss()
    layers = bench_layers()
    rows = 256
    print(f"load average {os.getloadavg()[0]:.2f}; ns/mapping CPU, cumulative (step: +delta)")
    total = []
    for name, layer in layers.items():
        for factors in ("perfect", "residual"):
            enc = Encoding(layer, eyeriss, factors=factors)
            genes = np.random.default_rng(0).random((N, enc.size))
            buffers = MappingArrays.empty(rows, eyeriss.num_levels)
            scratch = kernel.decode_scratch.py_func(eyeriss.num_levels)
            prev = 0.0
            print(f"{name}, {factors} factors:")
            for stage, step in enumerate(STEPS):
                kernel.decode_batch(genes[:rows], enc.tables, buffers, scratch, stage)
                best = 1e9
                for _ in range(5):
                    c0 = time.process_time()
                    for i in range(0, N - rows + 1, rows):
                        kernel.decode_batch(genes[i:i + rows], enc.tables, buffers, scratch, stage)
                    best = min(best, time.process_time() - c0)
                ns = best / (N // rows * rows) * 1e9
                print(f"  {stage} {step:40s} {ns:6.0f}  (+{ns - prev:4.0f})")
                prev = ns
            total.append(f"{name} {factors} {prev:,.0f}")
    print("decode_batch ns/mapping: " + ", ".join(total))


if __name__ == "__main__":
    main()
