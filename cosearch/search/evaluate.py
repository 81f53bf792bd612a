"""(accelerator, network) -> per-layer best mappings (through the cache) -> latency, energy, EDP, utilization.

Layers run one after the other: cycles and energy add up over layers (each weighted by how many
times its shape occurs); EDP = total energy x total delay. `fusion` names how the layers share the chip
(`cosearch.fusion`): "none" scores each layer alone, every tensor from DRAM; another mode's plan decides what stays
on chip, and a layer's cost is then that of its run in the plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from accel_models import Accelerator, area_mm2, check_accelerator
from accel_models.timing import TimingModel, get_timing
from mappings import MapperResult, MapperSettings, MappingCache, with_layer
from nets import DIMS, Layer, Network

from ..config.objectives.base import MAPPER_OBJECTIVES
from ..fusion import NetworkPlan, NoValidMapping, Residency, get_fusion_mode, layer_wise, view_search_settings
from ..fusion.plan import PlanTraffic
from ..fusion.pricing import dram_words
from .interrupts import raise_if_requested
from .run_timing import run_dram_energy_pj, run_timer


@dataclass(frozen=True)
class LayerCost:
    """One distinct layer shape of a network: how often it runs and its best mapping's cost per run."""

    layer: Layer
    count: int
    result: MapperResult
    residency: Residency | None = None
    """What of the layer lives on chip (`cosearch.fusion`); None: every tensor from DRAM."""
    dram_words: float | None = None
    """Words one run reads from and writes to DRAM (known when a fusion plan made the cost)."""
    parts: tuple = ()
    """A layer run tile by tile in a depth-first group: its tiles' runs (`fusion.LayerRun.parts`)."""
    traffic: PlanTraffic | None = None
    """What a plan charges the run besides its mapping's traffic (None: nothing)."""
    timed_cycles: int | None = None
    """Cycles per run under a timing model other than Timeloop's (`evaluate_network(timing=...)`); None: the
    mapper's (Timeloop's semantics)."""

    @property
    def cycles(self) -> int:
        return int(self.result.cycles) if self.timed_cycles is None else int(self.timed_cycles)

    def dram_energy_pj(self, accelerator: Accelerator) -> float:
        """pJ per run spent in DRAM on `accelerator` (the network's: a run on a view is priced as the plan did)."""
        return run_dram_energy_pj(self.layer, self.result, self.residency, self.parts, self.traffic, accelerator)

    @property
    def energy_pj(self) -> float:
        return float(self.result.energy_pj)

    @property
    def utilization(self) -> float:
        """The layer's MACs / (MAC units x `cycles`): under the run's timing model, as the network's `utilization`,
        and over the whole layer where it runs tile by tile (its `result` is then a tile's mapping with the
        tiles' summed cycles, so `result.utilization` counts one tile's MACs)."""
        return self.layer.macs / (self.result.accelerator.num_macs * self.cycles)

    def to_dict(self) -> dict:
        L = self.layer
        return {"name": L.name, "count": self.count, "kind": L.kind, "macs": L.macs,
                "dims": dict(zip(DIMS, L.bounds)), "strides": [L.stride_w, L.stride_h],
                "cycles": self.cycles, "energy_pj": self.energy_pj, "edp_pj_cycles": self.energy_pj * self.cycles,
                "utilization": self.utilization, "mapper": {
                    "strategy": self.result.strategy, "evaluations": self.result.evaluations,
                    "seed": self.result.seed},
                "mapping": self.result.mapping.describe(self.result.accelerator).splitlines(),
                "mapping_arrays": {k: v.tolist() for k, v in self.result.arrays._asdict().items()},
                **({} if self.dram_words is None else {"dram_words": self.dram_words}),
                **({} if self.residency is None else {"on_chip": {
                    "tensors": list(self.residency.names), "free_words": self.residency.free_words,
                    "level": self.result.accelerator.levels[self.residency.home].name}})}


