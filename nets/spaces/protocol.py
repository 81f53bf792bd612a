"""`SearchSpace`: what a subnet search space provides, whatever its family (OFA's CNNs, EfficientNet's compound
scaling, elastic transformers, a user's own).

A space is a gene table (`genes`) with a config type that checks against it, and what the rest of cosearch needs
of a subnet: its layers (`network`), its parameter count, the configs that together contain every layer shape
any subnet can have (`covering_configs`: what a layer-wise latency table must cover), and where its accuracy
comes from (`accuracy_estimator`, labelled). Sampling, mutation, crossover and the search strategies read the
gene table only. A new space is one module with a `SearchSpace` subclass and one `register_space` line (see
`nets.spaces`).
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..network import Network
from .config import SubnetConfig
from .genes import GeneTable


class SearchSpace(ABC):
    """A subnet search space. Subclasses set `name` (the space's own name, as configs and study names carry it),
    `cli_name` (its `--space` value) and `config_type`, and implement the abstract methods."""

    name: str
    cli_name: str
    config_type: ClassVar[type[SubnetConfig]]
    scalar_genes: tuple[str, ...] = ()
    """Fields of the config that hold one value rather than one per slot."""
    resolution_gene: ClassVar[str | None] = None
    """The gene that sets the input resolution, where one does (OFA's `r`; its evolution redraws it more often)."""
    default_accuracy: float | None = None
    """The accuracy floor a search uses when none is given, on the scale of the space's accuracy estimator (None:
    the command line's default)."""
    takes_predictor: ClassVar[bool] = False
    """Whether `accuracy_estimator` reads a predictor file (its `predictor` argument); a space that does not ignores
    it, so a front end refuses a predictor given for it."""

    @abstractmethod
    def genes(self) -> GeneTable:
        """Accepted values per config field and position."""

    def parse(self, data: Mapping[str, Any] | SubnetConfig) -> SubnetConfig:
        """A config from its dict format, checked (a config of this space is returned as it is). Errors name the
        field: unknown or missing keys, wrong list lengths, values not accepted."""
        cls = self.config_type
        if isinstance(data, SubnetConfig):
            if data.space != self.name:
                raise ValueError(f"{self.name}: the config belongs to space {data.space!r}")
            return data
        if not isinstance(data, Mapping):
            raise ValueError(f"{self.name}: a config must be a mapping with keys {', '.join(cls.keys())}, "
                             f"got {type(data).__name__}")
        accepted = cls.keys()
        unknown = [k for k in data if k not in accepted]
        if unknown:
            raise ValueError(f"{self.name}: unknown config key(s) {', '.join(map(repr, unknown))}; "
                             f"accepted keys: {', '.join(accepted)}")
        missing = [k for k in accepted if k not in data]
        if missing:
            raise ValueError(f"{self.name}: config is missing key(s) {', '.join(map(repr, missing))}; "
                             f"required keys: {', '.join(accepted)}")
        return cls(**{k: data[k] for k in accepted}, space=self.name)

    def make(self, values: Mapping[str, Any]) -> SubnetConfig:
        """A config from gene values keyed by field (scalar fields as values, per-slot fields as sequences)."""
        return self.config_type(**values, space=self.name)

    @abstractmethod
    def network(self, config: SubnetConfig, batch: int = 1) -> Network:
        """The subnet's compute layers, in execution order."""

    @abstractmethod
    def parameters(self, config: SubnetConfig) -> int:
        """Trainable parameters, as PyTorch counts them."""

    @abstractmethod
    def covering_configs(self) -> Iterable[SubnetConfig]:
        """Configs whose networks together hold every layer shape (`Layer.shape_key`) some subnet of the space has."""

    @abstractmethod
    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        """The space's accuracy source: an `nets.estimators.AccuracyEstimator` with `kind` ('predictor', 'proxy' or
        'estimate'), `label`, `path` and `notice` (why an estimate stands in for a measured accuracy, or None).
        `predictor`: a predictor file, for the spaces that have one. Imports torch where the estimator needs it."""

    def layer_terms(self):
        """The network's layers as a tuple of `nets.spaces.terms.LayerTerm`, each a function of a few genes, or None
        where the space does not say (a per-choice cost table, as the gradient strategy needs, is then not
        available)."""
        return None

    def latency_table_keys(self, config: SubnetConfig) -> list[tuple[str, str]] | None:
        """(unit name, key) of every operator of the subnet, in order, as the latency look-up tables measured on
        phones key them (the format ProxylessNAS and OFA publish), or None where no such tables exist for the
        space (the default): a device given as such a table (`lut:`) then cannot run it."""
        return None

    def build_torch(self, config: SubnetConfig, **options: Any):
        """A randomly initialised `torch.nn.Module` of the subnet whose layers equal `network(config)`'s."""
        raise NotImplementedError(f"{self.name}: no PyTorch model builder")

    def __repr__(self) -> str:
        return f"<search space {self.name} (--space {self.cli_name})>"


__all__ = ["SearchSpace"]
