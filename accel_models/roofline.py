"""Roofline view of evaluated layers: intensity, attainable vs achieved throughput, the binding ceiling.

Arithmetic intensity is MACs per DRAM byte (and ops per byte, 1 MAC = 2 ops). The roofline of an
accelerator is attainable = min(peak, intensity x DRAM bandwidth). A mapping adds a third ceiling:
its spatial utilization u = MACs / (MAC units x compute cycles), the fraction of the PE array its
spatial unrolling occupies (compute cycles = the product of its temporal factors), caps it at
u x peak. A layer's bound is its lowest ceiling: 'memory' (intensity x bandwidth, left of the ridge
point peak / bandwidth), 'utilization' (u x peak: fewer PEs usable than the array has, as for a
depthwise layer on an array sized for channels), else 'compute' (the peak). Achieved throughput is
MACs over the cost model's cycles, which also counts on-chip bandwidth stalls.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .accelerator import Accelerator
from .cost_model import explain

OPS_PER_MAC = 2


@dataclass(frozen=True)
class RooflinePoint:
    """One layer (or a whole network) on an accelerator's roofline.

    macs, dram_bytes and cycles are per execution; `count` is how many times the network runs it.
    peak_macs_per_s: MACs x clock; dram_bytes_per_s: None = unlimited.
    level_bytes: bytes read, filled or updated at each storage level (all instances), by level name.
    """

    name: str
    macs: float
    dram_bytes: float
    cycles: float
    peak_macs_per_s: float
    dram_bytes_per_s: float | None
    clock_ghz: float
    count: int = 1
    level_bytes: dict[str, float] = field(default_factory=dict)
    compute_cycles: float | None = None
    """Product of the mapping's temporal factors (cycles with no stall); None: unknown, utilization taken as 1."""

    def __post_init__(self) -> None:
        for name in ("macs", "cycles", "peak_macs_per_s", "clock_ghz"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.integer, np.floating)) or not v > 0:
                raise ValueError(f"RooflinePoint[{self.name}].{name} must be > 0, got {v!r}")
        if not self.dram_bytes >= 0:
            raise ValueError(f"RooflinePoint[{self.name}].dram_bytes must be >= 0 bytes, got {self.dram_bytes!r}")
        if self.dram_bytes_per_s is not None and not self.dram_bytes_per_s > 0:
            raise ValueError(f"RooflinePoint[{self.name}].dram_bytes_per_s must be > 0 or None, "
                             f"got {self.dram_bytes_per_s!r}")

    @property
    def intensity_mac_per_byte(self) -> float:
        """MACs per DRAM byte (inf when nothing moves to or from DRAM)."""
        return math.inf if self.dram_bytes == 0 else self.macs / self.dram_bytes

    @property
    def intensity_op_per_byte(self) -> float:
        return OPS_PER_MAC * self.intensity_mac_per_byte

    @property
    def ridge_mac_per_byte(self) -> float:
        """Intensity where the memory roof meets the compute roof (0 with unlimited bandwidth)."""
        return 0.0 if self.dram_bytes_per_s is None else self.peak_macs_per_s / self.dram_bytes_per_s

    @property
    def attainable_macs_per_s(self) -> float:
        """min(peak, intensity x DRAM bandwidth), MAC/s."""
        if self.dram_bytes_per_s is None or self.dram_bytes == 0:
            return self.peak_macs_per_s
        return min(self.peak_macs_per_s, self.intensity_mac_per_byte * self.dram_bytes_per_s)

    @property
    def seconds(self) -> float:
        """Run time of one execution: cycles / clock."""
        return self.cycles / (self.clock_ghz * 1e9)

    @property
    def achieved_macs_per_s(self) -> float:
        return self.macs / self.seconds

    @property
    def num_macs(self) -> float:
        """MAC units: peak MAC/s / clock."""
        return self.peak_macs_per_s / (self.clock_ghz * 1e9)

    @property
    def spatial_utilization(self) -> float:
        """Fraction of the MAC units the mapping's spatial unrolling occupies: MACs / (MAC units x compute cycles);
        1 when the compute cycles are unknown."""
        if self.compute_cycles is None:
            return 1.0
        return min(1.0, self.macs / (self.num_macs * self.compute_cycles))

    @property
    def utilization_ceiling_macs_per_s(self) -> float:
        """The peak scaled by the spatial utilization: what the mapping could reach with no stall at all."""
        return self.spatial_utilization * self.peak_macs_per_s

    @property
    def ceiling_macs_per_s(self) -> float:
        """The lowest of the three ceilings (peak, intensity x DRAM bandwidth, utilization x peak), MAC/s."""
        return min(self.attainable_macs_per_s, self.utilization_ceiling_macs_per_s)

    @property
    def bound(self) -> str:
        """Which ceiling is lowest: 'utilization' (u x peak below the memory roof), else 'memory' left of the ridge
        point, 'compute' at or right of it (see the module docstring)."""
        if self.utilization_ceiling_macs_per_s < self.attainable_macs_per_s * (1 - 1e-12):
            return "utilization"
        # left of the ridge point; compared as attainable < peak (intensity < ridge rounds differently at the ridge)
        return "memory" if self.attainable_macs_per_s < self.peak_macs_per_s else "compute"

    @property
    def fraction_of_attainable(self) -> float:
        return self.achieved_macs_per_s / self.attainable_macs_per_s

    @property
    def fraction_of_ceiling(self) -> float:
        """Achieved / the lowest ceiling: 1 when nothing but the binding ceiling holds the layer back."""
        return self.achieved_macs_per_s / self.ceiling_macs_per_s


