"""What a fusion mode decides for a network on an accelerator: how each layer runs (`LayerRun`), the whole plan
(`NetworkPlan`) and its totals, the traffic a plan charges besides its mappings (`PlanTraffic`), and the network
objective a plan is chosen by (`network_objective`, `LinearObjective`)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from accel_models import Accelerator, EvalResult, evaluate_batch, explain, explain_rehomed
from accel_models.geometry import accelerator_arrays
from mappings import MapperResult
from nets import Layer, Network

from .graph import Activation
from .memo import PRICED, accelerator_memo_key, mapping_bytes
from .pricing import stream_cycles
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
                              "level_leak_pj", "clock_energy_pj")}
        return dataclasses.replace(base, macs=layer.macs, utilization=layer.macs / (
            accelerator.num_macs * total["cycles"]), **total)
    if residency is None:
        return explain(layer, accelerator, arrays)
    return explain_rehomed(layer, accelerator, residency.view(accelerator), arrays, residency.home,
                           residency.resident)


def charge_plan_traffic(run: LayerRun, accelerator: Accelerator, home: int | None, traffic: PlanTraffic) -> LayerRun:
    """`run` with `traffic` (words its mapping does not move: `PlanTraffic`) charged where the model charges any
    traffic: DRAM reads at level 0's read energy per block (R8), and in cycles by R7's overlap rule, as one more
    tensor DRAM reads while the layer runs (`_cycles_with_dram_reads`: the DRAM level's read rate grows, its
    slow-down is recomputed, and the run takes the slowest level's cycles; a layer bound elsewhere hides the stream).
    A layer run tile by tile (`parts`), or a run with no mapping to rate (a stand-in for the per-layer model), has
    no one rate: the stream's cycles at DRAM's read bandwidth are added (at most that many over). Home-level reads
    and writes at the home level's read and write energies per block; on-chip words cost no cycles here (the home
    level's bandwidth is rarely the bound, and the stream's share of it is not modelled)."""
    if not traffic:
        return run
    dram_pj, chip_read_pj, chip_written_pj = traffic_energy_pj(traffic, accelerator, home)
    energy = dram_pj + (chip_read_pj + chip_written_pj)
    cycles, dram = run.result.cycles, accelerator.levels[0]
    if traffic.dram_read_words and (run.parts or getattr(run.result, "arrays", None) is None):
        bandwidth = dram.read_bandwidth if dram.read_bandwidth is not None else dram.shared_bandwidth
        cycles += 0 if bandwidth is None else math.ceil(traffic.dram_read_words / bandwidth)
    elif traffic.dram_read_words:
        key = (accelerator_memo_key(accelerator), run.layer.shape_key, None if run.residency is None else
               (run.residency.home, run.residency.resident), mapping_bytes(run.result.arrays),
               "dram reads", traffic.dram_read_words)
        cycles = max(cycles, PRICED.recall(key, lambda: _cycles_with_dram_reads(run, accelerator,
                                                                                 traffic.dram_read_words)))
    result = dataclasses.replace(run.result, cycles=cycles, energy_pj=run.result.energy_pj + energy)
    return dataclasses.replace(run, result=result, dram_words=run.dram_words + traffic.dram_read_words,
                               traffic=traffic)


def traffic_energy_pj(traffic: PlanTraffic, accelerator: Accelerator, home: int | None) -> tuple[float, float, float]:
    """(DRAM reads, home-level reads, home-level writes) in pJ of the words a plan charges besides a mapping
    (`PlanTraffic`), each priced as the model prices an access (R8: whole blocks at the level's read or write
    energy)."""
    dram = accelerator.levels[0]
    dram_pj = math.ceil(traffic.dram_read_words / dram.block_size_words) * dram.read_energy_pj
    if home is None or not (traffic.chip_read_words or traffic.chip_written_words):
        return dram_pj, 0.0, 0.0
    level = accelerator.levels[home]
    return (dram_pj, math.ceil(traffic.chip_read_words / level.block_size_words) * level.read_energy_pj,
            math.ceil(traffic.chip_written_words / level.block_size_words) * level.write_energy_pj)


def _cycles_with_dram_reads(run: LayerRun, accelerator: Accelerator, words: float) -> int:
    """R7 (`pricing.stream_cycles`) for `run` with `words` more read from DRAM (level 0, one instance) while it
    runs: the extra words are one more read stream after level 0's tensors (the run's counts on the accelerator or
    view it was mapped on, whose homes keep resident tensors off DRAM); the run takes the most of level 0's cycles
    so recomputed and every level's own (the counts' cycles). Level 0 has one instance: its totals are its
    per-instance counts."""
    counted = evaluate_batch(run.layer, run.result.accelerator, run.result.arrays)
    dram = stream_cycles(accelerator_arrays(accelerator).bandwidth[0], counted.reads[0, 0],
                         counted.fills[0, 0] + counted.updates[0, 0], float(words), int(counted.compute_cycles[0]))
    return max(int(counted.cycles[0]), int(dram))


def shortcut_reads(network: Network) -> dict[int, tuple[tuple[int, int], ...]]:
    """Per layer that adds residual shortcuts (`Network.skips`), its (producer, words read) pairs: the add reads the
    producer's whole output once."""
    found: dict[int, list] = {}
    for producer, consumer in network.skips:
        if producer >= 0:
            found.setdefault(consumer, []).append((producer, network.layers[producer].output_words))
    return {i: tuple(pairs) for i, pairs in found.items()}


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


__all__ = ["LayerRun", "LinearObjective", "NO_TRAFFIC", "NetworkPlan", "NoValidMapping", "PlanTraffic",
           "charge_plan_traffic", "explain_run", "linearised_objective", "network_objective", "shortcut_reads",
           "traffic_energy_pj"]
