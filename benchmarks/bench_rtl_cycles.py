"""The cost model's cycles against Gemmini's RTL: Timeloop's semantics and the hardware timing model, row by row.

    python benchmarks/bench_rtl_cycles.py [--rows FILE.csv] [--array stated|smallest] [--fit] [--holdout]
                                          [--by-kind] [--by-term] [--workers N]

Each row of DOSA's FireSim data (Hong et al., MICRO 2023: a Gemmini configuration, a conv layer and a mapping in
Timeloop's one-line form, and the cycles Gemmini's RTL took, `target.gemmini_cycle`) is read into cosearch's types as
DOSA's template writes it for Timeloop (`accel_models.timeloop.gemmini.load_dosa_row`) and timed twice:
`evaluate_batch(..., timing="timeloop")` on the row as written (Timeloop's semantics, what the Timeloop checks use),
and the hardware timing model on Gemmini's SoC (`accel_models.timing.gemmini_soc()`: its L2 and bus, FireSim's
last-level cache behind them, its command floor, its mesh's and its DMA's commands in flight, each step's transfer
its own) on the run the RTL made:

- **the array it ran on** (`--array`): `stated` takes the row's `arch.meshX`; `smallest` takes the smallest power
  of two (at least 2) that holds the mapping's largest spatial factor. DOSA's collection script for its training rows
  (`gemmini-data-collection/gemmini_data_collection.py`, `per_pe_dim`, in ucb-bar/gemmini-rocc-tests' `dosa` branch)
  built one FireSim Gemmini per array side 2 .. 128 and ran each mapping on the smallest that holds its spatial
  factors, whatever the CSV's `arch.*` columns say (128 x 128 on every row). The default is `smallest` for the
  shipped training rows and `stated` for any other file.
- **the layer and tiles it ran**: DOSA's harness (`layers/extract_data_csv.py`, `templates/conv_tilings.c` and
  `templates/matmul_tilings.c` in the same branch) runs a conv with a square output, `prob.P` by `prob.P`, padded
  by R // 2: a conv row with Q < P is timed as that square layer, its outer Q loop stretched to cover P, and a row
  of an even kernel as the P + 1 by P + 1 output that padding gives, its outer P and Q loops taking as many steps
  of the mapping's tiles as cover it (`dosa_run`; the last step's tile is what is left, and is timed so:
  `accel_models.timing.step_classes`). It runs a row with Q = R = S = 1 as a matrix product (I = P, K = C, J = K)
  through `tiled_matmul`, whose tiles are whole arrays: each of the mapping's tile sides t (rows P, reduction C,
  columns K below DRAM) becomes max(1, t // 16) array sides, the outer loops cover the padded matrix, each loop's
  last step taking the columns or rows left (`tiled_matmul`'s `last_I`, `last_J`, `last_K`); such a row is timed
  with those tiles.

`--rows` takes any CSV with DOSA's columns; the default is the 1,567 rows in ../shared/reference/dosa_firesim/.
`--fit` refits the hardware model's constants to the rows and prints them, then the bands with the fitted constants:
first seven costs in cycles and the DRAM efficiency with the L2 as a fits-or-not share (the minimiser of the mean
smoothed absolute log error from five starts, for each share in `CACHE_SHARES`: the defaults of a chip without a
cache), then, with those, the bus efficiency, the cost of a line Gemmini's L2 misses and of a block FireSim's
last-level cache misses (both simulated), the round trip of a move-in command and the stay of a move-out in the
DMA's command slots, and the mesh's latency (whole cycles of `MESH_LATENCY_GRID`). `--holdout`
fits on the rows of half of the layers (every other layer, sorted by shape) and prints the bands on the other half,
then the other way round. `--by-kind` prints the bands per layer kind (conv, 1x1, fully connected), `--by-term` per
term that sets a row's cycles (the host's issue, the array, the transfer), in all and split by whether the layer's
moves all find their lines in the L2 (or, without a simulated L2, the layer fits its share), with the rows outside
x1.2 the model puts under the RTL's cycles and over them. `--workers` replays the rows' caches in that many
processes (default: one per core): the replay, every line of every tile a row moves, is nearly all of the run.

Last line: `rtl cycles: K/N within x1.2, M/N within x1.5 (median ratio R); timeloop semantics: K'/N, M'/N`, the ratio
being the model's cycles over the RTL's.
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import evaluate_batch  # noqa: E402
from accel_models.timeloop.gemmini import load_dosa_row  # noqa: E402
from accel_models.timing import (MESH_MATMULS_IN_FLIGHT, MIN_COMMAND_ROWS, HardwareTiming,  # noqa: E402
                                 array_pass_cycles, dram_bytes_per_cycle, dram_rows_and_bytes,
                                 gemmini_soc, is_matrix_product, layer_bytes, output_blocks, step_classes)
from accel_models.timing.cache import FASED_LLC, GEMMINI_L2, step_tallies  # noqa: E402
from accel_models.timing.hardware import (DMA_REQUEST_BYTES, DMA_REQUESTS_IN_FLIGHT,  # noqa: E402
                                          DOSA_CONV_BASE_OFFSET_BYTES, GEMMINI_BUS_BYTES_PER_CYCLE, GEMMINI_L2_BYTES,
                                          command_slots, move_in_commands)
from accel_models.timeloop.dosa_harness import ARRAYS, dosa_run  # noqa: E402

CACHE_SHARES = (0.25, 0.5, 0.75, 1.0)
"""The shares of Gemmini's 512 KiB L2 the fit tries as the room a layer's data finds there."""

MESH_LATENCY_GRID = tuple(range(9))
"""The whole cycles the fit tries as a matrix multiplication's stay in Gemmini's mesh beyond its rows and its skew
(`HardwareTiming.mesh_latency_cycles`)."""

DEFAULT_ROWS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dosa_firesim" / "firesim_results.csv"


def _bands(ratios: np.ndarray) -> tuple[int, int, float]:
    """(rows within x1.2, rows within x1.5, median ratio) of model / measured ratios."""
    spread = np.abs(np.log(ratios))
    return int((spread <= np.log(1.2)).sum()), int((spread <= np.log(1.5)).sum()), float(np.median(ratios))


def _kind(layer) -> str:
    if layer.P == layer.Q == layer.R == layer.S == 1:
        return "fully connected"
    return "1x1 conv" if layer.R == layer.S == 1 else "conv"


def _replay(row: int) -> tuple:
    """The L2 replay of row `row` of `_CASES` (`step_tallies`: the counts by class and the steps' tallies)."""
    layer, acc, arrays = _CASES[row]
    misses, ((keys, counts),) = step_tallies(layer, acc, arrays, GEMMINI_L2, FASED_LLC, (),
                                             0 if is_matrix_product(layer) else DOSA_CONV_BASE_OFFSET_BYTES,
                                             GEMMINI_BUS_BYTES_PER_CYCLE, DMA_REQUEST_BYTES)
    return misses, keys, counts


_CASES: list = []
"""The rows `_parts` replays, where the worker processes it forks read them."""


def _replays(cases: list, workers: int) -> list[tuple]:
    """`_replay` of every row of `cases`, in `workers` processes forked once the first row's replay has loaded the
    compiled kernels (each process would otherwise load them itself)."""
    _CASES[:] = cases
    if workers <= 1 or len(cases) < 2:
        return [_replay(row) for row in range(len(cases))]
    first = _replay(0)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [first] + pool.map(_replay, range(1, len(cases)), chunksize=4)


def _parts(cases: list, workers: int = 1) -> dict[str, np.ndarray]:
    """Per class of outer steps of each row (`step_classes`: a row whose loops clip their last tiles has several;
    `row` names the row of each), the model's mapping-dependent parts: the array's cycles, the outer steps, the DMA
    requests, the transfer at the DRAM's and at the SoC bus's peak rate (cycles), the layer's bytes, whether it runs
    as a matrix product, the output blocks read back, the lines missed in Gemmini's L2 and the blocks of those missed
    in FireSim's last-level cache behind it (both simulated), the bus beats of the DMA's reads of the moves in (a
    convolution's tensors at `DOSA_CONV_BASE_OFFSET_BYTES` past a line), the move-in commands and the DMA's command
    slots (Gemmini's, `DMA_REQUESTS_IN_FLIGHT`), the steps that end a reduction, and the array's cycles with
    Gemmini's mesh holding `MESH_MATMULS_IN_FLIGHT` commands for each latency of `MESH_LATENCY_GRID` (`compute_mesh0`
    ...); and, from the same replay, each class's steps tallied by what each one moved (`step_tallies`: `tally_entry`
    the class's index among the parts, `tally_steps` how many steps, `tally_misses`, `tally_memory_misses`,
    `tally_read_beats` and `tally_ended` what each of them missed, read and whether it ended a reduction), for a
    timing that takes each step's transfer on its own (`HardwareTiming.step_transfers`)."""
    parts, tallies = [], []
    for row, ((layer, acc, arrays), (misses, keys, counts)) in enumerate(zip(cases, _replays(cases, workers))):
        for steps in step_classes(layer, arrays):
            if not steps.steps[0]:
                continue
            mine = keys[:, 0] == steps.last
            tallies.append((len(parts), counts[mine], keys[mine, 1:]))
            rows, moved = dram_rows_and_bytes(layer, acc, arrays, steps=steps)
            parts.append((row, array_pass_cycles(layer, acc, arrays, MIN_COMMAND_ROWS, steps=steps)[0],
                          steps.steps[0], rows[0], moved[0] / dram_bytes_per_cycle(acc),
                          moved[0] / GEMMINI_BUS_BYTES_PER_CYCLE, layer_bytes(layer, acc),
                          float(is_matrix_product(layer)), output_blocks(layer, acc, arrays, steps)[0],
                          misses[0, steps.last, 0], misses[0, steps.last, 1], misses[0, steps.last, 2],
                          move_in_commands(layer, acc, arrays, steps=steps)[0],
                          command_slots(acc, DMA_REQUESTS_IN_FLIGHT), steps.output_steps[0],
                          *(array_pass_cycles(layer, acc, arrays, MIN_COMMAND_ROWS, MESH_MATMULS_IN_FLIGHT, float(c),
                                              steps)[0] for c in MESH_LATENCY_GRID)))
    names = ("row", "compute", "steps", "requests", "dram_cycles", "bus_cycles", "layer_bytes", "matrix",
             "store_blocks", "misses", "memory_misses", "read_beats", "commands", "slots", "output_steps",
             *(f"compute_mesh{c}" for c in MESH_LATENCY_GRID))
    found = dict(zip(names, (np.array(p) for p in zip(*parts))))
    found["row"] = found["row"].astype(int)
    found["tally_entry"] = np.concatenate([np.full(len(n), k) for k, n, _ in tallies]).astype(int)
    found["tally_steps"] = np.concatenate([n for _, n, _ in tallies]).astype(float)
    for j, name in enumerate(("tally_misses", "tally_memory_misses", "tally_read_beats", "tally_ended")):
        found[name] = np.concatenate([v[:, j] for _, _, v in tallies]).astype(float)
    return found


def _by_row(parts: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    """`values` per class of steps (the entries of `parts`) summed per row."""
    return np.bincount(parts["row"], weights=values, minlength=int(parts["row"].max()) + 1)


def _rows(parts: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """The parts of the rows `keep` ([rows] bool), their rows (and the tallies' entries) numbered anew in order."""
    entries = keep[parts["row"]]
    tallies = entries[parts["tally_entry"]]
    found = {key: p[tallies if key.startswith("tally_") else entries] for key, p in parts.items()}
    found["row"] = (np.cumsum(keep) - 1)[found["row"]]
    found["tally_entry"] = (np.cumsum(entries) - 1)[found["tally_entry"]]
    return found


def _compute(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """The rows' array cycles under `timing`: with a mesh limit, those of its latency (one of `MESH_LATENCY_GRID`)."""
    if not timing.mesh_matmuls_in_flight:
        return parts["compute"]
    if timing.mesh_latency_cycles not in MESH_LATENCY_GRID:
        raise ValueError(f"mesh_latency_cycles must be one of {MESH_LATENCY_GRID} here, got "
                         f"{timing.mesh_latency_cycles!r}")
    return parts[f"compute_mesh{int(timing.mesh_latency_cycles)}"]


def _total(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """The rows' cycles: `timing.total` over each class of a row's steps, the start-up once a row."""
    startup = float(timing.layer_startup_cycles)
    return _by_row(parts, _class_total(timing, parts) - startup) + startup


def _class_total(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """`timing.total` over the parts of each class of steps: with a simulated cache (Gemmini's L2) every byte at the
    bus's rate and the missed lines; otherwise each row's bytes at the bus's rate where the cache holds its layer."""
    if timing.cache is not None and timing.step_transfers:
        return _stepwise_total(timing, parts)
    if timing.cache is not None:
        return timing.total(_compute(timing, parts), parts["steps"], parts["requests"], _bus(timing, parts),
                            parts["matrix"].astype(bool), False, parts["store_blocks"], parts["misses"],
                            _memory_misses(timing, parts), *_commands(timing, parts))
    cached = parts["layer_bytes"] <= timing.cache_bytes
    peak = np.where(cached, parts["bus_cycles"], parts["dram_cycles"])
    return timing.total(_compute(timing, parts), parts["steps"], parts["requests"], peak,
                        parts["matrix"].astype(bool), cached, parts["store_blocks"])


def _stepwise_total(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """`_class_total` with each step's transfer its own (`HardwareTiming.step_transfers`): per class of steps, the
    host's issue or the loop overhead plus the sum over its tallies of the longer of a step's compute and transfer
    (`HardwareTiming.step_cycles`), the start-up added once a class as `timing.total` does."""
    entry = parts["tally_entry"]
    commands, slots = _commands(timing, parts)
    matrix = parts["matrix"] > 0
    busy = timing.step_cycles(_compute(timing, parts)[entry], parts["steps"][entry], parts["output_steps"][entry],
                              parts["requests"][entry], None if commands is None else commands[entry],
                              np.broadcast_to(slots, parts["steps"].shape)[entry], parts["store_blocks"][entry],
                              matrix[entry], parts["tally_steps"], parts["tally_misses"],
                              parts["tally_memory_misses"] if timing.memory_cache is not None else None,
                              parts["tally_read_beats"] if timing.read_beats
                              else (parts["bus_cycles"] / parts["steps"])[entry], parts["tally_ended"])
    busy = np.bincount(entry, weights=busy, minlength=len(parts["steps"]))
    return timing.layer_startup_cycles + timing.class_cycles(parts["steps"], matrix, busy)


def _bus(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """The rows' cycles on the SoC's bus: the read beats of their moves in if `timing` counts them, else their bytes
    at the bus's rate."""
    return parts["read_beats"] if timing.read_beats else parts["bus_cycles"]


def _memory_misses(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> "np.ndarray | None":
    """The rows' blocks missed behind the L2, if `timing` simulates the memory side's cache (FireSim's LLC)."""
    return parts["memory_misses"] if timing.memory_cache is not None else None


def _commands(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> tuple:
    """The rows' move-in commands and command slots, if `timing` holds Gemmini's DMA commands in flight (the
    parts' slots are Gemmini's: `DMA_REQUESTS_IN_FLIGHT`); else (None, 1)."""
    if not timing.dma_requests_in_flight:
        return None, 1.0
    if timing.dma_requests_in_flight != DMA_REQUESTS_IN_FLIGHT:
        raise ValueError(f"dma_requests_in_flight must be 0 or {DMA_REQUESTS_IN_FLIGHT} here, got "
                         f"{timing.dma_requests_in_flight!r}")
    return parts["commands"], parts["slots"]


def _timing(theta: np.ndarray, share: float) -> HardwareTiming:
    """The hardware model on Gemmini's SoC of the fit's parameters (log start-up, log conv step, log request cost,
    logit efficiency, log matrix step, log loop overhead, log DRAM request cost, log store block cost), each kept
    within +-30 so that every one stays a valid constant, with `share` of the L2 holding a layer's data."""
    t = np.exp(np.clip(theta, -30.0, 30.0))
    return HardwareTiming(float(t[0]), float(t[1]), float(1 / (1 + np.exp(-np.clip(theta[3], -30.0, 30.0)))),
                          float(t[2]), matrix_step_overhead_cycles=float(t[4]), loop_overhead_cycles=float(t[5]),
                          dram_request_cycles=float(t[6]), store_block_cycles=float(t[7]),
                          cache_bytes=share * GEMMINI_L2_BYTES, bus_bytes_per_cycle=float(GEMMINI_BUS_BYTES_PER_CYCLE),
                          min_command_rows=MIN_COMMAND_ROWS)


def _loss(timing: HardwareTiming, parts: dict[str, np.ndarray], measured: np.ndarray) -> float:
    """The fit's loss: the mean of sqrt(log(model / measured)^2 + 0.003) over the rows (a smoothed absolute log
    error)."""
    error = np.log(_total(timing, parts) / measured)
    return float(np.mean(np.sqrt(error * error + 0.003)))


def _fit(parts: dict[str, np.ndarray], measured: np.ndarray, quiet: bool = False) -> HardwareTiming:
    """Gemmini's SoC (`gemmini_soc`) with the constants minimising `_loss`, in two stages: the seven costs in cycles
    and the DRAM efficiency by Nelder-Mead from five starts with the L2 as a fits-or-not share (each share in
    `CACHE_SHARES`; the best), the defaults of a chip without a cache; then, with those, on `gemmini_soc`'s SoC, the
    bus efficiency, the costs of a line missed in the L2 and of a block missed behind it and the DMA commands' stays
    (`command_latency_cycles`, `store_command_cycles`) and a request's two costs (`dram_request_cycles`,
    `dma_row_cycles`: the bus's time being its read beats there) by Nelder-Mead for each mesh latency in
    `MESH_LATENCY_GRID` (the best)."""
    from scipy.optimize import minimize

    best = None
    for share in CACHE_SHARES:
        def loss(theta: np.ndarray) -> float:
            return _loss(_timing(theta, share), parts, measured)

        rng = np.random.default_rng(0)
        for _ in range(5):
            start = np.array([np.log(800.0), np.log(250.0), 0.3, 1.0, np.log(125.0), np.log(40.0), 0.0, np.log(20.0)]) \
                + rng.normal(0, 0.5, 8)
            found = minimize(loss, start, method="Nelder-Mead",
                             options={"maxiter": 12000, "xatol": 1e-6, "fatol": 1e-9})
            if best is None or found.fun < best[0].fun:
                best = (found, share)
    found, share = best
    fitted = _timing(found.x, share)
    if not quiet:
        print(f"fit: layer_startup_cycles {fitted.layer_startup_cycles:.1f}, step_overhead_cycles "
              f"{fitted.step_overhead_cycles:.1f}, matrix_step_overhead_cycles "
              f"{fitted.matrix_step_overhead_cycles:.1f}, loop_overhead_cycles {fitted.loop_overhead_cycles:.1f}, "
              f"dram_request_cycles {fitted.dram_request_cycles:.3f}, "
              f"store_block_cycles {fitted.store_block_cycles:.1f}, "
              f"dma_row_cycles {fitted.dma_row_cycles:.3f}, "
              f"dram_efficiency {fitted.dram_efficiency:.3f}, cache share {share:g} (loss {found.fun:.4f})")
    core = replace(fitted, layer_startup_cycles=round(fitted.layer_startup_cycles),
                   step_overhead_cycles=round(fitted.step_overhead_cycles),
                   matrix_step_overhead_cycles=round(fitted.matrix_step_overhead_cycles),
                   loop_overhead_cycles=round(fitted.loop_overhead_cycles),
                   dram_efficiency=round(fitted.dram_efficiency, 2), dma_row_cycles=round(fitted.dma_row_cycles, 2),
                   dram_request_cycles=round(fitted.dram_request_cycles, 2),
                   store_block_cycles=round(fitted.store_block_cycles))
    soc = gemmini_soc(core)

    def simulated(theta: np.ndarray, latency: int) -> HardwareTiming:
        theta = np.clip(theta, -30.0, 30.0)
        return replace(soc, bus_efficiency=float(1 / (1 + np.exp(-theta[0]))),
                       cache_miss_cycles=float(np.exp(theta[1])), memory_miss_cycles=float(np.exp(theta[2])),
                       command_latency_cycles=float(np.exp(theta[3])), store_command_cycles=float(np.exp(theta[4])),
                       dram_request_cycles=float(np.exp(theta[5])), dma_row_cycles=float(np.exp(theta[6])),
                       mesh_latency_cycles=float(latency))

    # the request's two costs refitted here too: on the SoC the bus's time is its read beats (`read_beats`), which
    # carry part of what the first stage's per-request costs stood for
    start = np.array([1.0, np.log(8.0), np.log(8.0), np.log(20.0), np.log(60.0),
                      np.log(max(core.dram_request_cycles, 0.05)), np.log(max(core.dma_row_cycles, 0.05))])
    simplex = np.vstack([start, start + 0.2 * np.eye(len(start))])
    best = None
    for latency in MESH_LATENCY_GRID:
        found = minimize(lambda theta: _loss(simulated(theta, latency), parts, measured),
                         start, method="Nelder-Mead", options={"maxiter": 6000, "xatol": 1e-6, "fatol": 1e-9,
                                                               "initial_simplex": simplex})
        if best is None or found.fun < best[0].fun:
            best = (found, simulated(found.x, latency))
    found, fitted = best
    if not quiet:
        print(f"fit with the L2 simulated: bus_efficiency {fitted.bus_efficiency:.3f}, cache_miss_cycles "
              f"{fitted.cache_miss_cycles:.2f}, memory_miss_cycles {fitted.memory_miss_cycles:.2f}, "
              f"command_latency_cycles {fitted.command_latency_cycles:.1f}, "
              f"store_command_cycles {fitted.store_command_cycles:.1f}, "
              f"dram_request_cycles {fitted.dram_request_cycles:.3f}, dma_row_cycles {fitted.dma_row_cycles:.3f}, "
              f"mesh_latency_cycles {fitted.mesh_latency_cycles:g} (loss {found.fun:.4f})")
    return replace(fitted, bus_efficiency=round(fitted.bus_efficiency, 2),
                   dram_request_cycles=round(fitted.dram_request_cycles, 2),
                   dma_row_cycles=round(fitted.dma_row_cycles, 2),
                   cache_miss_cycles=round(fitted.cache_miss_cycles, 1),
                   memory_miss_cycles=round(fitted.memory_miss_cycles, 1),
                   command_latency_cycles=round(fitted.command_latency_cycles, 1),
                   store_command_cycles=round(fitted.store_command_cycles, 1))


def _dominant(timing: HardwareTiming, parts: dict[str, np.ndarray]) -> np.ndarray:
    """Per row, the term that sets its cycles (its classes of steps summed): the host's issue, the array or the
    transfer."""
    host = parts["steps"] * np.where(parts["matrix"] > 0, timing.matrix_step_overhead_cycles,
                                     timing.step_overhead_cycles)
    simulated = timing.cache is not None
    transfer = timing.transfer(parts["requests"], _bus(timing, parts) if simulated else np.where(
        parts["layer_bytes"] <= timing.cache_bytes, parts["bus_cycles"], parts["dram_cycles"]),
        (not simulated) & (parts["layer_bytes"] <= timing.cache_bytes), parts["store_blocks"],
        parts["misses"] if simulated else None, _memory_misses(timing, parts) if simulated else None,
        *(_commands(timing, parts) if simulated else (None, 1.0)), parts["matrix"] > 0)
    compute = _compute(timing, parts)
    host, transfer, compute = (_by_row(parts, v) for v in (host, transfer, compute))
    accelerator = _by_row(parts, parts["steps"]) * timing.loop_overhead_cycles + np.maximum(compute, transfer)
    return np.where(host >= accelerator, "host issue", np.where(compute >= transfer, "array", "transfer"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="a CSV of DOSA's columns (default: "
                        "../shared/reference/dosa_firesim/firesim_results.csv)")
    parser.add_argument("--array", choices=ARRAYS, default=None,
                        help="the array each row ran on: the CSV's arch.meshX, or the smallest power of two holding "
                             "its spatial factors (default: smallest for the shipped rows, stated otherwise)")
    parser.add_argument("--fit", action="store_true", help="refit the hardware model's constants to the rows")
    parser.add_argument("--holdout", action="store_true", help="fit on half of the layers, report the other half")
    parser.add_argument("--by-kind", action="store_true", help="the bands per layer kind too")
    parser.add_argument("--by-term", action="store_true",
                        help="the bands per dominant term (host issue, array, transfer), all in the L2 or not, too")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes replaying the rows' caches (default: one per core)")
    args = parser.parse_args(argv)
    if not args.rows.is_file():
        parser.error(f"--rows: no file {args.rows} (give DOSA's FireSim CSV)")
    if args.workers < 1:
        parser.error(f"--workers: must be an integer >= 1, got {args.workers}")
    array = args.array or ("smallest" if args.rows.resolve() == DEFAULT_ROWS.resolve() else "stated")
    with open(args.rows, newline="") as f:
        rows = list(csv.DictReader(f))
    t0 = time.perf_counter()
    cases, timeloop, measured, layers, skipped = [], [], [], [], 0
    for i, row in enumerate(rows):
        try:
            dosa = load_dosa_row(row)
            run = dosa_run(row, array)
        except ValueError as error:
            print(f"row {i + 2}: skipped: {error}")
            skipped += 1
            continue
        counts = evaluate_batch(dosa.layer, dosa.accelerator, dosa.mapping)
        if not counts.valid[0] or not dosa.measured_cycles:
            skipped += 1
            continue
        cases.append((run.layer, run.accelerator, run.mapping))
        timeloop.append(float(counts.cycles[0]))
        measured.append(dosa.measured_cycles)
        layers.append(dosa.layer)
    measured, timeloop = np.array(measured), np.array(timeloop)
    parts = _parts(cases, args.workers)
    timing = _fit(parts, measured) if args.fit else gemmini_soc()
    hardware = np.ceil(_total(timing, parts))
    n = len(cases)
    print(f"{n} rows of {len(rows)} ({skipped} skipped) from {args.rows}, in {time.perf_counter() - t0:.1f} s; "
          f"arrays: {array}; hardware timing {timing}")
    if args.holdout:
        shapes = sorted({layer.bounds + layer.coefficients for layer in layers})
        half = np.array([shapes.index(layer.bounds + layer.coefficients) % 2 for layer in layers])
        for train in (0, 1):
            fitted = _fit(_rows(parts, half == train), measured[half == train], quiet=True)
            test = half != train
            k, m, r = _bands(np.ceil(_total(fitted, _rows(parts, test))) / measured[test])
            print(f"  holdout: fit on {int((~test).sum())} rows of {len(shapes[train::2])} layers {fitted}; "
                  f"the other {int(test.sum())} rows ({len(shapes[1 - train::2])} layers): {k}/{int(test.sum())} "
                  f"within x1.2, {m} within x1.5 (median {r:.2f})")
    if args.by_kind:
        kinds = np.array([_kind(layer) for layer in layers])
        for kind in dict.fromkeys(kinds):
            sel = kinds == kind
            k, m, r = _bands(hardware[sel] / measured[sel])
            kt, mt, rt = _bands(timeloop[sel] / measured[sel])
            print(f"  {kind:<16} {sel.sum():>5} rows: hardware {k}/{m} within x1.2/x1.5 (median {r:.2f}); "
                  f"timeloop {kt}/{mt} (median {rt:.2f})")
    if args.by_term:
        terms = _dominant(timing, parts)
        cached = _by_row(parts, parts["misses"]) == 0 if timing.cache is not None \
            else _by_row(parts, (parts["layer_bytes"] <= timing.cache_bytes).astype(float)) > 0
        for term in ("host issue", "array", "transfer"):
            for source, where in (("", np.ones(n, bool)), ("all in the L2", cached), ("missing the L2", ~cached)):
                sel = (terms == term) & where
                if sel.any():
                    ratios = hardware[sel] / measured[sel]
                    k, m, r = _bands(ratios)
                    print(f"  {term:<10} {source:<14} {sel.sum():>5} rows: hardware {k}/{m} within x1.2/x1.5 "
                          f"(median {r:.2f}); outside x1.2: {int((ratios < 1 / 1.2).sum())} under, "
                          f"{int((ratios > 1.2).sum())} over")
    quartiles = statistics.quantiles(hardware / measured, n=4)
    print(f"hardware / RTL quartiles: {quartiles[0]:.2f} {quartiles[1]:.2f} {quartiles[2]:.2f}")
    k, m, r = _bands(hardware / measured)
    kt, mt, _ = _bands(timeloop / measured)
    print(f"rtl cycles: {k}/{n} within x1.2, {m}/{n} within x1.5 (median ratio {r:.2f}); timeloop semantics: "
          f"{kt}/{n}, {mt}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
