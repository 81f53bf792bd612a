"""The `resident` plan with no view searched, compiled: its totals for the subnet search's screen (`screen_totals`)
and its decisions, from which `Resident` builds a trial's plan without planning again (`screen_plan`).

A co-search trial ranks a few hundred subnets on one accelerator by screened plans (`Resident.plan` with no view
searched: every layer runs its layer-wise mapping moved onto the view its residency gives it). Planned in Python
each costs several times its layer-wise run. Here the same greedy (`resident`'s module docstring) runs compiled over
arrays:

- each layer shape's runs in the eight resident sets come from one evaluation of two mappings
  (`screen_prices.price_shapes`, all of a network's new shapes in one compiled call; remembered per accelerator and
  shape), so a context costs an array look-up;
- the greedy over the activations' units in network order, then the weights step, are `_greedy` below, the
  Python planner's steps on numbers (`Resident._greedy` with one candidate per context, `_weights_to_cache`,
  `_traffic`, `plan.charge_plan_traffic`).

The totals equal `Resident.plan(..., search_views=False, count_dram=False)`'s up to the order of floating-point
additions (`tests/cosearch/fusion/test_resident_screen.py`), with one difference: a context in which neither the
moved mapping nor the one with no tile in the home level is valid is taken as not fitting here, where the planner
searches the view.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from accel_models.geometry import accelerator_arrays
from accel_models.jit import DRIVER_STEPS, CompileStep, compile_for

from ..graph import activations
from ..memo import LruMemo, accelerator_memo_key
from ..plan import NoValidMapping, shortcut_reads
from ..pricing import stream_cycles
from ..screen_prices import PriceRows, price_shapes, price_shapes_run
from ..view import CAPACITY_BITS, home_level
from ._gains import weight_gain
from ._units import activation_units, unit_spans

_OBJECTIVES = {"edp": 0, "latency": 1, "energy": 2}


def _no_mapping(layer, accelerator) -> NoValidMapping:
    return NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name}")


class _ShapeTable:
    """Per layer shape: its layer-wise run (cycles, energy), its prices in every resident set
    (`screen_prices.PriceRows`) and its tensors' words (weights as `Layer.param_words` counts them, inputs, outputs),
    as rows of growing arrays."""

    def __init__(self, home: int) -> None:
        self.home = home
        self.rows: dict = {}
        self.size = 0
        self.base_cycles = np.zeros(0, dtype=np.int64)
        self.base_energy = np.zeros(0)
        self.words = np.zeros((0, 3), dtype=np.int64)
        self.prices = PriceRows.empty(0)

    def _reserve(self, n: int) -> None:
        """Room for n more rows."""
        if self.size + n <= len(self.base_cycles):
            return
        size = max(256, 2 * (self.size + n))
        grown = PriceRows.empty(size)
        for old, new in zip(self.prices, grown):
            new[:self.size] = old[:self.size]
        self.prices = grown
        for name in ("base_cycles", "base_energy", "words"):
            old = getattr(self, name)
            new = np.zeros((size,) + old.shape[1:], dtype=old.dtype)
            new[:self.size] = old[:self.size]
            setattr(self, name, new)

    def rows_of(self, layers, accelerator, cache, objective: str) -> np.ndarray:
        """Each layer's row, its shape priced on a miss (all the misses of `layers` in one `price_shapes` call); a
        row is priced again where the cache's result for its shape is no longer the one it was priced from (a
        screened result replaced by the layer's own). Raises `NoValidMapping` at the first layer with no valid
        mapping."""
        first: dict = {}                    # shape key -> its position among the distinct shapes
        keys = [(layer.shape_key, layer.weights_are_activations) for layer in layers]
        distinct = []
        for layer, key in zip(layers, keys):
            if key not in first:
                first[key] = len(distinct)
                distinct.append(layer)
        rows = np.empty(len(first), dtype=np.int64)
        new_layers, new_bases, new_keys, new_at = [], [], [], []
        for j, (layer, base) in enumerate(zip(distinct, cache.results(distinct, accelerator, objective))):
            if base.arrays is None:
                raise _no_mapping(layer, accelerator)
            key = (layer.shape_key, layer.weights_are_activations)
            found = self.rows.get(key)
            if found is not None and found[1] is base:
                rows[j] = found[0]
            else:
                new_layers.append(layer)
                new_bases.append(base)
                new_keys.append(key)
                new_at.append(j)
        if new_layers:
            self._reserve(len(new_layers))
            slots = np.arange(self.size, self.size + len(new_layers), dtype=np.int64)
            price_shapes(new_layers, accelerator, [b.arrays for b in new_bases], self.home, slots, self.prices)
            for layer, slot in zip(new_layers, slots):
                if not self.prices.valid[slot, 0]:
                    raise _no_mapping(layer, accelerator)
            for layer, key, base, slot in zip(new_layers, new_keys, new_bases, slots):
                self.rows[key] = (int(slot), base)
                self.base_cycles[slot], self.base_energy[slot] = int(base.cycles), float(base.energy_pj)
                self.words[slot] = layer.param_words, layer.input_words, layer.output_words
            self.size += len(new_layers)
            rows[new_at] = slots
        return rows[[first[key] for key in keys]]


_TABLES = LruMemo(4)
"""Shape tables per (accelerator, objective), shared by the mapping caches that map on it (a cache and its screened
view: a trial's rescored subnets and its result find the shapes its subnet search priced, where the result is the
same object): a row is priced again where the asking cache's result for its shape is not the one it was priced from
(`_ShapeTable.rows_of`). A trial's subnet search meets one accelerator, and its designs do not recur; a table keeps
its rows' results alive, so few are kept."""


