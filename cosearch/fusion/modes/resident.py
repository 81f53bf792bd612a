"""`resident`: activations stay on chip between the layers that produce and read them, weights across inferences.

Semantics (docs/fusion.md):
- Layers run one after the other, in network order. An activation (`graph.Activation`: the tensor that layers read
  whole as their Inputs or add as a residual shortcut; a concatenation's producers each write a channel slice of it)
  lives in the home level (`view.home_level`, the global buffer) from its first producer's run to its last reader's,
  whole, occupying its words all that time; it is then never written to or read from DRAM. Its producers write
  their outputs there and its readers read their inputs there; a layer whose output is part of several tensors
  writes it on chip only when all of them are there.
- Weights: in the steady state of back-to-back inferences, a layer's weights either stay in the home level (cached:
  loaded once, `NetworkPlan.pinned_weight_words` counts them, not charged per inference; the layer reads them
  there) or are streamed: read from DRAM by their layer every inference, as layer-wise. Cached weights occupy the
  home level at every layer, so the cached set fits when its words fit the smallest room the activations leave.
  When every layer's weights fit, all are cached; otherwise layers are cached in the order of what caching saves
  per word (the layer's linearised objective streamed less cached, with the whole room taken; `_gains.weight_gain`),
  each that still fits, the rest streamed. Edge TPU's compiler does the same (docs/fusion.md): it caches what fits
  and streams the rest over the host link.
- Capacity: at every layer, the words of everything living in the home level (resident activations alive then,
  pinned weights) plus the tiles the layer's mapping keeps there fit its capacity. The mapper sees only the free
  capacity (`view.Residency`), so this holds for every mapping it returns.
- Which: greedily in network order, each activation (together with those sharing a producer with it:
  `_units.activation_units`) that fits at every layer it lives through and lowers the objective (linearised around
  the layer-wise plan: `LinearScore`) of the layers it lives through, given those chosen before (a smaller free
  capacity can cost a layer more than the DRAM traffic saved); then the weights (above), if caching them lowers the
  whole network's.
  Each step never raises the network's objective, so the plan is never worse than the layer-wise one. Caching
  weights changes every layer's run, so that step compares the two whole plans by the network's objective itself.
- A layer's run in a context is one of its candidates (`runs.layer_runs`: the moved layer-wise mapping, and the
  view's own search when views are searched), chosen by `runs.choose_run` with the planner's linearised objective in
  the greedy's steps and by `runs.choose_runs` (re-linearised around the plan's own totals) at the end; with views
  searched the greedy also runs on the moved mappings alone and the better plan, by the network's objective, is kept.
- Traffic a mapping does not move is charged by the plan (`plan.PlanTraffic`): a residual add reads its shortcut
  from the home level when that tensor stays there, else from DRAM (the layer-wise baseline reads every shortcut from
  DRAM, so the two compare like with like); a layer writing its output into several tensors on chip writes it into
  each.
"""
from __future__ import annotations

import dataclasses

from accel_models import TENSOR_INDEX
from mappings import MapperSettings

from ..graph import activations
from ..memo import accelerator_memo_key
from ..plan import (NO_TRAFFIC, LayerRun, NetworkPlan, NoValidMapping, PlanTraffic, charge_plan_traffic,
                    linearised_objective, network_objective, shortcut_reads)
from ..runs import choose_run, choose_runs, layer_runs
from ..view import Residency, home_level, rounded_capacity
from ..view_search import ChosenViews
from ._gains import weight_gain
from ._units import activation_units, unit_spans
from .resident_screen import ScreenPlan, screen_plan, screen_totals

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


