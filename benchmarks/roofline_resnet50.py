"""ResNet-50 on the Eyeriss preset: a valid mapping per layer, its roofline table and PNG.

    python benchmarks/roofline_resnet50.py [out.png] [--preset eyeriss]

The mappings come from `simple_mapping`, a greedy tiler (spatial factors on the fan-out within
the preset's dataflow, tiles grown innermost-first while every buffer still fits) tried with a
few loop-order preferences, keeping the variant with the fewest cycles. It is a stand-in for
the mapper of a later issue, not a good mapper.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from accel_models import TENSORS, Accelerator  # noqa: E402
from accel_models import presets, roofline  # noqa: E402
from mappings import LevelMapping, Mapping, prime_factors  # noqa: E402
from nets import DIMS, Layer, Network  # noqa: E402

_INDEXED_BY = {"Weights": set("KCRSG"), "Inputs": set("NCPQRSG"), "Outputs": set("NKPQG")}
_GLB_ORDERS = ("RSCPQNKG", "RSKCPQNG", "RSPQNCKG", "RSCKPQNG", "GRSQPKCN")
_DRAM_PERMS = ("GNKCPQRS", "GNPQKCRS", "GNCKPQRS", "GNKPQCRS")
_RF_ORDERS = ("", "RSPQCKNG", "RSCPQKNG", "RSKCPQNG")
"""Per-PE levels' growth orders ("" = dims that do not index the level's tensors first)."""


def _largest_divisor_at_most(n: int, cap: int) -> int:
    return max(d for d in range(1, min(n, cap) + 1) if n % d == 0)


def _tile_words(layer: Layer, ext: dict[str, int]) -> dict[str, int]:
    w = (ext["P"] - 1) * layer.stride_w + (ext["R"] - 1) * layer.dilation_w + 1
    h = (ext["Q"] - 1) * layer.stride_h + (ext["S"] - 1) * layer.dilation_h + 1
    return {"Weights": ext["G"] * ext["K"] * ext["C"] * ext["R"] * ext["S"],
            "Inputs": ext["N"] * ext["G"] * ext["C"] * w * h,
            "Outputs": ext["N"] * ext["G"] * ext["K"] * ext["P"] * ext["Q"]}


def _fits(layer: Layer, acc: Accelerator, temporal: list[dict], sx: list[dict], sy: list[dict]) -> bool:
    """Every on-chip level's kept tiles fit its capacity (shared and per tensor)."""
    L = acc.num_levels
    ext = {d: 1 for d in DIMS}
    for j in range(L - 1, 0, -1):
        for d in DIMS:
            ext[d] *= temporal[j][d] * sx[j][d] * sy[j][d]
        lv = acc.levels[j]
        tiles = _tile_words(layer, ext)
        if lv.capacity_words is not None and sum(tiles[t] for t in lv.keeps) > lv.capacity_words:
            return False
        if lv.tensor_capacity_words is not None:
            for t, cap in zip(TENSORS, lv.tensor_capacity_words):
                if cap is not None and t in lv.keeps and tiles[t] > cap:
                    return False
    return True


def simple_mapping(layer: Layer, acc: Accelerator, glb_order: str = _GLB_ORDERS[0],
                   dram_perm: str = _DRAM_PERMS[0], rf_order: str = "") -> Mapping:
    """A valid mapping: spatial factors on each fan-out (dataflow dims first), tiles grown greedily."""
    L = acc.num_levels
    left = dict(zip(DIMS, layer.bounds))
    temporal = [{d: 1 for d in DIMS} for _ in range(L)]
    sx = [{d: 1 for d in DIMS} for _ in range(L)]
    sy = [{d: 1 for d in DIMS} for _ in range(L)]
    df = acc.dataflow
    for l in acc.fanout_levels:
        lv = acc.levels[l]
        used: set[str] = set()
        for axis, room, allowed in ((sx, lv.fanout_x, df.spatial_x if df else ()),
                                    (sy, lv.fanout_y, df.spatial_y if df else ())):
            for d in (allowed or "KCPQNGRS"):
                if d in used or room == 1:
                    continue
                f = _largest_divisor_at_most(left[d], room)
                if f > 1:
                    axis[l][d], left[d], room = f, left[d] // f, room // f
                    used.add(d)
    for l in range(L - 1, 0, -1):
        kept = acc.levels[l].keeps
        if l == 1:
            order = glb_order
        elif rf_order:
            order = rf_order
        else:
            free = [d for d in "RSCPQKNG" if not any(d in _INDEXED_BY[t] for t in kept)]
            order = "".join(free) + "".join(d for d in "RSCPQKNG" if d not in free)
        for d in order:
            for p in prime_factors(left[d]):
                temporal[l][d] *= p
                if _fits(layer, acc, temporal, sx, sy):
                    left[d] //= p
                else:
                    temporal[l][d] //= p
    for d in DIMS:
        temporal[0][d] = left[d]
    levels = [LevelMapping(temporal=temporal[l], permutation=tuple(dram_perm) if l == 0 else DIMS,
                           spatial_x=sx[l], spatial_y=sy[l],
                           bypass=tuple(t for t in TENSORS if t not in acc.levels[l].keeps)) for l in range(L)]
    mapping = Mapping(tuple(levels))
    mapping.check_shape(layer, acc)
    return mapping


def best_simple_mapping(layer: Layer, acc: Accelerator) -> tuple[Mapping, object]:
    """The variant of `simple_mapping` with the fewest cycles (then least energy), and its EvalResult.

    The variants are scored in one batch by the compiled cost model; the winner's per-level result
    comes from `explain`.
    """
    from accel_models.cost_model import evaluate_batch, explain

    candidates = [simple_mapping(layer, acc, g, p, r) for g in _GLB_ORDERS for p in _DRAM_PERMS for r in _RF_ORDERS]
    batch = evaluate_batch(layer, acc, candidates)
    if not batch.valid.any():
        raise RuntimeError(f"no valid simple mapping of {layer.name} on {acc.name}: "
                           f"{batch.reason_text(0)}")
    key = np.where(batch.valid, batch.cycles.astype(float), np.inf)
    b = int(np.lexsort((np.where(batch.valid, batch.energy_pj, np.inf), key))[0])
    best = candidates[b]
    return best, explain(layer, acc, best)


def resnet50() -> Network:
    from nets import zoo

    return zoo.resnet50()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("png", nargs="?", default="out/roofline_resnet50_eyeriss.png")
    ap.add_argument("--preset", default="eyeriss", choices=list(presets.PRESETS))
    args = ap.parse_args(argv)
    acc = presets.get_preset(args.preset)
    net = resnet50()
    t0 = time.perf_counter()
    points = []
    for layer, count in net.unique_layers():
        _, result = best_simple_mapping(layer, acc)
        points.append(roofline.layer_roofline(layer, acc, result, count=count))
    total = roofline.network_roofline(points, name=net.name)
    os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
    roofline.plot_roofline(points, args.png, total=total,
                           title=f"ResNet-50 ({len(net.layers)} layers, {len(points)} shapes) on {acc.name}, "
                                 f"{acc.technology_nm} nm, {acc.clock_ghz * 1e3:.0f} MHz; simple mappings")
    print(f"{net.name} on {acc.name} ({acc.num_macs} PEs, levels {' -> '.join(acc.level_names)})")
    print(roofline.format_table(points, total))
    print(f"wrote {args.png} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
