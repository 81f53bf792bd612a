"""Exact agreement of two builds of the compiled cost model on random mappings with residual loops.

    python benchmarks/residual_agreement.py --save /tmp/before.npz [--per-layer 60] [--layers 3]
    python benchmarks/residual_agreement.py --against /tmp/before.npz

Draws mappings with residual loops for several presets (`accel_models.presets`) and layers of the `nets` zoo (the
`--layers` unique layers with the fewest MACs of each network, so that a kernel whose time grows with the loop
iterations, such as a step-by-step walk, finishes in minutes), two ways per layer: the residual decode of random
genes (`Encoding(factors="residual")`, what the mapper produces), and random mappings of the layer with every bound
rounded up to a power of two whose ends are then cut to the real bounds with canonical residuals (F3), half of them
drawn among the padded layer's valid mappings (these reach refusals and residuals below spatial loops). Each set is
evaluated by `evaluate_batch`; `--save` writes every output array, `--against` compares with a saved file bit for bit
(reason, cycles, compute cycles, energy, reads, fills, updates) and prints the mappings that differ. A mapping the
saved build refused for needing more instance classes than its tables held (reason 7, which older builds gave every
mapping of Timeloop's spatial class) and this build counts is reported as newly counted, not compared (the tests hold
those counts to the walk). The draws are seeded, so two runs evaluate the same mappings. Last line: `agree: N/M
mappings` (with --against; M less the newly counted) or `saved: M mappings` and the outputs' SHA-256.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from accel_models import MappingArrays, get_preset  # noqa: E402
from accel_models.cost_model import evaluate_batch  # noqa: E402
from accel_models.mapping_arrays import canonical_residuals, dim_loops  # noqa: E402
from accel_models.result import SPATIAL_RESIDUAL  # noqa: E402
from mappings import Encoding, random_mappings, random_valid_mappings  # noqa: E402
from nets import DIMS, Layer, get_network  # noqa: E402

PAIRS = (("eyeriss", "mobilenet_v2"), ("eyeriss", "resnet50"), ("nvdla_256", "resnet50"),
         ("nvdla_1024", "vit_b16"), ("shidiannao", "squeezenet1_0"), ("edge_tpu_like", "mobilenet_v2"),
         ("tpu_v1_like", "alexnet"))
"""(preset, network) pairs: every preset, convolutions, depthwise, pointwise, FC and attention products."""

FIELDS = ("reason", "cycles", "compute_cycles", "energy_pj", "reads", "fills", "updates")


def _padded_residual_mappings(layer: Layer, acc, n: int, seed: int) -> MappingArrays:
    """Random mappings of `layer` with each bound rounded up to a power of two (half of them valid for that padded
    layer where enough are found), cut back to the layer's bounds with canonical residuals."""
    padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                   stride_w=layer.stride_w, stride_h=layer.stride_h,
                   dilation_w=layer.dilation_w, dilation_h=layer.dilation_h)
    half = n // 2
    out = random_mappings(padded, acc, n - half, rng=seed, spatial_bias=2.0)
    try:
        valid = random_valid_mappings(padded, acc, half, rng=seed)
    except ValueError:                     # too few valid ones for the padded layer: random ones instead
        valid = random_mappings(padded, acc, half, rng=seed + 1, spatial_bias=2.0)
    out = MappingArrays(*(np.concatenate([a, v]) for a, v in zip(out, valid)))
    out = MappingArrays(*(a.copy() for a in out))
    for b in range(out.batch_size):
        for d in range(len(DIMS)):
            loops = dim_loops(out, b, d)
            ends, res = canonical_residuals([e for _, _, e, _ in loops], layer.bounds[d])
            for (l, kind, _, _), e, r in zip(loops, ends, res):
                field = ("temporal", "spatial_y", "spatial_x")[kind]
                getattr(out, field)[b, l, d] = e
                getattr(out, field + "_residual")[b, l, d] = r
    return out


def _residual_only(maps: MappingArrays) -> MappingArrays:
    keep = ~maps.is_perfect()
    return MappingArrays(*(a[keep] for a in maps))


def _sets(per_layer: int, n_layers: int):
    """(name, layer, accelerator, mappings) of every set, in a fixed order with fixed seeds."""
    for preset, network in PAIRS:
        acc = get_preset(preset)
        layers = sorted((layer for layer, _ in get_network(network).unique_layers()), key=lambda x: x.macs)
        for k, layer in enumerate(layers[:n_layers]):
            seed = 1000 * PAIRS.index((preset, network)) + k
            enc = Encoding(layer, acc, factors="residual")
            genes = np.random.default_rng(seed).random((per_layer, enc.size))
            yield f"{preset}/{network}/{layer.name}/decode", layer, acc, _residual_only(enc.decode(genes))
            yield (f"{preset}/{network}/{layer.name}/padded", layer, acc,
                   _residual_only(_padded_residual_mappings(layer, acc, per_layer, seed)))


def _outputs(r) -> dict[str, np.ndarray]:
    return {f: np.asarray(getattr(r, f)) for f in FIELDS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-layer", type=int, default=60, help="random draws per layer and way (default 60)")
    ap.add_argument("--layers", type=int, default=3, help="smallest unique layers per network (default 3)")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, help="write the outputs to this .npz file")
    mode.add_argument("--against", type=Path, help="compare with the outputs saved in this .npz file")
    args = ap.parse_args()
    if args.per_layer < 1 or args.layers < 1:
        ap.error("--per-layer and --layers must be >= 1")
    saved = dict(np.load(args.against)) if args.against else None
    out: dict[str, np.ndarray] = {}
    total = agree = newly = 0
    digest = hashlib.sha256()
    for name, layer, acc, maps in _sets(args.per_layer, args.layers):
        t0 = time.process_time()
        r = _outputs(evaluate_batch(layer, acc, maps)) if maps.batch_size else {}
        cpu = time.process_time() - t0
        valid = int((r["reason"] == 0).sum()) if r else 0
        same = maps.batch_size
        new_rows = np.zeros(maps.batch_size, dtype=bool)
        if saved is not None and r:
            new_rows = (saved[f"{name}:reason"] == SPATIAL_RESIDUAL) & (r["reason"] != SPATIAL_RESIDUAL)
            same -= int(new_rows.sum())
        for f, a in r.items():
            key = f"{name}:{f}"
            out[key] = a
            digest.update(a.tobytes())
            if saved is not None:
                old = saved[key]
                bad = old.reshape(len(old), -1).view(np.uint8) != a.reshape(len(a), -1).view(np.uint8)
                rows = np.flatnonzero(bad.any(axis=1) & ~new_rows)
                same = min(same, maps.batch_size - int(new_rows.sum()) - len(rows))
                for b in rows[:3]:
                    print(f"  differs: {name} mapping {b} {f}: {old[b].ravel()[:6]} vs {a[b].ravel()[:6]}")
        total += maps.batch_size - int(new_rows.sum())
        agree += same
        newly += int(new_rows.sum())
        print(f"{name}: {maps.batch_size} mappings ({valid} valid), {cpu:.2f} s CPU"
              + (f", {same} equal, {int(new_rows.sum())} newly counted" if saved is not None else ""), flush=True)
    if args.save:
        np.savez_compressed(args.save, **out)
        print(f"saved: {total} mappings, sha256 {digest.hexdigest()}")
    else:
        print(f"sha256 {digest.hexdigest()}")
        print(f"newly counted: {newly} mappings (refused with reason 7 by the saved build)")
        print(f"agree: {agree}/{total} mappings")


if __name__ == "__main__":
    main()
