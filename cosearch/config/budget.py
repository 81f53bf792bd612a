"""Budgets: `area=5mm2`, `latency<=10ms`, `energy<=2mJ`, `power<=500mW`, `accuracy>=0.76`.

Terms are joined by commas or given as several strings (repeated `--budget` flags). Area, latency,
energy and power are upper bounds (`=` and `<=` both mean "at most"); accuracy is a floor (`=` and
`>=` mean "at least"), a fraction in (0, 1] or a percentage (`76%`). Units are checked; anything
else raises `UsageError` naming the field and the accepted units.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from .validate import DURATION_UNITS_S, UsageError, accepted_units, parse_quantity, split_quantity

_UNITS: dict[str, dict[str, float]] = {
    "area": {"mm2": 1.0, "um2": 1e-6},
    "latency": DURATION_UNITS_S,
    "energy": {"J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9},
    "power": {"W": 1.0, "mW": 1e-3, "uW": 1e-6},
}
"""Accepted units per bounded field (case-insensitive), as multipliers to the field's base unit (mm2, s, J, W)."""
_FIELDS = ("area", "latency", "energy", "power", "accuracy")
_TERM = re.compile(r"^\s*([A-Za-z_]+)\s*(<=|>=|=|<|>)\s*([^\s].*?)\s*$")
_EXAMPLE = "e.g. area=5mm2,latency<=10ms,energy<=2mJ,power<=500mW,accuracy>=0.76"
_ACCURACY_ACCEPTED = "accepted: a fraction in (0, 1] or a percentage, e.g. accuracy>=0.76 or accuracy>=76%"


@dataclass(frozen=True)
class Budget:
    """Limits of a co-search: chip area (required), per-inference latency / energy, average power, accuracy floor."""

    area_mm2: float
    latency_s: float | None = None
    energy_j: float | None = None
    power_w: float | None = None
    accuracy: float | None = None

    def describe(self) -> str:
        """The budget in the syntax it is parsed from, e.g. 'area<=5mm2, latency<=10ms'."""
        parts = [f"area<={self.area_mm2:g}mm2"] if math.isfinite(self.area_mm2) else []
        if self.latency_s is not None:
            parts.append(f"latency<={self.latency_s * 1e3:g}ms")
        if self.energy_j is not None:
            parts.append(f"energy<={self.energy_j * 1e3:g}mJ")
        if self.power_w is not None:
            parts.append(f"power<={self.power_w * 1e3:g}mW")
        if self.accuracy is not None:
            parts.append(f"accuracy>={self.accuracy:g}")
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        """A file- and study-name-safe form, e.g. 'area5mm2-lat10ms'."""
        text = self.describe().replace("<=", "").replace(">=", "").replace(", ", "-") or "noarea"
        return text.replace("latency", "lat").replace("accuracy", "acc").replace("energy", "e").replace("power", "p")

    def with_accuracy(self, accuracy: float | None) -> "Budget":
        return Budget(self.area_mm2, self.latency_s, self.energy_j, self.power_w, accuracy)

    def unmet_terms(self, runs: Iterable[tuple[float, float]]) -> list[str]:
        """The latency / energy / power terms that none of `runs` ((latency s, energy J) each) meets, each with the
        nearest run's figure, e.g. 'power<=1e-27mW (the lowest of 2 designs: 512 mW)'."""
        runs = list(runs)
        unmet = []
        for term, limit, unit, scale, value in (
                ("latency", self.latency_s, "ms", 1e3, lambda lat, e: lat),
                ("energy", self.energy_j, "mJ", 1e3, lambda lat, e: e),
                ("power", self.power_w, "mW", 1e3, lambda lat, e: e / lat if lat > 0 else math.inf)):
            if limit is None or not runs:
                continue
            lowest = min(value(lat, e) for lat, e in runs)
            if lowest > limit:
                unmet.append(f"{term}<={limit * scale:g}{unit} (the lowest of {len(runs)} design"
                             f"{'s' * (len(runs) > 1)}: {lowest * scale:.4g} {unit})")
        return unmet

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Budget":
        return cls(**data)

    def violation(self, latency_s: float, energy_j: float) -> float:
        """How far a network run is over the latency / energy / power limits: sum of relative overshoots (0 = fits)."""
        over = 0.0
        power_w = energy_j / latency_s if latency_s > 0 else math.inf
        for value, limit in ((latency_s, self.latency_s), (energy_j, self.energy_j), (power_w, self.power_w)):
            if limit is not None and value > limit:
                over += value / limit - 1.0
        return over


def _parse_term(term: str) -> tuple[str, float]:
    m = _TERM.match(term)
    if not m:
        raise UsageError(f"budget: cannot read {term.strip()!r}; write FIELD<=VALUE UNIT, {_EXAMPLE}")
    field, op, text = m.group(1).lower(), m.group(2), m.group(3)
    if field not in _FIELDS:
        raise UsageError(f"budget: unknown field {m.group(1)!r}; accepted fields: {', '.join(_FIELDS)}")
    if field == "accuracy":
        if op not in (">=", "="):
            raise UsageError(f"budget accuracy is a floor: write accuracy>=VALUE, got {term.strip()!r}")
        value, unit = split_quantity("budget accuracy", text, _ACCURACY_ACCEPTED)
        if unit == "%":
            value /= 100.0
        elif unit:
            raise UsageError(f"budget accuracy: unknown unit {unit!r}; {_ACCURACY_ACCEPTED}")
        if value > 1.0:
            raise UsageError(f"budget accuracy: {text!r} is above 1 (100%); {_ACCURACY_ACCEPTED}")
        return field, value
    if op not in ("<=", "="):
        raise UsageError(f"budget {field} is an upper bound: write {field}<=VALUE ({accepted_units(_UNITS[field])}), "
                         f"got {term.strip()!r}")
    return field, parse_quantity(f"budget {field}", text, _UNITS[field])


def parse_budget(specs: str | Iterable[str], require_area: bool = True) -> Budget:
    """A `Budget` from one string or several (each may hold comma-joined terms); area is required unless
    `require_area` is False (then a missing area is unbounded: `--match-resources` bounds the space instead)."""
    if isinstance(specs, str):
        specs = [specs]
    if not isinstance(specs, (list, tuple)):
        raise UsageError(f"budget: expected text such as 'area=5mm2' (or a list of such texts), got {specs!r}")
    values: dict[str, float] = {}
    for spec in specs:
        if not isinstance(spec, str):
            raise UsageError(f"budget: expected text such as 'area=5mm2', got {spec!r}")
        terms = spec.split(",")
        if not spec.strip() or any(not t.strip() for t in terms):
            raise UsageError(f"budget: empty term in {spec!r}; {_EXAMPLE}")
        for term in terms:
            field, value = _parse_term(term)
            if field in values:
                raise UsageError(f"budget {field}: given more than once")
            values[field] = value
    if "area" not in values and not require_area:
        values["area"] = math.inf
    if "area" not in values:
        raise UsageError("budget: an area term is required (the accelerator space is sized from it), "
                         f"e.g. area=5mm2 ({accepted_units(_UNITS['area'])})")
    if math.isfinite(values["area"]) and values["area"] > 1e4:
        raise UsageError(f"budget area: {values['area']:g} mm2 is above the 10000 mm2 this model is meant for")
    return Budget(area_mm2=values["area"], latency_s=values.get("latency"), energy_j=values.get("energy"),
                  power_w=values.get("power"), accuracy=values.get("accuracy"))
