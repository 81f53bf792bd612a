"""Which activations the resident planner keeps on chip together (`activation_units`), and what each unit occupies
along the layers it lives through (`unit_spans`): the Python planner's and the compiled one's (`resident_screen`) one
rule."""
from __future__ import annotations


def unit_spans(units) -> list[tuple]:
    """Per unit (`activation_units`): the layers it lives through (a range), the words it holds at each of them, the
    layers that read it, how many of its tensors each layer of the span writes, and its producers (a set of
    tuples)."""
    spans = []
    for unit in units:
        first, last = min(a.first for a in unit), max(a.last for a in unit)
        words, writes = [0] * (last - first + 1), [0] * (last - first + 1)
        for a in unit:
            for k in range(a.first - first, a.last - first + 1):
                words[k] += a.words
            for p in a.producers:
                writes[p - first] += 1
        spans.append((range(first, last + 1), words, {r for a in unit for r in a.readers}, writes,
                      {a.producers for a in unit}))
    return spans


def activation_units(acts) -> list[tuple]:
    """The activations in units that stay on chip together, in network order: those sharing a producer (a layer read
    alone and as a slice of a concatenation, say) are one unit, since the layer writes its output once, on chip
    only when every tensor it is part of is there, and a reader finds a tensor on chip only if it was written
    there."""
    unit_of: dict[int, int] = {}      # producer -> the unit its tensors are in (index into `units`)
    units: list[list | None] = []
    for act in acts:
        joined = sorted({unit_of[p] for p in act.producers if p in unit_of})
        merged = [act]
        for j in joined:
            merged.extend(units[j])
            units[j] = None
        units.append(merged)
        for a in merged:
            for p in a.producers:
                unit_of[p] = len(units) - 1
    return sorted((tuple(sorted(u, key=lambda a: (a.first, a.producers))) for u in units if u is not None),
                  key=lambda u: (u[0].first, u[0].producers))


__all__ = ["activation_units", "unit_spans"]
