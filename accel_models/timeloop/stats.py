"""Timeloop's outputs read back: `timeloop-model.stats.txt` / `timeloop-mapper.stats.txt`, for comparing
cosearch with a Timeloop run.

The text report gives, per storage level and data space, the per-instance scalar reads, fills and updates
and the utilized instances, per level the leakage energy and the energy per compute (fJ, leakage
included), and the summary: cycles, utilization, computes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ._yaml import read_text

_NUMBER = r"([-+0-9.eE]+)"


@dataclass
class TensorCounts:
    """One data space at one level: per-instance counts and the instances that hold it."""

    reads: float
    fills: float
    updates: float
    instances: float

    def total(self, action: str) -> float:
        return getattr(self, action) * self.instances


@dataclass
class TimeloopStats:
    """The figures of one Timeloop run (energies in pJ, leakage included in `energy_pj` and `level_energy_pj`)."""

    cycles: int
    utilization: float
    computes: int
    energy_pj: float
    level_energy_pj: dict[str, float] = field(default_factory=dict)
    level_leak_pj: dict[str, float] = field(default_factory=dict)
    counts: dict[str, dict[str, TensorCounts]] = field(default_factory=dict)


def _value(block: str, label: str, where: str) -> float:
    m = re.search(rf"^\s*{re.escape(label)}\s*:\s*{_NUMBER}", block, re.M)
    if not m:
        raise ValueError(f"{where}: no '{label}' line")
    return float(m[1])


def read_stats(path: str | Path) -> TimeloopStats:
    """Parse a Timeloop stats report (`*.stats.txt`)."""
    path = Path(path)
    text = read_text(path, "stats", "Timeloop stats")
    where = str(path)
    summary = text.split("Summary Stats", 1)
    if len(summary) != 2:
        raise ValueError(f"{where}: no 'Summary Stats' section (not a Timeloop stats report?)")
    tail = summary[1]
    cycles = int(_value(tail, "Cycles", where))
    util = _value(tail, "Utilization", where) / 100.0
    m = re.search(rf"Computes\s*=\s*{_NUMBER}", tail)
    if not m:
        raise ValueError(f"{where}: no 'Computes =' line")
    computes = int(float(m[1]))
    per_compute = dict(re.findall(rf"^\s+(\S+)\s+=\s+{_NUMBER}\s*$", tail.split("fJ/Compute", 1)[1], re.M))
    if "Total" not in per_compute:
        raise ValueError(f"{where}: no fJ/Compute Total line")
    stats = TimeloopStats(cycles, util, computes, float(per_compute.pop("Total")) * computes / 1000.0)
    stats.level_energy_pj = {k: float(v) * computes / 1000.0 for k, v in per_compute.items()}
    body = summary[0].split("Networks\n--------", 1)[0]
    for chunk in re.split(r"^Level \d+\n-+\n", body, flags=re.M)[1:]:
        m = re.match(r"=== (\S+) ===", chunk)
        if not m:
            continue
        name = m[1]
        leak = re.search(rf"Leakage energy \(total\)\s*:\s*{_NUMBER}", chunk)
        if leak:
            stats.level_leak_pj[name] = float(leak[1])
        tensors = {}
        for t in re.finditer(r"^    (\w+):\n((?:        .*\n)+)", chunk, re.M):
            block = t[2]
            if "Scalar reads" not in block:
                continue
            tensors[t[1]] = TensorCounts(
                reads=_value(block, "Scalar reads (per-instance)", where),
                fills=_value(block, "Scalar fills (per-instance)", where),
                updates=_value(block, "Scalar updates (per-instance)", where),
                instances=_value(block, "Utilized instances (max)", where))
        if tensors:
            stats.counts[name] = tensors
    return stats
