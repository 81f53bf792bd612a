"""Exhaustive enumeration of an encoding's mapping space, for small layers: the reference optimum.

The space is the one `Encoding` decodes to: every split of each dim's bound over the levels'
temporal loops and the spatial axes the dataflow allows (a dim on one axis per level, fan-outs
respected), every keep/bypass choice the encoding searches, and every distinct loop order
(permutations of the loops with factor > 1 only; Y and X spatial loops ordered separately, as the
cost model nests them; the stationary dims outside the others at the PE levels). Tiles that
overflow a buffer depend on factors and bypass only, so they are pruned before orders multiply.

With `factors="residual"` a dim's splits are those the residual decode can reach, and more: taking its loops in the
decode's order (its spatial loops level by level from the outermost fan-out, then its temporal loops from the
innermost level out), each loop's end is any balanced tile of what is left of the dim (`_factorize.balanced_tiles`:
the divisors and every ceil(left / n)), what is left becomes ceil(left / end), the outermost level takes the rest,
and the residual ends follow by F3's canonical form (`canonical_residuals`; splits equal after it are counted
once). The decode takes a balanced tile only where a limit binds; this space holds every such tile, so it contains
every residual decode and every perfect split. Tiles are sized by F6 (the product of the ends, at most the bound).
Spatial-class mappings (a residual on or below a spatial loop of its dim) are enumerated too.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from math import factorial

import numpy as np

from accel_models import MAPPING_DTYPE, MappingArrays
from accel_models.geometry import fits_batch, tile_words
from accel_models.mapping_arrays import N_DIMS, N_LOOP_KINDS, canonical_residuals
from nets import DIMS

from ._factorize import balanced_tiles, ordered_factorizations
from .encoding import Encoding

_BLOCK = 1 << 18  # partial factor splits built at a time


def _slots(enc: Encoding, d: int) -> list[tuple[int, int]]:
    """(level, kind) slots dim d can take a factor in: kind 0 temporal, 1 spatial X, 2 spatial Y."""
    L = enc.accelerator.num_levels
    slots = [(l, 0) for l in range(L)]
    for l in range(L):
        for axis in (0, 1):
            if enc.allowed[l, axis, d]:
                slots.append((l, 1 + axis))
    return slots


def _too_big(enc: Encoding, what: str) -> ValueError:
    return ValueError(f"exhaustive: the space of {enc.layer.name or enc.layer.shape_key} on {enc.accelerator.name} "
                      f"has {what}; use strategy='cmaes' or 'random'")


def _perfect_splits(enc: Encoding, d: int) -> list[np.ndarray]:
    """Dim d's perfect splits [6, L] (ends of its temporal, X and Y loops per level, then their residual ends: 0);
    where the encoding pins d's spatial factor at a level (a dataflow's whole dims), only the splits that keep it."""
    L = enc.accelerator.num_levels
    slots = _slots(enc, d)
    pins = enc.pin_spatial[:, d]
    opts = []
    for s in ordered_factorizations(int(enc.bounds[d]), len(slots)):
        o = np.ones((6, L), dtype=np.int32)
        o[3:] = 0
        for f, (l, kind) in zip(s, slots):
            o[kind, l] *= f
        if not ((o[1] > 1) & (o[2] > 1)).any() and (o[1] <= enc.fanout[:, 0]).all() \
                and (o[2] <= enc.fanout[:, 1]).all() and ((pins == 0) | (o[1] * o[2] == pins)).all():
            opts.append(o)
    return opts


def _residual_splits(enc: Encoding, d: int, limit: int) -> list[np.ndarray]:
    """Dim d's residual splits [6, L] (module docstring): ends in the decode's order, each a balanced tile of what is
    left, then F3's canonical residual ends (rows 3-5; 0 where a loop is perfect), each distinct split once."""
    L = enc.accelerator.num_levels
    bound = int(enc.bounds[d])
    spatial = [l for l in enc.accelerator.fanout_levels if enc.allowed[l, :, d].any()]
    nest = [(l, kind) for l in range(L) for kind in (0, 2, 1)]      # outermost first: temporal, Y, X per level
    seen: dict[bytes, np.ndarray] = {}

    def canonical(o: np.ndarray) -> None:
        ends, res = canonical_residuals([int(o[kind, l]) for l, kind in nest], bound)
        c = np.ones((6, L), dtype=np.int32)
        for (l, kind), e, r in zip(nest, ends, res):
            c[kind, l] = e
            c[3 + kind, l] = 0 if r == e else r
        seen.setdefault(c.tobytes(), c)
        if len(seen) > limit:
            raise _too_big(enc, f"more than {limit:,} splits of {DIMS[d]}")

    def temporal(o: np.ndarray, l: int, left: int) -> None:
        if l == 0:
            o[0, 0] = left
            canonical(o)
            return
        for t in balanced_tiles(left):
            o[0, l] = t
            temporal(o, l - 1, -(-left // t))
        o[0, l] = 1

    def unroll(o: np.ndarray, k: int, left: int) -> None:
        if k == len(spatial):
            temporal(o, L - 1, left)
            return
        l = spatial[k]
        unroll(o, k + 1, left)                                       # not unrolled here
        for axis in (0, 1):
            if not enc.allowed[l, axis, d]:
                continue
            for t in balanced_tiles(left):
                if t == 1:
                    continue
                if t > enc.fanout[l, axis]:
                    break
                o[1 + axis, l] = t
                unroll(o, k + 1, -(-left // t))
            o[1 + axis, l] = 1

    unroll(np.ones((6, L), dtype=np.int32), 0, bound)
    return list(seen.values())


def _factor_combos(enc: Encoding, limit: int) -> list[np.ndarray]:
    """All factor splits that fit the fan-outs and the buffers: ends temporal, spatial_x, spatial_y and their
    residual ends (0: perfect), each [n, L, 8].

    Built one dim at a time, in blocks, pruning partial splits that already overflow a buffer with
    every searchable tensor bypassed (tiles only grow as dims are added, and that keep choice needs
    the least room), so memory stays bounded by the splits that survive, at most `limit`.
    """
    L = enc.accelerator.num_levels
    least = enc.default_keep & ~enc.keep_free
    least[0] = True
    combos = [np.ones((1, L, 8), dtype=np.int32) for _ in range(N_LOOP_KINDS)] + [np.zeros((1, L, 8), dtype=np.int32)
                                                                        for _ in range(N_LOOP_KINDS)]
    for d in enc.active:
        opts = np.array(_residual_splits(enc, d, limit) if enc.residual_ok[d] else _perfect_splits(enc, d))
        n1 = len(opts)
        step = max(1, _BLOCK // n1)
        parts, total = [], 0
        for s0 in range(0, combos[0].shape[0], step):
            m = min(step, combos[0].shape[0] - s0)
            block = [np.repeat(a[s0:s0 + m], n1, axis=0) for a in combos]
            o = np.tile(opts, (m, 1, 1))
            for i in range(6):
                block[i][:, :, d] = o[:, i]
            x, y = block[1], block[2]
            ok = (x.prod(axis=2) <= enc.fanout[:, 0]).all(axis=1) & (y.prod(axis=2) <= enc.fanout[:, 1]).all(axis=1)
            block = [a[ok] for a in block]
            ok = _fits(enc, block[0], block[1], block[2], least[None])[:, 0]
            parts.append([a[ok] for a in block])
            total += int(ok.sum())
            if total > limit:
                raise _too_big(enc, f"more than {limit:,} factor splits that fit the buffers")
        combos = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    return combos


def _keep_choices(enc: Encoding) -> np.ndarray:
    """Every keep array [L, 3] the encoding can decode to."""
    free = list(zip(*np.nonzero(enc.keep_free)))
    base = enc.default_keep.copy()
    out = []
    for bits in itertools.product((True, False), repeat=len(free)):
        k = base.copy()
        for (l, t), bit in zip(free, bits):
            k[l, t] = bit
        out.append(k)
    return np.array(out)


def _fits(enc: Encoding, tf: np.ndarray, sx: np.ndarray, sy: np.ndarray, keeps: np.ndarray) -> np.ndarray:
    """fits[c, k]: factor split c with keep choice k fits every buffer."""
    L = enc.accelerator.num_levels
    inner = np.cumprod((tf * sx * sy).astype(np.int64)[:, ::-1], axis=1)[:, ::-1]  # [n, L, 8]: levels >= l
    inner = np.minimum(inner, enc.bounds)                          # F6: a residual split's ends can pass the bound
    tiles = tile_words([inner[:, :, i] for i in range(N_DIMS)], enc.ax, enc.co)     # 3 x [n, L]
    ok = np.ones((tf.shape[0], len(keeps)), dtype=bool)
    for l in range(L):
        ok &= fits_batch(keeps[None, :, l, :], [t[:, None, l] for t in tiles],  # [1, K, 3] with 3 x [n, 1]
                         enc.capacity[l], enc.tensor_capacity[l])
    return ok


def _temporal_orders(enc: Encoding, l: int, dims: list[int]) -> list[tuple[int, ...]]:
    """Distinct temporal orders (outermost first, all 8 dims) of the loops `dims` at level l."""
    rest = [d for d in range(N_DIMS) if d not in dims]
    first = [d for d in dims if enc.order_bonus[l, d] > 0]
    second = [d for d in dims if enc.order_bonus[l, d] <= 0]
    return [a + b + tuple(rest) for a in itertools.permutations(first) for b in itertools.permutations(second)]


def _spatial_orders(ydims: list[int], xdims: list[int]) -> list[tuple[int, ...]]:
    rest = tuple(d for d in range(N_DIMS) if d not in ydims and d not in xdims)
    return [a + b + rest for a in itertools.permutations(ydims) for b in itertools.permutations(xdims)]


def _orders_count(enc: Encoding, tf: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    L = enc.accelerator.num_levels
    count = np.ones(tf.shape[0], dtype=np.int64)
    bonus = enc.order_bonus > 0
    fact = np.array([factorial(k) for k in range(9)], dtype=np.int64)
    for l in range(L):
        act = tf[:, l] > 1
        count *= fact[(act & bonus[l]).sum(axis=1)] * fact[(act & ~bonus[l]).sum(axis=1)]
        count *= fact[(sx[:, l] > 1).sum(axis=1)] * fact[(sy[:, l] > 1).sum(axis=1)]
    return count


class ExhaustiveSpace:
    """The enumerable space of an encoding; `size` mappings, `chunks()` yields them as MappingArrays.

    Raises ValueError (from the constructor) when more than `max_splits` factor splits fit the buffers.
    """

    def __init__(self, enc: Encoding, max_mappings: int = 2_000_000, max_splits: int = 200_000) -> None:
        self.enc = enc
        self.max_mappings = max_mappings
        self.tf, self.sx, self.sy, self.rt, self.rx, self.ry = _factor_combos(enc, min(max_splits, max_mappings))
        self.keeps = _keep_choices(enc)
        self.fits = _fits(enc, self.tf, self.sx, self.sy, self.keeps)
        self.orders = _orders_count(enc, self.tf, self.sx, self.sy)
        self.size = int((self.fits.sum(axis=1) * self.orders).sum())

    def check(self) -> None:
        """Raise ValueError when the space is too big to enumerate."""
        if self.size > self.max_mappings:
            raise _too_big(self.enc, f"{self.size:,} mappings that fit the buffers (> max_mappings="
                                     f"{self.max_mappings:,})")

    def chunks(self, chunk_size: int = 65536) -> Iterator[MappingArrays]:
        """Every mapping of the space, in batches of about chunk_size."""
        L = self.enc.accelerator.num_levels
        parts: list[MappingArrays] = []
        have = 0
        blocks: dict[bytes, np.ndarray] = {}  # loop orders depend only on which loops exist
        for c in range(self.tf.shape[0]):
            ks = np.flatnonzero(self.fits[c])
            if len(ks) == 0:
                continue
            sig = np.stack([self.tf[c] > 1, self.sy[c] > 1, self.sx[c] > 1])
            combos = blocks.get(sig.tobytes())
            if combos is None:
                per_level = [_temporal_orders(self.enc, l, list(np.flatnonzero(sig[0, l]))) for l in range(L)]
                per_level += [_spatial_orders(list(np.flatnonzero(sig[1, l])), list(np.flatnonzero(sig[2, l])))
                              for l in range(L)]
                combos = np.array(list(itertools.product(*per_level)), dtype=MAPPING_DTYPE)   # [n, 2L, 8]
                blocks[sig.tobytes()] = combos
            n = len(combos) * len(ks)
            ends = [np.broadcast_to(a[c].astype(MAPPING_DTYPE), (n, L, 8)).copy()
                    for a in (self.tf, self.sx, self.sy, self.rt, self.rx, self.ry)]
            block = MappingArrays(ends[0], np.tile(combos[:, :L], (len(ks), 1, 1)), ends[1], ends[2],
                                  np.tile(combos[:, L:], (len(ks), 1, 1)),
                                  np.repeat(self.keeps[ks].astype(MAPPING_DTYPE), len(combos), axis=0), *ends[3:])
            parts.append(block)
            have += n
            if have >= chunk_size:
                yield MappingArrays.concatenate(parts)
                parts, have = [], 0
        if parts:
            yield MappingArrays.concatenate(parts)
