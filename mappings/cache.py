"""The per-(accelerator, layer shape, objective) cache of best mappings: the layer-wise lookup table.

OFA and ProxylessNAS score subnets from a table of per-layer latencies; here the table holds the
mapper's best result, so a shape that repeats across layers, blocks and subnets is searched once.
The key is the accelerator's cost-relevant content (not its name), the layer's `shape_key` (not
its name), the objective, and the mapper settings the cache was built with. Optionally persisted
as JSON (results without the layer and accelerator objects, which the key stands for).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import astuple
from pathlib import Path

from accel_models import Accelerator
from nets import Layer

from .mapper import MapperResult, best_mapping, with_layer

_FORMAT = "cosearch.mapping_cache/1"


def accelerator_key(accelerator: Accelerator) -> str:
    """A digest of everything about an accelerator that changes mapping costs (not its name or meta)."""
    content = (tuple(astuple(lv) for lv in accelerator.levels), accelerator.mac_energy_pj, accelerator.clock_ghz,
               accelerator.technology_nm, accelerator.mac_bits,
               None if accelerator.dataflow is None else astuple(accelerator.dataflow))
    return hashlib.sha1(repr(content).encode()).hexdigest()[:20]


class MappingCache:
    """Best mapping per (accelerator, layer shape, objective), searched on a miss with `mapper_settings`.

    path: a JSON file to load from (if it exists) and to `save()` to. mapper_settings: keyword
    arguments of `best_mapping` (strategy, budget_evals, time_limit_s, seed, bypass, ...); results
    found with other settings are kept apart.
    """

    def __init__(self, path: str | Path | None = None, **mapper_settings) -> None:
        bad = {"layer", "accelerator", "objective"} & set(mapper_settings)
        if bad:
            raise ValueError(f"MappingCache: {sorted(bad)} are per lookup, not mapper settings")
        self.path = None if path is None else Path(path)
        self.settings = dict(mapper_settings)
        self._settings_key = json.dumps(self.settings, sort_keys=True, default=str)
        self._entries: dict[tuple, dict] = {}
        self._results: dict[tuple, MapperResult] = {}
        self.hits = 0
        self.misses = 0
        if self.path is not None and self.path.exists():
            self.load(self.path)

    def key(self, layer: Layer, accelerator: Accelerator, objective: str = "edp") -> tuple:
        return (accelerator_key(accelerator), tuple(layer.shape_key), objective, self._settings_key)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item: tuple[Layer, Accelerator, str]) -> bool:
        return self.key(*item) in self._entries

    def best_mapping(self, layer: Layer, accelerator: Accelerator, objective: str = "edp") -> MapperResult:
        """The cached result for this shape (renamed to `layer`), or a new search that is then cached."""
        k = self.key(layer, accelerator, objective)
        if k in self._entries:
            self.hits += 1
            cached = self._results.get(k)
            if cached is None:
                cached = self._results[k] = MapperResult.from_dict(self._entries[k], layer, accelerator)
            return with_layer(cached, layer)
        self.misses += 1
        result = best_mapping(layer, accelerator, objective, **self.settings)
        self._entries[k] = result.to_dict()
        self._results[k] = result
        return result

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Hits / lookups (0 before the first lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0

    def stats(self) -> str:
        return (f"mapping cache: {len(self)} shapes, {self.lookups} lookups, {self.hits} hits "
                f"({100 * self.hit_rate:.1f}%), {self.misses} searches")

    def save(self, path: str | Path | None = None) -> Path:
        """Write the table as JSON (atomically) to `path` or the cache's own path."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("MappingCache.save: no path given and the cache was created without one")
        doc = {"format": _FORMAT,
               "entries": [{"accelerator": k[0], "shape": list(k[1]), "objective": k[2], "settings": k[3],
                            "result": v} for k, v in self._entries.items()]}
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, target)
        return target

    def load(self, path: str | Path) -> int:
        """Add the entries of a saved table; returns how many were read."""
        doc = json.loads(Path(path).read_text())
        if doc.get("format") != _FORMAT:
            raise ValueError(f"MappingCache.load: {path} is not a mapping cache (format {doc.get('format')!r}, "
                             f"expected {_FORMAT!r})")
        for e in doc["entries"]:
            k = (e["accelerator"], tuple(e["shape"]), e["objective"], e["settings"])
            self._entries[k] = e["result"]
            self._results.pop(k, None)
        return len(doc["entries"])
