"""The accelerator description: storage levels outermost first, spatial fan-outs, the MAC.

The semantics follow Timeloop's architecture model: a level with a fan-out X x Y has that many
instances of the next level below each of its instances; the MACs sit below the innermost level.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from math import prod
from numbers import Integral, Real

from nets.problem_shape import TENSOR_INDEX, TENSORS  # noqa: F401  (re-exported: the tensor order of every dense array)

from .dataflow import Dataflow

STORAGE_KINDS: tuple[str, ...] = ("DRAM", "SRAM", "regfile")
"""The kinds of storage the technology tables price (`StorageLevel.kind`)."""


MAX_INT = 2**62
"""Largest capacity or word width an accelerator field takes: the cost model counts in int64."""
MAX_FANOUT = 2**20
"""Largest fan-out of one level (X x Y): the cost model keeps a record per child of a fan-out (about 100 bytes each),
so a fan-out of 2**20 takes ~100 MB per thread; the builder's largest array (`builder.MAX_PES`) is as large."""
MAX_MACS = 2**31 - 1
"""Most MACs (the product of all fan-outs) an accelerator may have; any spatial unrolling onto them fits the
kernel's int64 counts."""
MAX_TECHNOLOGY_NM = 1000


def check_accelerator(owner: str, value: object, name: str = "accelerator") -> "Accelerator":
    """`value` if it is an `Accelerator`; a ValueError naming `owner`'s argument otherwise (for public functions
    that take one, so that a wrong argument fails where it is given, not deep inside the cost model)."""
    if not isinstance(value, Accelerator):
        text = repr(value)
        raise ValueError(f"{owner}: {name} must be an accel_models.Accelerator, got {type(value).__name__} "
                         f"{text if len(text) <= 60 else text[:57] + '...'}")
    return value


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _positive(owner: str, name: str, value, allow_none: bool = False, integer: bool = False):
    """`value` if it is a finite number > 0 (an integer up to MAX_INT if `integer`); None if `allow_none`."""
    if value is None and allow_none:
        return None
    ok = _number(value) and math.isfinite(value) and value > 0
    if integer:
        ok = ok and float(value).is_integer() and value <= MAX_INT
    if not ok:
        kind = "an integer in [1, 2**62]" if integer else "a finite number > 0"
        extra = " or None (unbounded)" if allow_none else ""
        raise ValueError(f"{owner}.{name} must be {kind}{extra}, got {value!r}")
    return int(value) if integer else value


