"""What names an accelerator for the mapper's tables and warm starts: a digest of its cost-relevant content."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import fields

from accel_models import Accelerator


def _values(obj) -> tuple:
    """A flat dataclass's field values (`dataclasses.astuple` without its deep copies: 5x faster on a preset)."""
    return tuple(getattr(obj, f.name) for f in fields(obj))


_KNOWN: "OrderedDict[int, tuple[Accelerator, str]]" = OrderedDict()
"""The digests of the most recent accelerator objects, by identity (an `Accelerator` is frozen): the mapper's tables
and warm starts name the accelerator at every search, and the digest costs ~14 us."""
_KNOWN_KEPT = 64


def accelerator_key(accelerator: Accelerator) -> str:
    """A digest of everything about an accelerator that changes mapping costs (not its name or meta)."""
    known = _KNOWN.get(id(accelerator))
    if known is not None and known[0] is accelerator:
        return known[1]
    key = _digest(accelerator)
    _KNOWN[id(accelerator)] = (accelerator, key)
    while len(_KNOWN) > _KNOWN_KEPT:
        _KNOWN.popitem(last=False)
    return key


def _dataflow_values(dataflow) -> tuple:
    """A dataflow's field values, without its whole dims when it has none (the digests of the dataflows without them
    stay as they were)."""
    return tuple(getattr(dataflow, f.name) for f in fields(dataflow)
                 if f.name != "whole_dims" or dataflow.whole_dims)


def _digest(accelerator: Accelerator) -> str:
    content = (tuple(_values(lv) for lv in accelerator.levels), accelerator.mac_energy_pj, accelerator.clock_ghz,
               accelerator.technology_nm, accelerator.mac_bits,
               None if accelerator.dataflow is None else _dataflow_values(accelerator.dataflow))
    if accelerator.homed_on_chip:       # named only when set: the digests of DRAM-backed designs stay as they were
        content += (accelerator.tensor_homes,)
    if accelerator.clock_energy_pj:     # likewise
        content += (("clock_energy_pj", accelerator.clock_energy_pj),)
    return hashlib.sha1(repr(content).encode()).hexdigest()[:20]