class _Layout(NamedTuple):
    """The part of the greedy's arrays a network's graph alone fixes (`graph.tensor_graph`, `_units`):
    the subnets of a search share a few hundred graphs, whose layer sizes differ."""

    producer_start: np.ndarray    # per tensor, in `activations`' order: its producers ...
    producer: np.ndarray
    tensor_reader_start: np.ndarray   # ... and the layers reading it whole
    tensor_reader: np.ndarray
    position_tensor: np.ndarray   # per (unit, layer of its span, tensor alive there): the tensor ...
    position: np.ndarray          # ... and the position in the units' spans laid end to end
    positions: int
    u_first: np.ndarray
    u_last: np.ndarray
    span_start: np.ndarray
    span_writes: np.ndarray
    reader_start: np.ndarray
    reader: np.ndarray
    produced: np.ndarray
    add_start: np.ndarray
    add_producer: np.ndarray
    add_unit: np.ndarray


def _layout(network, units_on_chip: bool) -> _Layout:
    acts = activations(network)
    units = activation_units(acts) if units_on_chip else ()
    spans = unit_spans(units)
    index = {a.producers: t for t, a in enumerate(acts)}
    n = len(network.layers)
    single = {tensor: u for u, (*_, producers) in enumerate(spans) for tensor in producers if len(tensor) == 1}
    adds = shortcut_reads(network)
    add_start = np.zeros(n + 1, dtype=np.int64)
    add_producer, add_unit = [], []
    for i in range(n):
        for producer, _ in adds.get(i, ()):
            add_producer.append(producer)
            add_unit.append(single.get((producer,), -1))
        add_start[i + 1] = len(add_producer)
    u_first = np.array([span.start for span, *_ in spans], dtype=np.int64)
    u_last = np.array([span.stop - 1 for span, *_ in spans], dtype=np.int64)
    span_start = np.zeros(len(spans) + 1, dtype=np.int64)
    span_start[1:] = np.cumsum(u_last - u_first + 1)
    position_tensor, position = [], []
    for u, unit in enumerate(units):
        for a in unit:
            for k in range(a.first, a.last + 1):
                position_tensor.append(index[a.producers])
                position.append(span_start[u] + k - u_first[u])
    readers = [sorted(r) for _, _, r, _, _ in spans]
    reader_start = np.zeros(len(spans) + 1, dtype=np.int64)
    reader_start[1:] = np.cumsum([len(r) for r in readers])
    produced = np.zeros(n, dtype=np.int64)
    for unit in units:
        for act in unit:
            for p in act.producers:
                produced[p] += 1
    return _Layout(*_csr([a.producers for a in acts]), *_csr([a.readers for a in acts]),
                   np.array(position_tensor, dtype=np.int64),
                   np.array(position, dtype=np.int64), int(span_start[-1]), u_first, u_last, span_start,
                   np.array([w for _, _, _, writes, _ in spans for w in writes], dtype=np.int64), reader_start,
                   np.array([r for rs in readers for r in rs], dtype=np.int64), produced, add_start,
                   np.array(add_producer, dtype=np.int64), np.array(add_unit, dtype=np.int64))


