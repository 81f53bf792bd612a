"""`depth-first`: the network's layer chain cut into groups, each computed tile by tile (`groups.group_tiling`), the
cuts and each group's tile rows and halo mode chosen by dynamic programming; or the `resident` plan, whichever
scores better.

The planner: best[j] = the cheapest way to run layers [0, j) = min over groups [i, j) of chained layers
(`groups.chainable`, any length) and their tilings (TILE_DIVISIONS, both halo modes; attention's key blocks,
`key_blocks`) of best[i] + the group's cost. Between groups activations go through DRAM, so the groups' costs add
up and the minimum over cut points is the best grouping of the chain. The score of a group is the objective
linearised around the layer-wise plan: for EDP, cycles x E0 + energy x C0 (E0, C0 the layer-wise totals), whose sum
over groups ranks plans as their EDP does to first order; latency: cycles; energy: pJ. A group of one layer in one
tile is that layer's layer-wise run, so the plan is never worse than layer-wise by that score.

For each last layer j the groups are tried from the shortest (the layer alone) to the longest, and their bounds
(`bounds.GroupBounds`, from shapes alone) end the search early: a group whose intermediate rows cannot fit ends it
(a longer one holds at least as much), and a class of tilings whose least score added to best[i] exceeds the best
plan of [0, j) found so far is not mapped (it cannot improve it). Both leave the minimum unchanged.

Each tile's run is one of its candidates (`runs.layer_runs`: the moved layer-wise mapping, and the view's own search
when views are searched), kept by `runs.choose_run` with the same linearised objective (a tile's lower EDP alone
that trades cycles for energy can raise the network's). The DP runs a second time, in the same pass, with each
tile's run chosen by the layer's own objective, and the plan that scores less by the network's objective is kept.
"""
from __future__ import annotations

import dataclasses

from mappings import MapperSettings
from nets.elementwise import elementwise_ops

from ..bounds import KEY_BLOCKS, ONE_QUERY_BLOCK, ONE_TILE, TILED, GroupBounds, tiling_class
from ..graph import consumers
from ..groups import chainable, group_tiling
from ..key_blocks import BLOCK_ROWS, attention_pair, key_block_schedule
from ..plan import LayerRun, NetworkPlan, NoValidMapping, linearised_objective, network_objective
from .none import layer_wise
from ..stacks import parse_fusion_groups, resolve_fusion_groups
from ..tiling import HALO_MODES, output_rows, schedule
from ..view import home_level
from ..view_search import ChosenViews
from .resident import Resident

BOUND_MARGIN = 1e-9
"""A group's bound is scaled down by this relative margin before it rules the group out, so that rounding in the
bound's sums never rules out a group the exact sums would keep."""
TILE_DIVISIONS = (2, 4, 8)
"""A group's tile rows: its last layer's output rows divided by these (rounded up), or all of them in one tile; where
no tiling of several tiles among those fits the home level, the first further halving (by 16, 32, ... rounded up,
down to one row) that does."""


