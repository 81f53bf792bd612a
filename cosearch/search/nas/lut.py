"""A measured device: a latency look-up table in the format ProxylessNAS and OFA publish for phones (one YAML file per
input resolution, keyed by operator and shapes, each entry's `mean` the measured latency in ms).

Keys, as OFA's latency tables build them (mit-han-lab/once-for-all, ofa/nas/efficiency_predictor/
latency_lookup_table.py): `Conv-input:HxWxC-output:HxWxC` (the first conv), `expanded_conv-input:...-output:...-
expand:E-kernel:K-stride:S-idskip:I` (an MBConv block; E its expand ratio in ProxylessNAS's tables, its expanded
width in MobileNetV3's, which add `-se:0|1-hs:0|1`), and the head: `Conv_1` (ProxylessNAS's feature-mix conv,
MobileNetV3's final expand conv), MobileNetV3's `AvgPool2D` and `Conv_2` (its feature-mix conv after the pool), and
`Logits` (the classifier; in ProxylessNAS's tables everything after `Conv_1`, its input the pre-pool map). A
subnet's latency is the sum of its operators' entries. Covers the OFA MobileNetV3 and ProxylessNAS spaces (the
format follows the space's family), at the resolutions the files hold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nets.ofa.plan import ConvUnit, GlobalPoolUnit, LinearUnit, MBBlockUnit

_FIRST = "Conv"


def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


@dataclass(frozen=True)
class LatencyTable:
    """Entries (key -> latency ms) per input resolution, read from `files`."""

    by_resolution: dict = field(hash=False, compare=False)
    files: tuple[str, ...] = ()

    @classmethod
    def load(cls, paths) -> "LatencyTable":
        """Read the YAML files (a folder: its *.yaml files); each file's resolution is its first conv's input size.
        A ValueError names the file and what is wrong."""
        files: list[Path] = []
        for p in paths:
            p = Path(p)
            files += sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")) if p.is_dir() else [p]
        by_res: dict[int, dict[str, float]] = {}
        for f in files:
            try:
                data = yaml.safe_load(f.read_text())
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise ValueError(f"{f}: not a readable YAML latency table ({type(exc).__name__})") from None
            if not isinstance(data, dict) or not data:
                raise ValueError(f"{f}: expected a mapping of operator keys to {{mean: ms}} entries")
            entries: dict[str, float] = {}
            for key, entry in data.items():
                mean = entry.get("mean") if isinstance(entry, dict) else None
                if not isinstance(mean, (int, float)) or isinstance(mean, bool) or not math.isfinite(mean) or mean < 0:
                    raise ValueError(f"{f}: entry {key!r} needs a finite 'mean' >= 0 (ms), got {entry!r}")
                entries[str(key)] = float(mean)
            first = [k for k in entries if k.startswith(f"{_FIRST}-input:")]
            if not first:
                raise ValueError(f"{f}: no '{_FIRST}-input:RxRx3-...' entry (the first conv), which names the "
                                 "file's resolution")
            r = int(first[0].split("-input:")[1].split("x")[0])
            if r in by_res:
                raise ValueError(f"{f}: a second table for resolution {r}")
            by_res[r] = entries
        if not by_res:
            raise ValueError("no latency table files")
        return cls(by_res, tuple(str(f) for f in files))

    @property
    def resolutions(self) -> tuple[int, ...]:
        return tuple(sorted(self.by_resolution))

    def describe(self) -> str:
        return f"{len(self.files)} file(s), resolutions {', '.join(map(str, self.resolutions))}"

    def unit_keys(self, space, config) -> list[tuple[str, str]]:
        """(unit name, table key) of every operator of the subnet, in order."""
        plan = space.plan(config)
        mbv3 = space.family == "mbv3"
        hw, pooled, out = plan.resolution, False, []
        for unit in plan.units:
            if isinstance(unit, ConvUnit):
                o = (hw - 1) // unit.stride + 1
                kind = _FIRST if unit.name == "first_conv" else ("Conv_2" if pooled else "Conv_1")
                out.append((unit.name, f"{kind}-input:{_shape(hw, hw, unit.c_in)}-output:{_shape(o, o, unit.c_out)}"))
                hw = o
            elif isinstance(unit, MBBlockUnit):
                c_in = unit.expand.c_in if unit.expand is not None else unit.depthwise.c_in
                mid, s = unit.depthwise.c_in, unit.depthwise.stride
                o = (hw - 1) // s + 1
                expand = mid if mbv3 else (1 if unit.expand is None else round(mid / c_in))
                key = (f"expanded_conv-input:{_shape(hw, hw, c_in)}-output:{_shape(o, o, unit.project.c_out)}"
                       f"-expand:{expand}-kernel:{unit.depthwise.kernel}-stride:{s}-idskip:{int(unit.residual)}")
                if mbv3:
                    key += f"-se:{int(unit.se is not None)}-hs:{int(unit.depthwise.act == 'h_swish')}"
                out.append((unit.name, key))
                hw = o
            elif isinstance(unit, GlobalPoolUnit):
                if mbv3:
                    c = out[-1][1].split("-output:")[1].split("x")[-1]
                    out.append(("pool", f"AvgPool2D-input:{_shape(hw, hw, c)}-output:{_shape(1, 1, c)}"))
                    hw = 1
                pooled = True
            elif isinstance(unit, LinearUnit):
                out.append((unit.name, f"Logits-input:{_shape(hw, hw, unit.c_in)}-output:{unit.c_out}"))
        return out

    def _latency_s(self, keys: list[tuple[str, str]], r: int) -> float:
        entries = self.by_resolution.get(r)
        if entries is None:
            return math.inf
        total = 0.0
        for _, key in keys:
            if key not in entries:
                return math.inf
            total += entries[key]
        return total * 1e-3

    def network_latency_s(self, space, config) -> float:
        """The subnet's latency, s (infinite where the table has no entry for one of its operators)."""
        return self._latency_s(self.unit_keys(space, config), config.r)

    def term_latency_s(self, space, config, terms, index: int) -> float:
        """The latency of the operators of layer term `index` (a block's, or the rest's), s."""
        claimed = tuple(t.prefix for t in terms if t.prefix is not None)
        prefix = terms[index].prefix
        keys = [(n, k) for n, k in self.unit_keys(space, config)
                if ((n + ".").startswith(prefix) if prefix is not None else not (n + ".").startswith(claimed))]
        return self._latency_s(keys, config.r)

    def missing(self, space, configs) -> tuple[int, str] | None:
        """(resolution, key) of the first operator of `configs` (at the table's resolutions) the table lacks."""
        for config in configs:
            if config.r not in self.by_resolution:
                continue
            for _, key in self.unit_keys(space, config):
                if key not in self.by_resolution[config.r]:
                    return config.r, key
        return None


__all__ = ["LatencyTable"]
