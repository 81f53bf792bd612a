"""The cost of one depth-first group: a chain of layers computed tile by tile (`tiling.schedule`), each layer's
tile mapped by the per-layer mapper on the view the group gives it.

In a group of layers a..b with tiles of T output rows of b:
- every tile runs each layer on the rows it computes (`tiling.tile_layer`: the layer with the tile's rows), its
  mapping one of that tile layer's candidates (`runs.layer_runs`) on a view (`view.Residency`) where the
  intermediate tensors live in the home level (layer j > a reads its inputs there, j < b writes its outputs there)
  and, when the group has more than one tile and they fit, the group's weights too (loaded from DRAM once per
  inference: `weight_load`); which candidate is `runs.choose_run`'s rule, with the planner's linearised network
  objective (`GroupTiling.cost`);
- the group's input comes from DRAM and its output goes there; the home level holds, besides the tiles the
  mappings keep there, the intermediate rows alive in a tile (`TileSchedule.peak_intermediate_words`) and the
  kept weights: the view offers the mapper only what they leave free, and a group they do not leave room in does
  not fit (None).
A group that starts with attention's scores -> context may also loop over key blocks in every query tile
(`key_blocks`: the scores never leave the chip, K and V are read once per query block, the softmax runs online).
A group of one layer in one tile is that layer's layer-wise run, bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from accel_models import TENSOR_INDEX, Accelerator
from mappings import MapperSettings, MappingCache
from nets import Layer, Network
from nets.elementwise import ElementwiseOp

from .graph import consumers
from .key_blocks import key_block_schedule
from .memo import PRICED_KEPT, LruMemo
from .plan import LayerRun, LinearObjective
from .runs import choose_run, layer_runs
from .tiling import by_tokens, schedule, tile_layer
from .view import Residency, home_level, rounded_capacity

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


def chainable(network: Network, first: int, stop: int, readers: dict | None = None) -> bool:
    """Whether layers [first, stop) of `network` may form a depth-first group: a chain of its graph, all tiled over
    the same kind of rows (output rows of convs, or tokens: `tiling.by_tokens`). Each layer after the first reads the
    previous one's output and nothing else (`Network.input_sources` is exactly that layer), and no other layer reads,
    adds or concatenates an intermediate output: a tile's rows of it are all that ever exist. By tokens, where the
    graph does not follow products of two activations, a product reads the previous layer's output as its first
    operand when the sizes agree (attention's context reads the scores, the projection after it reads the context's
    heads side by side), its second operand from where it lives. `readers`: `graph.consumers(network)`, if at hand."""
    layers = network.layers[first:stop]
    kinds = {by_tokens(layer) for layer in layers}
    if len(kinds) > 1:
        return False
    readers = consumers(network) if readers is None else readers
    if any(readers.get(k, ()) not in ((), (k + 1,)) for k in range(first, stop - 1)):
        return False
    if kinds == {True}:
        return all(a.K * a.G * a.P == b.C * b.G * b.P and a.N == b.N for a, b in zip(layers, layers[1:]))
    sources = network.input_sources
    return all(sources[k + 1] == (k,) for k in range(first, stop - 1))


@dataclass(frozen=True)
class GroupCost:
    """A group's runs: per layer of the group its tiles' runs with how many tiles run each; the totals."""

    first: int
    tile_rows: int
    halo: str
    tiles: int
    weights_on_chip: bool
    runs: tuple[tuple[tuple[LayerRun, int], ...], ...]
    cycles: int
    energy_pj: float
    dram_words: float
    peak_intermediate_words: int
    key_rows: int | None = None
    """Keys per key block (attention fused over key blocks, `key_blocks`); None: every key in one block."""
    elementwise: tuple[ElementwiseOp, ...] = ()
    """Element-wise work the schedule adds (the online softmax's rescaling over key blocks): listed, not charged."""
    operands_on_chip: bool = False
    """Over key blocks: attention's K and V stay in the home level for the group (loaded once per inference)."""
    head_rows: int | None = None
    """Over key blocks: key/value heads per head group (each runs its own key loop)."""


def weight_load(accelerator: Accelerator, home: int, words: int) -> tuple[int, float]:
    """(cycles, pJ) of reading `words` (weights, or attention's query block) from DRAM into the home level once
    (whole blocks at each end; the DRAM's read or shared bandwidth, whichever binds)."""
    dram, level = accelerator.levels[0], accelerator.levels[home]
    energy = math.ceil(words / dram.block_size_words) * dram.read_energy_pj \
        + math.ceil(words / level.block_size_words) * level.write_energy_pj
    rates = [r for r in (dram.read_bandwidth, dram.shared_bandwidth) if r is not None]
    return (math.ceil(words / min(rates)) if rates else 0), energy


@dataclass(frozen=True)
class GroupTiling:
    """A group under one tiling before each tile's run is chosen: per layer of the group, its tiles' candidate runs
    (`runs.layer_runs`) with how many tiles run each; what the group moves besides its tiles' runs (`loads`: the
    (cycles, pJ, DRAM words) of each load into the home level, the query blocks' then the kept weights' and K and
    V's); and the schedule's facts `GroupCost` reports. `cost` chooses the runs."""

    first: int
    tile_rows: int
    halo: str
    tiles: int
    weights_on_chip: bool
    options: tuple[tuple[tuple[tuple[LayerRun, ...], int], ...], ...]
    loads: tuple[tuple[int, float, float], ...]
    peak_intermediate_words: int
    key_rows: int | None = None
    elementwise: tuple[ElementwiseOp, ...] = ()
    operands_on_chip: bool = False
    head_rows: int | None = None

    def cost(self, objective: str, linear: LinearObjective | None = None) -> GroupCost:
        """The group's cost with each tile's run chosen by `runs.choose_run`: by the network's objective linearised
        around the plan's totals (`linear`, the planner's score), or by the layer's own `objective` without one."""
        cycles, energy, dram = 0, 0.0, 0.0
        runs = []
        for parts in self.options:
            chosen = []
            for candidates, times in parts:
                run = choose_run(candidates, objective, linear)
                chosen.append((run, times))
                cycles += run.result.cycles * times
                energy += run.result.energy_pj * times
                dram += run.dram_words * times
            runs.append(tuple(chosen))
        for load_cycles, load_energy, load_dram in self.loads:
            cycles += load_cycles
            energy += load_energy
            dram += load_dram
        return GroupCost(self.first, self.tile_rows, self.halo, self.tiles, self.weights_on_chip, tuple(runs),
                         cycles, energy, dram, self.peak_intermediate_words, self.key_rows, self.elementwise,
                         self.operands_on_chip, self.head_rows)


def group_tiling(layers: tuple[Layer, ...], first: int, accelerator: Accelerator, cache: MappingCache,
                 objective: str, tile_rows: int, halo: str, search_views: bool | MapperSettings = False,
                 key_rows: int | None = None, head_rows: int | None = None,
                 runs_memo: dict | None = None) -> GroupTiling | None:
    """The group of `layers` (network indices from `first`) tiled by `tile_rows` rows of its last layer's output
    (query tokens for attention), and over key blocks of `key_rows` keys when given and fewer than the keys
    (`key_blocks`: a group that starts with attention's scores -> context), `head_rows` key/value heads at a time
    (all by default), with every tile's candidate runs; None if its intermediate rows and kept weights leave the
    home level no room. `runs_memo`: a dict the caller keeps while it plans on one accelerator with one cache and
    objective, in which the tile layers' candidate runs are remembered by tile layer, residency and view search
    (a planner meets the same tile layer in many groups). Raises `NoValidMapping`."""
    home = home_level(accelerator)
    blocked = key_rows is not None and key_rows < layers[0].K
    sched, peak = _SCHEDULES.recall((layers, tile_rows, halo, key_rows if blocked else None, head_rows),
                                    lambda: _schedule(layers, tile_rows, halo, blocked, key_rows, head_rows))
    n = len(layers)
    if home is None:
        if n > 1 or sched.tiles > 1:
            return None
        runs = layer_runs(layers[0], accelerator, cache, objective)
        return GroupTiling(first, tile_rows, halo, 1, False, (((runs, 1),),), (), 0)
    level = accelerator.levels[home]
    if n > 1 and not {"Inputs", "Outputs"} <= set(level.keeps):
        return None
    weights = sum(layer.param_words for layer in layers)
    free = level.capacity_words - peak
    keep_weights = sched.tiles > 1 and "Weights" in level.keeps and weights > 0 and free - weights >= 1
    if keep_weights:
        free -= weights
    # over key blocks, attention's K and V (the products' second operands) stay on chip for the whole group when
    # they fit beside the rest, loaded once instead of read by every query block
    operands = layers[0].weight_words + layers[1].weight_words if blocked else 0
    keep_operands = blocked and sched.tiles > 1 and "Weights" in level.keeps and free - operands >= 1
    if keep_operands:
        free -= operands
    if free < 1:
        return None
    if blocked:
        tile_runs = sched.runs(layers)
    else:       # (tile layer, inputs on chip, outputs on chip, runs), as `KeyBlockSchedule.runs`
        tile_runs = tuple(tuple((tile_layer(layer, rows), j > 0, j < n - 1, times) for rows, times in p)
                          for j, (layer, p) in enumerate(zip(layers, sched.runs())))
    options = []
    for j, (layer, parts) in enumerate(zip(layers, tile_runs)):
        per_layer = []
        for tile, inputs_on_chip, outputs_on_chip, times in parts:
            weights_here = (keep_weights and layer.param_words) or (keep_operands and j < 2)
            resident = tuple(sorted(([W] if weights_here else [])
                                    + ([I] if inputs_on_chip else []) + ([O] if outputs_on_chip else [])))
            residency = None if not resident and free == level.capacity_words else \
                Residency(home, resident, rounded_capacity(free))
            # a tile of fewer rows than its layer is a shape of its own, whose layer-wise mapping is only moved onto
            # the tile's view and seeds that view's search: screened (`MappingCache.screened_shapes`)
            mapped_by = cache if tile is layer else cache.screened_shapes
            if runs_memo is None:
                runs = layer_runs(tile, accelerator, mapped_by, objective, residency, search_views)
            else:
                key = (tile, residency, search_views)
                runs = runs_memo.get(key)
                if runs is None:
                    runs = runs_memo[key] = layer_runs(tile, accelerator, mapped_by, objective, residency,
                                                       search_views)
            per_layer.append((runs, times))
        options.append(tuple(per_layer))
    loads = []
    if blocked:       # each query block loaded into the home level once per head group, read by every key block
        for rows in sched.query_tiles:
            words = sched.query_words(layers[0], rows)
            load_cycles, load_energy = weight_load(accelerator, home, words)
            loads.append((load_cycles * sched.head_groups, load_energy * sched.head_groups,
                          words * sched.head_groups))
    for kept in (weights if keep_weights else 0, operands if keep_operands else 0):
        if kept:
            load_cycles, load_energy = weight_load(accelerator, home, kept)
            loads.append((load_cycles, load_energy, kept))
    return GroupTiling(first, tile_rows, halo, sched.tiles, keep_weights, tuple(options), tuple(loads), peak,
                       key_rows if blocked else None, sched.elementwise(layers) if blocked else (), keep_operands,
                       sched.head_rows if blocked else None)


_SCHEDULES = LruMemo(PRICED_KEPT)
"""(layers, tile rows, halo, key rows, head rows) -> `_schedule`: decided by the layers' shapes alone (a `Layer`
compares by shape), and met again by every plan whose network holds the same chain (a co-search's subnets share
most of theirs)."""


def _schedule(layers, tile_rows: int, halo: str, blocked: bool, key_rows, head_rows) -> tuple:
    """The schedule of `layers` tiled so (`tiling.schedule`, or `key_blocks.key_block_schedule` when `blocked`) and
    the most words its intermediate rows (or key blocks) hold at once."""
    if blocked:
        sched = key_block_schedule(layers, tile_rows, key_rows, head_rows)
        return sched, sched.peak_words(layers)
    sched = schedule(layers, tile_rows, halo)
    return sched, sched.peak_intermediate_words(layers) if len(layers) > 1 else 0


def group_cost(layers: tuple[Layer, ...], first: int, accelerator: Accelerator, cache: MappingCache, objective: str,
               tile_rows: int, halo: str, search_views: bool | MapperSettings = False,
               key_rows: int | None = None, head_rows: int | None = None,
               linear: LinearObjective | None = None) -> GroupCost | None:
    """`group_tiling`'s group (same arguments; None if it does not fit) with each tile's run chosen by `linear`, the
    plan's linearised network objective, or by the layer's own `objective` without one (`GroupTiling.cost`)."""
    tiling = group_tiling(layers, first, accelerator, cache, objective, tile_rows, halo, search_views, key_rows,
                          head_rows)
    return None if tiling is None else tiling.cost(objective, linear)


__all__ = ["GroupCost", "GroupTiling", "chainable", "group_cost", "group_tiling", "weight_load"]
