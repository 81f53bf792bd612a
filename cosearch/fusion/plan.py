"""What a fusion mode decides for a network on an accelerator: how each layer runs, and the totals."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import OrderedDict
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accel_models import Accelerator, EvalResult, explain, explain_rehomed
from accel_models.geometry import accelerator_arrays
from mappings import MapperResult, MapperSettings, MappingCache, accelerator_key
from nets import Layer, Network

from .graph import Activation
from .pricing import bandwidth_cycles
from .view import Residency, home_level


class NoValidMapping(RuntimeError):
    """The mapper found no mapping of a layer that fits the accelerator (or the view a plan gives it)."""


@dataclass(frozen=True)
class PlanTraffic:
    """Words a layer's run moves besides what its mapping moves, charged by the plan (`charge_plan_traffic`): its
    residual adds' reads of their shortcut operands, from DRAM or from the home level where the shortcut lives, and
    the writes of its output into each further tensor on chip it is part of (a layer read alone and as a slice of a
    concatenation, both on chip, writes its output twice)."""

    dram_read_words: int = 0
    chip_read_words: int = 0
    chip_written_words: int = 0

    def __bool__(self) -> bool:
        return bool(self.dram_read_words or self.chip_read_words or self.chip_written_words)


NO_TRAFFIC = PlanTraffic()


@dataclass(frozen=True)
class LayerRun:
    """One layer of the network as the plan runs it: its best mapping on the accelerator it sees (`result`, whose
    cycles and energy are the chip's), how its tensors live (`residency`: None = every tensor from DRAM) and the
    words it reads from and writes to DRAM."""

    layer: Layer
    result: MapperResult
    residency: Residency | None
    dram_words: float
    parts: tuple[tuple["LayerRun", int], ...] = ()
    """A layer a depth-first group runs tile by tile: its tiles' runs (each a layer with the tile's rows) and how
    many tiles run each; `result` is then the most frequent tile's, with the layer's total cycles and energy."""
    traffic: PlanTraffic = NO_TRAFFIC
    """What the plan charges the run besides its mapping's traffic (included in `result` and `dram_words`)."""


@dataclass(frozen=True)
class NetworkPlan:
    """Every layer's run, in network order, under fusion mode `mode`; `pinned_weight_words`: weights that stay on
    chip across inferences (loaded once, not charged per inference); `activations`: those that live on chip;
    `notes`: why the plan is what it is."""

    mode: str
    runs: tuple[LayerRun, ...]
    pinned_weight_words: int = 0
    activations: tuple[Activation, ...] = ()
    notes: tuple[str, ...] = field(default=())
    tiling: tuple[dict, ...] = ()
    """Depth-first groups: per group its first and last layer, tile rows, halo mode, tiles, whether its weights stay
    on chip, and its intermediate rows' peak words (empty: no layer is tiled)."""
    baseline: "NetworkPlan | None" = field(default=None, compare=False, repr=False)
    """The layer-wise plan this one was planned against (what a summary compares its DRAM traffic with), if any."""

    def occupancy_words(self, index: int) -> int:
        """Words in the home level while layer `index` runs, counted from the plan afresh: the pinned weights, every
        resident activation alive then, and the tiles the layer's mapping keeps there (0 for a layer-wise run)."""
        run = self.runs[index]
        home = run.residency.home if run.residency is not None else home_level(run.result.accelerator)
        if home is None:
            return 0
        tiles = explain(run.layer, run.result.accelerator, run.result.arrays).tile_words[home]
        return self.held_words(index) + int(sum(max(0, t) for t in tiles))

    def held_words(self, index: int) -> int:
        """Words the plan keeps in the home level while layer `index` runs, besides its mapping's tiles: the pinned
        weights and every resident activation alive then."""
        return self.pinned_weight_words + sum(a.words for a in self.activations if a.alive_at(index))

    @property
    def cycles(self) -> int:
        return sum(r.result.cycles for r in self.runs)

    @property
    def energy_pj(self) -> float:
        return sum(r.result.energy_pj for r in self.runs)

    @property
    def dram_words(self) -> float:
        return sum(r.dram_words for r in self.runs)


    def with_dram_shortcuts(self, network: Network, accelerator: Accelerator) -> "NetworkPlan":
        """This plan with every residual add's shortcut read from DRAM charged to its adder (`charge_plan_traffic`):
        a plan that keeps no shortcut on chip (layer-wise, depth-first groups, which end at a shortcut's source)."""
        reads = shortcut_reads(network)
        if not reads:
            return self
        runs = tuple(charge_plan_traffic(run, accelerator, None, PlanTraffic(sum(w for _, w in reads[i])))
                     if i in reads else run for i, run in enumerate(self.runs))
        return dataclasses.replace(self, runs=runs)

    def groups(self) -> list[tuple[int, int]]:
        """(first, last) layer indices of each group: consecutive layers joined by an activation on chip that both
        write, read or add (a layer alone is a group of one)."""
        if self.tiling:
            return [(g["first"], g["last"]) for g in self.tiling]
        joined = {i for a in self.activations for i in range(a.first, a.last) if a.touches(i) and a.touches(i + 1)}
        found, start = [], 0
        for i in range(len(self.runs)):
            if i not in joined:
                found.append((start, i))
                start = i + 1
        return found