def roofline_point(macs: float, dram_bytes: float, cycles: float, peak_macs_per_s: float,
                   dram_bytes_per_s: float | None, clock_ghz: float = 1.0, name: str = "",
                   count: int = 1, level_bytes: dict[str, float] | None = None,
                   compute_cycles: float | None = None) -> RooflinePoint:
    """A roofline point from plain numbers (MACs, DRAM bytes, cycles, peak MAC/s, DRAM bytes/s, GHz)."""
    return RooflinePoint(name, macs, dram_bytes, cycles, peak_macs_per_s, dram_bytes_per_s, clock_ghz, count,
                         dict(level_bytes or {}), compute_cycles)


def peak_macs_per_s(accelerator: Accelerator) -> float:
    """Peak MAC/s: number of MACs x clock."""
    return accelerator.num_macs * accelerator.clock_ghz * 1e9


def dram_bytes_per_s(accelerator: Accelerator) -> float | None:
    """Bandwidth of the outermost level in bytes/s: its shared limit, else read + write limits (None = unlimited)."""
    lv = accelerator.levels[0]
    if lv.shared_bandwidth is not None:
        words = lv.shared_bandwidth
    elif lv.read_bandwidth is not None and lv.write_bandwidth is not None:
        words = lv.read_bandwidth + lv.write_bandwidth
    else:
        return None
    return words * lv.word_bits / 8 * accelerator.clock_ghz * 1e9


def level_bytes(accelerator: Accelerator, reads: np.ndarray, fills: np.ndarray, updates: np.ndarray) -> dict[str, float]:
    """Bytes read + filled + updated at each level (totals over instances; arrays [levels, 3] in words)."""
    out = {}
    for i, lv in enumerate(accelerator.levels):
        words = float(np.sum(reads[i]) + np.sum(fills[i]) + np.sum(updates[i]))
        out[lv.name] = words * lv.word_bits / 8
    return out


def layer_roofline(layer, accelerator: Accelerator, result, name: str | None = None, count: int = 1) -> RooflinePoint:
    """The roofline point of a layer from the cost model's EvalResult (DRAM = level 0 reads + updates)."""
    if not result.valid:
        raise ValueError(f"layer_roofline: the mapping of {name or layer.name or 'layer'} is invalid: {getattr(result, 'reason_text', result.reason)}")
    reads, fills, updates = (np.asarray(a, dtype=float) for a in (result.reads, result.fills, result.updates))
    dram_words = float(np.sum(reads[0]) + np.sum(updates[0]))
    return RooflinePoint(
        name=name if name is not None else (layer.name or "layer"), macs=float(result.macs),
        dram_bytes=dram_words * accelerator.levels[0].word_bits / 8, cycles=float(result.cycles),
        peak_macs_per_s=peak_macs_per_s(accelerator), dram_bytes_per_s=dram_bytes_per_s(accelerator),
        clock_ghz=accelerator.clock_ghz, count=count, level_bytes=level_bytes(accelerator, reads, fills, updates),
        compute_cycles=float(result.compute_cycles))


