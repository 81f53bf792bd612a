"""A fixed device for the network search (`--accelerator`): an accelerator (a preset, the design of an earlier
co-search's result.json, or a Timeloop architecture with its energy table) whose layer costs come from cosearch's
mapper, or a measured latency table (`lut:`).

An accelerator's costs are a layer-cost table: every distinct layer shape the space can produce, each mapped once
(the best mapping for the search's mapper objective, with the final mapper's budget: the figures a hard limit is
judged on), saved under `--out/tables/` so that another run on the same device (another target, another strategy)
reads them instead of mapping again; so are the view searches of a fusion mode's plans. A subnet's latency and
energy are sums over its layers' rows; through the space's layer terms (`nets.spaces.terms`) a subnet costs a handful
of look-ups, and the gradient strategy gets its per-choice table.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from accel_models import Accelerator, area_mm2, get_preset
from accel_models.timing import TimeloopTiming, TimingModel, get_timing
from accel_models.timeloop import load_architecture
from accel_models.accelforge import read_accelforge_arch
from accel_models.zigzag import read_zigzag_accelerator
from mappings import MapperResult, MapperSettings, MappingCache, accelerator_key
from nets import GeneTable, Layer, SearchSpace, SubnetConfig, largest_config
from nets.spaces.terms import LayerTerm, config_with, term_layers

from ..._files import write_text_atomic
from ...config import UsageError
from ...config.devices import DeviceSpec
from ...fusion import NetworkPlan, NoValidMapping, ViewSearchFile, get_fusion_mode, keep_view_searches
from ..run_timing import run_timer
from ..space import Design
from .lut import LatencyTable
from .problem import SubnetCost


@dataclass(frozen=True)
class Device:
    """A device a network is searched for: its name, where it came from, and an accelerator (costs from the mapper)
    or a measured latency table."""

    name: str
    origin: str
    accelerator: Accelerator | None = None
    lut: LatencyTable | None = None

    @property
    def has_energy(self) -> bool:
        return self.accelerator is not None

    def describe(self) -> str:
        if self.accelerator is None:
            return f"{self.name} ({self.origin}: {self.lut.describe()})"
        acc = self.accelerator
        try:
            area = f", {area_mm2(acc):.2f} mm2 modelled"
        except ValueError:   # a level the area model cannot size (a Timeloop placeholder without a capacity)
            area = ""
        return f"{self.name} ({self.origin}: {acc.num_macs} MACs, {acc.clock_ghz:g} GHz{area})"


def load_device(spec: DeviceSpec) -> Device:
    """The device of an `--accelerator` entry; a `UsageError` names the entry and what is wrong with it."""
    flag = f"--accelerator {spec.text}"
    if spec.kind == "preset":
        return Device(spec.name, "preset", accelerator=get_preset(spec.name))
    if spec.kind == "result":
        try:
            data = json.loads(spec.paths[0].read_text())
            design = Design.from_dict(data["design"], name=spec.name)
        except (OSError, KeyError, TypeError) as exc:
            raise UsageError(f"{flag}: not the result.json of a co-search with a design ({type(exc).__name__}: "
                             f"{exc})") from None
        except ValueError as exc:   # JSON that does not parse, or a design field out of range
            raise UsageError(f"{flag}: {' '.join(str(exc).split())}") from None
        return Device(spec.name, f"design of {spec.paths[0]}", accelerator=design.accelerator)
    if spec.kind == "timeloop":
        try:
            files = [f for p in spec.paths for f in (sorted(p.rglob("*.yaml")) if p.is_dir() else [p])]
            acc = load_architecture([str(f) for f in files], name=spec.name)
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
        return Device(spec.name, "Timeloop architecture", accelerator=acc)
    if spec.kind == "accelforge":
        try:
            acc = read_accelforge_arch(spec.paths[0], dict(spec.variables), name=spec.name)
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
        return Device(spec.name, "AccelForge architecture", accelerator=acc)
    if spec.kind == "zigzag":
        try:
            acc = read_zigzag_accelerator(spec.paths[0], spec.paths[1] if len(spec.paths) > 1 else None)
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
        return Device(spec.name, "ZigZag accelerator", accelerator=acc)
    try:
        return Device(spec.name, "measured latency table", lut=LatencyTable.load(spec.paths))
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _table_name(accelerator: Accelerator, mapper: MapperSettings, objective: str) -> str:
    settings = json.dumps(mapper.to_dict(), sort_keys=True, default=str)
    return f"{accelerator_key(accelerator)}-{hashlib.sha1(settings.encode()).hexdigest()[:10]}-{objective}"


def _map_chunk(layers: Sequence[Layer], accelerator: Accelerator, mapper: MapperSettings,
               objective: str) -> list[dict]:
    """Map each layer (a worker process's share of a table); the results as dicts."""
    with threadpool_limits(1):
        cache = MappingCache(mapper)
        return [cache.result(layer, accelerator, objective).to_dict() for layer in layers]


SCREEN_MARGIN = 2.0
"""How many times a subnet's plan may be faster than the compiled screen's plan on moved mappings
(`DeviceCosts.latency_floor_s`). An estimate from measurements, not a proof: 100 random ofa_mbv3_w1.2 subnets on
edge_tpu_like (latency layer table), screen / plan latency 1.06-1.77 (median 1.22); 40 on edge_tpu_like with an EDP
table, 1.06-1.41; 40 on nvdla_256, 1.00. A draw it rejects wrongly is one candidate less, never a wrong figure."""


class LayerTable:
    """The best mapping of every layer shape on one accelerator for one mapper objective, with the mapper settings
    it was made with, saved as one JSON line per shape in `folder`. `timing` (`accel_models.timing`) turns a
    mapping's counts into the cycles `cost` sums, and the mapper chooses each mapping under it
    (`MapperSettings.timing`): a table is saved per timing model, under the name its settings give."""

    def __init__(self, accelerator: Accelerator, mapper: MapperSettings, objective: str, folder: Path,
                 timing: str | TimingModel = "timeloop") -> None:
        self.timing = get_timing(timing)
        mapper = replace(mapper, timing=self.timing)
        self.accelerator, self.mapper, self.objective = accelerator, mapper, objective
        self.run_cycles = run_timer(self.timing, accelerator)
        """A run's cycles on this table's accelerator under its timing model (`run_timing.run_timer`)."""
        self._timed_cycles: dict[tuple, int] = {}
        self.path = folder / f"{_table_name(accelerator, mapper, objective)}.jsonl"
        self.cache = MappingCache(mapper)
        self.loaded = self.mapped = 0
        self.map_s = 0.0
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    layer = Layer(**row["layer"])
                    self.cache.insert(MapperResult.from_dict(row["result"], layer, accelerator))
                    self.loaded += 1
                except (ValueError, KeyError, TypeError):
                    continue      # a damaged line: that shape is mapped again

    def __contains__(self, layer: Layer) -> bool:
        return (layer, self.accelerator, self.objective) in self.cache

    def ensure(self, layers: Sequence[Layer], workers: int = 1, say: Callable[[str], None] | None = None) -> None:
        """Map the shapes not in the table yet (in `workers` processes when there are many) and save them."""
        missing = list({layer.shape_key: layer for layer in layers if layer not in self}.values())
        if not missing:
            return
        t0 = time.perf_counter()
        if say:
            say(f"layer table: mapping {len(missing)} layer shapes on {self.accelerator.name} "
                f"({self.mapper.budget_evals} evaluations each, {workers} process(es)); saved to {self.path}")
        if workers > 1 and len(missing) >= 8 * workers:
            chunks = [missing[i::workers] for i in range(workers)]
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                found = [r for rows in pool.map(_map_chunk, chunks, [self.accelerator] * workers,
                                                [self.mapper] * workers, [self.objective] * workers) for r in rows]
            layers_found = [layer for chunk in chunks for layer in chunk]
        else:
            found = _map_chunk(missing, self.accelerator, self.mapper, self.objective)
            layers_found = missing
        lines = []
        for layer, row in zip(layers_found, found):
            result = MapperResult.from_dict(row, layer, self.accelerator)
            self.cache.insert(result)
            lines.append(json.dumps({"layer": _layer_dict(layer), "result": row}))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        old = self.path.read_text() if self.path.is_file() else ""
        write_text_atomic(self.path, old + "".join(line + "\n" for line in lines))
        self.mapped += len(missing)
        self.map_s += time.perf_counter() - t0

    def result(self, layer: Layer) -> MapperResult:
        return self.cache.result(layer, self.accelerator, self.objective)

    def views_path(self, view_mapper: MapperSettings) -> Path:
        """Where the view searches made from this table's mappings with `view_mapper` are kept."""
        settings = json.dumps(view_mapper.to_dict(), sort_keys=True, default=str)
        return self.path.with_name(f"{self.path.stem}-views-{hashlib.sha1(settings.encode()).hexdigest()[:10]}.jsonl")

    def cycles(self, layer: Layer, result: MapperResult) -> int:
        """`result`'s cycles (the table's mapping of `layer`) under the table's timing model, once per shape."""
        key = layer.shape_key
        cycles = self._timed_cycles.get(key)
        if cycles is None:
            cycles = self._timed_cycles[key] = self.run_cycles(layer, result)
        return cycles

    def cost(self, layers: Sequence[Layer]) -> SubnetCost:
        """Latency and energy of the layers run one after the other (a layer with no valid mapping: infinite)."""
        cycles, energy = 0, 0.0
        for layer in layers:
            r = self.result(layer)
            if not r.valid:
                return SubnetCost(math.inf, math.inf)
            cycles += self.cycles(layer, r)
            energy += r.energy_pj
        return SubnetCost(cycles / (self.accelerator.clock_ghz * 1e9), energy * 1e-12)


def _layer_dict(layer: Layer) -> dict:
    return {f.name: getattr(layer, f.name) for f in fields(layer) if f.name != "elementwise"}


class DeviceCosts:
    """The costs of one space's subnets on one device: by layer terms (each term's cost cached per joint choice of its
    genes), a subnet's sum of its terms'; the per-choice tables of the gradient strategy.

    With a `fusion` mode other than "none" a layer's cost depends on its neighbours (what stays on chip), so a
    subnet is planned whole (`cosearch.fusion`): its layers mapped on the views the plan gives them, through the
    table's cache, keyed by the view (the tensors on chip and the capacity they leave), and no term tables. With
    `view_mapper` (the searches' rule: `fusion.view_search_settings` of the inner mapper), each (layer shape, view)
    the plans meet is searched once with those settings, starting from the table's mapping moved onto the view, and
    the better of the two kept (`fusion.layer_run`'s `search_view`); without
    it the table's mapping is only priced on the view, which on a chip that keeps the whole network on chip can be
    several times slower than the view's own best (docs/fusion.md).

    A mode that ranks networks by another mode's plans (`FusionMode.ranked_by`: depth-first by resident plans, whose
    totals bound its own score from above at a small part of its planner's cost) scores the search's subnets in
    that mode (`network`), and the subnet found in its own (`final`, `plan`)."""

    def __init__(self, device: Device, space: SearchSpace, table: LayerTable | None, fusion: str = "none",
                 view_mapper: MapperSettings | None = None, keep_views: bool = False) -> None:
        self.device, self.space, self.table = device, space, table
        self.fusion = get_fusion_mode(fusion)
        self.ranking = get_fusion_mode(self.fusion.ranked_by)
        """The mode the search's subnets are scored in (`network`); the device's own, `fusion`, plans the one found."""
        self.view_mapper = view_mapper
        self.views: ViewSearchFile | None = None
        """With `keep_views` (and a view mapper and a table), the view searches saved beside the layer table
        (`LayerTable.views_path`): read back instead of searched again by a later run on the device."""
        if keep_views and view_mapper is not None and table is not None and self.fusion.name != "none":
            self.view_mapper = replace(view_mapper)     # this device's own: its searches go to its own file
            self.views = keep_view_searches(self.view_mapper, table.views_path(view_mapper))
        fused = self.fusion.name != "none" and table is not None
        self.terms: tuple[LayerTerm, ...] | None = None if fused else space.layer_terms()
        self.base = None
        self._cache: dict[tuple, SubnetCost] = {}
        self._own_plan: tuple | None = None
        if self.terms is not None:
            genes = sorted({g for t in self.terms for g in t.support})
            self._genes = [(f, p, f in space.scalar_genes) for f, p in genes]
            where = {g: i for i, g in enumerate(genes)}
            self._support = [tuple(where[g] for g in t.support) for t in self.terms]

    def network(self, config: SubnetConfig) -> SubnetCost:
        """Latency (s) and energy (J) of one inference of `config`."""
        if self.device.lut is not None:
            return SubnetCost(self.device.lut.network_latency_s(self.space, config), math.nan)
        if self.terms is None:
            if self.fusion.name != "none":
                return self._plan_cost(self._ranked_plan, config)
            return self.table.cost(self.space.network(config).layers)
        flat = [getattr(config, f) if scalar else getattr(config, f)[p] for f, p, scalar in self._genes]
        latency = energy = 0.0
        cache = self._cache
        for i, support in enumerate(self._support):
            values = tuple(flat[k] for k in support)
            cost = cache.get((i, values))
            if cost is None:
                cost = self.term(i, values)
            latency += cost.latency_s
            energy += cost.energy_j
        return SubnetCost(latency, energy)

    @property
    def ranks_otherwise(self) -> bool:
        """Whether the search's subnets are scored in another mode than the one the device runs them in."""
        return self.terms is None and self.device.lut is None and self.ranking.name != self.fusion.name

    def final(self, config: SubnetConfig) -> SubnetCost:
        """Latency (s) and energy (J) of `config` as the device runs it: `network(config)`, or where the search's
        subnets are ranked in another mode (`ranks_otherwise`), the plan in the device's own mode (`plan`'s, kept
        for the report)."""
        return self._plan_cost(self.plan, config) if self.ranks_otherwise else self.network(config)

    def _plan_cost(self, plan_of: Callable[[SubnetConfig], NetworkPlan], config: SubnetConfig) -> SubnetCost:
        """`plan_of(config)`'s latency and energy (infinite where a layer has no valid mapping)."""
        try:
            plan = plan_of(config)
        except NoValidMapping:
            return SubnetCost(math.inf, math.inf)
        return SubnetCost(self._plan_cycles(plan) / (self.table.accelerator.clock_ghz * 1e9), plan.energy_pj * 1e-12)

    def _mode_plan(self, mode, config: SubnetConfig, count_dram: bool) -> NetworkPlan:
        table = self.table
        return mode.plan(self.space.network(config), table.accelerator, table.cache, table.objective,
                         self.view_mapper or False, count_dram)

    def _ranked_plan(self, config: SubnetConfig) -> NetworkPlan:
        """`config` planned in the mode the search ranks by, its DRAM words not counted (the search reads none)."""
        return self._mode_plan(self.ranking, config, count_dram=False)

    def latency_floor_s(self, config: SubnetConfig) -> float:
        """A quick estimate (s) below `network(config)`'s latency when the search's subnets are scored by resident
        plans: the compiled screen's latency (`Resident.totals`: the plan on the table's mappings moved onto the
        views, a few ms, which searching the views only lowers) divided by `SCREEN_MARGIN`; 0 where there is none
        (another fusion mode, a latency table, a timing other than Timeloop's, no on-chip level)."""
        table = self.table
        if self.terms is not None or self.ranking.name != "resident" or table is None or \
                table.timing.name != TimeloopTiming.name or table.accelerator.num_levels < 2:
            return 0.0
        cycles, _ = self.ranking.totals(self.space.network(config), table.accelerator, table.cache, table.objective)
        return cycles / (table.accelerator.clock_ghz * 1e9) / SCREEN_MARGIN

    def _plan_cycles(self, plan: NetworkPlan) -> int:
        """A plan's cycles under the table's timing model (the plan's own under Timeloop's semantics)."""
        cycles = self.table.run_cycles
        return sum(cycles(run.layer, run.result, run.residency, run.parts) for run in plan.runs)

    def plan(self, config: SubnetConfig, count_dram: bool = True) -> NetworkPlan:
        """How `config` runs on the device's accelerator under the device's fusion mode (`final`'s figures); raises
        `NoValidMapping`. Where the search ranks in another mode, the last plan is kept: that mode's DP is the costly
        one, and `final` and the report ask for the same subnet's."""
        key = (config, count_dram)
        if self._own_plan is not None and self._own_plan[0] == key:
            return self._own_plan[1]
        plan = self._mode_plan(self.fusion, config, count_dram)
        if self.ranks_otherwise:
            self._own_plan = (key, plan)
        return plan

    def save_views(self) -> None:
        """Write the view searches made since the last save (`views`), if kept."""
        if self.views is not None:
            self.views.save()

    def term(self, index: int, values: tuple) -> SubnetCost:
        key = (index, values)
        cost = self._cache.get(key)
        if cost is None:
            if self.base is None:
                self.base = largest_config(self.space)
            config = config_with(self.space, self.base, dict(zip(self.terms[index].support, values)))
            cost = self._term_at(index, config)
            self._cache[key] = cost
        return cost

    def _term_at(self, index: int, config: SubnetConfig) -> SubnetCost:
        """Term `index`'s cost in `config` (it reads only the term's support)."""
        if self.device.lut is not None:
            return SubnetCost(self.device.lut.term_latency_s(self.space, config, self.terms, index), math.nan)
        support = self.terms[index].support
        values = tuple(getattr(config, f) if f in self.space.scalar_genes else getattr(config, f)[p]
                       for f, p in support)
        return self.table.cost(term_layers(self.space, self.terms, index, values, config))

    def fill_terms(self, genes: GeneTable) -> int:
        """Cost every term at every joint choice of its support among `genes`' choices, building few networks: each
        network built sets, for as many terms as agree on their shared genes, one pending joint choice, and gives all
        of their costs at once (a block's term and its stage's other blocks' share the resolution and the depth).
        Returns the number of networks built."""
        if self.base is None:
            self.base = largest_config(self.space)
        pending = [dict.fromkeys(v for v in itertools.product(*(genes[f][p] for f, p in term.support))
                                 if (i, v) not in self._cache) for i, term in enumerate(self.terms)]
        built = 0
        left = sum(map(len, pending))
        while left:
            chosen: dict = {}
            for term, queue in zip(self.terms, pending):
                for values in queue:
                    if all(chosen.get(g, v) == v for g, v in zip(term.support, values)):
                        chosen.update(zip(term.support, values))
                        break
            config = config_with(self.space, self.base, chosen)
            built += 1
            for i, (term, queue) in enumerate(zip(self.terms, pending)):
                if all(g in chosen for g in term.support):
                    values = tuple(chosen[g] for g in term.support)
                    if (i, values) not in self._cache:
                        self._cache[(i, values)] = self._term_at(i, config)
                    queue.pop(values, None)
            before, left = left, sum(map(len, pending))
            if left >= before:      # cannot happen: the first pending choice is always taken
                raise RuntimeError(f"DeviceCosts.fill_terms: no progress with {left} choices pending")
        return built

    def term_tables(self, index: int, genes: GeneTable) -> tuple[np.ndarray, np.ndarray]:
        """(latency s, energy J) of term `index` at every joint choice of its support among `genes`' choices, as
        arrays shaped by those choices."""
        term = self.terms[index]
        if any((index, v) not in self._cache for v in itertools.product(*(genes[f][p] for f, p in term.support))):
            self.fill_terms(genes)
        shape = tuple(len(genes[f][p]) for f, p in term.support)
        lat, en = np.empty(shape), np.empty(shape)
        for idx, values in zip(np.ndindex(*shape), itertools.product(*(genes[f][p] for f, p in term.support))):
            cost = self.term(index, values)
            lat[idx], en[idx] = cost.latency_s, cost.energy_j
        return lat, en


__all__ = ["Device", "load_device", "LayerTable", "DeviceCosts"]
