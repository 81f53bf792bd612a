"""Where the cost kernel's time goes, by compiled function: a sampled profile of `kernel.evaluate_range`.

    python dev/profile_by_function.py [--rows perfect|temporal] [--layer resnet|depthwise] [--seconds 20]

The step profiles (`profile_cost_model.py`, `profile_residual.py`) time copies of the kernel's steps; this samples
the kernel itself. It runs a child process under Linux `perf` (software clock samples, which a virtual machine
without hardware counters still has) that evaluates the rows over and over for `--seconds`, and reports each
function's share of the samples taken in that window. perf cannot name code that numba compiled in memory, so the
child writes the map perf reads for such code (`/tmp/perf-<pid>.map`: each compiled function's address and name,
from the LLVM modules numba keeps for what it compiles in the process). numba keeps no module for code it loads
from its cache, so the child compiles everything again in an empty cache folder of its own (a minute or two, outside
the window). A function that LLVM inlined into its caller counts as the caller: the perfect path is almost all
`driver.evaluate_range`.

Rows: `perfect`, the 30,000 random valid mappings of `bench_cost_model.py`'s layer; `temporal`, the temporal-class
residual mappings of `bench_cost_model.py --residual 200` (`_workload.temporal_class_rows`, 5,000 rows).
`--annotate NAME` (a name as listed, e.g. `phases._summarize`) also lists that function's instructions that drew the
most samples, disassembled (`objdump`) from its machine code, which the child saves: the place to read against
numba's assembly (`dispatcher.inspect_asm()`). A clock sample lands on the instruction after the one the time went
to as often as on it. Needs `perf` (Debian: `linux-perf`); the last line is the function with the largest share.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "benchmarks"))  # the benchmarks' shared workload

from _workload import bench_layers, corpus_eyeriss, residual_rows, temporal_class_rows  # noqa: E402

SAMPLES_PER_S = 4000
"""perf's sampling frequency (`-F`): ~80,000 samples in the default window, each of ~250 us."""


def _short(name: str) -> str:
    """`phases._summarize` from numba's mangled name (`_ZN12accel_models6kernel6phases10_summarizeB...`): the
    length-prefixed parts of the name, less the package's; a C wrapper (`cfunc.` and the name: the calls by
    address enter through it) keeps its prefix."""
    if name.startswith("cfunc."):
        return "cfunc " + _short(name[len("cfunc."):])
    if not name.startswith("_ZN"):
        return name
    i, parts = 3, []
    while i < len(name) and name[i].isdigit():
        digits = re.match(r"\d+", name[i:]).group()
        i += len(digits)
        parts.append(name[i:i + int(digits)])
        i += int(digits)
    return ".".join(p for p in parts if p not in ("accel_models", "kernel")) or name


def _write_perf_map(annotate: str, dump_dir: str) -> int:
    """/tmp/perf-<pid>.map for every function numba compiled in this process (address, size up to the next
    function's address, short name), and the machine code of the ones named `annotate` into `dump_dir` (a file per
    copy, named by its address); returns how many functions."""
    from numba.core.registry import CPUDispatcher
    names = {}
    for obj in gc.get_objects():
        if not isinstance(obj, CPUDispatcher):
            continue
        for cres in list(obj.overloads.values()):
            lib = cres.library
            module = getattr(lib, "_final_module", None)     # numba's own: kept for code compiled in this process
            for fn in module.functions if module is not None else ():
                if not fn.is_declaration:
                    address = lib.get_pointer_to_function(fn.name)
                    if address:
                        names[address] = _short(fn.name)
    starts = sorted(names)
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as f:
        for i, a in enumerate(starts):
            size = min(starts[i + 1] - a if i + 1 < len(starts) else 1 << 16, 1 << 20)
            f.write(f"{a:x} {size:x} {names[a]}\n")
            if names[a] == annotate and i + 1 < len(starts):    # the last one's end is not known: not read past it
                Path(dump_dir, f"{a:x}.bin").write_bytes(ctypes.string_at(a, size))
    return len(starts)


def _child(rows: str, layer_name: str, seconds: float, annotate: str, dump_dir: str) -> None:
    """Evaluate the rows for `seconds` after a first call that compiles; print the window's CLOCK_MONOTONIC bounds
    and the rate."""
    import numpy as np
    from accel_models import MAPPING_DTYPE, MappingArrays, jit, kernel
    from accel_models.cost_model import accelerator_arrays, layer_arrays
    from mappings import random_valid_mappings

    eyeriss, layer = corpus_eyeriss(), bench_layers()[layer_name]
    if rows == "perfect":
        maps = random_valid_mappings(layer, eyeriss, 30_000, rng=0)
        maps = MappingArrays(*(np.ascontiguousarray(a, dtype=MAPPING_DTYPE) for a in maps.with_residuals()))
    else:
        _, maps = temporal_class_rows(residual_rows(layer, eyeriss, 200))
    la, aa = layer_arrays(layer), accelerator_arrays(eyeriss)
    B, L = maps.temporal.shape[0], maps.temporal.shape[1]
    out = kernel.new_outputs.py_func(B, L)
    ws = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    paths = jit.residual_paths(la, aa)
    kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, out, ws, paths)
    start, c0, n = time.clock_gettime(time.CLOCK_MONOTONIC), time.process_time(), 0
    while time.clock_gettime(time.CLOCK_MONOTONIC) < start + seconds:
        kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, out, ws, paths)
        n += 1
    end, cpu = time.clock_gettime(time.CLOCK_MONOTONIC), time.process_time() - c0
    functions = _write_perf_map(annotate, dump_dir)
    print(f"window {start:.6f} {end:.6f}")
    print(f"{rows} rows of the {layer_name} layer: {n * B / cpu:,.0f} evaluations/s CPU in the window "
          f"({functions} compiled functions mapped)")