def explain_run(layer: Layer, accelerator: Accelerator, arrays, residency: Residency | None,
                parts: tuple = ()) -> EvalResult:
    """The readable evaluation (`accel_models.explain`) of a layer's run on the chip: its mapping `arrays` (on the
    view `residency` gives, if any) with the resident tensors' accesses at their home level; for a layer run tile by
    tile (`parts`: (LayerRun, tiles) pairs), the sum of its tiles' evaluations (counts, energies and cycles add up;
    tiles and instances are the largest tile's)."""
    if parts:
        evs = [(explain_run(p.layer, accelerator, p.result.arrays, p.residency), n) for p, n in parts]
        base = max(evs, key=lambda e: e[0].macs)[0]
        total = {name: sum(getattr(ev, name) * n for ev, n in evs)
                 for name in ("cycles", "compute_cycles", "energy_pj", "mac_energy_pj", "reads", "fills", "updates",
                              "level_energy_pj", "tensor_energy_pj", "level_cycles", "link_transfers",
                              "level_leak_pj")}
        return dataclasses.replace(base, macs=layer.macs, utilization=layer.macs / (
            accelerator.num_macs * total["cycles"]), **total)
    if residency is None:
        return explain(layer, accelerator, arrays)
    return explain_rehomed(layer, accelerator, residency.view(accelerator), arrays, residency.home,
                           residency.resident)


_ABSENT = object()


class _LruMemo(OrderedDict):
    """Values remembered by key in this process, at most `kept` of them, the least recently used dropped first: the
    one memo rule of this module (priced runs, view searches, view search settings). A plain `OrderedDict` besides,
    oldest first, so `len` and `clear` work as on a dict."""

    def __init__(self, kept: int) -> None:
        super().__init__()
        self.kept = kept

    def recall(self, key, compute):
        """The value remembered under `key`, now the most recently used; else `compute()`'s, remembered (a None
        result too: it is not computed again)."""
        hit = self.get(key, _ABSENT)
        if hit is _ABSENT:
            return self.remember(key, compute())
        self.move_to_end(key)
        return hit

    def remember(self, key, value):
        """`value` remembered under `key` as the most recently used, the least recently used dropped past `kept`;
        returns `value`."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.kept:
            self.popitem(last=False)
        return value


PRICED_KEPT = 1 << 15
"""Priced layer runs, and view searches, remembered (per process)."""
_PRICED = _LruMemo(PRICED_KEPT)


def _mapping_bytes(arrays) -> bytes:
    """A mapping's arrays as one bytes string: what a remembered pricing of it is keyed by (a shape's best mapping
    depends on the mapper's settings and warm starts, so the shape alone does not name it)."""
    return b"".join(a.tobytes() for a in arrays)


@lru_cache(maxsize=64)
def _key(accelerator: Accelerator) -> str:
    return accelerator_key(accelerator)