class _RunFigures:
    """Latency, energy, EDP and power of one inference from `cycles`, `energy_pj` and `clock_ghz`."""

    cycles: int
    energy_pj: float
    clock_ghz: float

    @property
    def latency_s(self) -> float:
        return self.cycles / (self.clock_ghz * 1e9)

    @property
    def energy_j(self) -> float:
        return self.energy_pj * 1e-12

    @property
    def edp_j_s(self) -> float:
        """Energy x delay of one inference, J*s."""
        return self.energy_j * self.latency_s

    @property
    def edp_pj_cycles(self) -> float:
        return self.energy_pj * self.cycles

    @property
    def power_w(self) -> float:
        """Average power over one inference."""
        return self.energy_j / self.latency_s


@dataclass(frozen=True)
class RunCost(_RunFigures):
    """One inference of a network on an accelerator, every layer at its best mapping: the totals only (what the
    subnet search ranks by; `evaluate_network` gives the per-layer breakdown)."""

    cycles: int
    energy_pj: float
    clock_ghz: float


@dataclass(frozen=True)
class NetworkCost(_RunFigures):
    """A network on an accelerator with each layer's best mapping: totals and per-layer costs."""

    network: Network
    accelerator: Accelerator
    layers: tuple[LayerCost, ...]
    area_mm2: float
    accuracy: float | None = None
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def cycles(self) -> int:
        return sum(lc.cycles * lc.count for lc in self.layers)

    @property
    def energy_pj(self) -> float:
        return sum(lc.energy_pj * lc.count for lc in self.layers)

    @property
    def clock_ghz(self) -> float:
        return self.accelerator.clock_ghz

    @property
    def utilization(self) -> float:
        """MACs / (MAC units x cycles) over the whole network."""
        return self.network.macs / (self.accelerator.num_macs * self.cycles)

    @property
    def timing(self) -> str:
        """The timing model of the cycles (`accel_models.timing`): "timeloop" unless `evaluate_network` was given
        another."""
        return self.meta.get("timing", "timeloop")

    @cached_property
    def energy_dram_pj(self) -> float:
        """pJ of one inference spent in DRAM (its accesses and leakage)."""
        return sum(lc.dram_energy_pj(self.accelerator) * lc.count for lc in self.layers)

    @cached_property
    def dram_bytes(self) -> float:
        """Bytes one inference moves to and from DRAM: each run's DRAM words (a fusion plan's, with the shortcut reads
        it charges; else its mapping's level-0 reads and updates), at DRAM's word width."""
        words = 0.0
        for lc in self.layers:
            run = lc.dram_words
            if run is None:
                run = dram_words(lc.layer, lc.result.accelerator, lc.result.arrays.row(0).with_residuals()) or 0.0
            words += run * lc.count
        return words * self.accelerator.levels[0].word_bits / 8

    @property
    def energy_on_chip_pj(self) -> float:
        """pJ of one inference spent on chip: the MACs and every on-chip level (energy less DRAM's)."""
        return self.energy_pj - self.energy_dram_pj

    def with_accuracy(self, accuracy: float | None) -> "NetworkCost":
        return NetworkCost(self.network, self.accelerator, self.layers, self.area_mm2, accuracy, self.meta)

    def metrics(self, split_energy: bool = True) -> dict:
        """The headline figures, JSON-ready (units in the keys); `split_energy` False leaves out the on-chip / DRAM
        split and the DRAM traffic, which count every layer's mapping once more (a co-search trial's attributes do
        without them)."""
        split = {"energy_on_chip_mj": self.energy_on_chip_pj * 1e-9, "energy_dram_mj": self.energy_dram_pj * 1e-9,
                 "dram_mb": self.dram_bytes * 1e-6} if split_energy else {}
        return {"latency_ms": self.latency_s * 1e3, "energy_mj": self.energy_j * 1e3, **split,
                "edp_j_s": self.edp_j_s, "edp_pj_cycles": self.edp_pj_cycles, "cycles": self.cycles,
                "timing": self.timing, "power_mw": self.power_w * 1e3,
                "utilization": self.utilization, "area_mm2": self.area_mm2, "accuracy": self.accuracy,
                "macs": self.network.macs, "layers": len(self.network.layers), "distinct_layers": len(self.layers)}


def _results(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str, renamed: bool = True,
             screen: bool = False):
    """(layer, count, best mapping result) per distinct layer shape; raises `NoValidMapping`. `screen`: the cache's
    screened results (`MappingCache.result`)."""
    unique = network.unique_layers()
    found = cache.results((layer for layer, _ in unique), accelerator, objective, screen)
    for (layer, count), result in zip(unique, found):
        raise_if_requested()    # an interrupt lost while the mapper compiled (see `interrupts`)
        if not result.valid:
            raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name}")
        yield layer, count, with_layer(result, layer) if renamed else result