def _energy(owner: str, name: str, value) -> float:
    if not (_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{owner}.{name} must be a finite number >= 0 pJ, got {value!r}")
    return value


@dataclass(frozen=True)
class StorageLevel:
    """One storage level (per instance): what it may keep, how big, how fast, what an access costs.

    capacity_words: shared by all kept tensors, per instance; None = unbounded (DRAM).
    tensor_capacity_words: optional per-tensor limits (Weights, Inputs, Outputs), None entries = no limit.
    Bandwidths are words/cycle per instance (None = unlimited). Energies are pJ per access of
    one block of `block_size_words` words (Accelergy's vector access). fanout_x/fanout_y is the
    spatial fan-out to the level below (1 x 1 = none). leak_energy_pj: leakage per cycle per
    instance (pJ, Accelergy's `leak`), charged to every instance over the run's cycles.
    cluster_size: instances sharing one access port (Timeloop's cluster): a vector access costs its
    energy once per cluster, so each access is charged to at most instances / cluster_size instances.
    """

    name: str
    keeps: tuple[str, ...] = TENSORS
    capacity_words: int | None = None
    tensor_capacity_words: tuple[int | None, int | None, int | None] | None = None
    word_bits: int = 16
    block_size_words: int = 1
    read_bandwidth: float | None = None
    write_bandwidth: float | None = None
    shared_bandwidth: float | None = None
    read_energy_pj: float = 0.0
    write_energy_pj: float = 0.0
    update_energy_pj: float = 0.0
    fanout_x: int = 1
    fanout_y: int = 1
    kind: str = "SRAM"
    """Accelergy class: 'DRAM', 'SRAM' or 'regfile' (used by the area model)."""
    leak_energy_pj: float = 0.0
    cluster_size: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"StorageLevel.name must be a non-empty string, got {self.name!r}")
        owner = f"StorageLevel[{self.name}]"
        if isinstance(self.keeps, str):
            raise ValueError(f"{owner}.keeps must be a tuple of tensor names ({', '.join(TENSORS)}), got {self.keeps!r}")
        keeps = tuple(self.keeps)
        bad = [t for t in keeps if t not in TENSORS]
        if bad:
            raise ValueError(f"{owner}.keeps: unknown tensor(s) {bad}; accepted: {', '.join(TENSORS)}")
        object.__setattr__(self, "keeps", tuple(t for t in TENSORS if t in keeps))
        _positive(owner, "capacity_words", self.capacity_words, allow_none=True, integer=True)
        if self.tensor_capacity_words is not None:
            caps = tuple(self.tensor_capacity_words)
            if len(caps) != 3:
                raise ValueError(f"{owner}.tensor_capacity_words must have 3 entries (Weights, Inputs, Outputs)")
            for t, c in zip(TENSORS, caps):
                _positive(owner, f"tensor_capacity_words[{t}]", c, allow_none=True, integer=True)
            object.__setattr__(self, "tensor_capacity_words", caps)
        _positive(owner, "word_bits", self.word_bits, integer=True)
        _positive(owner, "block_size_words", self.block_size_words, integer=True)
        for name in ("read_bandwidth", "write_bandwidth", "shared_bandwidth"):
            _positive(owner, name, getattr(self, name), allow_none=True)
        for name in ("read_energy_pj", "write_energy_pj", "update_energy_pj", "leak_energy_pj"):
            _energy(owner, name, getattr(self, name))
        _positive(owner, "cluster_size", self.cluster_size, integer=True)
        for name in ("fanout_x", "fanout_y"):
            value = _positive(owner, name, getattr(self, name), integer=True)
            if value > MAX_FANOUT:
                raise ValueError(f"{owner}.{name} must be an integer in [1, {MAX_FANOUT}] (2**20), got {value!r}")
        if self.fanout_x * self.fanout_y > MAX_FANOUT:
            raise ValueError(f"{owner}: fanout_x x fanout_y = {self.fanout_x * self.fanout_y}; accepted: at most "
                             f"{MAX_FANOUT} (2**20) children per instance")
        if self.kind not in STORAGE_KINDS:
            raise ValueError(f"{owner}.kind must be one of {', '.join(STORAGE_KINDS)}, got {self.kind!r}")

    @property
    def fanout(self) -> int:
        return self.fanout_x * self.fanout_y

    @property
    def width_bits(self) -> int:
        return self.word_bits * self.block_size_words


