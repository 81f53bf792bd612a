"""What a fusion mode decides for a network on an accelerator: how each layer runs, and the totals."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path

from accel_models import Accelerator, EvalResult, explain, explain_rehomed
from mappings import MapperResult, MapperSettings, MappingCache, accelerator_key
from nets import Layer, Network

from .graph import Activation
from .view import Residency, home_level


class NoValidMapping(RuntimeError):
    """The mapper found no mapping of a layer that fits the accelerator (or the view a plan gives it)."""


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


_PRICED: "OrderedDict[tuple, tuple[int, float, float]]" = OrderedDict()
PRICED_KEPT = 1 << 15
"""Priced layer runs remembered (per process), least recently used dropped first."""


def _remember(key, compute):
    hit = _PRICED.get(key)
    if hit is None:
        hit = _PRICED[key] = compute()
        while len(_PRICED) > PRICED_KEPT:
            _PRICED.popitem(last=False)
    else:
        _PRICED.move_to_end(key)
    return hit


def _mapping_bytes(arrays) -> bytes:
    """A mapping's arrays as one bytes string: what a remembered pricing of it is keyed by (a shape's best mapping
    depends on the mapper's settings and warm starts, so the shape alone does not name it)."""
    return b"".join(a.tobytes() for a in arrays)


@lru_cache(maxsize=64)
def _key(accelerator: Accelerator) -> str:
    return accelerator_key(accelerator)


def layer_run(layer: Layer, accelerator: Accelerator, cache: MappingCache, objective: str,
              residency: Residency | None = None, search_view: bool | MapperSettings = False,
              count_dram: bool = True) -> LayerRun:
    """`layer`'s best mapping on the view `residency` gives (on `accelerator` itself if None), priced on the chip;
    raises `NoValidMapping`.

    With a residency, the layer-wise best mapping moved onto the view (`Residency.transplanted`) is priced; the
    mapper searches the view itself only where that mapping does not fit the view's free capacity, or always with
    `search_view` (then the better of the two for `objective` is kept). A view search starts from the moved mapping
    (its genes are the search's first seed) and runs with `cache`'s settings, or with `search_view`'s when it is a
    `MapperSettings` (a cheaper budget: a subnet search meets thousands of views). Searching no view maps each
    shape once, as the layer-wise model does, but the moved mapping was chosen for tensors in DRAM: on a chip that
    keeps a whole network on chip it can be several times slower than the view's own best (docs/fusion.md).
    `count_dram=False`: a layer-wise run's DRAM words are left at 0 rather than counted (a readable evaluation per
    shape: the searches' scores do not need them)."""
    base = cache.best_mapping(layer, accelerator, objective)
    if residency is None:
        if not base.valid:
            raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name}")

        def compute():
            ev = explain(layer, accelerator, base.arrays)
            return int(base.cycles), float(base.energy_pj), float(ev.reads[0].sum() + ev.updates[0].sum())
        if not count_dram:
            return LayerRun(layer, base, None, 0.0)
        key = (_key(accelerator), layer.shape_key, None, _mapping_bytes(base.arrays))
        return LayerRun(layer, base, None, _remember(key, compute)[2])
    view = residency.view(accelerator)
    moved = None if base.arrays is None else residency.transplanted(base.arrays)
    best = _better(None, base, moved, layer, accelerator, view, residency, objective)
    if best is None or search_view:
        settings = search_view if isinstance(search_view, MapperSettings) else cache.settings
        searched = _view_search(layer, residency.searched_view(accelerator), settings, objective, moved)
        best = _better(best, searched, searched.arrays, layer, accelerator, view, residency, objective)
    if best is None:
        raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name} with "
                             f"{', '.join(residency.names) or 'no tensor'} on chip and {residency.free_words} words "
                             "free")
    return LayerRun(layer, best[1], residency, best[2])


VIEW_SEARCH_EVALS = 32
"""Evaluations of a view search in the searches (the fixed-device network search and the co-search's trials): their
inner mapper's settings with this budget (`view_search_settings`). Seeded with the layer-wise mapping moved onto the
view, 32 evaluations give the final mapper's (4,096) resident latency on each of 15 ofa-mbv3 subnets on
edge_tpu_like, and 256's on 200, at a fifth of the search time of 256 (docs/fusion.md, "Views searched in the
searches")."""

_VIEW_SETTINGS: "OrderedDict[int, tuple[MapperSettings, MapperSettings]]" = OrderedDict()