def _plan_costs(plan: NetworkPlan) -> tuple[LayerCost, ...]:
    """A plan's runs grouped as `LayerCost`s: one per distinct (shape, residency, traffic the plan charges), with its
    count."""
    groups: dict[tuple, list] = {}
    for run in plan.runs:
        entry = groups.setdefault((run.layer.group_key, run.residency, run.traffic, id(run) if run.parts else None),
                                  [run, 0])
        entry[1] += 1
    return tuple(LayerCost(run.layer, count, run.result, run.residency, run.dram_words, run.parts,
                           run.traffic or None) for run, count in groups.values())


def _timed(costs: tuple[LayerCost, ...], accelerator: Accelerator, timing: TimingModel) -> tuple[LayerCost, ...]:
    """`costs` with each run's cycles under `timing` (as they are under Timeloop's)."""
    if timing.name == "timeloop":
        return costs
    cycles = run_timer(timing, accelerator)
    return tuple(replace(lc, timed_cycles=cycles(lc.layer, lc.result, lc.residency, lc.parts)) for lc in costs)


def fusion_summary(plan: NetworkPlan, baseline: NetworkPlan, word_bytes: float,
                   run_cycles_of=lambda run: run.result.cycles) -> dict:
    """What a plan keeps on chip, JSON-ready: the mode, resident activations and pinned weights, DRAM traffic per
    inference against the layer-wise plan's (`baseline`), and one row per group (`NetworkPlan.groups`), its cycles
    the sum of `run_cycles_of` its runs (default the mapper's, Timeloop's semantics)."""
    on_chip = [run for run in plan.runs if run.residency is not None and run.residency.resident]
    groups = []
    tiling = {g["first"]: g for g in plan.tiling}
    for first, last in plan.groups():
        runs, base = plan.runs[first:last + 1], baseline.runs[first:last + 1]
        kept = [a for a in plan.activations if first <= a.first and a.last <= last]
        tiled = tiling.get(first)
        held = tiled["peak_intermediate_words"] if tiled else sum(a.words for a in kept)
        groups.append({"first": first, "last": last, "layers": [runs[0].layer.name, runs[-1].layer.name],
                       **({k: tiled[k] for k in ("tile_rows", "halo", "tiles", "weights_on_chip", "key_rows",
                                                  "head_rows", "rescale_ops", "operands_on_chip") if k in tiled} if tiled else {}),
                       "activations_on_chip_bytes": held * word_bytes,
                       "cycles": sum(run_cycles_of(r) for r in runs), "energy_pj": sum(r.result.energy_pj for r in runs),
                       "dram_bytes": sum(r.dram_words for r in runs) * word_bytes,
                       "layer_wise_dram_bytes": sum(r.dram_words for r in base) * word_bytes})
    return {"mode": plan.mode, "layers_with_tensors_on_chip": len(on_chip), "layers": len(plan.runs),
            "activations_on_chip": len(plan.activations), "pinned_weight_bytes": plan.pinned_weight_words * word_bytes,
            "dram_bytes": plan.dram_words * word_bytes, "layer_wise_dram_bytes": baseline.dram_words * word_bytes,
            "notes": list(plan.notes), "groups": groups}


