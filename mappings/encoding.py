"""NAAS's importance-based encoding: a vector x in [0,1]^n <-> a mapping of one layer on one accelerator.

NAAS (Lin, Yang, Han, DAC 2021) makes loop orders and parallel dimensions searchable by an
evolution strategy by giving every loop dimension a real "importance": sorting them gives the
loop order (highest = outermost), and the top-ranked dims are the ones unrolled on the PE array.
Tiling factors are ratios decoded to divisors, so that every decoded mapping has a valid shape.

The genes, all in [0,1] (dims whose bound is 1 get none, since their loops do not exist):
- order[l, d]: importance of dim d's temporal loop at level l.
- spatial rank / axis / ratio [l, d], at each level with a fan-out, for the dims the accelerator's
  dataflow allows there: dims are unrolled in rank order (the highest first, which is also the
  outermost spatial loop), each on X or Y (axis gene < 0.5 = X, where both are allowed) with a
  factor that is a divisor of what is left of the dim and at most what is left of the axis's fan-out.
  A ratio near 0 leaves the dim temporal, so "the top k" is decided by rank and ratio together.
- tile[l, d] for levels l >= 1: the temporal factor at level l, as a log-ratio of what is left of
  dim d after the spatial factors and the levels below l (factor = the divisor nearest rem ** r);
  the outermost level takes the rest, so every dim's factors multiply to its bound.
- keep[l, t] where the level's keep/bypass is searched (see `Encoding`): bypassed below 0.4, kept at 0.6 or above,
  and in between left to the tiles ("Keep and bypass" below).
- spatial_fill[l, axis] for each axis of a fan-out that some dim may use: when >= 0.5 and the
  dims' factors leave part of the axis idle, the axis is filled (below).

Axis fill. Decoded one dim at a time, the spatial factors rarely fill an axis exactly: on a
16-wide axis a dim of 56 takes 14 (the divisor nearest its target within 16), and 16 = 2 x 8 or
4 x 4 needs two dims' genes to land in narrow windows at once, each step alone worse than 14.
With its fill gene on, an axis left partly idle gets new factors for at most two of its dims (or
of the dims left unrolled, factor 1, on the other axis that may go on it): those that use the
most of its fan-out, and among those the nearest (sum of |log| differences) to the dims' own.
Full utilisation becomes one gene away, as Timeloop users get it from a mapspace utilisation
constraint, yet nothing is lost: with the gene off the decode is the plain one, so every mapping
is still the image of some x (`encode` sets the gene on where an axis is full, where filling
changes nothing, and just below 0.5 elsewhere, so that a search started from the genes tries
filling often). Two dims, not all: an exact search over every dim's divisors grows exponentially
with the dims (0.1-0.25 ms a row on a 1024- or 4096-wide axis open to six dims), and the pair
search does as well within the seeds' spread (docs/defaults.md, "The search's mapper").

Keep and bypass. Which tensors a small buffer should hold depends on its loops: a 32-word RF that runs K over 8
weights wants the inputs (reused across K) and not the outputs, and with C in its place the other way round. With only
explicit keep genes, moving from one such mapping to its better neighbour takes the keep genes of two levels and the
tile genes at once (a kept tensor takes room the tiles need), a joint step a short search rarely makes. A keep gene in
the middle band (0.4 to 0.6) is "auto": the tensor takes no part in the capacity repair, and once the factors are
decoded, innermost level first, it is kept where its tile is reused and still fits beside what the level keeps.
Reused: a loop of the level over a dim the tensor does not depend on sits outside one it depends on (the level
rereads the tile); or the innermost loop of the levels above is over such a dim (the tile stays put across it) and
the level has a loop over a dim the tensor depends on (so the tile of a level below changes inside it) or no level
below keeps the tensor; or the level's own innermost loop is over such a dim and no level below keeps the tensor (one
that does catches that reuse first). The tile genes then carry the keep
along (why: docs/defaults.md, "The search's mapper"). Genes below and above the band (`encode` writes 0.25 / 0.75) still
give every keep, so every mapping is still the image of some x.

Capacity repair. Temporal factors are decoded from the innermost level outwards, and within a
level in its loop order, innermost loop first (so the room a level has goes first to its inner
loops, and the order genes decide which dims claim it, not the fixed P, Q, C, K order); a factor
that would make the kept tiles overflow that level, or any level above it (their tiles contain
it), is replaced by the nearest (in log) divisor that still fits (with residual factors, the largest balanced tile
that fits: "Residual factors" below). This is a projection onto the
feasible set: an x whose factors already fit decodes exactly as without the repair, every
mapping that fits is still the image of some x (the partial tiles the decoder checks are never
larger than the final ones), and the search sees the true cost of what it decodes, so nothing
feasible is excluded and no cost is distorted. It does move the probability mass of overflowing
x onto the largest tiles that fit: random search over x samples big tiles more often than
uniform factor splits would (one reason it outdoes Timeloop's random mapper). Spatial
factors are decoded first and are not repaired: if they alone overflow a buffer the cost model
rejects the mapping.

Residual factors (`factors="residual"`). A factor need not divide what is left of its dim where a limit binds: then it
may be a balanced tile ceil(left / n) (n passes as even as whole loops make them: n - 1 full ones and a shorter last
one, Timeloop's `D=e,r` loop; the divisors are balanced tiles too), and what is left becomes ceil(left / factor).
Everywhere else the decode is the perfect one, bit for bit, so most mappings stay perfect (the cost model's closed
form) and residuals appear where they buy something:
- temporal: the divisor nearest the gene's target, as in the perfect decode, if it fits; if it overflows a buffer,
  the largest balanced tile that fits (the capacity repair; it is a divisor when no larger balanced tile fits), at
  levels at or above the dim's outermost spatial loop; below it, the largest divisor that fits, as in the perfect
  decode. A balanced tile there would give every instance under the fan-out a short last pass of its own, which
  is the costliest kind of mapping to count, and on the mapper benchmark's pairs it found no better mapping
  (docs/imperfect.md);
- spatial: the divisor nearest the target within what is left of the axis; where the axis binds (that divisor is
  above what is left of it), the largest balanced tile within the axis if it beats the largest divisor within it
  (197 tokens on a 32-wide axis: 29 in 7 passes, where divisors give 1; 1000 classes: 32, not 25);
- axis fill: a dim's candidates are its balanced tiles, and the fill keeps the change that leaves the fewest passes
  over what is left of the changed dims (with divisors that is the most of the fan-out; with balanced tiles the
  most of the fan-out can need more passes: 4 x 4 of a 13 x 13 map is 16 passes, 13 x 1 is 13). A 7 x 7 map on a
  16-wide axis takes P = 7 x Q = 2 (4 passes), where divisors stop at 7.
The outermost level takes the passes still needed, and every loop's residual end, spatial loops included, follows by
F3's canonical form (docs/imperfect.md); the outermost loop of each dim is perfect, its end lowered to its residual.
A balanced tile on or below a spatial loop of its dim gives Timeloop's spatial class (instances under a fan-out do
unequal work), which the cost model counts instance by instance (docs/imperfect.md). The genes are the same as the
perfect decode's and mean the same, so seeds carry over between the two modes: a gene vector that the perfect decode
maps without any limit binding decodes to the same mapping in both. Dims with a factor fixed by mapspace constraints
stay perfect. `factors="auto"` (the co-search's default) takes the residual decode for a layer only where its dims
leave a fan-out's axis idle with divisors (`spatial_gain`; from the dataflow's dims per axis, before constraints),
the perfect one elsewhere.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from functools import cached_property, lru_cache

import numpy as np

from accel_models import TENSORS, Accelerator, MappingArrays, MapspaceConstraints, check_accelerator
from accel_models.mapping_arrays import N_DIMS, canonical_residuals
from accel_models.geometry import accelerator_arrays, fits_batch, layer_arrays, tile_words
from nets import DIMS, Layer, check_layer
from nets.problem_shape import tensor_dims

from ._decode_kernel import KEEP_AUTO, DecodeTables, decode_batch, decode_scratch
from ._encode_kernel import encode_into
from ._factorize import DivisorTable, axis_shares, balanced_tiles, divisor_share, divisors
from .mapping import Mapping

BYPASS_MODES = ("auto", "search", "none")
FACTOR_MODES = ("perfect", "residual", "auto")
"""perfect: every factor divides its bound; residual: balanced tiles with residual (last-pass) loops (above); auto:
residual for a layer whose dims leave a fan-out's axis idle with divisors (`residual_pays`: `spatial_gain` at least
`AUTO_RESIDUAL_GAIN`), perfect for the others."""
AUTO_RESIDUAL_GAIN = 2.0
"""auto's threshold: residual factors where balanced tiles keep at least twice as many of some axis's slots busy as
divisors can (half the passes saved, or more). A residual search costs ~15-30 times a perfect one (the kernel's
residual paths), so layers that divisors fit nearly as well take the cheap decode (docs/defaults.md, "Tiling
factors")."""
_LAYOUT_FIELDS = ("fanout", "capacity", "tensor_capacity", "allowed", "acc_keep", "keep_free", "default_keep",
                  "order_bonus", "pin_temporal", "pin_spatial", "rest_at", "residual_ok", "size", "_groups", "_order",
                  "_sp_rank", "_sp_axis", "_sp_ratio", "_tile", "_keep", "_sp_fill", "_active_array", "_fan_levels",
                  "layout")
_LAYOUTS: "OrderedDict[tuple, tuple[Accelerator, dict]]" = OrderedDict()
"""Gene layouts by (accelerator, active dims, bypass, fixed keep): a co-search builds a thousand encodings per
accelerator from a handful of layouts (measured: a third of a millisecond per encoding when built each time)."""
_MAX_LAYOUTS = 256
_AXIS_DIMS: "OrderedDict[tuple, tuple[Accelerator, tuple]]" = OrderedDict()
"""Per (accelerator identity, active dims), the object (to check the identity) and, for each fan-out axis that may
unroll an active dim, (the dims allowed on it, its width) (`_auto_factors`)."""
_MAX_AXIS_DIMS = 1024
_DIM_INDEX = np.arange(N_DIMS)
_UNUSED = -1.0  # importance of the dims without a gene: they sort innermost


def _allowed_axes(accelerator: Accelerator, fanout: np.ndarray, active: tuple[int, ...]) -> np.ndarray:
    """allowed[l, axis, d]: may dim d be unrolled on axis (0 = X, 1 = Y) of level l's fan-out (the dataflow's dims
    per axis and level, `Dataflow.axis_dims`, which adds a grouped layer's G to an axis carrying a channel dim; any active dim
    without a dataflow)."""
    df = accelerator.dataflow
    allowed = np.zeros((accelerator.num_levels, 2, 8), dtype=bool)
    for l in range(accelerator.num_levels):
        level = accelerator.levels[l].name
        for axis, names in ((0, df.axis_dims("X", level) if df else ()), (1, df.axis_dims("Y", level) if df else ())):
            if fanout[l, axis] > 1:
                for d in active:
                    allowed[l, axis, d] = not names or DIMS[d] in names
    return allowed


def _with_whole_dims(constraints: MapspaceConstraints | None, accelerator: Accelerator, fanout: np.ndarray,
                     bounds: tuple[int, ...], active: tuple[int, ...]) -> MapspaceConstraints | None:
    """`constraints` with the dataflow's whole dims (`Dataflow.whole_dims`) pinned: each such dim of the layer, at
    the outermost fan-out one of whose axes may carry it and is at least as wide as its extent, takes its whole
    extent as its spatial factor there (a factor the constraints already fix at that level stays theirs). None when
    nothing is pinned and there were no constraints."""
    df = accelerator.dataflow
    if df is None or not df.whole_dims:
        return constraints
    allowed = _allowed_axes(accelerator, fanout, active)
    pins: dict[int, dict[str, int]] = {}
    for name in df.whole_dims:
        d = DIMS.index(name)
        if d not in active:
            continue
        for l in range(accelerator.num_levels):
            if any(allowed[l, axis, d] and fanout[l, axis] >= bounds[d] for axis in range(2)):
                pins.setdefault(l, {})[name] = int(bounds[d])
                break
    if not pins:
        return constraints
    base = constraints or MapspaceConstraints()
    levels = dict(base.levels)
    for l, factors in pins.items():
        name = accelerator.levels[l].name
        c = base.level(name)
        levels[name] = replace(c, spatial_factors={**factors, **c.spatial_factors})
    return MapspaceConstraints(levels)


def _axes(bounds: np.ndarray, fanout: np.ndarray, allowed: np.ndarray):
    """(the bounds of the dims allowed on it, its width) per fan-out axis that may unroll any."""
    for l in range(fanout.shape[0]):
        for axis in range(2):
            if fanout[l, axis] > 1 and allowed[l, axis].any():
                yield tuple(int(bounds[d]) for d in range(N_DIMS) if allowed[l, axis, d]), int(fanout[l, axis])


def spatial_gain(bounds: np.ndarray, fanout: np.ndarray, allowed: np.ndarray) -> float:
    """How much more of a fan-out's axis balanced tiles can keep busy than divisors, at best over the axes: the
    largest ratio of `_factorize.axis_shares`' two shares (1.0: divisors fit every axis as well). E.g. 197 tokens
    alone on a 32-wide axis: 28.1 (1 of 32 columns with divisors; 29 of them in 7 passes with a residual); a 1000-class
    FC on 32: 1.25 (25 or 32 columns); a 7x7 map on 16: 1.75 (P = 7 alone; or P = 7, Q = 2 in 4 passes)."""
    return max([1.0] + [r / p for p, r in (axis_shares(dims, width) for dims, width in _axes(bounds, fanout, allowed))])


def residual_pays(bounds: np.ndarray, fanout: np.ndarray, allowed: np.ndarray,
                  gain: float = AUTO_RESIDUAL_GAIN) -> bool:
    """spatial_gain(...) >= gain, cheaper: an axis whose divisors keep more than 1 / gain of it busy cannot reach it,
    and its balanced tiles are not looked at (most axes; a look costs ~1 ms)."""
    return _some_axis_pays(_axes(bounds, fanout, allowed), gain)


def _some_axis_pays(axes, gain: float) -> bool:
    """`residual_pays` over `axes`: (the bounds of the dims allowed on it, its width) per axis."""
    for dims, width in axes:
        if divisor_share(dims, width) * gain <= 1.0:
            perfect, residual = axis_shares(dims, width)
            if residual >= gain * perfect:
                return True
    return False


def _auto_factors(accelerator: Accelerator, fanout: np.ndarray, bounds: tuple[int, ...],
                  active: tuple[int, ...]) -> str:
    """"auto" resolved for a layer of `bounds` on `accelerator`: "residual" where `residual_pays`, else "perfect".
    The same answer as `residual_pays`, axis by axis in its order, from the axes' dims kept per (accelerator object,
    active dims): a co-search asks at every search, each time for a new shape, and walking the dataflow's axes again
    cost ~20 us of an encoding's ~35 us once its tables are built."""
    key = (id(accelerator), active)
    known = _AXIS_DIMS.get(key)
    if known is None or known[0] is not accelerator:
        allowed = _allowed_axes(accelerator, fanout, active)
        known = _AXIS_DIMS[key] = (accelerator, tuple(_axes(_DIM_INDEX, fanout, allowed)))    # dims, not bounds
        while len(_AXIS_DIMS) > _MAX_AXIS_DIMS:
            _AXIS_DIMS.popitem(last=False)
    pays = _some_axis_pays(((tuple(bounds[d] for d in dims), width) for dims, width in known[1]), AUTO_RESIDUAL_GAIN)
    return "residual" if pays else "perfect"


@lru_cache(maxsize=8192)
def _divisor_table(bounds: tuple[int, ...], balanced: bool) -> DivisorTable:
    """The `DivisorTable` of `bounds`, shared by every layer whose bounds have the same values in the table: a table
    holds, for each value any factor decode can reach (the divisors of the bounds, or their balanced tiles), that
    value's rows, and both sets are closed (a divisor of a divisor divides the bound; ceil(ceil(b / n) / m) =
    ceil(b / (n m))), so the table built from those values alone is the same table. On a default co-search trial's
    layers that is half as many tables to build (~90 us each, ~320 us balanced) as distinct bounds."""
    remains = balanced_tiles if balanced else divisors
    return DivisorTable.for_bounds(tuple(sorted({v for b in bounds for v in remains(b)})), balanced)


def _check_fixed_keep(fixed_keep) -> None:
    """`Encoding`'s fixed_keep: None or {level name: tensor names} (a tuple or list; one name is not split)."""
    if fixed_keep is None:
        return
    if not isinstance(fixed_keep, dict):
        raise ValueError(f"Encoding: fixed_keep must be a dict {{level name: tensors kept}} or None, got "
                         f"{type(fixed_keep).__name__}")
    for name, kept in fixed_keep.items():
        if not isinstance(kept, (tuple, list, set, frozenset)) or not all(isinstance(t, str) for t in kept):
            raise ValueError(f"Encoding.fixed_keep[{name}]: expected a tuple of tensor names (of "
                             f"{', '.join(TENSORS)}), got {type(kept).__name__} {kept!r}")


class Encoding:
    """The importance-based encoding of the mappings of `layer` on `accelerator`.

    bypass: "auto" searches keep/bypass at the levels (below the outermost) that may keep all
    three tensors and fixes the others at what they keep (Timeloop's mapper benchmark convention:
    a level restricted to some tensors is a design decision, a general buffer is the mapper's);
    "search" searches every tensor a level may keep; "none" keeps everything a level may keep.
    fixed_keep: {level name: tensors kept} pins those levels' keep/bypass whatever the mode (e.g.
    from Timeloop mapspace constraints); tensors a level cannot keep are dropped.
    The accelerator's dataflow, if any, restricts the spatial dims per axis, pins its whole dims' spatial factors at
    their extents (`Dataflow.whole_dims`, as a constraint would: such layouts are not cached) and, with a stationary
    tensor, puts the loops over dims that do not index it innermost at the PE levels.
    constraints (`MapspaceConstraints`, e.g. Timeloop's): exact factors are decoded as given (their genes
    dropped; where the outermost level's factor is fixed, the outermost free level takes the rest), fixed
    innermost loops sort innermost in their order, spatial dims are kept to the axes allowed, and kept /
    bypassed tensors are pinned while the others the level may keep are searched. None changes nothing.
    """

    def __init__(self, layer: Layer, accelerator: Accelerator, bypass: str = "auto",
                 fixed_keep: dict[str, tuple[str, ...]] | None = None,
                 constraints: MapspaceConstraints | None = None, factors: str = "perfect") -> None:
        check_layer("Encoding", layer)
        check_accelerator("Encoding", accelerator)
        _check_fixed_keep(fixed_keep)
        if constraints is not None and not isinstance(constraints, MapspaceConstraints):
            raise ValueError(f"Encoding: constraints must be an accel_models.MapspaceConstraints or None, got "
                             f"{type(constraints).__name__}")
        if bypass not in BYPASS_MODES:
            raise ValueError(f"Encoding.bypass must be one of {', '.join(BYPASS_MODES)}, got {bypass!r}")
        if factors not in FACTOR_MODES:
            raise ValueError(f"Encoding.factors must be one of {', '.join(FACTOR_MODES)}, got {factors!r}")
        self.layer = layer
        self.accelerator = accelerator
        self.bypass = bypass
        shape, arch = layer_arrays(layer), accelerator_arrays(accelerator)
        self.bounds, self.coef, self.ax, self.co = shape.bounds, shape.coef, shape.ax, shape.co
        bounds = tuple(self.bounds.tolist())
        self.active = tuple(d for d in range(N_DIMS) if bounds[d] > 1)
        self.requested_factors = factors
        """The tiling factors asked for ("perfect", "residual" or "auto"), before "auto" is resolved."""
        if factors == "auto":
            factors = _auto_factors(accelerator, arch.fanout, bounds, self.active)
        self.factors = factors
        """The decode's tiling factors, "perfect" or "residual" ("auto" resolved for this layer)."""
        self.table = _divisor_table(bounds, factors == "residual")
        # The arrays of a layout are shared by the encodings that use it: nothing writes them (read-only arrays
        # would be another type to numba, compiled again).
        self.free_bounds = self.bounds                         # what the free factors of each dim multiply to
        constraints = _with_whole_dims(constraints, accelerator, arch.fanout, bounds, self.active)
        if constraints is not None:    # not cached: the pins and the free bounds depend on the layer's bounds
            self._lay_out_genes(arch, fixed_keep, constraints)
            return
        fixed = tuple((name, tuple(kept)) for name, kept in sorted((fixed_keep or {}).items()))
        key = (id(accelerator), self.active, bypass, fixed, factors)
        cached = _LAYOUTS.get(key)
        if cached is None or cached[0] is not accelerator:
            self._lay_out_genes(arch, fixed_keep, None)
            _LAYOUTS[key] = (accelerator, {name: getattr(self, name) for name in _LAYOUT_FIELDS})
            while len(_LAYOUTS) > _MAX_LAYOUTS:
                _LAYOUTS.popitem(last=False)
        else:
            _LAYOUTS.move_to_end(key)
            self.__dict__.update(cached[1])

    def _lay_out_genes(self, arch, fixed_keep, constraints) -> None:
        """The genes and rules that depend on the accelerator and the layer's active dims only (cached when
        there are no constraints)."""
        accelerator = self.accelerator
        L = accelerator.num_levels
        self.fanout = arch.fanout
        self.capacity = arch.capacity_words                    # -1: unbounded
        self.tensor_capacity = arch.tensor_capacity_words
        self.allowed = _allowed_axes(accelerator, self.fanout, self.active)
        self.acc_keep = arch.keeps.astype(bool)
        self.keep_free = self._keep_free()
        self.default_keep = self.acc_keep.copy()   # the keep of the levels whose keep is not searched
        for name, kept in (fixed_keep or {}).items():
            l = accelerator.level_index(name)
            bad = [t for t in kept if t not in TENSORS]
            if bad:
                raise ValueError(f"Encoding.fixed_keep[{name}]: unknown tensor(s) {bad}; "
                                 f"accepted: {', '.join(TENSORS)}")
            self.default_keep[l] = [t in kept for t in TENSORS]
            self.default_keep[l] &= self.acc_keep[l]
            self.keep_free[l] = False
        self.default_keep[0] = True
        self.order_bonus = self._order_bonus()
        self.pin_temporal = np.zeros((L, 8), dtype=np.int64)   # exact factors (0: free)
        self.pin_spatial = np.zeros((L, 8), dtype=np.int64)
        self.rest_at = np.zeros(8, dtype=np.int64)             # the level taking the rest (0: the outermost)
        if constraints is not None:
            self._constrain(constraints)
        self.residual_ok = np.zeros(8, dtype=np.int64)
        """1 where a dim may take residual factors: every active dim without a fixed factor, in residual mode."""
        if self.factors == "residual":
            for d in self.active:
                self.residual_ok[d] = not (self.pin_temporal[:, d].any() or self.pin_spatial[:, d].any())
        self._active_array = np.array(self.active, dtype=np.int64)
        self._fan_levels = np.array(accelerator.fanout_levels, dtype=np.int64)
        active = np.zeros(8, dtype=bool)
        active[list(self.active)] = True
        spatial = self.allowed.any(axis=1)                     # [L, 8]
        both = self.allowed.all(axis=1)
        inner = np.arange(L)[:, None] >= 1
        self.size = 0
        """Number of genes n (x lives in [0,1]^n)."""
        self._groups: list[tuple[str, tuple[str, ...], np.ndarray]] = []
        self._order = self._alloc("order", np.broadcast_to(active, (L, 8)))
        self._sp_rank = self._alloc("spatial_rank", spatial)
        self._sp_axis = self._alloc("spatial_axis", both)
        self._sp_ratio = self._alloc("spatial_ratio", spatial & (self.pin_spatial == 0))
        self._tile = self._alloc("tile", inner & active & (self.pin_temporal == 0) &
                                 (np.arange(L)[:, None] != self.rest_at[None, :]))
        self._keep = self._alloc("keep", self.keep_free, TENSORS)
        self._sp_fill = self._alloc("spatial_fill", self.allowed.any(axis=2) & (self.fanout > 1), ("X", "Y"))

    # ---- the space's rules -------------------------------------------------------------
    def _constrain(self, constraints: MapspaceConstraints) -> None:
        """Fold mapspace constraints into the tables (see the class docstring)."""
        acc, L = self.accelerator, self.accelerator.num_levels
        self.pin_temporal, self.pin_spatial = constraints.pins(acc)
        self.free_bounds = self.bounds.copy()
        for l, lv in enumerate(acc.levels):
            c = constraints.level(lv.name)
            for t, name in enumerate(TENSORS):
                if l == 0 or not self.acc_keep[l, t]:
                    continue
                self.keep_free[l, t] = name not in c.keep and name not in c.bypass
                self.default_keep[l, t] = name not in c.bypass
            for k, name in enumerate(c.temporal_order):      # innermost first: the lowest importance
                self.order_bonus[l, DIMS.index(name)] = -100.0 + k
            for axis, dims in ((0, c.spatial_x), (1, c.spatial_y)):
                if dims is not None:
                    self.allowed[l, axis] &= np.array([d in dims for d in DIMS])
            self.allowed[l, :, self.pin_spatial[l] == 1] = False
        for d in range(N_DIMS):
            pins = np.concatenate([self.pin_temporal[:, d], self.pin_spatial[:, d]])
            product = int(np.prod(pins[pins > 0]))
            if self.bounds[d] % product:
                raise ValueError(f"Encoding.constraints: the fixed factors of {DIMS[d]} multiply to {product}, "
                                 f"which does not divide its bound {self.bounds[d]}")
            self.free_bounds[d] = self.bounds[d] // product
            if self.pin_temporal[0, d] > 0:
                free = [l for l in range(1, L) if self.pin_temporal[l, d] == 0]
                self.rest_at[d] = free[0] if free else 0
        self.pin_spatial[self.pin_spatial == 1] = 0          # a spatial 1 is "not unrolled": nothing to pin

    def _keep_free(self) -> np.ndarray:
        free = np.zeros_like(self.acc_keep)
        if self.bypass == "search":
            free[1:] = self.acc_keep[1:]
        elif self.bypass == "auto":
            free[1:] = self.acc_keep[1:] & self.acc_keep[1:].all(axis=1, keepdims=True)
        return free

    def pe_levels(self) -> tuple[int, ...]:
        """The levels inside a PE: below the innermost fan-out (the innermost level if there is none)."""
        fan = self.accelerator.fanout_levels
        L = self.accelerator.num_levels
        return tuple(range(fan[-1] + 1, L)) if fan else (L - 1,)

    def _order_bonus(self) -> np.ndarray:
        """+1 importance for the dims that index the dataflow's stationary tensor, at the PE levels."""
        bonus = np.zeros((self.accelerator.num_levels, 8))
        df = self.accelerator.dataflow
        if df is not None and df.stationary in TENSORS:
            for l in self.pe_levels():
                for d in tensor_dims(df.stationary):
                    bonus[l, DIMS.index(d)] = 1.0
        return bonus

    def _alloc(self, kind: str, mask: np.ndarray, labels: tuple[str, ...] = DIMS) -> np.ndarray:
        """Gene indices [L, len(labels)] of the genes of one kind where `mask` is set (-1 elsewhere)."""
        idx = np.full(mask.shape, -1, dtype=np.int64)
        where = np.flatnonzero(mask)
        idx.flat[where] = np.arange(self.size, self.size + len(where))
        self.size += len(where)
        self._groups.append((kind, labels, where))
        return idx

    @cached_property
    def names(self) -> list[str]:
        """Each gene's name, e.g. 'tile[GLB,K]' (built on first use: searches never need them)."""
        levels = self.accelerator.level_names
        return [f"{kind}[{levels[i // len(labels)]},{labels[i % len(labels)]}]"
                for kind, labels, where in self._groups for i in where]

    @cached_property
    def layout(self) -> tuple:
        """What the genes mean, as a hashable value: encodings with equal layouts read genes alike."""
        return (self.accelerator.level_names,) + tuple((kind, tuple(where)) for kind, _, where in self._groups)

    @property
    def keep_genes(self) -> np.ndarray:
        """The index in x of the keep gene of each (level, tensor) [L, 3] (tensors in `TENSORS` order), -1 where the
        keep is not searched; a read-only view."""
        view = self._keep.view()
        view.flags.writeable = False
        return view

    # ---- decoding ------------------------------------------------------------------------
    def decode(self, x: np.ndarray, fast: bool = True) -> MappingArrays:
        """A batch x [B, n] (or one x [n]) in [0,1] -> B mappings of valid shape (values are clipped to [0,1]).

        fast=True runs the compiled decoder (`_decode_kernel`), fast=False the numpy reference;
        both give identical arrays.
        """
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.ndim != 2 or x.shape[1] != self.size:
            raise ValueError(f"Encoding.decode: x must have shape [B, {self.size}], got {x.shape}")
        x = np.clip(x, 0.0, 1.0)
        if fast:
            out = MappingArrays.empty(x.shape[0], self.accelerator.num_levels)
            decode_batch(np.ascontiguousarray(x), self.tables, out, self._decode_scratch)
            return out
        return self._decode_numpy(x)

    @cached_property
    def tables(self) -> DecodeTables:
        """`kernel_args()`, built once."""
        return self.kernel_args()

    @cached_property
    def _decode_scratch(self):
        """The compiled decoder's working arrays (`_decode_kernel.DecodeScratch`), reused by every `decode` (a
        compiled call holds the GIL: no two run at once)."""
        return decode_scratch.py_func(self.accelerator.num_levels)

    def kernel_args(self) -> DecodeTables:
        """The encoding's tables as plain arrays, as `_decode_kernel.decode_batch` reads them."""
        t = self.table
        live = np.zeros(8, dtype=np.bool_)
        live[list(self.active)] = True
        return DecodeTables(
            order_idx=self._order, rank_idx=self._sp_rank, axis_idx=self._sp_axis, ratio_idx=self._sp_ratio,
            tile_idx=self._tile, keep_idx=self._keep, fill_idx=self._sp_fill, order_bonus=self.order_bonus,
            default_keep=self.default_keep, start=np.searchsorted(t.values, self.free_bounds).astype(np.int64),
            live=live, rel=self.indexes, coef=self.coef, fanout=self.fanout, allowed=self.allowed,
            capacity=self.capacity, tcap=self.tensor_capacity,
            bounded=self.bounded_mask(),
            fan_levels=self._fan_levels, tvalues=t.values, tdivs=t.divs, tcounts=t.counts, tlogs=t.logs,
            tlogv=t.log_values, ttiles=t.tiles, ttcounts=t.tile_counts, ttlogs=t.tile_logs, qdivs=t.quotient_rows,
            qtiles=t.tile_quotient_rows, div_at=t.divisor_tile_index, pin_t=self.pin_temporal,
            pin_s=self.pin_spatial, rest_at=self.rest_at, residual_ok=self.residual_ok, full=self.bounds)

    @property
    def indexes(self) -> np.ndarray:
        """[3, 8] bool: dim d indexes tensor t (its loops change which of t's words a tile holds)."""
        return (self.ax >= 0) & (self.co != 0)

    def _decode_numpy(self, x: np.ndarray) -> MappingArrays:
        B, L = x.shape[0], self.accelerator.num_levels
        genes = np.concatenate([x, np.full((B, 1), 0.5)], axis=1)  # gene index -1: the constant 0.5
        out = MappingArrays.empty(B, L)
        g = genes[:, self._keep]
        keep = np.where(self._keep >= 0, g >= KEEP_AUTO[1], self.default_keep) & self.acc_keep
        keep[:, 0] = True
        auto = (self._keep >= 0) & (g >= KEEP_AUTO[0]) & (g < KEEP_AUTO[1]) & self.default_keep
        auto[:, 0] = False
        out.keep[:] = keep
        imp = np.where(self._order >= 0, genes[:, self._order], _UNUSED) + self.order_bonus
        out.order[:] = np.argsort(-imp, axis=2, kind="stable")
        rem = np.broadcast_to(self.free_bounds, (B, 8)).copy()
        self._decode_spatial(genes, out, rem)
        self._decode_temporal(genes, out, rem)
        fields = ((out.temporal, out.temporal_residual), (out.spatial_y, out.spatial_y_residual),
                  (out.spatial_x, out.spatial_x_residual))
        loops = [(l, kind) for l in range(L) for kind in (0, 1, 2)]
        for b in range(B):
            for d in np.flatnonzero(self.residual_ok):
                ends, res = canonical_residuals([int(fields[kind][0][b, l, d]) for l, kind in loops],
                                                int(self.bounds[d]))
                for (l, kind), e, r in zip(loops, ends, res):
                    fields[kind][0][b, l, d] = e
                    fields[kind][1][b, l, d] = 0 if r == e else r
        for b in np.flatnonzero(auto.any(axis=(1, 2))):
            self._auto_keep(out, b, auto[b])
        return out

    def _auto_keep(self, out: MappingArrays, b: int, auto: np.ndarray) -> None:
        """Row b's auto tensors kept where their tile is reused and fits (in place), as `_decode_kernel._auto_keep`
        decides it, in the same order."""
        L = self.accelerator.num_levels
        rel = self.indexes
        loops = [[d for d in out.order[b, l] if out.temporal[b, l, d] > 1] for l in range(L)]   # outermost first
        for l in range(L - 1, 0, -1):
            if not auto[l].any():
                continue
            spatial = out.spatial_x[b, l:] * out.spatial_y[b, l:]
            ext = np.minimum(np.prod(out.temporal[b, l:] * spatial, axis=0), self.bounds)
            words = [int(w) for w in tile_words(list(ext), self.ax, self.co)]
            parent = next((loops[l2][-1] for l2 in range(l - 1, -1, -1) if loops[l2]), None)
            for t in np.flatnonzero(auto[l]):
                kinds = [bool(rel[t, d]) for d in loops[l]]                  # True: the loop's dim indexes t
                outer_irrelevant = any(k and False in kinds[:i] for i, k in enumerate(kinds))
                below = bool(out.keep[b, l + 1:, t].any())
                still = parent is not None and not rel[t, parent]
                inner_irrelevant = bool(kinds) and not kinds[-1]
                if outer_irrelevant or (not below and (inner_irrelevant or still)) or (any(kinds) and still):
                    out.keep[b, l, t] = 1
                    kept = out.keep[b, l].astype(bool)
                    if not fits_batch(kept, words, self.capacity[l], self.tensor_capacity[l]):
                        out.keep[b, l, t] = 0

    def _pick(self, rem: np.ndarray, ratio: np.ndarray, ok=None) -> np.ndarray:
        """Per row, the divisor of rem nearest (in log) to rem ** ratio among those `ok` allows.

        ok(divs [B, M]) -> bool [B, M]; divisor 1 is the fallback when nothing is allowed.
        """
        vi = self.table.index(rem)
        divs, logs = self.table.divs[vi], self.table.logs[vi]
        dist = np.abs(logs - (ratio * self.table.log_values[vi])[:, None])
        if ok is not None:
            dist = np.where(ok(divs), dist, np.inf)
        j = np.argmin(dist, axis=1)
        rows = np.arange(len(j))
        j[~np.isfinite(dist[rows, j])] = 0
        return divs[rows, j]

    def _decode_spatial(self, genes: np.ndarray, out: MappingArrays, rem: np.ndarray) -> None:
        B = genes.shape[0]
        rows = np.arange(B)
        for l in self.accelerator.fanout_levels:
            allowed = self.allowed[l]                                   # [2, 8]
            n_allowed = int(allowed.any(axis=0).sum())
            if n_allowed == 0:
                continue
            rank = np.where(self._sp_rank[l] >= 0, genes[:, self._sp_rank[l]], _UNUSED)
            sorder = np.argsort(-rank, axis=1, kind="stable")
            out.spatial_order[:, l] = sorder
            axis_gene = genes[:, self._sp_axis[l]]
            ratio = genes[:, self._sp_ratio[l]]
            used = np.ones((B, 2), dtype=np.int64)
            axes = np.empty((B, n_allowed), dtype=np.int64)
            before = rem.copy()                                         # what is left of each dim at this level
            for k in range(n_allowed):
                d = sorder[:, k]
                ok_x, ok_y = allowed[0, d], allowed[1, d]
                axes[:, k] = np.where(ok_x & ok_y, axis_gene[rows, d] >= 0.5, ok_y).astype(np.int64)
            come = np.ones((B, 2), dtype=np.int64)                      # the pinned factors still to place, per axis
            for k in range(n_allowed):
                pin = np.maximum(self.pin_spatial[l, sorder[:, k]], 1)
                come[rows, axes[:, k]] *= pin
            for k in range(n_allowed):
                d = sorder[:, k]
                axis = axes[:, k]
                pin = self.pin_spatial[l, d]                             # per row: d differs by row
                come[rows, axis] //= np.maximum(pin, 1)
                cap = self.fanout[l, axis] // (used[rows, axis] * come[rows, axis])
                left = rem[rows, d]
                f = self._pick(left, ratio[rows, d], lambda divs: divs <= cap[:, None])
                # residual dims, where the axis binds: the largest balanced tile within it, if larger
                binds = (self.residual_ok[d] != 0) & (self._pick(left, ratio[rows, d]) > cap)
                f = np.where(binds, np.maximum(f, -(-left // -(-left // cap))), f)
                f = np.where(pin > 0, pin, f)
                out.spatial_x[rows, l, d] = np.where(axis == 0, f, 1)
                out.spatial_y[rows, l, d] = np.where(axis == 1, f, 1)
                used[rows, axis] *= f
                rem[rows, d] = np.where(pin > 0, left, -(-left // f))    # ceil: exact where f divides
            fill = genes[:, self._sp_fill[l]] >= 0.5                    # [B, 2] (gene -1: 0.5, unused below)
            for b in np.flatnonzero(((self._sp_fill[l] >= 0) & fill & (used < self.fanout[l])).any(axis=1)):
                self._fill_row(l, sorder[b, :n_allowed], axes[b], fill[b] & (self._sp_fill[l] >= 0), used[b],
                               out.spatial_x[b, l], out.spatial_y[b, l], rem[b], before[b])

    def _fill_row(self, l: int, dims: np.ndarray, axes: np.ndarray, fill: np.ndarray, used: np.ndarray,
                  sx: np.ndarray, sy: np.ndarray, rem: np.ndarray, before: np.ndarray) -> None:
        """One row's fill of level l's axes (in place), as `_decode_kernel._fill_axis` does it, in the same order:
        every change of one or two dims' factors (among the axis's dims and the other axis's unrolled-to-1 ones),
        the strictly better (fewer passes over what was left of them, then nearer the greedy factors) kept. A dim's
        factors are the divisors of what was left of it at this level (`before`), or for a residual dim its balanced
        tiles."""
        t = self.table
        pins = self.pin_spatial[l]
        lists = [[], []]          # per axis: [dim, table row of what was left, greedy index, (factors, counts, logs)]
        for d, axis in zip(dims.tolist(), axes.tolist()):
            if pins[d] > 0:
                continue
            f = (sx if axis == 0 else sy)[d]
            vi = int(t.index(np.array([before[d]]))[0])
            row = (t.tiles, t.tile_counts, t.tile_logs) if self.residual_ok[d] else (t.divs, t.counts, t.logs)
            lists[axis].append([d, vi, int(np.searchsorted(row[0][vi, :row[1][vi]], f)), row])
        for a in (0, 1):
            if not fill[a] or used[a] >= self.fanout[l, a]:
                continue
            mine, theirs = (sx, sy) if a == 0 else (sy, sx)
            pinned = int(np.prod([pins[d] for d, axis in zip(dims, axes) if pins[d] > 0 and axis == a]))
            F, greedy = int(self.fanout[l, a] // pinned), int(used[a] // pinned)
            cand = [e for e in lists[a] if e[2] >= 0]
            borrowed = [e for e in lists[1 - a] if e[2] == 0 and self.allowed[l, a, e[0]] and theirs[e[0]] == 1]
            cand += borrowed
            n = len(cand)

            def passes(e, j):                             # ceil(what was left / factor j of entry e)
                return -(-int(t.values[e[1]]) // int(e[3][0][e[1], j]))
            total = int(np.prod([passes(e, e[2]) for e in cand], dtype=np.int64)) if n else 1
            best_q, best_dist, best = total, 0.0, []
            for j in range(n):
                _, vj, cj, (fj, nj, lj) = cand[j]
                for k in range(j + 1, n + 1 if n == 1 else n):
                    vk, ck, (fk, nk, lk) = (cand[k][1], cand[k][2], cand[k][3]) if k < n else (0, 0, (None,) * 3)
                    rest = greedy // (int(fj[vj, cj]) * (int(fk[vk, ck]) if k < n else 1))
                    others = total // (passes(cand[j], cj) * (passes(cand[k], ck) if k < n else 1))
                    for ja in range(int(nj[vj])):
                        a_f = int(fj[vj, ja])
                        if rest * a_f > F:
                            break
                        jb = 0
                        if k < n:
                            jb = int(np.searchsorted(fk[vk, :nk[vk]], F // (rest * a_f), side="right")) - 1
                        q = others * passes(cand[j], ja) * (passes(cand[k], jb) if k < n else 1)
                        if q > best_q:
                            continue
                        dist = abs(lj[vj, ja] - lj[vj, cj]) + (abs(lk[vk, jb] - lk[vk, ck]) if k < n else 0.0)
                        if q < best_q or dist < best_dist:
                            best_q, best_dist, best = q, dist, [(j, ja)] + ([(k, jb)] if k < n else [])
            for k, jn in best:
                e = cand[k]
                d, vi = e[0], e[1]
                f = int(e[3][0][vi, jn])
                rem[d] = -(-int(t.values[vi]) // f)              # what was left of d at this level, over its factor
                mine[d] = f
                if f > 1 and any(e is o for o in borrowed):  # moved to this axis: the other one no longer offers it
                    e[2] = -1

    def bounded_mask(self) -> np.ndarray:
        """[L] bool: the level has a capacity limit (total or per tensor)."""
        return (self.capacity >= 0) | (self.tensor_capacity >= 0).any(axis=1)

    def bounded_levels(self) -> tuple[int, ...]:
        """Levels with a capacity limit (total or per tensor)."""
        return tuple(int(l) for l in np.flatnonzero(self.bounded_mask()))

    def _decode_temporal(self, genes: np.ndarray, out: MappingArrays, rem: np.ndarray) -> None:
        # A factor chosen at level l also sits in the tile of every level above l, so it must leave
        # all of them room: level l2 <= l holds (extents so far) x (spatial factors of l2 .. l-1).
        B, L = genes.shape[0], self.accelerator.num_levels
        ext = np.ones((B, 8), dtype=np.int64)
        keep = out.keep.astype(bool)
        spatial = out.spatial_x * out.spatial_y                           # [B, L, 8]
        bounded = self.bounded_levels()
        for l in range(L - 1, 0, -1):
            ext *= spatial[:, l]
            ratio = genes[:, self._tile[l]]
            checks = [(l2, np.prod(spatial[:, l2:l], axis=1)) for l2 in bounded if l2 <= l]
            for d in range(N_DIMS):
                if self.pin_temporal[l, d] or self.rest_at[d] == l:
                    f = self.pin_temporal[l, d] if self.pin_temporal[l, d] else rem[:, d].copy()
                    out.temporal[:, l, d] = f
                    ext[:, d] *= f
                    if not self.pin_temporal[l, d]:
                        rem[:, d] = 1
            for q in range(7, -1, -1):           # the level's loops innermost first: the inner ones claim room first
                at = out.order[:, l, q]
                for d in self.active:
                    rows = np.flatnonzero(at == d)
                    if len(rows) and not (self.pin_temporal[l, d] or self.rest_at[d] == l):
                        self._temporal_factor(l, d, rows, ratio, checks, ext, keep, spatial, rem, out)
        out.temporal[:, 0] = np.where(self.pin_temporal[0] > 0, self.pin_temporal[0], rem)

    def _temporal_factor(self, l: int, d: int, rows: np.ndarray, ratio: np.ndarray, checks: list, ext: np.ndarray,
                         keep: np.ndarray, spatial: np.ndarray, rem: np.ndarray, out: MappingArrays) -> None:
        """Dim d's temporal factor at level l in `rows` (in place: out.temporal, ext, rem), with the capacity repair
        against what the level's inner loops and the levels below already hold (ext)."""
        e, k, left, r = ext[rows], keep[rows], rem[rows, d], ratio[rows, d]
        checks = [(l2, mult[rows]) for l2, mult in checks]

        def ok(divs):
            good = divs > 0
            for l2, mult in checks:
                cols = [np.minimum(e[:, i] * mult[:, i], self.bounds[i])[:, None] for i in range(N_DIMS)]
                cols[d] = np.minimum((e[:, d] * mult[:, d])[:, None] * divs, self.bounds[d])
                good &= fits_batch(k[:, None, l2], tile_words(cols, self.ax, self.co),
                                   self.capacity[l2], self.tensor_capacity[l2])
            return good
        if self.residual_ok[d]:
            # the nearest divisor if it fits (or is 1), else the largest balanced tile that fits (1 if none);
            # below a spatial loop of d (rows where one sits at a level above l), divisors only
            f = self._pick(left, r)
            if checks:
                tiles = self.table.tiles[self.table.index(left)]                  # [rows, W], 0: padding
                good = ok(tiles) & (tiles < f[:, None])
                last = tiles.shape[1] - 1 - np.argmax(good[:, ::-1], axis=1)
                repaired = np.where(good.any(axis=1), tiles[np.arange(len(rows)), last], 1)
                below = (spatial[rows, :l, d] > 1).any(axis=1)
                divisor = self._pick(left, r, ok)
                f = np.where(below, divisor, np.where((f == 1) | ok(f[:, None])[:, 0], f, repaired))
            rem[rows, d] = -(-left // f)
        else:
            f = self._pick(left, r, ok if checks else None)
            rem[rows, d] = left // f
        out.temporal[rows, l, d] = f
        ext[rows, d] *= f

    # ---- encoding ------------------------------------------------------------------------
    def encode(self, mapping: Mapping | MappingArrays, b: int = 0) -> np.ndarray:
        """Genes x [n] with decode(x) equal to `mapping` in every loop that exists (factor > 1).

        Exact for mappings that fit the buffers and that the encoding can express (spatial dims
        the dataflow allows, a stationary order at the PE levels, the fixed keep/bypass choices);
        otherwise decode(x) is the nearest mapping the decoder produces.
        Residual mappings (`factors="residual"`): a factor that does not divide what is left of its dim gets the gene
        1.0, which decodes to the largest balanced tile within the limit that binds there (what is left of the axis,
        the buffers), so a residual decode's own mappings round-trip when their fill genes are off or their axes are
        full. A fill that left its axis partly idle with a balanced tile below the largest within the axis does not
        round-trip (the fill gene is encoded off, and the greedy decode cannot give that tile); nor does a residual
        mapping from elsewhere whose balanced tiles are not the largest within their limits.
        """
        if isinstance(mapping, Mapping):
            mapping, b = mapping.to_arrays(self.accelerator), 0
        m = mapping                                     # row b read in place (no batch of one built)
        if m.num_levels != self.accelerator.num_levels:
            raise ValueError(f"Encoding.encode: mapping has {m.num_levels} levels, the accelerator "
                             f"{self.accelerator.num_levels}")
        x = np.empty(self.size)
        encode_into(m.temporal[b], m.order[b], m.spatial_x[b], m.spatial_y[b], m.spatial_order[b], m.keep[b],
                    self._order, self._sp_rank, self._sp_axis, self._sp_ratio, self._tile, self._keep, self._sp_fill,
                    self.fanout, self.free_bounds, self._active_array, self._fan_levels, np.empty(8, dtype=np.int64), x)
        return x