def _csr(groups) -> tuple[np.ndarray, np.ndarray]:
    """Groups of integers as (start, values): group k is values[start[k]:start[k + 1]]."""
    start = np.zeros(len(groups) + 1, dtype=np.int64)
    start[1:] = np.cumsum([len(g) for g in groups])
    return start, np.array([v for g in groups for v in g], dtype=np.int64)


_LAYOUTS = LruMemo(1024)


class ScreenPlan(NamedTuple):
    """The compiled greedy's plan: its totals and its decisions, from which `Resident` builds the plan's runs
    without planning again. `units_chosen` [units, in `_units.activation_units`' order]: the activation units kept on
    chip; `weights_cached` [layers]: the layers whose weights the weights step caches (all False where that step
    kept none or its plan was not better)."""

    cycles: int
    energy_pj: float
    units_chosen: np.ndarray
    weights_cached: np.ndarray


def screen_totals(network, accelerator, cache, objective: str) -> tuple[int, float]:
    """(cycles, energy pJ) of `Resident().plan(network, accelerator, cache, objective, search_views=False,
    count_dram=False)` (module docstring); raises `NoValidMapping` as the plan does (`screen_plan`'s totals)."""
    plan = screen_plan(network, accelerator, cache, objective)
    return plan.cycles, plan.energy_pj


def screen_plan(network, accelerator, cache, objective: str) -> ScreenPlan:
    """The compiled greedy's `ScreenPlan` of `network` (module docstring); raises `NoValidMapping` as the plan does.
    On a chip with no home level (`view.home_level`) the plan is the layer-wise one with the adds' shortcuts read
    from DRAM, and level 1 stands in as the home level of the shapes' prices, of which only the layer-wise run's are
    read."""
    home = home_level(accelerator)
    if home is None and accelerator.num_levels < 2:
        raise ValueError("screen_totals: the accelerator has no on-chip level")
    layers = network.layers
    table = _TABLES.recall((accelerator_memo_key(accelerator), objective),
                           lambda: _ShapeTable(1 if home is None else home))
    rows = table.rows_of(layers, accelerator, cache, objective)
    if home is None:        # nothing can stay on chip: the layer-wise runs, each add's shortcut read from DRAM
        units_on_chip, capacity, keeps_weights = False, 1, False
        block_h, read_h_pj, write_h_pj = 1.0, 0.0, 0.0
    else:
        level = accelerator.levels[home]
        units_on_chip = {"Inputs", "Outputs"} <= set(level.keeps)
        capacity, keeps_weights = level.capacity_words, "Weights" in level.keeps
        block_h, read_h_pj = float(level.block_size_words), float(level.read_energy_pj)
        write_h_pj = float(level.write_energy_pj)
    layout = _LAYOUTS.recall((network.input_sources, network.skips, units_on_chip),
                             lambda: _layout(network, units_on_chip))
    dram = accelerator.levels[0]
    prices = table.prices
    cycles, energy, chosen, cached = _greedy(
        rows, table.base_cycles, table.base_energy, prices.valid, prices.cycles, prices.energy, prices.tiles,
        prices.read, prices.written, prices.compute, table.words, layout.producer_start, layout.producer,
        layout.tensor_reader_start, layout.tensor_reader, layout.position_tensor, layout.position,
        layout.add_start, layout.add_producer, layout.add_unit, layout.u_first, layout.u_last,
        layout.span_start, layout.span_writes, layout.reader_start, layout.reader, layout.produced,
        capacity, keeps_weights, _OBJECTIVES[objective], float(dram.block_size_words), float(dram.read_energy_pj),
        accelerator_arrays(accelerator).bandwidth[0], block_h, read_h_pj, write_h_pj)
    return ScreenPlan(int(cycles), float(energy), chosen, cached)


@njit(cache=True)
def _rounded(words):
    """`view.rounded_capacity`."""
    if words <= 0:
        return 0
    drop = 0
    bits = 0
    w = words
    while w:
        bits += 1
        w >>= 1
    if bits > CAPACITY_BITS:
        drop = bits - CAPACITY_BITS
    return (words >> drop) << drop