def layer_runs(layer: Layer, accelerator: Accelerator, cache: MappingCache, objective: str,
               residency: Residency | None = None, search_view: bool | MapperSettings = False,
               count_dram: bool = True) -> tuple[LayerRun, ...]:
    """The candidate runs of `layer` on the view `residency` gives (on `accelerator` itself if None), each priced on
    the chip: which one a plan keeps is `choose_run`'s rule. Raises `NoValidMapping` when there is none.

    Without a residency: the layer-wise best mapping, alone. With one: the layer-wise best mapping moved onto the
    view (`Residency.transplanted`), first, if it fits the view's free capacity; and the mapper's search of the view
    itself, where the moved mapping does not fit or always with `search_view`. A view search starts from the moved
    mapping (its genes are the search's first seed), searches for the mapper `objective` of the layer alone (its
    fitness: a search is shared by every plan that meets the view, whatever the plan's totals), and runs with
    `cache`'s settings, or with `search_view`'s when it is a `MapperSettings` (a cheaper budget: a subnet search
    meets thousands of views). Searching no view maps each shape once, as the layer-wise model does,
    but the moved mapping was chosen for tensors in DRAM: on a chip that keeps a whole network on chip it can be
    several times slower than the view's own best (docs/fusion.md). `count_dram=False`: a layer-wise run's DRAM
    words are left at 0 rather than counted (a readable evaluation per shape: the searches' scores do not need
    them)."""
    base = cache.best_mapping(layer, accelerator, objective)
    if residency is None:
        if not base.valid:
            raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name}")

        def compute():
            ev = explain(layer, accelerator, base.arrays)
            return int(base.cycles), float(base.energy_pj), float(ev.reads[0].sum() + ev.updates[0].sum())
        if not count_dram:
            return (LayerRun(layer, base, None, 0.0),)
        key = (_key(accelerator), layer.shape_key, None, _mapping_bytes(base.arrays))
        return (LayerRun(layer, base, None, _PRICED.recall(key, compute)[2]),)
    view = residency.view(accelerator)
    moved = None if base.arrays is None else residency.transplanted(base.arrays)
    found = [run for run in (_priced_run(base, moved, layer, accelerator, view, residency),) if run is not None]
    if not found or search_view:
        settings = search_view if isinstance(search_view, MapperSettings) else cache.settings
        searched = _view_search(layer, residency.searched_view(accelerator), settings, objective, moved)
        run = _priced_run(searched, searched.arrays, layer, accelerator, view, residency)
        if run is not None:
            found.append(run)
    if not found:
        raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name} with "
                             f"{', '.join(residency.names) or 'no tensor'} on chip and {residency.free_words} words "
                             "free")
    return tuple(found)


def choose_run(runs, objective: str, linear: "LinearObjective | None" = None) -> LayerRun:
    """The rule by which a plan keeps one of a layer's candidate runs (`layer_runs`): the least by the NETWORK's
    objective linearised around the plan's totals (`linear`; a layer's lower EDP that trades cycles for energy can
    raise the network's, which is total energy x total cycles), or, with no plan at hand, by the layer's own
    `objective`. Ties go to the first (the moved layer-wise mapping)."""
    if len(runs) == 1:
        return runs[0]
    if linear is None:
        return min(runs, key=lambda r: network_objective(r.result.cycles, r.result.energy_pj, objective))
    return min(runs, key=linear.of_run)


REFINE_ROUNDS = 4
"""Most rounds of `choose_runs`'s re-linearisation (each lowers the network objective or ends it)."""


def choose_runs(options, objective: str, linear: "LinearObjective | None" = None) -> list[LayerRun]:
    """A whole plan's runs from each layer's candidates (`options`, in network order, the moved mapping first):
    `choose_run` by `linear` (the planner's linearisation), or every layer's first candidate if that scores better by
    the network `objective`; then, while it lowers the network objective, `choose_run` again linearised around the
    choice's own totals (a lower linear score there never raises the network's EDP: `LinearObjective`). So a plan
    is never worse, by the network's objective, than the same plan on the moved mappings."""
    runs = [choose_run(o, objective, linear) for o in options]
    if all(len(o) == 1 for o in options):
        return runs

    def total(chosen) -> float:
        return network_objective(sum(r.result.cycles for r in chosen), sum(r.result.energy_pj for r in chosen),
                                 objective)
    first = [o[0] for o in options]
    best, value = min(((runs, total(runs)), (first, total(first))), key=lambda pair: pair[1])
    for _ in range(REFINE_ROUNDS):
        around = LinearObjective(sum(r.result.cycles for r in best), sum(r.result.energy_pj for r in best), objective)
        again = [choose_run(o, objective, around) for o in options]
        if total(again) >= value:
            break
        best, value = again, total(again)
    return best


