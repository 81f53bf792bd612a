"""Presets against the published whole-network latencies of the chips they describe.

    python benchmarks/bench_real_devices.py [--fusion resident] [--factors residual] [--budget-evals 4000]
        [--timing hardware] [--only NETWORK[,NETWORK]]

Each row evaluates one zoo network on one preset as a user of the Python API would, `evaluate_network(get_network(NAME),
get_preset(P), MappingCache(MapperSettings(budget_evals=N, factors=F)), fusion=MODE)`, by default as the chips run a
network: `fusion="resident"` (activations and weights stay on chip, `cosearch.fusion`) and residual tile factors (a
4-wide axis splits 14 or 7 rows unevenly, as the chip's compiler does; `--factors perfect` is the API's default);
`--fusion none` scores each layer alone with its tensors in DRAM), and prints the latency per image beside the chip's
measured figure and its source, their ratio and the array's utilization, under both timing models
(`accel_models.timing`: Timeloop's semantics, and the hardware model's tile-by-tile overheads; `evaluate_network(...,
timing=...)`, each layer's mapping chosen under that model); `--timing` picks the one the last line counts (default
hardware). Rows whose chip published its energy also print the on-chip energy per image
(`NetworkCost.energy_on_chip_pj`, DRAM excluded as the chip's figure excludes it); the Eyeriss row runs on
`eyeriss_chip` (the preset with CNNergy's estimates of its clock network and control logic), and each of its conv layers
is set beside the chip's per-layer figures (JSSC 2017, Table V: MACs a cycle, active PEs). Rows marked "vendor estimate"
are a vendor's own projections for a configuration, not silicon measurements, and are counted apart. The presets are
described by their chips' published facts only (docs/sources.md); no number is fitted to a network. The first row pays
the mapper's compile (numba, cached on disk after the first run): it is timed apart and printed, not counted in the
rows' seconds. Before each timing's summary, its rows within x1.25; last line: `real devices: K/N within x1.5 of the
measured latency (median ratio R)`, over the measured rows. Measurements: docs/real_devices.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import Accelerator, build_accelerator, get_preset  # noqa: E402
from accel_models.presets import eyeriss_chip  # noqa: E402
from accel_models.presets.designs import WEIGHT_STATIONARY_CK  # noqa: E402
from accel_models.timing import TIMINGS  # noqa: E402
from accel_models.units import KIB  # noqa: E402
from cosearch import MapperSettings, evaluate_network  # noqa: E402
from cosearch.fusion import FUSION_MODES  # noqa: E402
from mappings import MappingCache  # noqa: E402
from nets import Layer, Network, get_network  # noqa: E402

WITHIN = 1.5
"""The acceptance band: 1 / 1.5 <= ours / measured <= 1.5."""

WITHIN_TIGHT = 1.25
"""The band a timing model closer to the chips should reach: 1 / 1.25 <= ours / measured <= 1.25 (counted apart)."""

SOURCES = {
    "coral": "Coral, 'Edge TPU performance benchmarks' (coral.ai/docs/edgetpu/benchmarks), Table 1: time per inference, "
             "model only, Dev Board with Edge TPU column (MobileNet v1 2.4, MobileNet v2 2.6, SqueezeNet 2, "
             "Inception v1 4.1, EfficientNet-EdgeTpu-S 5.5 ms; all 224x224)",
    "eyeriss": "Chen et al., 'Eyeriss: an energy-efficient reconfigurable accelerator for deep CNNs', JSSC 52(1), "
               "2017: AlexNet conv layers at 35 frames/s with batch 4 at 200 MHz (28.6 ms an image), 278 mW for the "
               "chip alone (DRAM excluded): 278 mW / 34.7 frames/s = 8.0 mJ an image",
    "nvdla": "NVIDIA, 'NVDLA primer' (nvdla.org/primer.html), 'Example Area and Performance': ResNet-50, INT8, "
             "2048 MACs / 512 KB buffer / 20 GB/s 269 frames/s; 1024 / 256 KB / 15 GB/s 153; 256 / 256 KB / 5 GB/s "
             "46 (NVIDIA's estimates for those configurations, not measurements)",
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
    measured_energy_mj: float | None = None
    """The chip's published energy per image, on chip only (DRAM excluded)."""
    estimate: bool = False
    """The figure is a vendor's projection for a configuration, not a measurement of silicon."""
    accelerator: tuple[tuple[str, float], ...] = ()
    """The configuration the figure is for, where it is not the preset's own (`_configured`)."""
    chip_energy: bool = False
    """Run on the preset with its chip's energy beyond accesses and MACs (`CHIP_ENERGY`), as the chip measured it."""

    def device(self) -> Accelerator:
        if self.accelerator:
            return _configured(self.preset, dict(self.accelerator))
        return CHIP_ENERGY[self.preset]() if self.chip_energy else get_preset(self.preset)

    def build(self) -> Network:
        net = get_network(self.network, **dict(self.options))
        if self.conv_only:   # the chip's figure covers the conv layers only
            net = Network(f"{net.name}_conv", [layer for layer in net.layers if layer.kind == "conv"], dict(net.meta))
        return net

    @property
    def label(self) -> str:
        extra = ", ".join([f"{k} {v}" for k, v in self.options] + [f"{k} {v:g}" for k, v in self.accelerator])
        return self.network + (" conv" if self.conv_only else "") + (f" ({extra})" if extra else "")


