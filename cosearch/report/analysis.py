"""What dominates a network's cost on a design, for the report: each distinct layer's evaluation and roofline
point with its shares of latency and energy, the top layers, the split by layer kind, the energy by memory level
and tensor, and the compared presets re-costed at the design's technology node.

Computed once per report from a `NetworkCost` (one kernel call per distinct layer, no search). Layers are
numbered by their position in `NetworkCost.layers`, from 0, as the per-layer table, the roofline's key and the
Timeloop files (`timeloop/00_...`) number them.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from accel_models import TENSORS, EvalResult, area_mm2, get_preset
from accel_models.roofline import RooflinePoint, layer_roofline, network_roofline

from ..fusion import explain_run, home_level, traffic_energy_pj
from ..search import CoSearchResult, LayerCost, NetworkCost

TOP_K = 5
"""Layers listed as dominating latency, and energy."""
DISPROPORTION = 1.5
"""A layer kind is called out when its share of latency (or energy) is at least this multiple of its share of MACs
and at least `CALL_OUT_SHARE` of the total."""
CALL_OUT_SHARE = 0.10


_KIND_NAMES = {"fc": "FC"}
"""How a layer kind (`nets.Layer.kind`) is written in a sentence, where it is not its own name."""


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class LayerAnalysis:
    """One distinct layer at its best mapping: cost (per run), evaluation, roofline point, shares of the network."""

    index: int
    cost: LayerCost
    evaluation: EvalResult
    roofline: RooflinePoint
    mac_share: float
    latency_share: float
    energy_share: float
    """Shares of the network's MACs, cycles and energy, counting every run of the layer."""

    @property
    def layer(self):
        return self.cost.layer

    @property
    def dram_bytes(self) -> float:
        """DRAM traffic of one run (reads + updates of the outermost level), bytes."""
        return self.roofline.dram_bytes

    @property
    def bound(self) -> str:
        return self.roofline.bound

    @property
    def spatial_utilization(self) -> float:
        return self.roofline.spatial_utilization

    def to_dict(self) -> dict:
        return {"index": self.index, "name": self.layer.name, "mac_share": self.mac_share,
                "latency_share": self.latency_share, "energy_share": self.energy_share,
                "dram_bytes": self.dram_bytes, "bound": self.bound, "spatial_utilization": self.spatial_utilization,
                "utilization": self.cost.utilization,
                "energy_pj_by_level_tensor": _level_tensor_dict(self.evaluation.level_names,
                                                                self.evaluation.tensor_energy_pj)}


@dataclass(frozen=True)
class KindShare:
    """The layers of one kind (conv, depthwise, fc, ...) together: shares, utilization range, bounds."""

    kind: str
    distinct: int
    runs: int
    mac_share: float
    latency_share: float
    energy_share: float
    utilization: tuple[float, float]
    bounds: dict[str, int]
    """How many of its distinct layers each bound holds (compute, memory, utilization)."""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "distinct": self.distinct, "runs": self.runs, "mac_share": self.mac_share,
                "latency_share": self.latency_share, "energy_share": self.energy_share,
                "utilization": list(self.utilization), "bounds": self.bounds}


@dataclass(frozen=True)
class PresetAtNode:
    """A compared preset rebuilt at the design's node, its own best mappings re-costed there (not re-searched)."""

    name: str
    own_nm: float
    node_nm: float
    area_mm2: float
    latency_s: float
    energy_j: float

    @property
    def edp_j_s(self) -> float:
        return self.energy_j * self.latency_s

    def to_dict(self, best_edp_j_s: float) -> dict:
        return {"name": self.name, "own_technology_nm": self.own_nm, "technology_nm": self.node_nm,
                "area_mm2": self.area_mm2, "latency_ms": self.latency_s * 1e3, "energy_mj": self.energy_j * 1e3,
                "edp_j_s": self.edp_j_s, "edp_ratio": self.edp_j_s / best_edp_j_s}


def _level_tensor_dict(level_names, energy: np.ndarray) -> dict:
    return {name: dict(zip(TENSORS, map(float, row))) for name, row in zip(level_names, energy)}


def percent_range(lo: float, hi: float) -> str:
    """'3.1%-17.8%', or one figure where both ends print the same ('1.6%', not '1.6%-1.6%')."""
    lo_text, hi_text = f"{lo:.1%}", f"{hi:.1%}"
    return lo_text if lo_text == hi_text else f"{lo_text}-{hi_text}"


