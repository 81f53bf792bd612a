"""Warm starts: the best mappings found so far, offered as seeds to later searches.

Consecutive trials of the co-search propose similar accelerators, and the subnets of one trial share
most layer shapes, so a search rarely has to start from nothing: it is seeded with
- the best mappings of the same layer shape on the most recent other accelerators, carried over level by
  level (`transfer_mapping`) and re-encoded for this accelerator (its decoder repairs what no longer fits);
- the best genes of neighbouring shapes on this accelerator: the same layer at other feature-map sizes
  (P, Q), whose genes (ratios of what is left of each dim) carry over when the encodings have the same genes;
- the mirror of the most recent one: its C and K factors and loop places exchanged, its keeps left to the decoder's
  reuse rule (`encoding`'s "Keep and bypass"). A mapping that holds the inputs where the outputs would do better (or
  the other way round) is a local optimum that the search leaves only by moving the tiles of C and K at two levels at
  once; the mirror is that move, exact where the bounds allow it, for one evaluation.
"""
from __future__ import annotations

import math
from collections import OrderedDict, deque

import numpy as np

from accel_models import Accelerator, MappingArrays
from nets import DIMS, Layer

from ._accelerator_key import accelerator_key
from .encoding import Encoding
from .transfer import transfer_mapping


_C, _K = DIMS.index("C"), DIMS.index("K")
_AUTO_KEEP = 0.5
"""A keep gene in the middle of the auto band (`mappings._decode_kernel.KEEP_AUTO`)."""


def mirrored(enc: Encoding, x: np.ndarray) -> np.ndarray | None:
    """Genes of the mapping x decodes to with the factors and loop places of C and K exchanged, the keeps those the
    decoder's reuse rule gives it (explicit in the genes); None where the exchanged factors do not divide the bounds or
    go on an axis the dataflow does not give them, the mapping has residual loops or the encoding fixes factors
    (mapspace constraints)."""
    if enc.bounds[_C] == 1 or enc.bounds[_K] == 1 or enc.pin_temporal.any() or enc.pin_spatial.any():
        return None     # checked before the decode: depthwise and pool layers (C = K = 1) never have a mirror
    m = enc.decode(x)
    allowed = enc.allowed
    for axis, spatial in enumerate((m.spatial_x[0], m.spatial_y[0])):      # checked first: it fails most often
        if ((spatial[:, _K] > 1) & ~allowed[:, axis, _C]).any() or ((spatial[:, _C] > 1) & ~allowed[:, axis, _K]).any():
            return None                                   # the dataflow does not allow the exchanged dims there
    # the factors below the outermost level that each dim takes over from the other must divide its bound: checked
    # before the residual ends and before anything is copied
    inner = m.temporal[0, 1:].prod(axis=0) * (m.spatial_x[0] * m.spatial_y[0]).prod(axis=0)
    outer = {}
    for d, other in ((_C, _K), (_K, _C)):
        if enc.bounds[d] % inner[other]:
            return None
        outer[d] = enc.bounds[d] // inner[other]
    if m.has_residual_ends():
        return None                                       # residual loops
    fields = {}
    for name in ("temporal", "spatial_x", "spatial_y"):
        a = getattr(m, name).copy()
        a[..., [_C, _K]] = a[..., [_K, _C]]
        fields[name] = a
    for d in (_C, _K):
        fields["temporal"][0, 0, d] = outer[d]
    for name in ("order", "spatial_order"):
        a = getattr(m, name).copy()
        c, k = a == _C, a == _K
        a[c], a[k] = _K, _C
        fields[name] = a
    genes = enc.encode(m._replace(**fields))
    keep = enc.keep_genes
    genes[keep[keep >= 0]] = _AUTO_KEEP
    return enc.encode(enc.decode(genes))


def shape_family(layer: Layer) -> tuple:
    """A layer's shape without its output size: layers of one family differ only in P and Q."""
    return (layer.R, layer.S, layer.C, layer.K, layer.N, layer.G) + layer.coefficients


class WarmStarts:
    """Recent best mappings per layer shape (across accelerators) and per shape family (per accelerator: its content,
    `accelerator_key`, so every object of equal content shares them and gets the same seeds).

    per_shape: how many accelerators' mappings a shape keeps; shapes: how many shapes are remembered (the
    least recently used go first); neighbours: how many neighbouring shapes seed a search; mirror: add the C-K mirror
    of the most recent mapping (`mirrored`).
    """

    def __init__(self, per_shape: int = 3, shapes: int = 20_000, neighbours: int = 2, mirror: bool = True) -> None:
        self.per_shape, self.shapes, self.neighbours, self.mirror = per_shape, shapes, neighbours, mirror
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
        if rows and self.mirror:
            mirror = mirrored(enc, rows[0])
            if mirror is not None:
                rows.append(mirror)
        family = self._by_family.get((accelerator_key(enc.accelerator), shape_family(enc.layer)), {})
        layout = enc.layout
        size = enc.layer.P * enc.layer.Q
        near = sorted((abs(math.log(s) - math.log(size)), k) for k, (s, n, _) in family.items()
                      if n == layout and k != enc.layer.shape_key)
        rows += [family[k][2] for _, k in near[:self.neighbours]]
        return np.array(rows, dtype=np.float64).reshape(len(rows), enc.size)
