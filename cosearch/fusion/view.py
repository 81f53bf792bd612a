"""A layer run with some of its tensors living whole in an on-chip level: the accelerator the mapper sees, and the
run's cost priced where the tensors really are.

A tensor that lives on chip (`home` level, typically the global buffer) is expressed by a *view* of the chip: the
home level keeps no tile of the resident tensors and offers the mapper only the capacity the tensors living there
leave free, and the view's `Accelerator.tensor_homes` name the home level as those tensors' backing store. The
compiled kernel then counts the resident tensors' outermost accesses at the home level, with its energies and
bandwidth (rule H, docs/cost_model.md), so the mapper searches a view at the chip's true cost, whichever tensors are
resident, and a mapping's price on the chip is its evaluation on the view (`Residency.priced`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from accel_models import TENSORS, Accelerator

from .pricing import homed_price

CAPACITY_BITS = 2
"""Significant bits kept when a view's free capacity is rounded down: views whose free capacity differs in the
lower bits share one mapper search (the tiles that fit the rounded capacity fit the exact one; the rounding costs at
most a quarter of the free capacity, and keeps the number of distinct views, hence of mapper searches, small when
subnets and designs vary what lives on chip)."""


def home_level(accelerator: Accelerator) -> int | None:
    """The level tensors can live in between layers: the outermost on-chip level, if it is one instance with one
    shared capacity (a level split per tensor has no room for another layer's tensor); None otherwise."""
    if accelerator.num_levels < 2 or accelerator.levels[0].fanout != 1:
        return None
    level = accelerator.levels[1]
    if level.capacity_words is None or level.tensor_capacity_words is not None:
        return None
    return 1


def rounded_capacity(words: int) -> int:
    """`words` rounded down to CAPACITY_BITS significant bits (0 stays 0)."""
    if words <= 0:
        return 0
    drop = max(0, words.bit_length() - CAPACITY_BITS)
    return (words >> drop) << drop


@dataclass(frozen=True)
class Residency:
    """How one layer runs: the tensors (indices into TENSORS) living whole in level `home`, and the capacity that
    level leaves its tiles (its capacity less every tensor living there during the layer, rounded down)."""

    home: int
    resident: tuple[int, ...]
    free_words: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(TENSORS[t] for t in self.resident)

    def view(self, accelerator: Accelerator) -> Accelerator:
        """The accelerator the mapper maps the layer on (see the module docstring); the same object for equal
        arguments (building and hashing an accelerator is most of a planned layer's time otherwise)."""
        return _view(self, accelerator)

    def _build_view(self, accelerator: Accelerator) -> Accelerator:
        levels = list(accelerator.levels)
        home = levels[self.home]
        levels[self.home] = replace(home, keeps=tuple(t for i, t in enumerate(TENSORS)
                                                      if t in home.keeps and i not in self.resident),
                                    capacity_words=self.free_words)
        homes = tuple(self.home if t in self.resident else h for t, h in enumerate(accelerator.tensor_homes))
        return replace(accelerator, levels=tuple(levels), tensor_homes=homes)

    def searched_view(self, accelerator: Accelerator) -> Accelerator:
        """The view the mapper searches for this residency: the view itself, or, when its home level keeps no tensor
        at all (every tensor it could keep is resident), the view with the home level's whole capacity: a level that
        keeps nothing has no capacity to respect, so the views of one tensor set that differ only in their free
        capacity are one search (the mappings it finds keep no tile there, so they fit every one of them)."""
        view = self.view(accelerator)
        if view.levels[self.home].keeps:
            return view
        return replace(self, free_words=accelerator.levels[self.home].capacity_words).view(accelerator)

    def priced(self, layer, accelerator: Accelerator, arrays) -> tuple[int, float, float, int] | None:
        """(cycles, energy pJ, DRAM words read and written, words of the tiles it keeps in the home level) of
        `arrays` (a mapping of `layer` on a view of this residency) on the chip, whatever the free capacity (the
        mapping is valid on the view when those tiles fit `free_words`); None if it is not valid even with the
        home level's whole capacity (`pricing.homed_price`: the numbers of `accel_models.explain_rehomed`)."""
        whole = replace(self, free_words=accelerator.levels[self.home].capacity_words).view(accelerator)
        price = homed_price(layer, whole, arrays.row(0).with_residuals(), self.home)
        return None if price is None else tuple(price)

    def bypassed(self, arrays):
        """A mapping on the view (`transplanted`) with no tile kept in the home level: whatever the free capacity,
        its home-level tiles fit (the levels below it are filled from the outermost level or the resident tensors'
        home directly)."""
        keep = arrays.keep.copy()
        keep[:, self.home, :] = 0
        return arrays._replace(keep=keep)

    def transplanted(self, arrays):
        """A mapping of the layer on the accelerator itself, as a mapping on the view: the home level keeps none of
        the resident tensors (valid on the view when its other tiles fit the free capacity)."""
        keep = arrays.keep.copy()
        keep[:, self.home, list(self.resident)] = 0
        return arrays._replace(keep=keep)


@lru_cache(maxsize=4096)
def _view(residency: Residency, accelerator: Accelerator) -> Accelerator:
    return residency._build_view(accelerator)


__all__ = ["CAPACITY_BITS", "Residency", "home_level", "rounded_capacity"]