@njit(cache=True)
def _summed(cycles, energy, first, stop):
    """(cycles, energy) of runs `first` to `stop` - 1, summed in layer order (the Python planner's order)."""
    c = 0
    e = 0.0
    for i in range(first, stop):
        c += cycles[i]
        e += energy[i]
    return c, e


@njit(cache=True)
def _objective(cycles, energy, code):
    if code == 0:
        return energy * cycles
    if code == 1:
        return float(cycles)
    return energy


@njit(cache=True)
def _span_words(rows, words, producer_start, producer, tensor_reader_start, tensor_reader, position_tensor,
                position, positions):
    """Per position of the units' spans laid end to end, the words the unit holds there: the sum over the tensors
    alive there (`position_tensor`, `position`) of each tensor's words (`graph.tensor_words`: its producers' outputs
    side by side or its largest reader's input, from each layer's shape row `rows` of `words`)."""
    tensor = np.zeros(producer_start.shape[0] - 1, dtype=np.int64)
    for t in range(tensor.shape[0]):
        w = 0
        for j in range(producer_start[t], producer_start[t + 1]):
            w += words[rows[producer[j]], 2]
        for j in range(tensor_reader_start[t], tensor_reader_start[t + 1]):
            w = max(w, words[rows[tensor_reader[j]], 1])
        tensor[t] = w
    span = np.zeros(positions, dtype=np.int64)
    for j in range(position.shape[0]):
        span[position[j]] += tensor[position_tensor[j]]
    return span


