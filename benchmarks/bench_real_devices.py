"""Presets against the published whole-network latencies of the chips they describe.

    python benchmarks/bench_real_devices.py [--fusion resident] [--factors residual] [--budget-evals 4000] [--only NETWORK[,NETWORK]]

Each row evaluates one zoo network on one preset as a user of the Python API would,
`evaluate_network(get_network(NAME), get_preset(P), MappingCache(MapperSettings(budget_evals=N, factors=F)),
fusion=MODE)`, by default as the chips run a network: `fusion="resident"` (activations and weights stay on chip,
`cosearch.fusion`) and residual tile factors (a 4-wide axis splits 14 or 7 rows unevenly, as the chip's compiler
does; `--factors perfect` is the API's default); `--fusion none` scores each layer alone with its tensors in DRAM), and prints the latency per image beside the chip's measured figure and its source, their ratio
and the array's utilization. The presets are described by their chips' published facts only (docs/sources.md); no
number is fitted to a network. The first row pays the mapper's compile (numba, cached on disk after the first run):
it is timed apart and printed, not counted in the rows' seconds. Last line: `real devices: K/N within x1.5 of the
measured latency (median ratio R)`. Measurements and their load: docs/real_devices.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import get_preset  # noqa: E402
from cosearch import MapperSettings, evaluate_network  # noqa: E402
from cosearch.fusion import FUSION_MODES  # noqa: E402
from mappings import MappingCache  # noqa: E402
from nets import Layer, Network, get_network  # noqa: E402

WITHIN = 1.5
"""The acceptance band: 1 / 1.5 <= ours / measured <= 1.5."""

SOURCES = {
    "coral": "Coral, 'Edge TPU performance benchmarks' (coral.ai/docs/edgetpu/benchmarks), Table 1: time per inference, "
             "model only, Dev Board with Edge TPU column (MobileNet v1 2.4, MobileNet v2 2.6, SqueezeNet 2, "
             "Inception v1 4.1, EfficientNet-EdgeTpu-S 5.5 ms; all 224x224)",
    "eyeriss": "Chen et al., 'Eyeriss: an energy-efficient reconfigurable accelerator for deep CNNs', JSSC 52(1), "
               "2017: AlexNet conv layers at 35 frames/s with batch 4 at 200 MHz (28.6 ms an image)",
}


@dataclass(frozen=True)
class Row:
    """One published measurement: `network` (a zoo name, built with `options`) on `preset`, `measured_ms` per image,
    from `SOURCES[source]`."""

    preset: str
    network: str
    measured_ms: float
    source: str
    options: tuple[tuple[str, int], ...] = ()
    conv_only: bool = False

    def build(self) -> Network:
        net = get_network(self.network, **dict(self.options))
        if self.conv_only:   # the chip's figure covers the conv layers only
            net = Network(f"{net.name}_conv", [layer for layer in net.layers if layer.kind == "conv"], dict(net.meta))
        return net

    @property
    def label(self) -> str:
        extra = ", ".join(f"{k} {v}" for k, v in self.options)
        return self.network + (" conv" if self.conv_only else "") + (f" ({extra})" if extra else "")


ROWS = (
    Row("edge_tpu_like", "mobilenet_v1", 2.4, "coral"),
    Row("edge_tpu_like", "mobilenet_v2", 2.6, "coral"),
    Row("edge_tpu_like", "squeezenet1_0", 2.0, "coral"),
    Row("edge_tpu_like", "googlenet", 4.1, "coral"),
    Row("edge_tpu_like", "efficientnet_edgetpu_s", 5.5, "coral"),
    Row("eyeriss", "alexnet", 1e3 / 35, "eyeriss", (("batch", 4),), conv_only=True),
)


def _evaluate(row: Row, cache: MappingCache, fusion: str):
    return evaluate_network(row.build(), get_preset(row.preset), cache, fusion=fusion)


def _warm(settings: MapperSettings) -> float:
    """Seconds to compile the mapper and cost model (a tiny layer on a preset); about zero with a warm cache."""
    t0 = time.perf_counter()
    evaluate_network(Network("warm", [Layer.conv(8, 8, 3, 8, groups=8), Layer.conv(8, 16, 1, 8)]),
                     get_preset("edge_tpu_like"), MappingCache(settings))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fusion", default="resident", metavar="MODE",
                        help="how layers share the chip (evaluate_network's fusion=); default resident, as the chips "
                             "run: activations and weights kept on chip (none: each layer alone, tensors in DRAM)")
    parser.add_argument("--budget-evals", type=int, default=4000, help="mapper evaluations per layer (default 4000)")
    parser.add_argument("--factors", default="residual", choices=("perfect", "auto", "residual"),
                        help="tile factors the mapper may use (MapperSettings.factors; default residual, as a chip's "
                             "compiler splits 14 rows over 4 tiles unevenly; perfect: the API's default)")
    parser.add_argument("--only", default="", help="comma-separated network names to run (default all rows)")
    args = parser.parse_args(argv)
    if args.budget_evals < 1:
        parser.error(f"--budget-evals must be >= 1, got {args.budget_evals}")
    if args.fusion not in FUSION_MODES.members():
        parser.error(f"--fusion: unknown mode {args.fusion!r}; accepted: {', '.join(FUSION_MODES.members())}")
    rows = ROWS
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {r.network for r in ROWS}
        if unknown:
            parser.error(f"--only: unknown network(s) {sorted(unknown)}; accepted: "
                         f"{', '.join(dict.fromkeys(r.network for r in ROWS))}")
        rows = tuple(r for r in ROWS if r.network in names)
    settings = MapperSettings(budget_evals=args.budget_evals, factors=args.factors)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; mapper budget {args.budget_evals} "
          f"evaluations per layer ({args.factors} factors); fusion {args.fusion}", flush=True)
    print(f"compile / warm-up: {_warm(settings):.1f} s", flush=True)
    print(f"{'preset':<14} {'network':<28} {'ours ms':>8} {'chip ms':>8} {'ratio':>6} {'util':>6} {'s':>5}  source")
    ratios = []
    for row in rows:
        t0 = time.perf_counter()
        cost = _evaluate(row, MappingCache(settings), args.fusion)
        ours_ms = cost.latency_s * 1e3 / dict(row.options).get("batch", 1)
        ratio = ours_ms / row.measured_ms
        ratios.append(ratio)
        print(f"{row.preset:<14} {row.label:<28} {ours_ms:8.3f} {row.measured_ms:8.2f} {ratio:6.2f} "
              f"{cost.utilization:6.1%} {time.perf_counter() - t0:5.0f}  [{row.source}]", flush=True)
    within = sum(1 / WITHIN <= r <= WITHIN for r in ratios)
    for key in dict.fromkeys(row.source for row in rows):
        print(f"[{key}] {SOURCES[key]}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"real devices: {within}/{len(ratios)} within x{WITHIN:g} of the measured latency "
          f"(median ratio {statistics.median(ratios):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