def layer_run(layer: Layer, accelerator: Accelerator, cache: MappingCache, objective: str,
              residency: Residency | None = None, search_view: bool | MapperSettings = False,
              count_dram: bool = True, linear: "LinearObjective | None" = None) -> LayerRun:
    """`layer`'s run as a plan keeps it: `choose_run` of its `layer_runs` (same arguments); raises
    `NoValidMapping`."""
    return choose_run(layer_runs(layer, accelerator, cache, objective, residency, search_view, count_dram),
                      objective, linear)


def charge_plan_traffic(run: LayerRun, accelerator: Accelerator, home: int | None, traffic: PlanTraffic) -> LayerRun:
    """`run` with `traffic` (words its mapping does not move: `PlanTraffic`) charged where the model charges any
    traffic: DRAM reads at level 0's read energy per block (R8), and in cycles by R7's overlap rule, as one more
    tensor DRAM reads while the layer runs (`_cycles_with_dram_reads`: the DRAM level's read rate grows, its
    slow-down is recomputed, and the run takes the slowest level's cycles; a layer bound elsewhere hides the stream).
    A layer run tile by tile (`parts`), or a run with no mapping to rate (a stand-in for the per-layer model), has
    no one rate: the stream's cycles at DRAM's read bandwidth are added (at most that many over). Home-level reads and writes at the home level's read and write energies per block;
    on-chip words cost no cycles here (the home level's bandwidth is rarely the bound, and the stream's share of it
    is not modelled)."""
    if not traffic:
        return run
    dram = accelerator.levels[0]
    energy = math.ceil(traffic.dram_read_words / dram.block_size_words) * dram.read_energy_pj
    cycles = run.result.cycles
    if traffic.dram_read_words and (run.parts or getattr(run.result, "arrays", None) is None):
        bandwidth = dram.read_bandwidth if dram.read_bandwidth is not None else dram.shared_bandwidth
        cycles += 0 if bandwidth is None else math.ceil(traffic.dram_read_words / bandwidth)
    elif traffic.dram_read_words:
        key = (_key(accelerator), run.layer.shape_key, None if run.residency is None else
               (run.residency.home, run.residency.resident), _mapping_bytes(run.result.arrays),
               "dram reads", traffic.dram_read_words)
        cycles = max(cycles, _PRICED.recall(key, lambda: _cycles_with_dram_reads(run, accelerator,
                                                                                 traffic.dram_read_words)))
    if traffic.chip_read_words or traffic.chip_written_words:
        level = accelerator.levels[home]
        energy += math.ceil(traffic.chip_read_words / level.block_size_words) * level.read_energy_pj \
            + math.ceil(traffic.chip_written_words / level.block_size_words) * level.write_energy_pj
    result = dataclasses.replace(run.result, cycles=cycles, energy_pj=run.result.energy_pj + energy)
    return dataclasses.replace(run, result=result, dram_words=run.dram_words + traffic.dram_read_words,
                               traffic=traffic)


def _cycles_with_dram_reads(run: LayerRun, accelerator: Accelerator, words: float) -> int:
    """R7 (`pricing.bandwidth_cycles`) for `run` with `words` more read from DRAM (level 0, one instance) while it
    runs: the extra words are one more read stream after level 0's tensors (`explain_run`'s counts); the run takes
    the most of level 0's cycles so recomputed and every level's own (`explain_run`'s cycles)."""
    ev = explain_run(run.layer, accelerator, run.result.arrays, run.residency)
    reads = np.append(ev.reads[0], float(words))
    written = np.append(ev.fills[0] + ev.updates[0], 0.0)
    dram = bandwidth_cycles(reads, written, accelerator_arrays(accelerator).bandwidth[0], ev.compute_cycles)
    return max(int(ev.cycles), int(dram))


def shortcut_reads(network: Network) -> dict[int, tuple[tuple[int, int], ...]]:
    """Per layer that adds residual shortcuts (`Network.skips`), its (producer, words read) pairs: the add reads the
    producer's whole output once."""
    found: dict[int, list] = {}
    for producer, consumer in network.skips:
        if producer >= 0:
            found.setdefault(consumer, []).append((producer, network.layers[producer].output_words))
    return {i: tuple(pairs) for i, pairs in found.items()}