def _configured(preset: str, config: dict) -> Accelerator:
    """An NVDLA of the primer's configuration: `macs` INT8 MACs as Atomic-K x Atomic-C (the larger side on K),
    `cbuf_kib` of convolution buffer, `dram_gb_s` of DRAM bandwidth at the nvdla presets' 1 GHz; the rest as the
    nvdla presets build it (`accel_models.presets.designs`)."""
    base = get_preset(preset)
    macs = int(config["macs"])
    atomic_c = 2 ** (macs.bit_length() // 2 - (macs.bit_length() % 2 == 0))
    atomic_k = macs // atomic_c
    return build_accelerator(pe_array=(atomic_k, atomic_c), rf_words=(1, 0, 0), glb_words=int(config["cbuf_kib"]) * KIB,
                             dram_bandwidth_words_per_cycle=config["dram_gb_s"] / base.clock_ghz, word_bits=8,
                             technology_nm=base.technology_nm, clock_ghz=base.clock_ghz,
                             name=f"nvdla_{macs}_primer", dataflow=WEIGHT_STATIONARY_CK)


CHIP_ENERGY = {"eyeriss": eyeriss_chip}
"""Per preset, its model with the chip's clock network and control energy (for the rows with `chip_energy`)."""

EYERISS_TABLE_V = (("conv1", 421.6e6, 16.5, 20.9, 154), ("conv2", 895.8e6, 39.2, 41.9, 135),
                   ("conv3", 598.1e6, 21.8, 23.6, 156), ("conv4", 448.6e6, 16.0, 18.4, 156),
                   ("conv5", 299.0e6, 10.0, 10.5, 156))
"""Eyeriss on AlexNet's conv layers, batch 4, 200 MHz, per layer (Chen et al., JSSC 52(1), 2017, Table V): the MACs
of the batch (Krizhevsky et al.'s two-tower AlexNet: 96, 256, 384, 384 and 256 filters, the zoo's
`alexnet(towers=2)`, which the row runs), the processing latency (ms; the PE array's time, the DRAM's transfers
hidden), the latency (ms), and the active PEs of the 168. The five latencies sum to 115.3 ms, 34.7 frames/s."""

ROWS = (
    Row("edge_tpu_like", "mobilenet_v1", 2.4, "coral"),
    Row("edge_tpu_like", "mobilenet_v2", 2.6, "coral"),
    Row("edge_tpu_like", "squeezenet1_0", 2.0, "coral"),
    Row("edge_tpu_like", "googlenet", 4.1, "coral"),
    Row("edge_tpu_like", "efficientnet_edgetpu_s", 5.5, "coral"),
    Row("eyeriss", "alexnet", 1e3 / 35, "eyeriss", (("batch", 4), ("towers", 2)), conv_only=True,
        measured_energy_mj=278e-3 / 34.7 * 1e3, chip_energy=True),
    Row("nvdla_1024", "resnet50", 1e3 / 269, "nvdla", estimate=True,
        accelerator=(("macs", 2048), ("cbuf_kib", 512), ("dram_gb_s", 20))),
    Row("nvdla_1024", "resnet50", 1e3 / 153, "nvdla", estimate=True,
        accelerator=(("macs", 1024), ("cbuf_kib", 256), ("dram_gb_s", 15))),
    Row("nvdla_256", "resnet50", 1e3 / 46, "nvdla", estimate=True,
        accelerator=(("macs", 256), ("cbuf_kib", 256), ("dram_gb_s", 5))),
)


def _evaluate(row: Row, cache: MappingCache, fusion: str, timing: str):
    return evaluate_network(row.build(), row.device(), cache, fusion=fusion, timing=timing)


def _per_layer(costs: dict, row: Row) -> list[str]:
    """Lines setting each conv layer of the Eyeriss row beside Table V (`EYERISS_TABLE_V`): the MACs a cycle of its
    run under each timing model (`costs`: timing name -> NetworkCost) and the PEs its mapping unrolls, against the
    chip's MACs a cycle over its processing latency and over its latency, and its active PEs; the ratio is the
    chip's MACs a cycle (latency) over ours, as the whole row's ratio is our time over the chip's."""
    runs = {name: [lc for lc in cost.layers if lc.layer.kind == "conv"] for name, cost in costs.items()}
    convs = runs["timeloop"]
    if len(convs) != len(EYERISS_TABLE_V) or any(lc.count != 1 for lc in convs):
        return [f"per layer: {len(convs)} distinct conv runs, Table V has {len(EYERISS_TABLE_V)}; not compared"]
    lines = []
    for k, (name, macs, processing_ms, latency_ms, active) in enumerate(EYERISS_TABLE_V):
        arrays = convs[k].result.arrays
        pes = int(np.prod(arrays.spatial_x[0]) * np.prod(arrays.spatial_y[0]))
        clock_hz = costs["timeloop"].clock_ghz * 1e9
        ours = {timing: layers[k].layer.macs / layers[k].cycles for timing, layers in runs.items()}
        chip, processing = (macs / (ms * 1e-3 * clock_hz) for ms in (latency_ms, processing_ms))
        lines.append(f"  {row.preset} {name}: ours {ours['timeloop']:5.1f} MACs a cycle (timeloop), "
                     f"{ours['hardware']:5.1f} (hardware), {pes} PEs unrolled; chip {processing:5.1f} processing, "
                     f"{chip:5.1f} with its transfers, {active} PEs active: ratios {chip / ours['timeloop']:.2f}, "
                     f"{chip / ours['hardware']:.2f}")
    return lines


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
    parser.add_argument("--timing", default="hardware", choices=TIMINGS.names(),
                        help="the timing model the last line counts (default hardware; both are printed)")
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
    print(f"{'preset':<14} {'network':<44} {'timeloop ms':>11} {'ratio':>6} {'hardware ms':>11} {'ratio':>6} "
          f"{'chip ms':>8} {'util':>6} {'s':>5}  source")
    ratios: dict[str, list[float]] = {name: [] for name in TIMINGS.names()}
    estimates: dict[str, list[float]] = {name: [] for name in TIMINGS.names()}
    energy_rows = []
    layer_lines = []
    for row in rows:
        t0 = time.perf_counter()
        cache = MappingCache(settings)
        costs = {name: _evaluate(row, cache, args.fusion, name) for name in TIMINGS.names()}
        images = dict(row.options).get("batch", 1)
        ms = {name: cost.latency_s * 1e3 / images for name, cost in costs.items()}
        for name in TIMINGS.names():
            (estimates if row.estimate else ratios)[name].append(ms[name] / row.measured_ms)
        print(f"{row.preset:<14} {row.label:<44} {ms['timeloop']:11.3f} {ms['timeloop'] / row.measured_ms:6.2f} "
              f"{ms['hardware']:11.3f} {ms['hardware'] / row.measured_ms:6.2f} {row.measured_ms:8.2f} "
              f"{costs[args.timing].utilization:6.1%} {time.perf_counter() - t0:5.0f}  [{row.source}]"
              + ("  vendor estimate" if row.estimate else ""), flush=True)
        if row.preset == "eyeriss" and row.conv_only:
            layer_lines += _per_layer(costs, row)
        if row.measured_energy_mj is not None:
            cost = costs[args.timing]
            clock_mj = row.device().clock_energy_pj * costs["timeloop"].cycles * 1e-9 / images   # on Timeloop's cycles
            energy_rows.append((row, cost.energy_on_chip_pj * 1e-9 / images, cost.energy_dram_pj * 1e-9 / images,
                                clock_mj))
    if layer_lines:
        print("per layer, against Table V (batch 4):")
        print("\n".join(layer_lines))
    for row, on_chip_mj, dram_mj, clock_mj in energy_rows:
        print(f"energy {row.preset} {row.label}: on chip {on_chip_mj:.2f} mJ an image (the clock network "
              f"{clock_mj:.2f} of it; DRAM {dram_mj:.2f} mJ besides), chip {row.measured_energy_mj:.2f} mJ: ratio "
              f"{on_chip_mj / row.measured_energy_mj:.2f}")
    for name, values in estimates.items():
        if values:
            print(f"vendor estimates, {name} timing: {sum(1 / WITHIN <= r <= WITHIN for r in values)}/{len(values)} "
                  f"within x{WITHIN:g} (ratios {', '.join(f'{r:.2f}' for r in values)})")
    for key in dict.fromkeys(row.source for row in rows):
        print(f"[{key}] {SOURCES[key]}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for name in sorted(TIMINGS.names(), key=lambda n: n == args.timing):
        values = ratios[name]
        if not values:
            print(f"real devices ({name} timing): no measured row run")
            continue
        within = sum(1 / WITHIN <= r <= WITHIN for r in values)
        tight = sum(1 / WITHIN_TIGHT <= r <= WITHIN_TIGHT for r in values)
        print(f"  {name} timing: {tight}/{len(values)} within x{WITHIN_TIGHT:g} (ratios "
              f"{', '.join(f'{r:.2f}' for r in values)})")
        print(f"real devices{'' if name == args.timing else f' ({name} timing)'}: {within}/{len(values)} within "
              f"x{WITHIN:g} of the measured latency (median ratio {statistics.median(values):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
