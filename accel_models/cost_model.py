"""`evaluate_batch`: the compiled cost model on many mappings of one layer (see `kernel`); `explain`: one, readable."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nets import Layer, check_layer
from nets.layer import MAX_BOUND

from . import kernel
from .accelerator import Accelerator, check_accelerator
from .geometry import accelerator_arrays, layer_arrays
from .limits import check_countable
from .mapping_arrays import MAPPING_DTYPE, MappingArrays
from .reference import check_mapping, rehome_counts, result_from_counts, tensor_axes, uniform_instances
from .result import BAD_INPUT, REASONS, EvalResult
from .timing import TimingModel, get_timing


PARALLEL_MIN_BATCH = 16_384
"""Smaller batches run on the calling thread: waking numba's worker threads costs ~1-20 ms per call
on a busy 2-core machine, more than the kernel spends on thousands of mappings."""


@dataclass
class BatchResult:
    """Arrays over a batch of B mappings; counts are totals over instances, in words, [B, levels, 3]."""

    valid: np.ndarray
    reason: np.ndarray
    cycles: np.ndarray
    energy_pj: np.ndarray
    utilization: np.ndarray
    compute_cycles: np.ndarray
    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray

    @property
    def edp_pj_cycles(self) -> np.ndarray:
        """Energy x cycles; +inf for invalid mappings so that argmin never picks them."""
        return np.where(self.valid, self.energy_pj * self.cycles, np.inf)

    def reason_text(self, b: int) -> str:
        return REASONS[int(self.reason[b])]


def _mapping_arrays(mappings, accelerator: Accelerator) -> MappingArrays:
    """`mappings` as a MappingArrays (a list of objects with `.to_arrays(accelerator)` is converted)."""
    if isinstance(mappings, MappingArrays):
        return mappings
    if isinstance(mappings, (list, tuple)) and mappings and all(hasattr(m, "to_arrays") for m in mappings):
        return MappingArrays.concatenate([m.to_arrays(accelerator) for m in mappings])
    raise ValueError("evaluate_batch: mappings must be a MappingArrays (e.g. Mapping.to_arrays(accelerator)) or a "
                     f"non-empty list of mappings.Mapping, got {type(mappings).__name__}")


def _integers(name: str, a) -> np.ndarray:
    """One field as contiguous `MAPPING_DTYPE`: arrays of it as they are, other integer arrays and float arrays whose
    values are all integral converted, once every value is known to fit: a factor above `nets.MAX_BOUND`, or any value
    that int32 cannot hold, is a ValueError naming the field (converting would wrap it into another number)."""
    a = np.asarray(a)
    if a.dtype.kind not in "iub":
        bad = None
        if a.dtype.kind == "f":
            wrong = ~np.isfinite(a) | (a != np.round(a))
            bad = a[wrong][0] if wrong.any() else None
        if a.dtype.kind != "f" or bad is not None:
            example = f"{bad!r}" if bad is not None else f"dtype {a.dtype}"
            raise ValueError(f"evaluate_batch: mappings.{name} must hold integers, got {example}")
    if a.size and not np.can_cast(a.dtype, MAPPING_DTYPE):
        hi, lo = a.max(), a.min()
        if lo >= _LOWEST and hi <= MAX_BOUND:
            return np.ascontiguousarray(a, dtype=MAPPING_DTYPE)
        if hi > MAX_BOUND:
            what = "a factor of" if name in _FACTOR_FIELDS else "the value"
            raise ValueError(f"evaluate_batch: mappings.{name} holds {what} {int(hi)}; accepted: integers up to "
                             f"{MAX_BOUND} (the largest loop bound a Layer takes)")
        raise ValueError(f"evaluate_batch: mappings.{name} holds the value {int(lo)}; accepted: integers from "
                         f"{_LOWEST} (the lowest the rows' type, `MAPPING_DTYPE`, holds) to {MAX_BOUND}")
    return np.ascontiguousarray(a, dtype=MAPPING_DTYPE)


_LOWEST = int(np.iinfo(MAPPING_DTYPE).min)
"""The lowest value a field may hold: a factor below 1 makes an invalid mapping, reported as such, but a value below
this one would not survive the conversion to `MAPPING_DTYPE`."""
_FACTOR_FIELDS = ("temporal", "spatial_x", "spatial_y", "temporal_residual", "spatial_x_residual",
                  "spatial_y_residual")


def evaluate_batch(layer: Layer, accelerator: Accelerator, mappings,
                   timing: "str | TimingModel" = "timeloop") -> BatchResult:
    """Evaluate a batch of mappings of `layer` on `accelerator` (a `MappingArrays`, or a list of
    objects with `.to_arrays(accelerator)` such as `mappings.Mapping`).

    `timing`: how the counts become cycles (`accel_models.timing`): "timeloop" (Timeloop's semantics, the default)
    or "hardware" (a tile-by-tile chip's overheads on top of the compute), or a timing model object. Counts,
    energy and `compute_cycles` do not depend on it.

    Invalid mappings come back with valid=False and a reason code (see `result.REASONS`). Input that is
    no mapping at all is a ValueError naming the field and what it accepts: fields that are not integer
    arrays of shape [B, levels, 8] (keep: [B, levels, 3]), keep flags other than 0 and 1, factors above the
    largest bound a Layer takes (`nets.MAX_BOUND`: no factor of a valid mapping is).
    """
    check_layer("evaluate_batch", layer)
    check_accelerator("evaluate_batch", accelerator)
    check_countable("evaluate_batch", layer, accelerator)
    timing_model = get_timing(timing, "evaluate_batch: timing")
    m = MappingArrays(*(_integers(name, a) for name, a in zip(MappingArrays._fields, _mapping_arrays(mappings,
                                                                                                      accelerator)
                                                                                      .with_residuals())))
    shapes = {a.shape for a in m[:5] + m[6:]}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != 8 \
            or m.keep.shape != m.temporal.shape[:2] + (3,):
        raise ValueError("evaluate_batch: MappingArrays fields must be [B, levels, 8] (keep: [B, levels, 3]), "
                         f"got {[a.shape for a in m]}")
    if m.num_levels != accelerator.num_levels:
        raise ValueError(f"evaluate_batch: mappings have {m.num_levels} levels, accelerator "
                         f"{accelerator.name!r} has {accelerator.num_levels}")
    if m.num_levels > kernel.MAX_LEVELS:
        raise ValueError(f"evaluate_batch: at most {kernel.MAX_LEVELS} storage levels are supported, "
                         f"got {m.num_levels}")
    run = kernel.evaluate_batch_parallel if m.batch_size >= PARALLEL_MIN_BATCH else kernel.evaluate_batch_serial
    out = run(layer_arrays(layer), accelerator_arrays(accelerator), m)
    reason, cycles, util = out.reason, out.cycles, out.utilization
    if m.batch_size and (reason == BAD_INPUT).any():
        _refuse_bad_keep_flags(m)
    result = BatchResult(reason == 0, reason, cycles, out.energy_pj, util, out.compute_cycles, out.reads, out.fills,
                         out.updates)
    timed = timing_model.cycles(layer, accelerator, m, result, accelerator.homed_on_chip)
    if timed is not cycles:     # the utilization over the timed cycles (the MACs done are the same)
        result.utilization = np.where(timed > 0, util * cycles / np.maximum(timed, 1), util)
        result.cycles = timed
    return result


def _refuse_bad_keep_flags(m: MappingArrays) -> None:
    """The ValueError for keep flags other than 0 and 1: the kernel's shape check flags such a mapping (reason
    BAD_INPUT) in the pass that reads it anyway, so that valid batches are not read twice; this names the first bad
    value."""
    bad = m.keep[(m.keep < 0) | (m.keep > 1)][0]
    raise ValueError(f"evaluate_batch: mappings.keep must hold 0 (bypass) or 1 (keep), got {bad}")


def explain(layer: Layer, accelerator: Accelerator, mapping) -> EvalResult:
    """One mapping through the kernel, returned as a readable `EvalResult` with a per-level breakdown
    (`.breakdown()`): the same numbers as `reference.evaluate`, without its slow walk (where instances under a
    fan-out do unequal work, from each instance class's own counts: `kernel.instance_classes`)."""
    return _explained(layer, accelerator, mapping)


def explain_rehomed(layer: Layer, accelerator: Accelerator, view: Accelerator, mapping, home: int,
                    tensors: tuple[int, ...]) -> EvalResult:
    """A mapping counted on `view` and priced on `accelerator`, where `tensors` (indices into TENSORS) live whole
    in level `home` of `accelerator` rather than in its outermost level.

    `view` is `accelerator` with level `home` keeping none of `tensors` (their backing store stands for it) and any
    capacity; `home` has one instance and every level above it a fan-out of 1. The view's outermost accesses of
    `tensors` (its reads, and the outputs' updates) are the home level's: they move there and are priced with its
    energies (R8) and its bandwidth (R7); nothing is moved from DRAM. Counts of every other level and tensor are
    the view's.
    """
    if any(lv.fanout != 1 for lv in accelerator.levels[:home]) or not 0 < home < accelerator.num_levels:
        raise ValueError(f"explain_rehomed: home level {home} must be an on-chip level with one instance")
    homes = tuple(home if t in tuple(tensors) else h for t, h in enumerate(accelerator.tensor_homes))
    return _explained(layer, view, mapping, (accelerator, homes))


def _explained(layer: Layer, accelerator: Accelerator, mapping, rehome=None) -> EvalResult:
    arrays = mapping if isinstance(mapping, MappingArrays) else mapping.to_arrays(accelerator)
    arrays = arrays.row(0).with_residuals()
    res = evaluate_batch(layer, accelerator, arrays)
    reason, tiles, _ = check_mapping(layer, accelerator, arrays, 0, tensor_axes(layer))
    if not res.valid[0]:
        return EvalResult(False, int(res.reason[0]), REASONS[int(res.reason[0])], accelerator.level_names,
                          layer.macs, tile_words=tiles)
    L = accelerator.num_levels
    used = [1] * (L + 1)
    for l in range(L):
        used[l + 1] = used[l] * int(np.prod(arrays.spatial_x[0, l]) * np.prod(arrays.spatial_y[0, l]))
    if uniform_instances(arrays, 0):     # every instance of a level counts alike: the totals over its instances
        inst = np.array(used[:L], dtype=float)[:, None]
        counts = (res.reads[0] / inst, res.fills[0] / inst, res.updates[0] / inst)
    else:                                # one row per instance, from its class's own counts
        _, start, per_class, rfu = kernel.instance_classes(layer_arrays(layer), accelerator_arrays(accelerator),
                                                           arrays)
        counts = tuple([np.repeat(rfu[start[l]:start[l + 1], a], per_class[start[l]:start[l + 1]].astype(np.int64),
                                  axis=0) for l in range(L)] for a in range(3))
    if rehome is None and accelerator.homed_on_chip:
        rehome = (accelerator, accelerator.tensor_homes)
    if rehome is not None:              # rule H: the homed tensors' level-0 counts are their homes'
        priced_on, homes = rehome
        counts = tuple([np.array(np.atleast_2d(c[l]), dtype=float) for l in range(L)] for c in counts)
        accelerator, arrays = rehome_counts(priced_on, arrays, 0, homes, *counts)
    return result_from_counts(layer, accelerator, arrays, 0, *counts, used, tiles, int(res.compute_cycles[0]),
                              np.zeros((L, 3)))