@dataclass(frozen=True)
class NetworkAnalysis:
    """Every distinct layer analysed, the network's roofline point and its energy by level and tensor."""

    cost: NetworkCost
    layers: tuple[LayerAnalysis, ...]
    total: RooflinePoint
    level_tensor_energy_pj: np.ndarray
    """[levels, 3] pJ over the whole network (every run of every layer); with `level_leak_pj` and
    `mac_energy_pj`, the energy."""
    mac_energy_pj: float
    level_leak_pj: np.ndarray
    """[levels] pJ of leakage over the whole network (zero unless the architecture states a `leak` energy)."""
    clock_energy_pj: float = 0.0
    """pJ of the clock network over the whole network (zero unless the accelerator states a
    `clock_energy_pj`); with the levels' and the MACs', the energy."""

    def top(self, by: str, k: int = TOP_K) -> list[LayerAnalysis]:
        """The k layers with the largest share of 'latency' or 'energy'."""
        key = {"latency": lambda a: a.latency_share, "energy": lambda a: a.energy_share}[by]
        return sorted(self.layers, key=key, reverse=True)[:k]

    def by_kind(self) -> list[KindShare]:
        """The layers grouped by kind, most cycles first."""
        groups: dict[str, list[LayerAnalysis]] = {}
        for a in self.layers:
            groups.setdefault(a.layer.kind, []).append(a)
        rows = [KindShare(kind, len(g), sum(a.cost.count for a in g), sum(a.mac_share for a in g),
                          sum(a.latency_share for a in g), sum(a.energy_share for a in g),
                          (min(a.cost.utilization for a in g), max(a.cost.utilization for a in g)),
                          dict(Counter(a.bound for a in g)))
                for kind, g in groups.items()]
        return sorted(rows, key=lambda r: -r.latency_share)

    def headlines(self) -> list[str]:
        """Sentences naming what dominates: kinds far above their share of MACs, and the top layers."""
        out = []
        for r in self.by_kind():
            over = [f"{share:.1%} of the {what}" for what, share in (("cycles", r.latency_share),
                                                                     ("energy", r.energy_share))
                    if share >= CALL_OUT_SHARE and share >= DISPROPORTION * r.mac_share]
            if over:
                util = percent_range(*r.utilization)
                bounds = ", ".join(f"{n} {b}" + ("-limited" if b == "utilization" else "-bound")
                                   for b, n in sorted(r.bounds.items(), key=lambda kv: -kv[1]))
                out.append(f"{_capitalized(_KIND_NAMES.get(r.kind, r.kind))} layers are {r.mac_share:.1%} of the MACs "
                           f"but {' and '.join(over)}, at {util} utilization ({bounds}){self._dram_bound(r.kind)}")
        for by in ("latency", "energy"):
            top = self.top(by, 3)
            share = sum(a.latency_share if by == "latency" else a.energy_share for a in top)
            names = ", ".join(f"#{a.index} {a.layer.name}" for a in top)
            out.append(f"The three layers with the most {by} ({names}) take {share:.1%} of it")
        return out

    def _dram_bound(self, kind: str) -> str:
        """Why a kind's layers are slow when their memory-bound ones take most of its cycles: how close those run
        to the time their DRAM bytes take at the DRAM's bandwidth (the roofline's memory roof), and how much of
        those bytes are weights (a batch-1 FC layer uses each weight once: no mapping can reuse it); '' otherwise."""
        group = [a for a in self.layers if a.layer.kind == kind]
        bound = [a for a in group if a.bound == "memory" and a.roofline.dram_bytes_per_s is not None]
        cycles = sum(a.cost.cycles * a.cost.count for a in bound)
        if not bound or cycles < 0.5 * sum(a.cost.cycles * a.cost.count for a in group):
            return ""
        pt = bound[0].roofline
        bytes_per_cycle = pt.dram_bytes_per_s / (pt.clock_ghz * 1e9)
        dram_bytes = sum(a.dram_bytes * a.cost.count for a in bound)
        word_bytes = self.cost.accelerator.levels[0].word_bits / 8
        weight_reads = sum(a.evaluation.reads[0][0] * a.cost.count for a in bound)
        weight_words = sum(a.layer.param_words * a.cost.count for a in bound)
        weights = weight_reads * word_bytes / dram_bytes
        what = (f"{weights:.0%} of it weights" + (", each read once" if weight_reads == weight_words else "")
                if weights >= 0.5 else f"{1 - weights:.0%} of it activations")
        return (f": bound by DRAM bandwidth, {cycles / (dram_bytes / bytes_per_cycle):.2f}x the cycles their "
                f"{dram_bytes / 1e6:.3g} MB of DRAM traffic take at {bytes_per_cycle:.3g} B/cycle ({what})")

    def to_dict(self) -> dict:
        return {"layers": [a.to_dict() for a in self.layers],
                "top_latency": [a.index for a in self.top("latency")],
                "top_energy": [a.index for a in self.top("energy")],
                "by_kind": [r.to_dict() for r in self.by_kind()],
                "energy_pj_by_level_tensor": _level_tensor_dict(self.cost.accelerator.level_names,
                                                                self.level_tensor_energy_pj),
                "mac_energy_pj": self.mac_energy_pj, "clock_energy_pj": self.clock_energy_pj,
                "leak_energy_pj_by_level": dict(zip(self.cost.accelerator.level_names,
                                                    (float(v) for v in self.level_leak_pj))),
                "spatial_utilization": self.total.spatial_utilization, "headlines": self.headlines()}