VIEW_SEARCH_EVALS = {"latency": 32, "edp": 128, "energy": 128}
"""Evaluations of a view search in the searches (the fixed-device network search and the co-search's trials), by
the mapper objective: their inner mapper's settings with this budget (`view_search_settings`). Seeded with the
layer-wise mapping moved onto the view, measured against 256 (`benchmarks/bench_view_search.py`: 12 ofa-mbv3
subnets on each of edge_tpu_like, nvdla_1024 and three 5 mm2 co-searched designs): at the latency objective 32 evaluations are within x1.0015 of 256's figure on every subnet; at EDP
32 stay up to x1.16 above it (median x1.037 on a 130 KB design), 128 within x1.083 (median within x1.014) at
1.6-2.4x the CPU of 32 for the plans of new subnets; at the energy objective 32 stay up to x1.071 above, 128 within
x1.031."""

_VIEW_SETTINGS = _LruMemo(64)
"""(id of a mapper's settings, objective) -> (those settings, their view search settings)."""


def view_search_settings(mapper: MapperSettings, objective: str) -> MapperSettings:
    """How a search (the fixed-device search, a co-search trial) searches the views its plans meet for the mapper
    `objective`: `mapper`'s strategy, seed, bypass and factors with a budget of `VIEW_SEARCH_EVALS[objective]`
    evaluations and no time limit. The same object for the same `mapper` object and objective, so that the view
    searches' memo (`_view_search`, keyed by the settings' identity too) is shared by every plan of a search."""
    if objective not in VIEW_SEARCH_EVALS:
        raise ValueError(f"view_search_settings: objective must be one of {', '.join(VIEW_SEARCH_EVALS)}, got "
                         f"{objective!r}")

    def derived():
        return mapper, dataclasses.replace(mapper, budget_evals=VIEW_SEARCH_EVALS[objective], time_limit_s=None)
    key = (id(mapper), objective)
    hit = _VIEW_SETTINGS.recall(key, derived)
    if hit[0] is not mapper:        # the id of settings freed since, now another object's
        hit = _VIEW_SETTINGS.remember(key, derived())
    return hit[1]


class ViewSearchFile:
    """The view searches made with one `MapperSettings` object (`keep_view_searches`), saved as JSON lines in `path`
    (one per search: the view, layer shape, objective and seed mapping as a digest, and the search's result) and read
    back by a later run with the same settings, which then prices the saved mappings instead of searching again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict] = {}
        self.new: list[str] = []
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row["key"]] = row["result"]
                except (ValueError, KeyError, TypeError):
                    continue        # a damaged line: that view is searched again
        self.loaded = len(self.rows)

    def save(self) -> None:
        """Append the searches made since the file was read or last saved (a line cut short by an interruption is
        skipped when the file is read, and that view searched again)."""
        if not self.new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(line + "\n" for line in self.new)
        with self.path.open("a+b") as f:
            if f.tell() > 0:                # end a line cut short, so that only it is lost
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    text = "\n" + text
            f.write(text.encode())
        self.new.clear()

    def _get(self, key: str, layer: Layer, view: Accelerator) -> MapperResult | None:
        row = self.rows.get(key)
        return None if row is None else MapperResult.from_dict(row, layer, view)

    def _put(self, key: str, result: MapperResult) -> None:
        row = self.rows[key] = {**result.to_dict(), "history": []}     # the mapping and its figures, not the path
        self.new.append(json.dumps({"key": key, "result": row}))


_FILES: dict[int, tuple[MapperSettings, ViewSearchFile]] = {}


def keep_view_searches(settings: MapperSettings, path: Path) -> ViewSearchFile:
    """The file of the view searches made with `settings` (this object): searches saved there are read instead of
    run, new ones added to it (written by its `save`)."""
    file = ViewSearchFile(path)
    _FILES[id(settings)] = (settings, file)
    return file


_SEARCHED = _LruMemo(PRICED_KEPT)


def _view_search(layer: Layer, view: Accelerator, settings: MapperSettings, objective: str,
                 start) -> MapperResult:
    """The mapper's best mapping of `layer` on a view with `settings`, seeded with the mapping `start` (MappingArrays
    on the view, or None), remembered here rather than in a `MappingCache`: a cache's tables keep the most recent
    accelerators only, and views, one per capacity a plan leaves a layer, would push the accelerator's own table
    out."""
    seed = b"" if start is None else _mapping_bytes(start)
    key = (_key(view), layer.shape_key, objective, id(settings), settings, seed)

    def search() -> MapperResult:
        kept = _FILES.get(id(settings))
        file = kept[1] if kept is not None and kept[0] is settings else None
        found = saved = None
        if file is not None:
            saved = hashlib.sha1(repr((key[0], key[1], objective)).encode() + seed).hexdigest()
            found = file._get(saved, layer, view)
        if found is None:
            enc = settings.encoding(layer, view)
            found = settings.search(enc, objective, None if start is None else enc.encode(start)[None])
            if file is not None:
                file._put(saved, found)
        return found
    return _SEARCHED.recall(key, search)


def _priced_run(result: MapperResult, arrays, layer, accelerator, view, residency) -> LayerRun | None:
    """`arrays` (a mapping of `layer` on `view`, found as `result`) as a run priced on the chip; None if absent or if
    its tiles in the home level do not fit the residency's free capacity."""
    if arrays is None:
        return None
    key = (_key(accelerator), layer.shape_key, residency.home, residency.resident, _mapping_bytes(arrays))
    priced = _PRICED.recall(key, lambda: residency.priced(layer, accelerator, arrays))
    if priced is None or priced[3] > residency.free_words:
        return None
    cycles, energy, dram, _ = priced
    return LayerRun(layer, dataclasses.replace(result, layer=layer, arrays=arrays, cycles=cycles, energy_pj=energy,
                                               accelerator=view), residency, dram)


