"""Warm starts: the best mappings found so far, offered as seeds to later searches.

Consecutive trials of the co-search propose similar accelerators, and the subnets of one trial share
most layer shapes, so a search rarely has to start from nothing: it is seeded with
- the best mappings of the same layer shape on the most recent other accelerators, carried over level by
  level (`transfer_mapping`) and re-encoded for this accelerator (its decoder repairs what no longer fits);
- the best genes of neighbouring shapes on this accelerator: the same layer at other feature-map sizes
  (P, Q), whose genes (ratios of what is left of each dim) carry over when the encodings have the same genes.
"""
from __future__ import annotations

import math
from collections import OrderedDict, deque

import numpy as np

from accel_models import Accelerator, MappingArrays
from nets import Layer

from ._accelerator_key import accelerator_key
from .encoding import Encoding
from .transfer import transfer_mapping


def shape_family(layer: Layer) -> tuple:
    """A layer's shape without its output size: layers of one family differ only in P and Q."""
    return (layer.R, layer.S, layer.C, layer.K, layer.N, layer.G) + layer.coefficients


class WarmStarts:
    """Recent best mappings per layer shape (across accelerators) and per shape family (per accelerator: its content,
    `accelerator_key`, so every object of equal content shares them and gets the same seeds).

    per_shape: how many accelerators' mappings a shape keeps; shapes: how many shapes are remembered (the
    least recently used go first); neighbours: how many neighbouring shapes seed a search.
    """

    def __init__(self, per_shape: int = 3, shapes: int = 20_000, neighbours: int = 2) -> None:
        self.per_shape, self.shapes, self.neighbours = per_shape, shapes, neighbours
        self._by_shape: "OrderedDict[tuple, deque]" = OrderedDict()
        self._by_family: dict[tuple, dict[tuple, tuple[int, tuple, np.ndarray]]] = {}
        self.journal: list[tuple[tuple, Accelerator, MappingArrays]] | None = None
        """The per-shape records (shape key, accelerator, arrays) since it was last emptied, in order; None (not
        kept) unless its owner turns it on to save them (`MappingCache.save`)."""

    def record(self, enc: Encoding, arrays: MappingArrays, genes: np.ndarray) -> None:
        """Remember the best mapping (arrays, and its genes in `enc`) of `enc.layer` on `enc.accelerator`."""
        key = enc.layer.shape_key
        self.remember(key, enc.accelerator, arrays)
        family = self._by_family.setdefault((accelerator_key(enc.accelerator), shape_family(enc.layer)), {})
        family[key] = (enc.layer.P * enc.layer.Q, enc.layout, np.asarray(genes, dtype=np.float64).copy())

    def remember(self, key: tuple, acc: Accelerator, arrays: MappingArrays) -> None:
        """The per-shape part of `record`: `arrays` as the latest best mapping of shape `key` on `acc` (an accelerator
        object: another object of equal content counts as another accelerator)."""
        entries = self._by_shape.pop(key, None) or deque(maxlen=self.per_shape)
        for i, (other, _) in enumerate(entries):
            if other is acc:
                del entries[i]
                break
        entries.append((acc, arrays))
        self._by_shape[key] = entries
        while len(self._by_shape) > self.shapes:
            self._by_shape.popitem(last=False)
        if self.journal is not None:
            self.journal.append((key, acc, arrays))

    def __len__(self) -> int:
        """How many per-shape records are kept (at most `per_shape` per shape)."""
        return sum(len(entries) for entries in self._by_shape.values())

    def records(self) -> list[tuple[tuple, Accelerator, MappingArrays]]:
        """The per-shape state as records that `remember`, replayed in order into empty warm starts, rebuilds: the
        least recently recorded shape first, each shape's mappings oldest first."""
        return [(key, acc, arrays) for key, entries in self._by_shape.items() for acc, arrays in entries]

    def __getstate__(self) -> dict:
        """Pickled without the per-family genes, which are kept per accelerator as its table is (`forget`), and are
        not what `MappingCache.save` carries to another process either."""
        return {**self.__dict__, "_by_family": {}, "journal": None}

    def forget(self, accelerator: Accelerator | None = None) -> None:
        """Drop what is kept per shape family for `accelerator` (its table is gone), or for every accelerator; an
        accelerator is its content: what an object of equal content left is dropped too."""
        if accelerator is None:
            self._by_family.clear()
            return
        key = accelerator_key(accelerator)
        for k in [k for k in self._by_family if k[0] == key]:
            del self._by_family[k]

    def seeds(self, enc: Encoding) -> np.ndarray:
        """Seed genes [S, n] for a search of `enc.layer` on `enc.accelerator` (S may be 0)."""
        rows: list[np.ndarray] = []
        for acc, arrays in reversed(self._by_shape.get(enc.layer.shape_key, ())):
            if acc is enc.accelerator:
                continue
            rows.append(enc.encode(transfer_mapping(arrays, acc, enc.accelerator)))
        family = self._by_family.get((accelerator_key(enc.accelerator), shape_family(enc.layer)), {})
        layout = enc.layout
        size = enc.layer.P * enc.layer.Q
        near = sorted((abs(math.log(s) - math.log(size)), k) for k, (s, n, _) in family.items()
                      if n == layout and k != enc.layer.shape_key)
        rows += [family[k][2] for _, k in near[:self.neighbours]]
        return np.array(rows, dtype=np.float64).reshape(len(rows), enc.size)