def analyze_layer(layer, accelerator: Accelerator, mapping, name: str | None = None, count: int = 1) -> RooflinePoint:
    """Evaluate `mapping` of `layer` with the cost model, then place it on the roofline."""
    return layer_roofline(layer, accelerator, explain(layer, accelerator, mapping), name, count)


def network_roofline(points: Sequence[RooflinePoint], name: str = "network") -> RooflinePoint:
    """The points summed (each weighted by its count): total MACs, DRAM bytes and cycles."""
    if not points:
        raise ValueError("network_roofline: need at least one layer point")
    first = points[0]
    for p in points[1:]:
        if (p.peak_macs_per_s, p.dram_bytes_per_s, p.clock_ghz) != (first.peak_macs_per_s, first.dram_bytes_per_s,
                                                                     first.clock_ghz):
            raise ValueError(f"network_roofline: layer {p.name!r} was evaluated on a different accelerator")
    levels: dict[str, float] = {}
    for p in points:
        for k, v in p.level_bytes.items():
            levels[k] = levels.get(k, 0.0) + v * p.count
    known = all(p.compute_cycles is not None for p in points)
    return RooflinePoint(name, sum(p.macs * p.count for p in points), sum(p.dram_bytes * p.count for p in points),
                         sum(p.cycles * p.count for p in points), first.peak_macs_per_s, first.dram_bytes_per_s,
                         first.clock_ghz, 1, levels,
                         sum(p.compute_cycles * p.count for p in points) if known else None)


# ---- text ----------------------------------------------------------------------------------
def format_table(points: Sequence[RooflinePoint], total: RooflinePoint | None = None) -> str:
    """A text table: per layer MACs, DRAM and on-chip traffic, intensity, attainable vs achieved, bound."""
    level_names = list(points[0].level_bytes) if points else []
    head = (f"{'layer':<18s} {'x':>3s} {'MMAC':>9s} {'DRAM MB':>8s} {'MAC/B':>8s} {'op/B':>8s} {'attain':>8s} "
            f"{'achieved':>8s} {'%att':>5s} {'%PEs':>5s} {'bound':>11s}" + "".join(f" {n[:8]:>8s}" for n in level_names))
    unit = (f"{'':<18s} {'':>3s} {'':>9s} {'':>8s} {'':>8s} {'':>8s} {'GMAC/s':>8s} {'GMAC/s':>8s} {'':>5s} {'':>5s} "
            f"{'':>11s}" + "".join(f" {'MB':>8s}" for _ in level_names))
    lines = [head, unit, "-" * len(head)]

    def row(p: RooflinePoint) -> str:
        return (f"{p.name[:18]:<18s} {p.count:>3d} {p.macs / 1e6:9.1f} {p.dram_bytes / 1e6:8.3f} "
                f"{p.intensity_mac_per_byte:8.1f} {p.intensity_op_per_byte:8.1f} {p.attainable_macs_per_s / 1e9:8.2f} "
                f"{p.achieved_macs_per_s / 1e9:8.2f} {100 * p.fraction_of_attainable:5.1f} "
                f"{100 * p.spatial_utilization:5.1f} {p.bound:>11s}"
                + "".join(f" {p.level_bytes.get(n, 0.0) / 1e6:8.2f}" for n in level_names))

    lines += [row(p) for p in points]
    if total is not None:
        lines += ["-" * len(head), row(total)]
    if points:
        p = points[0]
        bw = "unlimited" if p.dram_bytes_per_s is None else f"{p.dram_bytes_per_s / 1e9:.2f} GB/s"
        lines.append(f"peak {p.peak_macs_per_s / 1e9:.2f} GMAC/s ({OPS_PER_MAC * p.peak_macs_per_s / 1e9:.2f} GOP/s), "
                     f"DRAM {bw}, ridge {p.ridge_mac_per_byte:.1f} MAC/B; x = times the network runs the layer; "
                     "%PEs: the mapping's spatial utilization; bound: the lowest ceiling (compute, memory, or "
                     "utilization = %PEs x peak); level columns: bytes read + filled + updated per run")
    return "\n".join(lines)