def view_search_settings(mapper: MapperSettings) -> MapperSettings:
    """How a search (the fixed-device search, a co-search trial) searches the views its plans meet: `mapper`'s
    strategy, seed, bypass and factors with a budget of `VIEW_SEARCH_EVALS` evaluations and no time limit. The same
    object for the same `mapper` object, so that the view searches' memo (`_view_search`, keyed by the settings'
    identity too) is shared by every plan of a search."""
    hit = _VIEW_SETTINGS.get(id(mapper))
    if hit is None or hit[0] is not mapper:
        hit = _VIEW_SETTINGS[id(mapper)] = (mapper, dataclasses.replace(mapper, budget_evals=VIEW_SEARCH_EVALS,
                                                                        time_limit_s=None))
        while len(_VIEW_SETTINGS) > 64:
            _VIEW_SETTINGS.popitem(last=False)
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


_SEARCHED: "OrderedDict[tuple, MapperResult]" = OrderedDict()


def _view_search(layer: Layer, view: Accelerator, settings: MapperSettings, objective: str,
                 start) -> MapperResult:
    """The mapper's best mapping of `layer` on a view with `settings`, seeded with the mapping `start` (MappingArrays
    on the view, or None), remembered here rather than in a `MappingCache`: a cache's tables keep the most recent
    accelerators only, and views, one per capacity a plan leaves a layer, would push the accelerator's own table
    out."""
    seed = b"" if start is None else _mapping_bytes(start)
    key = (_key(view), layer.shape_key, objective, id(settings), settings, seed)
    found = _SEARCHED.get(key)
    if found is None:
        kept = _FILES.get(id(settings))
        file = kept[1] if kept is not None and kept[0] is settings else None
        saved = None
        if file is not None:
            saved = hashlib.sha1(repr((key[0], key[1], objective)).encode() + seed).hexdigest()
            found = file._get(saved, layer, view)
        if found is None:
            enc = settings.encoding(layer, view)
            found = settings.search(enc, objective, None if start is None else enc.encode(start)[None])
            if file is not None:
                file._put(saved, found)
        _SEARCHED[key] = found
        while len(_SEARCHED) > PRICED_KEPT:
            _SEARCHED.popitem(last=False)
    else:
        _SEARCHED.move_to_end(key)
    return found


def _better(best, result: MapperResult, arrays, layer, accelerator, view, residency, objective):
    """`best` ((value, result, DRAM words) or None) or `arrays` priced on the chip, whichever is better."""
    if arrays is None:
        return best
    key = (_key(accelerator), layer.shape_key, residency.home, residency.resident, _mapping_bytes(arrays))
    priced = _remember(key, lambda: residency.priced(layer, accelerator, arrays))
    if priced is None or priced[3] > residency.free_words:
        return best
    cycles, energy, dram, _ = priced
    value = network_objective(cycles, energy, objective)
    if best is not None and best[0] <= value:
        return best
    return (value, dataclasses.replace(result, layer=layer, arrays=arrays, cycles=cycles, energy_pj=energy,
                                       accelerator=view), dram)


def network_objective(cycles: float, energy_pj: float, objective: str) -> float:
    """The value of a mapper objective for a run: EDP (pJ x cycles), latency (cycles) or energy (pJ)."""
    return {"edp": energy_pj * cycles, "latency": cycles, "energy": energy_pj}[objective]


def linearised_objective(cycles0: float, energy0_pj: float, objective: str):
    """(cycles, energy_pj) -> the mapper objective's first-order part around (cycles0, energy0_pj): a x cycles +
    b x energy, with a and b its slopes there (EDP: E0 and C0; latency: 1 and 0; energy: 0 and 1). Additive over
    groups of layers; a change that lowers it never raises an EDP whose two factors move the same way."""
    per_cycle = network_objective(1.0, energy0_pj, objective) - network_objective(0.0, energy0_pj, objective)
    per_pj = network_objective(cycles0, 1.0, objective) - network_objective(cycles0, 0.0, objective)

    def score(cycles: float, energy_pj: float) -> float:
        return per_cycle * cycles + per_pj * energy_pj
    return score


def layer_wise(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str,
               count_dram: bool = True) -> NetworkPlan:
    """Every layer alone, its tensors in DRAM (the cost model's own semantics)."""
    return NetworkPlan("none", tuple(layer_run(layer, accelerator, cache, objective, count_dram=count_dram)
                                     for layer in network.layers))


__all__ = ["LayerRun", "NetworkPlan", "NoValidMapping", "VIEW_SEARCH_EVALS", "ViewSearchFile", "explain_run",
           "keep_view_searches", "layer_run", "layer_wise", "linearised_objective", "network_objective",
           "view_search_settings"]