def _hottest(perf: str, data: str, window: tuple[str, str], name: str, dump_dir: str, top: int) -> list[str]:
    """The `top` instructions of function `name` with the most samples in the window, as lines: the share of all
    the window's samples, the address, the instruction (`objdump` of the code the child saved)."""
    script = subprocess.run([perf, "script", "-i", data, "-F", "ip,sym", "--time", ",".join(window)],
                            capture_output=True, text=True).stdout
    counts, total = Counter(), 0
    for line in script.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            total += 1
            if parts[1].strip() == name:
                counts[int(parts[0], 16)] += 1
    code = {}
    for dump in Path(dump_dir).glob("*.bin"):
        listing = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                                  f"--adjust-vma=0x{dump.stem}", str(dump)], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            m = re.match(r"\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(.*)", line)
            if m:
                code[int(m.group(1), 16)] = m.group(2).strip()
    return [f"  {100 * n / total:6.2f}%  {ip:x}  {code.get(ip, '?')}" for ip, n in counts.most_common(top)]


def _shares(report: str) -> list[tuple[float, str]]:
    """(percent, symbol) per line of `perf report --stdio --sort sym`."""
    rows = []
    for line in report.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[[.k]\]\s+(.*\S)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", choices=("perfect", "temporal"), default="temporal",
                        help="which mappings to evaluate (default temporal)")
    parser.add_argument("--layer", choices=tuple(bench_layers()), default="resnet", help="which layer (default resnet)")
    parser.add_argument("--seconds", type=float, default=20.0, help="the sampled window in s (default 20)")
    parser.add_argument("--top", type=int, default=20, help="functions listed (default 20)")
    parser.add_argument("--annotate", metavar="NAME", default="",
                        help="also list the hottest instructions of this function (a name as listed)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.rows, args.layer, args.seconds, args.annotate, args.dump_dir)
        return
    if not 1 <= args.seconds <= 600:
        parser.error(f"--seconds must be within 1..600, got {args.seconds}")
    perf = shutil.which("perf")
    if perf is None:
        parser.exit(2, "profile_by_function: needs Linux perf on the PATH (Debian: apt install linux-perf)\n")
    if args.annotate and shutil.which("objdump") is None:
        parser.exit(2, "profile_by_function: --annotate needs objdump on the PATH (Debian: apt install binutils)\n")
    with tempfile.TemporaryDirectory(prefix="profile-by-function-") as tmp:
        data = os.path.join(tmp, "perf.data")
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(tmp, "numba-cache"))
        cmd = [perf, "record", "-q", "-k", "CLOCK_MONOTONIC", "-e", "cpu-clock", "-F", str(SAMPLES_PER_S), "-o", data,
               "--", sys.executable, __file__, "--child", "--rows", args.rows, "--layer", args.layer,
               "--seconds", str(args.seconds), "--annotate", args.annotate, "--dump-dir", tmp]
        print(f"load average {os.getloadavg()[0]:.2f}; compiling the kernel in an empty cache, then sampling "
              f"{args.seconds:g} s", flush=True)
        run = subprocess.run(cmd, env=env, capture_output=True, text=True)
        window = re.search(r"window ([\d.]+) ([\d.]+)", run.stdout)
        if run.returncode != 0 or window is None:
            raise SystemExit(f"perf record ended with status {run.returncode}:\n{run.stdout}{run.stderr}")
        print(next(line for line in run.stdout.splitlines() if "evaluations/s" in line))
        report = subprocess.run([perf, "report", "-i", data, "--stdio", "--sort", "sym",
                                 "--time", f"{window.group(1)},{window.group(2)}"],
                                capture_output=True, text=True)
        shares = _shares(report.stdout)
        hot = _hottest(perf, data, window.groups(), args.annotate, tmp, args.top) if args.annotate else []
    if not shares:
        raise SystemExit(f"perf report gave no samples:\n{report.stderr}")
    print(f"share of the samples in the window, by function (load average {os.getloadavg()[0]:.2f}):")
    for pct, name in shares[:args.top]:
        print(f"  {pct:6.2f}%  {name}")
    if args.annotate:
        print(f"{args.annotate}: its hottest instructions (share of all the window's samples, address, code):")
        print("\n".join(hot) if hot else "  no sample, or no function of that name compiled")
    print(f"largest: {shares[0][1]} {shares[0][0]:.1f}%")


if __name__ == "__main__":
    main()