class Resident:
    name = "resident"
    description = "activations stay on chip between layers when they fit, weights across inferences"
    ranked_by = "resident"

    def plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings | ChosenViews = False,
             count_dram: bool = True) -> NetworkPlan:
        if isinstance(search_views, ChosenViews):
            return self._with_chosen_views_searched(
                self._plan(network, accelerator, cache, objective, False, count_dram, replay=True), accelerator,
                cache, objective, search_views)
        return self._plan(network, accelerator, cache, objective, search_views, count_dram)

    def _plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings, count_dram: bool,
              replay: bool = False) -> NetworkPlan:
        """`plan`; `replay` (no view searched): the greedy's decisions are the compiled greedy's
        (`resident_screen.screen_plan`), and only the contexts of the units it keeps are priced here."""
        layers = network.layers
        table = _RunTable(accelerator, cache, objective, search_views)
        slots = [table.slot(layer) for layer in layers]
        adds = shortcut_reads(network)
        home = home_level(accelerator)
        base_options = [tuple(charge_plan_traffic(run, accelerator, home, _traffic(i, adds, (), 0, layers))
                              for run in table.run(layer, slot, None, count_dram))
                        for i, (layer, slot) in enumerate(zip(layers, slots))]
        base = NetworkPlan("none", tuple(options[0] for options in base_options))
        if home is None:
            return NetworkPlan(self.name, _named(base.runs, layers), notes=(
                f"{accelerator.name} has no single shared on-chip level: every tensor from DRAM",), baseline=base)
        score = LinearScore(base, objective)
        keeps = accelerator.levels[home].keeps
        units = activation_units(activations(network)) if {"Inputs", "Outputs"} <= set(keeps) else ()
        spans = unit_spans(units)
        decisions = screen_plan(network, accelerator, cache, objective) if replay and not search_views else None
        plan = self._greedy(network, accelerator, table, slots, adds, home, base, base_options, units, spans,
                            objective, score, moved_only=False, decisions=decisions)
        if search_views:       # candidates beyond the moved mappings: never worse than the plan on those alone
            moved = self._greedy(network, accelerator, table, slots, adds, home, base, base_options, units, spans,
                                 objective, score, moved_only=True)
            if network_objective(moved.cycles, moved.energy_pj, objective) < \
                    network_objective(plan.cycles, plan.energy_pj, objective):
                plan = moved
        return plan

    def _with_chosen_views_searched(self, plan: NetworkPlan, accelerator, cache, objective,
                                    chosen: ChosenViews) -> NetworkPlan:
        """`plan` with the runs of its costliest layers (`ChosenViews.share`) chosen again among their moved mapping
        and their view's search."""
        home = home_level(accelerator)
        if home is None:
            return plan
        linear = linearised_objective(plan.cycles, plan.energy_pj, objective)
        values = [linear.of_run(run) for run in plan.runs]
        searched, covered, wanted = set(), 0.0, chosen.share * sum(values)
        for i in sorted(range(len(values)), key=lambda i: -values[i]):
            if covered >= wanted:
                break
            searched.add(i)
            covered += values[i]
        options = []
        for i, run in enumerate(plan.runs):
            if run.residency is None or i not in searched:
                options.append((run,))
                continue
            found = layer_runs(run.layer, accelerator, cache, objective, run.residency, chosen.settings)
            options.append(tuple(charge_plan_traffic(r, accelerator, home, run.traffic) if run.traffic else r
                                 for r in found))
        runs = choose_runs(options, objective, linear)
        return dataclasses.replace(plan, runs=_named(runs, [run.layer for run in plan.runs]))

    def totals(self, network, accelerator, cache, objective) -> tuple[int, float]:
        """The totals of the plan with no view searched, compiled (`resident_screen.screen_totals`: the same greedy
        on arrays) where the chip has an on-chip level."""
        if accelerator.num_levels < 2:
            plan = self.plan(network, accelerator, cache, objective, count_dram=False)
            return plan.cycles, plan.energy_pj
        return screen_totals(network, accelerator, cache, objective)

    def _greedy(self, network, accelerator, table, slots, adds, home, base, base_options, units, spans, objective,
                score, moved_only: bool, decisions: ScreenPlan | None = None) -> NetworkPlan:
        """The plan the greedy of the module docstring makes, each layer's run chosen among its candidates by
        `runs.choose_runs` (`moved_only`: the first candidate, the moved layer-wise mapping where it fits). With
        `decisions`, the units kept and the weights cached are those, each unit's contexts priced only when kept."""
        layers = network.layers
        n = len(layers)
        level = accelerator.levels[home]
        capacity = level.capacity_words
        chosen: list = []
        on_chip: set = set()           # producers of the chosen activations
        pinned = 0
        runs = list(base.runs)
        options = list(base_options)   # each layer's candidate runs in its current context
        free = [capacity] * n          # capacity less the chosen activations alive at each layer
        reads = [False] * n            # the layer reads its Inputs from a chosen activation
        produced = [0] * n             # the tensors the layer writes (a slice of a concatenation counts as one)
        for unit in units:
            for act in unit:
                for p in act.producers:
                    produced[p] += 1
        kept = [0] * n                 # ... of which chosen: it writes on chip when all of them are
        params = [layer.param_words for layer in layers]
        context = _Context(layers, slots, table, home, capacity, params, accelerator, objective, score, moved_only)
        for u, (unit, (span, words, readers, writes, producers)) in enumerate(zip(units, spans)):
            if decisions is not None and not decisions.units_chosen[u]:
                continue
            if any(free[i] - w < 1 for i, w in zip(span, words)):
                continue
            with_unit = on_chip | producers
            writing = [kept[i] + w == produced[i] > 0 for i, w in zip(span, writes)]
            trial = context.options(span, [free[i] - w for i, w in zip(span, words)],
                                    [reads[i] or i in readers for i in span], writing, (),
                                    [_traffic(i, adds, with_unit, kept[i] + w if on else 0, layers)
                                     for i, w, on in zip(span, writes, writing)])
            if trial is None:
                continue
            picked = context.choose(trial)
            if decisions is not None or score(picked) <= score([runs[i] for i in span]):
                chosen.extend(unit)
                on_chip = with_unit
                for i, run, opts, w, slices in zip(span, picked, trial, words, writes):
                    runs[i], options[i] = run, opts
                    free[i] -= w
                    kept[i] += slices
                for r in readers:
                    reads[r] = True
        notes = ()
        if "Weights" in level.keeps and sum(params):
            writes = [kept[i] == produced[i] > 0 for i in range(n)]
            traffic = [_traffic(i, adds, on_chip, kept[i] if writes[i] else 0, layers) for i in range(n)]
            cached = _weights_to_cache(context, free, reads, writes, traffic, runs, score) if decisions is None \
                else frozenset(int(i) for i in decisions.weights_cached.nonzero()[0])
            words = sum(params[i] for i in cached)
            trial = context.options(range(n), [f - words for f in free], reads, writes, cached, traffic) \
                if cached else None
            if trial is not None and (decisions is not None or context.network_value(context.choose_all(trial))
                                      <= context.network_value(runs)):
                options, pinned = trial, words
                streamed = sum(params) - words
                if streamed:
                    notes = (f"weights of {len(cached)} of {sum(p > 0 for p in params)} layers stay on chip "
                             f"({words:,} words); {streamed:,} words streamed from DRAM every inference",)
        runs = [o[0] for o in options] if moved_only else choose_runs(options, objective, score)
        return NetworkPlan(self.name, _named(runs, layers), pinned, tuple(chosen), notes, baseline=base)