# ---- plot ----------------------------------------------------------------------------------
_LABEL_OFFSETS_PT = [(dx, dy) for r in (6, 13, 21, 30) for dx, dy in
                     ((r, r // 2), (r, -r), (-r, r // 2), (-r, -r), (0, r), (0, -r - 6), (r, 0), (-r, 0))]


def _place_labels(ax, xy_px: list[tuple[float, float]], texts: list[str], fontsize: float, dpi: float) -> None:
    """Annotate each point with its text at the first nearby offset whose box overlaps no earlier label or marker."""
    scale = dpi / 72.0
    taken = [(x - 4, y - 4, x + 4, y + 4) for x, y in xy_px]  # the markers themselves

    def free(box):
        return all(box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in taken)

    for (x, y), text in zip(xy_px, texts):
        w, h = 0.72 * fontsize * len(text) * scale, 1.3 * fontsize * scale
        choice = _LABEL_OFFSETS_PT[0]
        for dx, dy in _LABEL_OFFSETS_PT:
            x0 = x + dx * scale - (w if dx < 0 else 0)
            y0 = y + dy * scale
            box = (x0, y0, x0 + w, y0 + h)
            if free(box):
                choice = (dx, dy)
                break
        else:
            box = (x, y, x + w, y + h)
        taken.append(box)
        dx, dy = choice
        leader = dict(arrowstyle="-", color="grey", lw=0.5, shrinkA=0, shrinkB=3) if max(abs(dx), abs(dy)) > 8 else None
        ax.annotate(text, ax.transData.inverted().transform((x, y)), textcoords="offset points", xytext=(dx, dy),
                    fontsize=fontsize, ha="right" if dx < 0 else "left", va="bottom", arrowprops=leader)


BOUND_COLORS = {"memory": "tab:red", "compute": "tab:blue", "utilization": "tab:orange"}
_BOUND_SHORT = {"memory": "mem", "compute": "comp", "utilization": "util"}


def plot_roofline(points: Sequence[RooflinePoint], path: str, title: str = "", total: RooflinePoint | None = None,
                  max_named: int = 8, labels: Sequence[str] | None = None, max_ceilings: int = 4) -> str:
    """Write a log-log roofline (op/byte vs GOP/s) with the ridge point and one labelled marker per layer to a PNG.

    Up to `max_named` points are labelled by name; more are numbered (by `labels`, default 0, 1, ...), with a
    key beside the plot. Markers are coloured by bound; the ceilings of utilization-limited layers, min(roof,
    u x peak) for their spatial utilization u, are drawn dashed (the `max_ceilings` shared by most layers).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not points:
        raise ValueError("plot_roofline: need at least one point")
    if labels is not None and len(labels) != len(points):
        raise ValueError(f"plot_roofline: {len(labels)} labels for {len(points)} points")
    p0 = points[0]
    peak_gops = OPS_PER_MAC * p0.peak_macs_per_s / 1e9
    ridge_op = OPS_PER_MAC * p0.ridge_mac_per_byte
    finite = [p.intensity_op_per_byte for p in points if math.isfinite(p.intensity_op_per_byte)]
    lo = min(finite + ([ridge_op] if ridge_op > 0 else [])) / 4 if finite or ridge_op > 0 else 0.1
    hi = max(finite + [ridge_op, lo * 16]) * 4
    xs = np.logspace(math.log10(lo), math.log10(hi), 400)
    bw_gbs = None if p0.dram_bytes_per_s is None else p0.dram_bytes_per_s / 1e9
    roof = np.full_like(xs, peak_gops) if bw_gbs is None else np.minimum(peak_gops, xs * bw_gbs)
    px = [p.intensity_op_per_byte if math.isfinite(p.intensity_op_per_byte) else hi for p in points]
    py = [OPS_PER_MAC * p.achieved_macs_per_s / 1e9 for p in points]
    numbered = len(points) > max_named
    labels = [str(i) for i in range(len(points))] if labels is None else list(labels)

    fig = plt.figure(figsize=(13 if numbered else 10, 7), dpi=120)
    ax = fig.add_axes((0.07, 0.09, 0.66 if numbered else 0.88, 0.84))
    label = (f"roofline: peak {peak_gops:.4g} GOP/s" + ("" if bw_gbs is None else
             f", DRAM {bw_gbs:.3g} GB/s, ridge {ridge_op:.3g} op/B"))
    ax.loglog(xs, roof, color="black", lw=2, label=label)
    if bw_gbs is not None:
        ax.axvline(ridge_op, color="grey", ls=":", lw=1)
        ax.plot([ridge_op], [peak_gops], marker="D", color="black", ms=7, ls="")
        ax.annotate("ridge", (ridge_op, peak_gops), textcoords="offset points", xytext=(-8, 8), ha="right",
                    fontsize=8)
    ceilings: dict[float, int] = {}
    for p in points:
        if p.bound == "utilization":
            u = float(f"{p.spatial_utilization:.3g}")
            ceilings[u] = ceilings.get(u, 0) + 1
    for i, (u, n) in enumerate(sorted(ceilings.items(), key=lambda kv: -kv[1])[:max_ceilings]):
        flat = roof >= u * peak_gops  # right of where the ceiling meets the memory roof
        ax.loglog(xs[flat], np.full(int(flat.sum()), u * peak_gops), color=BOUND_COLORS["utilization"], ls="--",
                  lw=1, label="utilization ceilings: u x peak, u = share of PEs the mapping occupies" if i == 0 else None)
        ax.annotate(f"{u:.1%} of PEs ({n} layer{'s' if n > 1 else ''})", (hi, u * peak_gops), textcoords="offset "
                    "points", xytext=(-4, 2), ha="right", fontsize=7, color=BOUND_COLORS["utilization"])
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(py + [roof[0]]) / 2, peak_gops * 2.5)
    for p, x, y in zip(points, px, py):
        ax.plot([x], [y], marker="o", ms=5, color=BOUND_COLORS[p.bound], alpha=0.85, ls="")
    texts = labels if numbered else [p.name for p in points]
    _place_labels(ax, [tuple(ax.transData.transform((x, y))) for x, y in zip(px, py)], texts,
                  7 if numbered else 7.5, fig.dpi)
    if total is not None:
        x = total.intensity_op_per_byte if math.isfinite(total.intensity_op_per_byte) else hi
        ax.plot([x], [OPS_PER_MAC * total.achieved_macs_per_s / 1e9], marker="*", ms=14, color="tab:green", ls="",
                label=f"{total.name}, all layers")
    for bound, c in BOUND_COLORS.items():
        word = "utilization-limited" if bound == "utilization" else f"{bound}-bound"
        ax.plot([], [], marker="o", ls="", color=c, label=f"layer, {word} (achieved throughput)")
    ax.set_xlabel("arithmetic intensity (op/byte of DRAM traffic; 1 MAC = 2 ops)")
    ax.set_ylabel("throughput (GOP/s)")
    ax.set_title(title or "roofline", fontsize=10)
    ax.grid(True, which="both", ls=":", lw=0.5)
    ax.legend(loc="lower right", fontsize=8)
    if numbered:
        key = ["   layer (x count): bound"] + [f"{t:>3s} {p.name[:24]} (x{p.count}): {_BOUND_SHORT[p.bound]}"
                                               for t, p in zip(labels, points)]
        fig.text(0.745, 0.93, "\n".join(key), fontsize=7, family="monospace", va="top")
    fig.savefig(path)
    plt.close(fig)
    return path