def evaluate_network(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str = "edp",
                     accuracy: float | None = None, fusion: str = "none",
                     search_views: "bool | MapperSettings | ChosenViews" = True,
                     fusion_groups: str | None = None, timing: "str | TimingModel" = "timeloop") -> NetworkCost:
    """Best mapping of every distinct layer shape (searched once per shape, cached), summed over the network;
    with a `fusion` mode other than "none", every layer as that mode's plan runs it (meta["fusion"] says what stays
    on chip); `search_views`: the mapper searches every view a fused layer runs on (`fusion.layer_run`) with the
    cache's settings (True), with these settings (the searches' figures: `fusion.view_search_settings`), only the
    views the plan keeps (`fusion.ChosenViews`: a co-search trial's figures), or only those views its layer-wise
    mapping does not fit (False); `fusion_groups`: with
    "depth-first", the groups to run instead of the planner's (`fusion.stacks`: "3-5,7-9", indices or layer names;
    a ValueError when one is not a chain of the network or does not fit the accelerator); `timing`: how each run's
    counts become cycles (`accel_models.timing`: "timeloop", Timeloop's semantics, or "hardware", a tile-by-tile
    chip's), named in meta["timing"]; each layer's mapping is chosen under it (`cache.for_timing(timing)`: the mapper's
    rule, `mappings.MapperSettings.timing`).

    Raises `NoValidMapping` if some layer has no mapping that fits the accelerator.
    """
    if not isinstance(network, Network):
        raise ValueError(f"evaluate_network: network must be a nets.Network, got {type(network).__name__}")
    check_accelerator("evaluate_network", accelerator)
    if not isinstance(cache, MappingCache):
        raise ValueError(f"evaluate_network: cache must be a mappings.MappingCache, got {type(cache).__name__}")
    if objective not in MAPPER_OBJECTIVES:
        raise ValueError(f"evaluate_network: objective must be one of {', '.join(MAPPER_OBJECTIVES)}, got "
                         f"{objective!r}")
    timing_model = get_timing(timing, "evaluate_network: timing")
    timing_meta = {} if timing_model.name == "timeloop" else {"timing": timing_model.name}
    cache = cache.for_timing(timing_model)
    mode = get_fusion_mode(fusion, fusion_groups)
    if mode.name != "none":
        plan = mode.plan(network, accelerator, cache, objective, search_views)
        baseline = plan.baseline if plan.baseline is not None else layer_wise(network, accelerator, cache, objective)
        cycles = run_timer(timing_model, accelerator)
        summary = fusion_summary(plan, baseline, accelerator.levels[0].word_bits / 8,
                                 lambda run: cycles(run.layer, run.result, run.residency, run.parts))
        return NetworkCost(network, accelerator, _timed(_plan_costs(plan), accelerator, timing_model),
                           area_mm2(accelerator), accuracy, {"fusion": summary, **timing_meta})
    costs = tuple(LayerCost(layer, count, result) for layer, count, result in
                  _results(network, accelerator, cache, objective))
    return NetworkCost(network, accelerator, _timed(costs, accelerator, timing_model), area_mm2(accelerator),
                       accuracy, timing_meta)


def network_run(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str = "edp",
                fusion: str = "none", fusion_groups: str | None = None, screen: bool = False,
                search_views: bool | MapperSettings | None = None,
                timing: "str | TimingModel" = "timeloop") -> RunCost:
    """The totals of `evaluate_network` without its per-layer objects: the subnet search's cheap score. `screen`:
    from the cache's screened results (`MappingCache.result`: the residual layers of `factors="auto"` searched with a
    fraction of the budget); for a fusion plan, those results and no view searched (`search_views` False: each
    layer's layer-wise mapping moved onto its view). `search_views` as `evaluate_network`'s; None: the searches'
    rule, every view searched with `fusion.view_search_settings(cache.settings, objective)` (what the fixed-device
    search does too), or none when screening; `timing` as `evaluate_network`'s."""
    model = get_timing(timing, "network_run: timing")
    cache = cache.for_timing(model)
    run_cycles = run_timer(model, accelerator)
    if fusion != "none":
        if search_views is None:
            search_views = False if screen else view_search_settings(cache.settings, objective)
        mode = get_fusion_mode(fusion, fusion_groups)
        if not search_views and model.name == "timeloop":      # the totals alone, by the mode's fastest route
            cycles, energy = mode.totals(network, accelerator, cache.screened if screen else cache, objective)
            return RunCost(cycles, energy, accelerator.clock_ghz)
        plan = mode.plan(network, accelerator, cache.screened if screen else cache, objective, search_views,
                         count_dram=False)
        cycles = sum(run_cycles(run.layer, run.result, run.residency, run.parts) for run in plan.runs)
        return RunCost(cycles, plan.energy_pj, accelerator.clock_ghz)
    cycles, energy = 0, 0.0
    for layer, count, result in _results(network, accelerator, cache, objective, renamed=False, screen=screen):
        cycles += run_cycles(layer, result) * count
        energy += result.energy_pj * count
    return RunCost(cycles, energy, accelerator.clock_ghz)