def _tile_candidates(rows: int) -> list[int]:
    return sorted({rows} | {-(-rows // d) for d in TILE_DIVISIONS if d <= rows})


def smallest_peak_words(group, key_blocks: bool = True) -> int:
    """The fewest words a group's intermediate rows (or attention's key blocks) occupy on chip at once, over every
    tiling the planner tries: a home level smaller than this cannot hold the group, whatever the mapping."""
    rows = output_rows(group[-1])
    peaks = [schedule(group, t, h).peak_intermediate_words(group)
             for t in _tile_candidates(rows) + [1] for h in HALO_MODES]
    if key_blocks and attention_pair(group):
        peaks += [key_block_schedule(group, 1, k, 1).peak_words(group) for k in BLOCK_ROWS if k < group[0].K]
    return min(peaks)


class GroupDoesNotFit(NoValidMapping, ValueError):
    """A user-given group whose intermediate rows, at every tiling, leave no room on chip (or no valid mapping)."""


class DepthFirst:
    name = "depth-first"
    description = ("chains of layers computed tile by tile over output rows, the intermediate tiles on chip (halo "
                   "recomputed or cached), groups planned by dynamic programming; or resident, whichever is better")
    ranked_by = Resident.name
    """A search ranks networks by their resident plans: the planner keeps the resident plan when no depth-first plan
    scores less, so that plan's totals bound this mode's score from above, at a small part of the cost of the
    planner's DP over every group and tiling; the network the ranking chooses is then planned depth-first."""

    def __init__(self, groups=None, label: str = "fusion_groups", key_blocks: bool = True,
                 max_group_layers: int | None = None) -> None:
        """`groups`: the user's groups (`stacks`: text such as "3-5,7-9") instead of the planner's;
        `label`: the field their errors name; `key_blocks`: whether attention may loop over key blocks (False: query
        blocks with every key in one block only, for comparisons); `max_group_layers`: the most layers the planner
        puts in a group (None: as many as chain and fit; a number, for comparisons)."""
        if groups is not None:
            parse_fusion_groups(groups, label)     # refused here, before any work, when not readable
        if max_group_layers is not None and (isinstance(max_group_layers, bool) or
                                             not isinstance(max_group_layers, int) or max_group_layers < 1):
            raise ValueError(f"max_group_layers must be None or an integer >= 1, got {max_group_layers!r}")
        self.groups = groups
        self.label = label
        self.key_blocks = key_blocks
        self.max_group_layers = max_group_layers

    def totals(self, network, accelerator, cache, objective) -> tuple[int, float]:
        plan = self.plan(network, accelerator, cache, objective, count_dram=False)
        return plan.cycles, plan.energy_pj

    def plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings | ChosenViews = False,
             count_dram: bool = True) -> NetworkPlan:
        resident_views, kept_views = search_views, None
        if isinstance(search_views, ChosenViews):
            # the planner's groups: decided on the moved mappings, then their tiles' views searched; the user's: every
            # tiling of theirs searched
            kept_views = search_views.settings
            search_views = kept_views if self.groups is not None else False
        base = layer_wise(network, accelerator, cache, objective, count_dram)
        score = linearised_objective(base.cycles, base.energy_pj, objective)
        rules = (score, None)       # tiles' runs by the plan's linearised objective; by each layer's own
        if self.groups is not None:
            given = self._given(network, accelerator, cache, objective, search_views)
            plan = self._better(network, accelerator, objective, [
                [(i, j, min((t.cost(objective, rule) for t in tilings), key=lambda c: score(c.cycles, c.energy_pj)))
                 for i, j, tilings in given] for rule in rules])
            return dataclasses.replace(plan, baseline=base, notes=(
                f"groups given: {', '.join(f'{i}-{j - 1}' for i, j, _ in given if j - i > 1) or 'none'}",))
        tables = self.best_groupings(network, accelerator, cache, objective, search_views, score)
        chosen = [groups for _, groups in tables]
        if kept_views is not None:      # the plans with their tiles' views searched, or as they were if those score less
            chosen = [_views_searched(network, accelerator, cache, objective, groups, kept_views, rule)
                      for groups, rule in zip(chosen, rules)] + chosen
        plan = dataclasses.replace(self._better(network, accelerator, objective, chosen), baseline=base)
        resident = Resident().plan(network, accelerator, cache, objective, resident_views, count_dram)
        if network_objective(resident.cycles, resident.energy_pj, objective) < \
                network_objective(plan.cycles, plan.energy_pj, objective):
            return dataclasses.replace(resident, notes=resident.notes + (
                "the resident plan (whole activations on chip) beat every depth-first plan",))
        return plan

    def best_groupings(self, network, accelerator, cache, objective, search_views, score) -> list:
        """Per rule of the tiles' runs (by `score`, the plan's linearised objective; by each layer's own objective),
        the least total score of a grouping of the network's layers into depth-first groups and that grouping:
        (total, [(first, stop, GroupCost), ...] in network order). The dynamic programme over cut points described
        in the module's docstring; its bounds leave the minimum unchanged."""
        layers = network.layers
        readers = consumers(network)
        home = home_level(accelerator)
        n = len(layers)
        rules = (score, None)
        runs_memo: dict = {}      # the tile layers' candidate runs, met again in many groups
        best: list = [[None] * (n + 1) for _ in rules]
        for table in best:
            table[0] = (0.0, None, None)
        for j in range(1, n + 1):
            bounds = GroupBounds(layers[j - 1], accelerator, home, score)
            for i in range(j - 1, -1, -1):
                if self.max_group_layers is not None and j - i > self.max_group_layers:
                    break
                if i < j - 1:
                    if not chainable(network, i, i + 2, readers):
                        break          # [i, j) chains only if [i + 1, j) does and layer i + 1 reads layer i alone
                    bounds.extend(layers[i])
                if best[0][i] is None:
                    continue
                classes = {c for c in (ONE_TILE, TILED, ONE_QUERY_BLOCK, KEY_BLOCKS)
                           if _may_improve(best, i, j, bounds, c)}
                found = [None] * len(rules)      # per rule, the best of this group's tilings (the first on ties)
                for tiling in _tilings(layers[i:j], i, accelerator, cache, objective, search_views,
                                       key_blocks=self.key_blocks, runs_memo=runs_memo,
                                       worth=_worth(best, i, j, bounds, classes, output_rows(layers[j - 1]))):
                    for k, rule in enumerate(rules):
                        cost = tiling.cost(objective, rule)
                        total = best[k][i][0] + score(cost.cycles, cost.energy_pj)
                        if found[k] is None or total < found[k][0]:
                            found[k] = (total, i, cost)
                for table, candidate in zip(best, found):
                    # on ties the longer group, found later, is kept
                    if candidate is not None and (table[j] is None or candidate[0] <= table[j][0]):
                        table[j] = candidate
                if not bounds.longer_may_fit():
                    break              # no longer group ending at j fits
        tables = []
        for table in best:
            groups, j = [], n
            while j > 0:
                _, i, cost = table[j]
                groups.append((i, j, cost))
                j = i
            tables.append((table[n][0], groups[::-1]))
        return tables

    def _better(self, network, accelerator, objective, chosen) -> NetworkPlan:
        """The plan of the groups in `chosen` (one list per rule of the tiles' runs, the linearised network objective's
        first) that scores less by the network's objective: a plan never worse than the one whose tiles each keep
        the run that is best for the layer alone."""
        plans = [self._assemble(network.layers, groups).with_dram_shortcuts(network, accelerator) for groups in chosen]
        return min(plans, key=lambda plan: network_objective(plan.cycles, plan.energy_pj, objective))

    def _given(self, network, accelerator, cache, objective, search_views) -> list:
        """(first, stop, tilings) of the user's groups, each with every tiling that fits (`groups.GroupTiling`), and
        of every other layer alone."""
        groups = {first: last for first, last in resolve_fusion_groups(network, self.groups, self.label)}
        layers, given, i = network.layers, [], 0
        while i < len(layers):
            j = groups.get(i, i) + 1
            tilings = list(_tilings(layers[i:j], i, accelerator, cache, objective, search_views, finest=j - i > 1,
                                    key_blocks=self.key_blocks))
            if not tilings:
                raise GroupDoesNotFit(self._no_room(layers[i:j], i, accelerator))
            given.append((i, j, tilings))
            i = j
        return given

    def _no_room(self, group, first, accelerator) -> str:
        home = home_level(accelerator)
        span = f"{self.label}: group {first}-{first + len(group) - 1}"
        if home is None:
            return f"{span} cannot run on {accelerator.name}: it has no single shared on-chip level for its rows"
        peak = smallest_peak_words(group, self.key_blocks)
        capacity = accelerator.levels[home].capacity_words
        if peak >= capacity:
            return (f"{span} needs {peak} words on chip for its intermediate rows at its smallest tile, "
                    f"more than {accelerator.name}'s {accelerator.levels[home].name} holds ({capacity} words)")
        return (f"{span}: no mapping of its layers fits beside its intermediate rows ({peak} words at least) in "
                f"{accelerator.name}'s {accelerator.levels[home].name} ({capacity} words)")

    @staticmethod
    def _assemble(layers, chosen) -> NetworkPlan:
        """The plan of the groups `chosen` ((first, stop, GroupCost) in network order)."""
        runs, tiling = [], []
        for i, j, cost in chosen:
            for k, parts in enumerate(cost.runs):
                if len(parts) == 1 and parts[0][1] == 1 and parts[0][0].layer is layers[i + k]:
                    runs.append(parts[0][0])
                    continue
                main = max(parts, key=lambda p: p[1])[0]
                cycles = sum(p.result.cycles * t for p, t in parts)
                energy = sum(p.result.energy_pj * t for p, t in parts)
                result = dataclasses.replace(main.result, cycles=cycles, energy_pj=energy)
                runs.append(LayerRun(layers[i + k], result, main.residency, sum(p.dram_words * t for p, t in parts),
                                     parts))
            if cost.weights_on_chip or cost.key_rows:
                # the weights' (and K and V's) one load per inference and the query blocks' loads, charged to the
                # group's first layer
                first = runs[i]
                extra_cycles = cost.cycles - sum(r.result.cycles for r in runs[i:j])
                extra_energy = cost.energy_pj - sum(r.result.energy_pj for r in runs[i:j])
                extra_dram = cost.dram_words - sum(r.dram_words for r in runs[i:j])
                runs[i] = dataclasses.replace(first, result=dataclasses.replace(
                    first.result, cycles=first.result.cycles + extra_cycles,
                    energy_pj=first.result.energy_pj + extra_energy), dram_words=first.dram_words + extra_dram,
                    parts=first.parts)
            tiling.append({"first": i, "last": j - 1, "tile_rows": cost.tile_rows, "halo": cost.halo,
                           "tiles": cost.tiles, "weights_on_chip": cost.weights_on_chip,
                           "peak_intermediate_words": cost.peak_intermediate_words,
                           **({"key_rows": cost.key_rows, "head_rows": cost.head_rows,
                               "rescale_ops": elementwise_ops(cost.elementwise),
                               "operands_on_chip": cost.operands_on_chip} if cost.key_rows else {})})
        return NetworkPlan(DepthFirst.name, tuple(runs), tiling=tuple(tiling))


def _views_searched(network, accelerator, cache, objective, groups, settings: MapperSettings, rule) -> list:
    """`groups` ((first, stop, GroupCost) in network order) with every tile's view searched with `settings` and each
    tile's run chosen again by `rule` among its moved and searched mappings (`GroupTiling.cost`; the moved one stays
    a candidate, so no group scores more by `rule`): a `ChosenViews` plan searches the views of the tiles of the
    grouping it keeps, not of every tiling the planner tries."""
    searched = []
    for first, stop, cost in groups:
        try:
            tiling = group_tiling(network.layers[first:stop], first, accelerator, cache, objective, cost.tile_rows,
                                  cost.halo, settings, cost.key_rows, cost.head_rows)
        except NoValidMapping:
            tiling = None
        searched.append((first, stop, tiling.cost(objective, rule) if tiling else cost))
    return searched


def _may_improve(best, i, j, bounds, tiling, tiles: int = 2) -> bool:
    """Whether the class `tiling` of the group [i, j) (in `tiles` tiles, or any number) may fit (`bounds.fits` for
    rows) and, added to best[i], score at most the best plan of [0, j) found so far in one of the DP's tables
    (`best`)."""
    if tiling in (ONE_TILE, TILED) and not bounds.fits(tiling):
        return False
    least = bounds.least_score(tiling, tiles) * (1 - BOUND_MARGIN)
    return any(table[j] is None or table[i][0] + least <= table[j][0] for table in best)


def _worth(best, i, j, bounds, classes, last_rows):
    """(rows, key_rows) -> whether the group [i, j)'s tiling may improve the best plan of [0, j): its class is one of
    `classes` (those `_may_improve` keeps) and, in more than two tiles, its bound for that many tiles allows it."""
    def worth(rows, key_rows) -> bool:
        kind = tiling_class(last_rows, rows, key_rows)
        tiles = -(-last_rows // rows)
        return kind in classes and (tiles <= 2 or _may_improve(best, i, j, bounds, kind, tiles))
    return worth


def _tilings(group, first, accelerator, cache, objective, search_views, finest: bool = False,
             key_blocks: bool = True, runs_memo=None, worth=None):
    """`group` (network indices from `first`) under each tiling that fits and finds valid mappings, each with its
    tiles' candidate runs (`groups.GroupTiling`): tile rows from TILE_DIVISIONS (and 1 row with `finest`; a finer
    halving where no tiling of several tiles among those fits), both halo modes where a KxK layer follows the first,
    and for a group that starts with attention's scores -> context, key blocks (`key_blocks.BLOCK_ROWS` keys) in
    query blocks of those rows or of BLOCK_ROWS tokens, all heads at once or one key/value head at a time. `runs_memo`: `groups.group_tiling`'s; `worth`: (rows, key_rows) -> whether to try
    that tiling (None: all; the planner's bounds pass over the rest, and a finer halving once one is not worth
    trying, since more tiles only raise the bound). Raises `NoValidMapping` only for a group of one layer that has
    none (the layer itself cannot run)."""
    last_rows = output_rows(group[-1])
    tiles = _tile_candidates(last_rows) if len(group) > 1 else [last_rows]
    if finest and len(group) > 1 and 1 not in tiles:
        tiles = [1] + tiles
    candidates = []
    for rows in tiles:
        halos = HALO_MODES if rows < last_rows and any(l.S > 1 for l in group[1:]) else ("recompute",)
        candidates += [(rows, halo, None, None) for halo in halos]
    if key_blocks and attention_pair(group):
        keys = group[0].K
        query_rows = sorted(set(_tile_candidates(last_rows)) | {r for r in BLOCK_ROWS if r < last_rows})
        if finest and 1 not in query_rows:
            query_rows = [1] + query_rows
        heads = sorted({group[0].G, 1})        # every head of a query block at once, or one key/value head
        candidates += [(rows, "recompute", k, g) for rows in query_rows for k in BLOCK_ROWS if k < keys
                       for g in heads]
    several = [c for c in candidates if c[0] < last_rows and c[2] is None]
    fitted = False         # whether a tiling of several tiles left room for its intermediate rows
    for rows, halo, key_rows, head_rows in candidates:
        if worth is not None and not worth(rows, key_rows):
            continue
        tiling = _tiling(group, first, accelerator, cache, objective, rows, halo, search_views, key_rows, head_rows,
                         runs_memo)
        fitted |= tiling is not None and key_rows is None and rows < last_rows
        if tiling:
            yield tiling
    if several and not fitted:
        # none fits: the first finer halving of the last layer's rows that does
        rows, divisor = min(r for r, *_ in several), 2 * TILE_DIVISIONS[-1]
        while rows > 1:
            rows = -(-last_rows // divisor)
            if worth is not None and not worth(rows, None):
                break
            found = [_tiling(group, first, accelerator, cache, objective, rows, halo, search_views, None, None,
                             runs_memo) for halo in HALO_MODES if any(h == halo for _, h, _, _ in several)]
            yield from (tiling for tiling in found if tiling)
            if any(tiling is not None for tiling in found):
                break
            divisor *= 2


def _tiling(group, first, accelerator, cache, objective, rows, halo, search_views, key_rows, head_rows, runs_memo):
    """`groups.group_tiling` of the candidate: the tiling; None if its rows leave no room; False if they fit but its
    layers find no mapping in the room they leave (not a candidate). `NoValidMapping` for a group of one layer that
    has none (the layer itself cannot run)."""
    try:
        return group_tiling(group, first, accelerator, cache, objective, rows, halo, search_views, key_rows,
                            head_rows, runs_memo)
    except NoValidMapping:
        if len(group) == 1:
            raise
        return False