def _traffic(i: int, adds: dict, on_chip, copies: int, layers) -> PlanTraffic:
    """What layer `i`'s run moves besides its mapping (`plan.PlanTraffic`): the shortcuts it adds, read from the home
    level when their tensor is `on_chip` (a set of producer tuples), else from DRAM; and `copies` - 1 further writes
    of its output when it writes into `copies` tensors on chip."""
    if copies < 2 and i not in adds:
        return NO_TRAFFIC
    dram = chip = 0
    for producer, words in adds.get(i, ()):
        if (producer,) in on_chip:
            chip += words
        else:
            dram += words
    return PlanTraffic(dram, chip, max(0, copies - 1) * layers[i].output_words)


def _weights_to_cache(context, free, reads, writes, traffic, runs, score) -> frozenset:
    """The layers whose weights stay in the home level (module docstring): all of them when their words fit the
    smallest room `free` leaves (less one word); otherwise, by what caching saves per word (each layer's run with its
    weights cached and the whole room taken, against its run in `runs`), each that still fits and saves."""
    params = context.params
    room = min(free) - 1
    weighted = [i for i, p in enumerate(params) if p]
    if sum(params) <= room:
        return frozenset(weighted)
    gains = []
    for i in weighted:
        if params[i] <= room:
            run = context.options((i,), [free[i] - room], [reads[i]], [writes[i]], (i,), [traffic[i]])
            run = None if run is None else context.choose(run)
            if run is not None and score(run) < score([runs[i]]):
                gains.append((weight_gain(score([runs[i]]) - score(run), params[i]), i))
    cached, words = [], 0
    for _, i in sorted(gains, key=lambda g: (-g[0], g[1])):
        if words + params[i] <= room:
            cached.append(i)
            words += params[i]
    return frozenset(cached)