@dataclass(frozen=True)
class Accelerator:
    """Storage levels outermost (DRAM) first, the MAC below the innermost level.

    The number of MACs is the product of all fan-outs. `dataflow` optionally constrains the
    mappings a preset accepts (see `Dataflow`).
    """

    name: str
    levels: tuple[StorageLevel, ...]
    mac_energy_pj: float
    clock_ghz: float = 1.0
    technology_nm: int = 45
    mac_bits: int = 8
    dataflow: Dataflow | None = None
    tensor_homes: tuple[int, int, int] = (0, 0, 0)
    """Per tensor (Weights, Inputs, Outputs), the level that holds it whole: its backing store, the level its
    outermost reads and updates are charged to. 0 (the outermost level, DRAM) for all three is Timeloop's model. A
    fusion plan keeps a tensor in an on-chip level h by giving it home h: the level-0 accesses the mapping makes of
    it are then h's accesses (h's energies per block, h's bandwidth, no fills: nothing brings it in), and DRAM moves
    none of it. h must have one instance (no fan-out above it) and must not keep the tensor as a tile too; the
    tensor's words are the caller's to take off h's capacity (`capacity_words` is what h leaves the tiles)."""
    clock_energy_pj: float = 0.0
    """Energy the chip's clock network spends each cycle of a run, whatever the array does (pJ per cycle): the clock
    tree's wires and buffers and the clock pins of the flip-flops and memories it drives. Charged, as storage
    leakage is, over each run's cycles (Timeloop's semantics' cycles, whatever the timing model) and counted on chip.
    0 (the default, as in Timeloop and Accelergy, which have no such term) on every preset; `presets.eyeriss_chip`
    sets it."""
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Accelerator.name must be a non-empty string, got {self.name!r}")
        owner = f"Accelerator[{self.name}]"
        object.__setattr__(self, "levels", tuple(self.levels))
        if not self.levels:
            raise ValueError(f"{owner}.levels: need at least 1 storage level")
        bad = [type(lv).__name__ for lv in self.levels if not isinstance(lv, StorageLevel)]
        if bad:
            raise ValueError(f"{owner}.levels must be StorageLevel objects, got {', '.join(bad)}")
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"Accelerator[{self.name}].levels: level names must be unique, got {names}")
        if set(self.levels[0].keeps) != set(TENSORS):
            raise ValueError(f"Accelerator[{self.name}].levels[0] ({names[0]}) is the outermost level and "
                             "must keep Weights, Inputs and Outputs")
        macs = prod(lv.fanout for lv in self.levels)
        if macs > MAX_MACS:
            raise ValueError(f"{owner}: the fan-outs multiply to {macs} MACs; accepted: at most {MAX_MACS} (2**31 - 1)")
        _energy(owner, "mac_energy_pj", self.mac_energy_pj)
        _energy(owner, "clock_energy_pj", self.clock_energy_pj)
        _positive(owner, "clock_ghz", self.clock_ghz)
        if not (_number(self.technology_nm) and math.isfinite(self.technology_nm)
                and 0 < self.technology_nm <= MAX_TECHNOLOGY_NM):
            raise ValueError(f"{owner}.technology_nm must be a number in (0, {MAX_TECHNOLOGY_NM}] nm, "
                             f"got {self.technology_nm!r}")
        if isinstance(self.mac_bits, bool) or not isinstance(self.mac_bits, Integral) or not 1 <= self.mac_bits <= 64:
            raise ValueError(f"{owner}.mac_bits must be an integer in [1, 64], got {self.mac_bits!r}")
        if self.dataflow is not None and not isinstance(self.dataflow, Dataflow):
            raise ValueError(f"{owner}.dataflow must be a Dataflow or None, got {type(self.dataflow).__name__}")
        self._check_tensor_homes(owner)

    def _check_tensor_homes(self, owner: str) -> None:
        homes = tuple(self.tensor_homes) if isinstance(self.tensor_homes, (list, tuple)) else None
        single = max(l for l in range(len(self.levels)) if self.instances(l) == 1)
        if not (homes is not None and len(homes) == len(TENSORS)
                and all(isinstance(h, Integral) and not isinstance(h, bool) and 0 <= h <= single for h in homes)):
            raise ValueError(f"{owner}.tensor_homes must be 3 level indices (Weights, Inputs, Outputs), each in "
                             f"[0, {single}] (a level with one instance), got {self.tensor_homes!r}")
        for t, h in zip(TENSORS, homes):
            if h and t in self.levels[h].keeps:
                raise ValueError(f"{owner}.tensor_homes: {t} lives whole in level {h} ({self.levels[h].name}), "
                                 f"which must then not keep a tile of it too (drop {t} from its keeps)")
        object.__setattr__(self, "tensor_homes", tuple(int(h) for h in homes))

    @property
    def homed_on_chip(self) -> tuple[int, ...]:
        """The tensors (indices into TENSORS) whose home is an on-chip level (`tensor_homes`)."""
        return tuple(t for t, h in enumerate(self.tensor_homes) if h)

    def __hash__(self) -> int:
        # the dataclass's hash of every field and level, kept on the object: an accelerator keys the caches of its
        # arrays, encodings and warm starts, several thousand look-ups a co-search trial at ~3 us a hash of its levels
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(tuple(getattr(self, name) for name in _HASHED_FIELDS))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict:
        # pickled without the kept hash: a string's hash differs from process to process
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    @cached_property
    def level_names(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.levels)

    def instances(self, level: int) -> int:
        """Physical instances of storage level `level` (product of the fan-outs above it)."""
        return prod(lv.fanout for lv in self.levels[:level])

    @property
    def num_macs(self) -> int:
        return prod(lv.fanout for lv in self.levels)

    @property
    def mesh(self) -> tuple[int, int]:
        """(X, Y) extent of the MAC array."""
        return (prod(lv.fanout_x for lv in self.levels), prod(lv.fanout_y for lv in self.levels))

    @property
    def fanout_levels(self) -> tuple[int, ...]:
        """Indices of the levels with a spatial fan-out below them."""
        return tuple(i for i, lv in enumerate(self.levels) if lv.fanout > 1)

    def level_index(self, name: str) -> int:
        for i, lv in enumerate(self.levels):
            if lv.name == name:
                return i
        raise ValueError(f"Accelerator[{self.name}]: no storage level named {name!r}; levels: {self.level_names}")

    def with_levels(self, **changes_by_level: dict) -> "Accelerator":
        """A copy with some levels' fields replaced: acc.with_levels(GLB={"capacity_words": 4096})."""
        levels = list(self.levels)
        for name, changes in changes_by_level.items():
            i = self.level_index(name)
            levels[i] = replace(levels[i], **changes)
        return replace(self, levels=tuple(levels))


_HASHED_FIELDS = tuple(f.name for f in fields(Accelerator) if (f.compare if f.hash is None else f.hash))
"""The fields an accelerator's hash covers: those the dataclass would hash (not `meta`)."""