@njit(cache=True)
def _greedy(rows, base_cycles, base_energy, valid, t_cycles, t_energy, t_tiles, t_read, t_written, t_compute,
            words, producer_start, producer, tensor_reader_start, tensor_reader, position_tensor, position,
            add_start, add_producer, add_unit, u_first, u_last, span_start, span_writes, reader_start, reader,
            produced, capacity, keeps_weights, code, block0, read0_pj, bw0, block_h, read_h_pj, write_h_pj):
    """(cycles, energy pJ) of the resident plan (module docstring) of a network of `rows.shape[0]` layers: per layer
    its shape's row in the shape table (`_ShapeTable`'s arrays, `words` its tensors' words), the shortcuts it adds
    (`add_*`: their producers, and the unit whose activation they are, -1 none); per tensor its producers and
    readers (`producer*`, `tensor_reader*`) and where it is alive in the units' spans (`position*`); per unit
    (`u_*`, `span_*`, `reader*`) the layers it lives through, its writes at each, the layers reading it; `produced`:
    the tensors each layer writes; the home level's capacity, whether it keeps weights, the objective
    (`_OBJECTIVES`), and the block sizes, energies and bandwidth the plan's extra traffic is charged at
    (`plan.charge_plan_traffic`). Also returns the decisions (`ScreenPlan`): the units chosen, and the layers whose
    weights are cached."""
    n = rows.shape[0]
    U = u_first.shape[0]
    params = np.empty(n, dtype=np.int64)
    out_words = np.empty(n, dtype=np.int64)
    for i in range(n):
        params[i] = words[rows[i], 0]
        out_words[i] = words[rows[i], 2]
    add_words = np.empty(add_producer.shape[0], dtype=np.int64)
    for k in range(add_producer.shape[0]):
        add_words[k] = out_words[add_producer[k]]
    span_words = _span_words(rows, words, producer_start, producer, tensor_reader_start, tensor_reader,
                             position_tensor, position, span_start[U])
    run_c = np.zeros(n, dtype=np.int64)     # each layer's run in the plan so far: cycles, energy
    run_e = np.zeros(n)
    chosen = np.zeros(U, dtype=np.bool_)
    for i in range(n):
        _, c, e = _context_run(i, 0, capacity, capacity, -1, 0, rows, base_cycles, base_energy, valid,
                                t_cycles, t_energy, t_tiles, t_read, t_written, t_compute, params, out_words,
                                add_start, add_words, add_unit, chosen, block0, read0_pj, bw0, block_h, read_h_pj,
                                write_h_pj)
        run_c[i] = c
        run_e[i] = e
    c0, e0 = _summed(run_c, run_e, 0, n)
    per_cycle = _objective(1, e0, code) - _objective(0, e0, code)
    per_pj = _objective(c0, 1.0, code) - _objective(c0, 0.0, code)
    free = np.full(n, capacity, dtype=np.int64)
    reads = np.zeros(n, dtype=np.bool_)
    kept = np.zeros(n, dtype=np.int64)
    trial_c = np.zeros(n, dtype=np.int64)
    trial_e = np.zeros(n)
    for u in range(U):
        first, last = u_first[u], u_last[u]
        offset = span_start[u]
        fits = True
        for k in range(last - first + 1):
            if free[first + k] - span_words[offset + k] < 1:
                fits = False
        if not fits:
            continue
        is_reader = np.zeros(last - first + 1, dtype=np.bool_)
        for j in range(reader_start[u], reader_start[u + 1]):
            is_reader[reader[j] - first] = True
        ok = True
        for k in range(last - first + 1):
            i = first + k
            writing = kept[i] + span_writes[offset + k] == produced[i] and produced[i] > 0
            mask = (2 if reads[i] or is_reader[k] else 0) + (4 if writing else 0)
            copies = kept[i] + span_writes[offset + k] if writing else 0
            good, c, e = _context_run(i, mask, free[i] - span_words[offset + k], capacity, u, copies, rows,
                                      base_cycles, base_energy, valid, t_cycles, t_energy, t_tiles, t_read,
                                      t_written, t_compute, params, out_words, add_start, add_words, add_unit,
                                      chosen, block0, read0_pj, bw0, block_h, read_h_pj, write_h_pj)
            if not good:
                ok = False
                break
            trial_c[i] = c
            trial_e[i] = e
        if not ok:
            continue
        tc, te = _summed(trial_c, trial_e, first, last + 1)
        cc, ce = _summed(run_c, run_e, first, last + 1)
        if per_cycle * tc + per_pj * te <= per_cycle * cc + per_pj * ce:
            chosen[u] = True
            for k in range(last - first + 1):
                i = first + k
                run_c[i] = trial_c[i]
                run_e[i] = trial_e[i]
                free[i] -= span_words[offset + k]
                kept[i] += span_writes[offset + k]
            for j in range(reader_start[u], reader_start[u + 1]):
                reads[reader[j]] = True
    taken = np.zeros(n, dtype=np.bool_)
    total_weights = 0
    for i in range(n):
        total_weights += params[i]
    if keeps_weights and total_weights:
        room = free.min() - 1
        cached = np.zeros(n, dtype=np.bool_)
        if total_weights <= room:
            for i in range(n):
                cached[i] = params[i] > 0
        else:
            gains = np.full(n, -1.0)
            for i in range(n):
                if params[i] and params[i] <= room:
                    writing = kept[i] == produced[i] and produced[i] > 0
                    mask = 1 + (2 if reads[i] else 0) + (4 if writing else 0)
                    good, c, e = _context_run(i, mask, free[i] - room, capacity, -1, kept[i] if writing else 0,
                                              rows, base_cycles, base_energy, valid, t_cycles, t_energy, t_tiles,
                                              t_read, t_written, t_compute, params, out_words, add_start, add_words,
                                              add_unit, chosen, block0, read0_pj, bw0, block_h, read_h_pj,
                                              write_h_pj)
                    now = per_cycle * run_c[i] + per_pj * run_e[i]
                    with_weights = per_cycle * c + per_pj * e
                    if good and with_weights < now:
                        gains[i] = weight_gain(now - with_weights, params[i])
            order = np.argsort(-gains, kind="mergesort")     # by gain per word, ties by layer
            words = 0
            for i in order:
                if gains[i] < 0:
                    break
                if words + params[i] <= room:
                    cached[i] = True
                    words += params[i]
        words = 0
        for i in range(n):
            if cached[i]:
                words += params[i]
        if words:
            ok = True
            for i in range(n):
                writing = kept[i] == produced[i] and produced[i] > 0
                mask = (1 if cached[i] and params[i] else 0) + (2 if reads[i] else 0) + (4 if writing else 0)
                good, c, e = _context_run(i, mask, free[i] - words, capacity, -1, kept[i] if writing else 0,
                                          rows, base_cycles, base_energy, valid, t_cycles, t_energy, t_tiles,
                                          t_read, t_written, t_compute, params, out_words, add_start, add_words,
                                          add_unit, chosen, block0, read0_pj, bw0, block_h, read_h_pj, write_h_pj)
                if not good:
                    ok = False
                    break
                trial_c[i] = c
                trial_e[i] = e
            if ok:
                tc, te = _summed(trial_c, trial_e, 0, n)
                cc, ce = _summed(run_c, run_e, 0, n)
                if _objective(tc, te, code) <= _objective(cc, ce, code):
                    run_c[:] = trial_c
                    run_e[:] = trial_e
                    for i in range(n):
                        taken[i] = cached[i] and params[i] > 0
    c, e = _summed(run_c, run_e, 0, n)
    return c, e, chosen, taken