class _Context:
    """One network's layers on one accelerator, for the planner's trials: their runs in a given residency context."""

    def __init__(self, layers, slots, table, home, capacity, params, accelerator, objective, linear,
                 moved_only: bool = False) -> None:
        self.layers, self.slots, self.table = layers, slots, table
        self.home, self.capacity, self.params = home, capacity, params
        self.accelerator, self.objective, self.linear = accelerator, objective, linear
        self.moved_only = moved_only

    def options(self, span, free, reads, writes, cached, traffic):
        """Per layer in `span`, its candidate runs (`runs.layer_runs`, with its `traffic` charged) given, per layer of
        the span, the words left `free` in the home level, whether it reads its Inputs from and writes its Outputs to
        tensors on chip, and the layers whose weights are `cached` in the home level; None if one of them then has
        no valid mapping."""
        found = []
        layers, slots, params, capacity = self.layers, self.slots, self.params, self.capacity
        for i, left, on_chip_in, on_chip_out, extra in zip(span, free, reads, writes, traffic):
            resident = ((W,) if i in cached and params[i] else ()) + ((I,) if on_chip_in else ()) \
                + ((O,) if on_chip_out else ())
            if left < 1:
                return None
            if not resident and left == capacity:
                context = (None, True)
            else:
                context = (tuple(sorted(resident)), rounded_capacity(left))
            table = slots[i][1]
            runs = table.get((context, extra) if extra else context)
            if runs is None:
                runs = table.get(context)
                if runs is None:
                    residency = None if context[0] is None else Residency(self.home, *context)
                    try:
                        runs = self.table.run(layers[i], slots[i], residency)
                    except NoValidMapping:
                        return None
                if extra:       # charged once per context and traffic, kept beside the run
                    runs = table[(context, extra)] = tuple(charge_plan_traffic(run, self.accelerator, self.home,
                                                                               extra) for run in runs)
            found.append(runs)
        return found

    def choose_all(self, options) -> list:
        """Every layer's run of a whole-network trial: `runs.choose_runs` (re-linearised around the trial's own
        totals, never worse by the network's objective than the moved mappings); the first candidates with
        `moved_only`."""
        if self.moved_only:
            return [runs[0] for runs in options]
        return choose_runs(options, self.objective, self.linear.linear)

    def network_value(self, runs) -> float:
        """The network's objective of a whole plan's runs (exact: the linearised score around the layer-wise totals
        can rank two whole plans far from those totals the wrong way)."""
        return network_objective(sum(r.result.cycles for r in runs), sum(r.result.energy_pj for r in runs),
                                 self.objective)

    def choose(self, options) -> list:
        """The run of each layer the planner's trials score (`runs.choose_run` by its linearised objective; the first
        candidate with `moved_only`)."""
        if self.moved_only:
            return [runs[0] for runs in options]
        return [choose_run(runs, self.objective, self.linear) for runs in options]


def _named(runs, layers) -> tuple[LayerRun, ...]:
    """The runs, each given as its own layer's run (a remembered run may be another layer's of the same shape)."""
    return tuple(run if run.layer is layer else dataclasses.replace(run, layer=layer)
                 for run, layer in zip(runs, layers))


_TABLES: dict[tuple, list] = {}
RUNS_KEPT = 1 << 15
"""Layer runs remembered (per process) by `_RunTable`; past this many, all are dropped and remembered afresh."""
_kept = [0]


class _RunTable:
    """`runs.layer_run` for one accelerator, mapping cache, objective and view search, remembered across plans per
    layer shape and residency context (the tensors on chip, the free capacity class: `view.rounded_capacity`): a
    network search plans thousands of networks made of the same few thousand layer shapes in the same few contexts,
    so after the first plans a network costs a look-up per layer and context. A shape's runs stand while the
    cache's mapping of the shape is the one they were made from (a cache cleared and searched again gives new
    mappings, hence new runs). A run found for another layer of the same shape serves this one (`_named` gives it
    back as this layer's)."""

    def __init__(self, accelerator, cache, objective: str, search_views: bool | MapperSettings) -> None:
        self.accelerator, self.cache, self.objective = accelerator, cache, objective
        self.search_views = search_views
        self.prefix = (id(cache), accelerator_memo_key(accelerator), objective, search_views)

    def slot(self, layer) -> list:
        """[the cache's mapping of `layer`'s shape, {context: candidate runs, (context, traffic): those charged}] (the
        runs dropped if the mapping is not theirs); maps the shape on a miss, as `layer_run` would."""
        base = self.cache.result(layer, self.accelerator, self.objective)
        key = (self.prefix, layer.shape_key, layer.weights_are_activations)
        slot = _TABLES.get(key)
        if slot is None or slot[0] is not base:
            if _kept[0] > RUNS_KEPT:
                _TABLES.clear()
                _kept[0] = 0
            slot = _TABLES[key] = [base, {}]
        return slot

    def run(self, layer, slot, residency, count_dram: bool = True) -> tuple[LayerRun, ...]:
        """`layer`'s candidate runs with `residency` (None: layer-wise; `runs.layer_runs`), from `slot` or made and
        kept there."""
        context = (None, count_dram) if residency is None else (residency.resident, residency.free_words)
        runs = slot[1].get(context)
        if runs is None:
            runs = layer_runs(layer, self.accelerator, self.cache, self.objective, residency, self.search_views,
                              count_dram)
            slot[1][context] = runs
            _kept[0] += 1
        return runs


class LinearScore:
    """runs -> the objective linearised around `base`'s totals (`plan.LinearObjective`, whose `of_run` it keeps for
    `runs.choose_run`)."""

    def __init__(self, base: NetworkPlan, objective: str) -> None:
        self.linear = linearised_objective(base.cycles, base.energy_pj, objective)
        self.of_run = self.linear.of_run

    def __call__(self, runs) -> float:
        cycles, energy = 0, 0.0
        for r in runs:
            result = r.result
            cycles += result.cycles
            energy += result.energy_pj
        return self.linear(cycles, energy)
