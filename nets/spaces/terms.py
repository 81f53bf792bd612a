"""A network's layers as a sum of terms, each a function of a few genes: what makes a per-choice cost table exact.

A subnet's latency (energy) is the sum of its layers' costs. In the spaces here each block slot's layers depend only on
a handful of genes (the slot's own choices, its stage's depth, the input resolution or width, and where the block
reads a neighbouring stage's width, that stage's width gene), and the layers outside the slots (stem, head) on fewer
still. A `LayerTerm` names those genes (its `support`) and which layers are its own (by name prefix; the term without
a prefix owns every layer no other term claims). Then for any factorised distribution over the genes the expected
cost is exact: the sum over terms of the cost of the term's layers at each joint choice of its support, weighted by
the product of those choices' probabilities (ProxylessNAS's per-operator latency table, made exact where shapes
depend on neighbours). `term_layers` builds a term's layers at given support values; the tests hold the sum of the
terms to `SearchSpace.network` on random subnets.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

from ..layer import Layer

Gene = tuple[str, int]
"""A decision of a gene table: (config field, position)."""


@dataclass(frozen=True)
class LayerTerm:
    """The layers named `prefix`... (all layers no other term claims, when None), which depend only on `support`."""

    support: tuple[Gene, ...]
    prefix: str | None


def config_with(space, base, values: dict[Gene, object]):
    """`base` (a config of `space`) with the given genes set."""
    fields: dict[str, object] = {}
    for (field, pos), value in values.items():
        if field in space.scalar_genes:
            fields[field] = value
        else:
            current = list(fields.get(field, getattr(base, field)))
            current[pos] = value
            fields[field] = tuple(current)
    return base.replace(**fields)


@lru_cache(maxsize=4096)
def _cached_network_layers(space, config) -> tuple[Layer, ...]:
    return tuple(space.network(config).layers)


def term_layers(space, terms: tuple[LayerTerm, ...], index: int, values: tuple, base) -> tuple[Layer, ...]:
    """The layers of term `terms[index]` of `space` when its support takes `values` (in support order), the other
    genes as in `base` (they do not change the term's layers)."""
    term = terms[index]
    config = config_with(space, base, dict(zip(term.support, values)))
    layers = _cached_network_layers(space, config)
    if term.prefix is not None:
        return tuple(layer for layer in layers if layer.name.startswith(term.prefix))
    claimed = tuple(t.prefix for t in terms if t.prefix is not None)
    return tuple(layer for layer in layers if not layer.name.startswith(claimed))


def support_choices(space, term: LayerTerm) -> list[tuple]:
    """Every joint choice of a term's support, in row-major order of the genes' choices."""
    genes = space.genes()
    return list(itertools.product(*(genes[field][pos] for field, pos in term.support)))


__all__ = ["Gene", "LayerTerm", "config_with", "term_layers", "support_choices"]