@njit(cache=True)
def _context_run(i, mask, left, capacity, unit, copies, rows, base_cycles, base_energy, valid, t_cycles,
                 t_energy, t_tiles, t_read, t_written, t_compute, params, out_words, add_start, add_words, add_unit,
                 chosen, block0, read0_pj, bw0, block_h, read_h_pj, write_h_pj):
    """Layer i's run with the resident tensors of `mask` (bit 0 Weights, 1 Inputs, 2 Outputs) and `left` words
    free in the home level, its shortcuts read on chip where their unit is chosen or is `unit` (the one being
    tried), writing its output `copies` times on chip: (valid, cycles, energy pJ)."""
    if left < 1:
        return False, 0, 0.0
    s = rows[i]
    m = -1
    if mask == 0 and left == capacity:
        c = base_cycles[s]
        e = base_energy[s]
        m = 0
    else:
        if t_tiles[s, mask] <= _rounded(left):
            m = 0
        elif valid[s, 1]:
            m = 1
        else:
            return False, 0, 0.0
        c = t_cycles[s, m, mask]
        e = t_energy[s, m, mask]
    dram = 0
    chip = 0
    for k in range(add_start[i], add_start[i + 1]):
        u = add_unit[k]
        if u >= 0 and (chosen[u] or u == unit):
            chip += add_words[k]
        else:
            dram += add_words[k]
    written = (copies - 1) * out_words[i] if copies > 1 else 0
    if dram == 0 and chip == 0 and written == 0:
        return True, c, e
    dram_pj = math.ceil(dram / block0) * read0_pj
    if chip or written:
        e = e + (dram_pj + (math.ceil(chip / block_h) * read_h_pj + math.ceil(written / block_h) * write_h_pj))
    else:
        e = e + (dram_pj + (0.0 + 0.0))
    if dram:
        mm = 0 if mask == 0 and left == capacity else mask
        dc = stream_cycles(bw0, t_read[s, m, mm], t_written[s, m, mm], float(dram), t_compute[s])
        if dc > c:
            c = dc
    return True, c, e


def compile_steps() -> list:
    """The compiled planner as steps of a cold start's compile plan (`accel_models.jit.CompileStep`: the
    warm-up's and a first run's), compiled for the argument types `screen_totals` passes: the greedy (~10 s of CPU on
    one core), the shapes' prices (~3 s: it links the kernel's driver, after that driver's steps) and the weights
    step's gain as the Python planner calls it."""
    i64, f64 = np.zeros(1, dtype=np.int64), np.zeros(1)
    greedy = compile_for(_greedy, i64, i64, f64, np.zeros((1, 2), dtype=np.bool_),
                         np.zeros((1, 2, 8), dtype=np.int64), np.zeros((1, 2, 8)), np.zeros((1, 8), dtype=np.int64),
                         np.zeros((1, 2, 8, 3)), np.zeros((1, 2, 8, 3)), i64, np.zeros((1, 3), dtype=np.int64),
                         *[i64] * 16, 1, True, 0, 1.0, 1.0, np.zeros(3), 1.0, 1.0, 1.0)
    return [CompileStep("resident screen planner", greedy), CompileStep("resident screen prices", price_shapes_run(),
                        DRIVER_STEPS + ("evaluate_range",)),
            CompileStep("resident weight gain", compile_for(weight_gain, 1.0, 1))]


__all__ = ["ScreenPlan", "compile_steps", "screen_plan", "screen_totals"]
