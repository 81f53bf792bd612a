"""A measured device: a latency look-up table in the format ProxylessNAS and OFA publish for phones (one YAML file per
input resolution, keyed by operator and shapes, each entry's `mean` the measured latency in ms).

Each space says how such tables key its operators (`SearchSpace.latency_table_keys`; the OFA MobileNetV3 and
ProxylessNAS spaces give the keys OFA's code builds, `nets.ofa.table_keys`); a space without keys has no tables. A
subnet's latency is the sum of its operators' entries, at the resolutions the files hold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from accel_models.timeloop import read_yaml
from nets.ofa.table_keys import FIRST_CONV as _FIRST


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
            data = read_yaml(f, str(f))      # the project's guarded reader: size, depth and alias limits
            if not data:
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
        return self._latency_s(space.latency_table_keys(config), config.r)

    def term_latency_s(self, space, config, terms, index: int) -> float:
        """The latency of the operators of layer term `index` (a block's, or the rest's), s."""
        claimed = tuple(t.prefix for t in terms if t.prefix is not None)
        prefix = terms[index].prefix
        keys = [(n, k) for n, k in space.latency_table_keys(config)
                if ((n + ".").startswith(prefix) if prefix is not None else not (n + ".").startswith(claimed))]
        return self._latency_s(keys, config.r)

    def missing(self, space, configs) -> tuple[int, str] | None:
        """(resolution, key) of the first operator of `configs` (at the table's resolutions) the table lacks."""
        for config in configs:
            if config.r not in self.by_resolution:
                continue
            for _, key in space.latency_table_keys(config):
                if key not in self.by_resolution[config.r]:
                    return config.r, key
        return None


__all__ = ["LatencyTable"]