def network_objective(cycles: float, energy_pj: float, objective: str) -> float:
    """The value of a mapper objective for a run: EDP (pJ x cycles), latency (cycles) or energy (pJ)."""
    return {"edp": energy_pj * cycles, "latency": cycles, "energy": energy_pj}[objective]


class LinearObjective:
    """The mapper objective's first-order part around a plan's totals (cycles0, energy0_pj): a x cycles + b x
    energy, with a and b its slopes there (EDP: E0 and C0; latency: 1 and 0; energy: 0 and 1). Additive over layers
    and groups; a change that lowers it at the totals it was taken around never raises the network's EDP (if the
    two totals move apart, the product of the changes is negative; if together, both fall)."""

    def __init__(self, cycles0: float, energy0_pj: float, objective: str) -> None:
        self.per_cycle = network_objective(1.0, energy0_pj, objective) - network_objective(0.0, energy0_pj, objective)
        self.per_pj = network_objective(cycles0, 1.0, objective) - network_objective(cycles0, 0.0, objective)

    def __call__(self, cycles: float, energy_pj: float) -> float:
        return self.per_cycle * cycles + self.per_pj * energy_pj

    def of_run(self, run: LayerRun) -> float:
        return self.per_cycle * run.result.cycles + self.per_pj * run.result.energy_pj


def linearised_objective(cycles0: float, energy0_pj: float, objective: str) -> LinearObjective:
    """(cycles, energy_pj) -> the mapper objective linearised around (cycles0, energy0_pj) (`LinearObjective`)."""
    return LinearObjective(cycles0, energy0_pj, objective)


def layer_wise(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str,
               count_dram: bool = True) -> NetworkPlan:
    """Every layer alone, its tensors in DRAM, and each residual add's shortcut operand read from DRAM, where it
    lives between layers (`with_dram_shortcuts`): the `none` mode's plan, and the one the fused modes compare
    themselves with (they charge the same read where the shortcut lives). A layer's element-wise arithmetic is not
    costed (the cost model's own semantics)."""
    plan = NetworkPlan("none", tuple(layer_run(layer, accelerator, cache, objective, count_dram=count_dram)
                                     for layer in network.layers))
    return plan.with_dram_shortcuts(network, accelerator)


__all__ = ["LayerRun", "LinearObjective", "NetworkPlan", "NoValidMapping", "PlanTraffic", "VIEW_SEARCH_EVALS",
           "ViewSearchFile", "charge_plan_traffic", "choose_run", "choose_runs", "explain_run", "keep_view_searches",
           "layer_run", "layer_runs", "layer_wise", "linearised_objective", "network_objective", "shortcut_reads",
           "view_search_settings"]