def analyze(cost: NetworkCost) -> NetworkAnalysis:
    """Evaluate each distinct layer's best mapping once more (readably) and place it on the roofline."""
    acc = cost.accelerator
    evaluations = [explain_run(lc.layer, acc, lc.result.arrays, lc.residency, lc.parts) for lc in cost.layers]
    points = [layer_roofline(lc.layer, acc, ev, name=lc.layer.name or f"layer{i}", count=lc.count)
              for i, (lc, ev) in enumerate(zip(cost.layers, evaluations))]
    macs = sum(lc.layer.macs * lc.count for lc in cost.layers)
    cycles, energy = cost.cycles, cost.energy_pj
    layers = tuple(LayerAnalysis(i, lc, ev, pt, lc.layer.macs * lc.count / macs, lc.cycles * lc.count / cycles,
                                 lc.energy_pj * lc.count / energy)
                   for i, (lc, ev, pt) in enumerate(zip(cost.layers, evaluations, points)))
    level_tensor = sum(_with_plan_traffic(ev.tensor_energy_pj, lc, acc) * lc.count
                       for lc, ev in zip(cost.layers, evaluations))
    mac = sum(ev.mac_energy_pj * lc.count for lc, ev in zip(cost.layers, evaluations))
    leak = sum((np.zeros(len(acc.levels)) if ev.level_leak_pj is None else ev.level_leak_pj) * lc.count
               for lc, ev in zip(cost.layers, evaluations))
    clock = sum(ev.clock_energy_pj * lc.count for lc, ev in zip(cost.layers, evaluations))
    return NetworkAnalysis(cost, layers, network_roofline(points, name=cost.network.name), level_tensor, mac,
                           np.asarray(leak, dtype=float), float(clock))


def _with_plan_traffic(tensor_energy_pj: np.ndarray, lc: LayerCost, accelerator) -> np.ndarray:
    """A run's energy per (level, tensor) with what its plan charges besides the mapping (`LayerCost.traffic`): a
    residual add's shortcut read, an activation like its Inputs, at DRAM or at the home level where the shortcut
    lives, and the further writes of its output into tensors on chip."""
    if not lc.traffic:
        return tensor_energy_pj
    home = lc.residency.home if lc.residency is not None else home_level(accelerator)
    dram_pj, chip_read_pj, chip_written_pj = traffic_energy_pj(lc.traffic, accelerator, home)
    out = np.array(tensor_energy_pj, dtype=float)
    out[0, TENSORS.index("Inputs")] += dram_pj
    if home is not None:
        out[home, TENSORS.index("Inputs")] += chip_read_pj
        out[home, TENSORS.index("Outputs")] += chip_written_pj
    return out


def presets_at_node(result: CoSearchResult) -> list[PresetAtNode]:
    """The compared presets that ran at another node than the design, rebuilt at the design's node
    (`get_preset(name, technology_nm=...)`) with their own best mappings re-costed there. Cycles do not change
    (same sizes, bandwidths and clock); energies and area do."""
    if result.best is None:
        return []
    node = result.design.technology_nm
    out = []
    for p in result.fitting_presets:
        if p.technology_nm == node:
            out.append(PresetAtNode(p.name, p.technology_nm, node, p.area_mm2, p.cost.latency_s, p.cost.energy_j))
            continue
        acc = get_preset(p.name, technology_nm=node)
        energy_pj = sum(explain_run(lc.layer, acc, lc.result.arrays, lc.residency, lc.parts).energy_pj * lc.count
                        for lc in p.cost.layers)
        out.append(PresetAtNode(p.name, p.technology_nm, node, area_mm2(acc), p.cost.latency_s, energy_pj * 1e-12))
    return out


def comparison_caveats(result: CoSearchResult) -> list[str]:
    """Where a compared preset differs from the design in technology node or word width, both stated; and the presets
    left out as over the area budget at their own node that would fit at the design's."""
    if result.best is None:
        return []
    d = result.design
    out = []
    for p in result.presets:
        if not p.fits and p.technology_nm != d.technology_nm:
            area = area_mm2(get_preset(p.name, technology_nm=d.technology_nm))
            if area <= result.settings.budget.area_mm2:
                out.append(f"{p.name} is left out as {p.area_mm2:.2f} mm2 at its own {p.technology_nm:g} nm, but "
                           f"measures {area:.2f} mm2 at {d.technology_nm:g} nm, within the budget: not run here")
    for p in result.fitting_presets:
        word = p.cost.accelerator.mac_bits
        diffs = []
        if p.technology_nm != d.technology_nm:
            diffs.append(f"{p.technology_nm:g} nm")
        if word != d.word_bits:
            diffs.append(f"{word}-bit words")
        if diffs:
            out.append(f"{p.name} runs at {' and '.join(diffs)}, the co-searched design at {d.technology_nm:g} nm "
                       f"and {d.word_bits}-bit words")
    return out

