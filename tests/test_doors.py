"""The open-ended families each have a door: a search space, an objective, a mapper strategy and a network search
strategy are each one class plus one registration line in their family's registry (`nets.registry.Registry`), and
then work end to end (the command-line names, `make_settings`, a whole run)."""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest

import cosearch
from cosearch.config.objectives import OBJECTIVES, ObjectiveSpec, RunFigures
from cosearch.nas_strategies import NAS_STRATEGIES, BudgetSpent, NASStrategy, config_from
from mappings import MAPPER_STRATEGIES, MapperSettings, MapperStrategy
from mappings.strategies import Tracker
from nets import Layer, Network, SearchSpace, SubnetConfig, slot_choices
from nets.registry import Registry, RegistryError
from nets.spaces import SPACES


@dataclasses.dataclass(frozen=True)
class ToyConfig(SubnetConfig):
    d: int
    w: tuple[int, ...]
    space: str = "toy_mlp"


class ToyAccuracy:
    """Wider and deeper is more accurate (a stand-in: the door takes any estimator with these attributes)."""

    kind, label, path, notice = "estimate", "ESTIMATE: toy accuracy, grows with width and depth", None, None

    def score_batch(self, configs):
        return np.array([0.5 + 0.01 * c.d + 0.001 * sum(c.w[:c.d]) for c in configs])


@dataclasses.dataclass(frozen=True)
class ToyMLPSpace(SearchSpace):
    """A stack of d blocks of two FC layers (64 -> w_i -> 64) on 16 tokens."""

    config_type: ClassVar[type] = ToyConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("d",)
    name: str = "toy_mlp"
    cli_name: str = "toy-mlp"

    def genes(self):
        return {"d": ((1, 2, 3),), "w": ((16, 32, 64),) * 3}

    def network(self, config, batch: int = 1) -> Network:
        config = self.parse(config)
        layers = []
        for i in range(config.d):
            layers += [Layer.fc(64, config.w[i], 16 * batch, f"b{i}.up"), Layer.fc(config.w[i], 64, 16 * batch,
                                                                                    f"b{i}.down")]
        return Network(f"toy_mlp_d{config.d}", layers, {"config": config.to_dict()})

    def parameters(self, config) -> int:
        config = self.parse(config)
        return sum(2 * 64 * w + w + 64 for w in config.w[:config.d])

    def covering_configs(self) -> Iterator[ToyConfig]:
        for w in (16, 32, 64):
            yield ToyConfig(d=3, w=(w,) * 3, space=self.name)

    def accuracy_estimator(self, predictor=None, seed=0):
        return ToyAccuracy()


@dataclasses.dataclass(frozen=True)
class ED2P(ObjectiveSpec):
    """Energy x delay^2 (J*s^2), minimised."""

    name = "ed2p"
    unit = "J*s^2"
    label = "ED2P (J*s^2)"
    mapper_objective = "latency"
    penalty = 1.0
    formula = "E x LAT^2"

    def value(self, run: RunFigures) -> float:
        return run.energy_j * run.latency_s ** 2


@dataclasses.dataclass(frozen=True)
class QuasiRandomStrategy(MapperStrategy):
    """Scrambled Sobol points over the genes (scipy's quasi-Monte Carlo), in batches."""

    name = "sobol"
    batch: int = 64

    def search(self, enc, objective, budget_evals, time_limit_s, seed, seeds):
        from scipy.stats import qmc

        tracker = Tracker(enc.layer, enc.accelerator, objective, budget_evals, time_limit_s)
        sobol = qmc.Sobol(max(enc.size, 1), seed=seed)
        while not tracker.done():
            n = self.batch if tracker.remaining() is None else min(self.batch, tracker.remaining())
            tracker.score(enc.decode(sobol.random(n)[:, :enc.size]))
        return tracker.result(self.name, seed)


@dataclasses.dataclass(frozen=True)
class GridSearch(NASStrategy):
    """Every subnet of the gene table in turn, for spaces of at most `max_subnets` configs."""

    name = "grid"
    source = "enumeration (a baseline for small spaces)"
    max_subnets: int = 1000

    def check_inputs(self, space, devices):
        n = math.prod(len(choices) for _, _, choices in slot_choices(space.genes()))
        return None if n <= self.max_subnets else f"space {space.cli_name} has {n:.3g} configs, over {self.max_subnets}"

    def search(self, problem) -> None:
        decisions = slot_choices(problem.genes)
        try:
            for picks in itertools.product(*(range(len(choices)) for _, _, choices in decisions)):
                problem.evaluate([config_from(problem.space, decisions, picks)])
        except BudgetSpent:
            return


TOYS = ((SPACES, ToyMLPSpace()), (OBJECTIVES, ED2P), (MAPPER_STRATEGIES, QuasiRandomStrategy),
        (NAS_STRATEGIES, GridSearch))


@pytest.fixture
def toy_members():
    for registry, member in TOYS:
        registry.register(member)
    yield
    for registry, member in TOYS:
        registry.unregister(member.name)


@pytest.mark.parametrize("registry, member", TOYS, ids=[r.kind for r, _ in TOYS])
def test_every_family_registers_and_refuses_the_same_way(registry, member):
    assert isinstance(registry, Registry) and member.name not in registry
    with pytest.raises(RegistryError, match=f"--flag: unknown {registry.kind} '{member.name}'; accepted: "):
        registry.get(member.name, "--flag")
    registry.register(member)
    try:
        assert registry.get(member.name) is member and member.name in registry.names()
        with pytest.raises(RegistryError, match="already registered"):
            registry.register(member)
    finally:
        registry.unregister(member.name)
    assert member.name not in registry


def test_each_member_is_found_by_name(toy_members):
    from mappings import best_mapping
    from nets import get_space, largest_config, space_layers, to_network

    assert get_space("toy-mlp") is get_space("toy_mlp")
    config = largest_config("toy-mlp")
    assert to_network(config).macs == 3 * 2 * 16 * 64 * 64
    assert len(space_layers("toy-mlp")) == 5    # 64 -> w and w -> 64 for w = 16, 32; 64 -> 64 once for w = 64
    settings = cosearch.make_settings("area=5mm2", space="toy-mlp", objective="ed2p")
    assert settings.space == "toy_mlp" and settings.mapper_objective == "latency"
    layer = to_network(config).layers[0]
    result = best_mapping(layer, cosearch.AcceleratorSpace(area_budget_mm2=5.0).decode(
        {g: 0.5 for g in cosearch.AcceleratorSpace(area_budget_mm2=5.0).genes}).accelerator, "latency",
        strategy="sobol", budget_evals=128)
    assert result.strategy == "sobol" and result.evaluations == 128 and result.valid


@pytest.mark.slow
def test_a_toy_space_objective_and_strategy_run_end_to_end(toy_members, tmp_path):
    settings = cosearch.make_settings("area=5mm2", space="toy-mlp", objective="ed2p", accuracy=0.5, trials=3,
                                      workers=1, population=4, generations=1, time_limit="none", polish_evals=0,
                                      out=tmp_path, final_mapper_evals=64, mapper_evals=64)
    settings = dataclasses.replace(settings, mapper=MapperSettings(QuasiRandomStrategy(), budget_evals=64),
                                   final_mapper=MapperSettings(QuasiRandomStrategy(), budget_evals=128))
    result = cosearch.run(settings)
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["objective"]["name"] == "ed2p" and doc["objective"]["label"] == "ED2P (J*s^2)"
    assert result.best is not None and result.best.network.name.startswith("toy_mlp")
    best = result.best
    assert math.isclose(ED2P().value(RunFigures(best.latency_s, best.energy_j)),
                        best.energy_j * best.latency_s ** 2)
    assert all(layer.result.strategy == "sobol" for layer in best.layers)
    assert "toy accuracy" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_a_toy_nas_strategy_searches_a_fixed_device(toy_members, tmp_path):
    """The grid scores all 81 configs of the toy space on the device: the subnet found is the most accurate one
    within the latency limit, as a brute-force pass over the same configs says."""
    settings = cosearch.make_settings(accelerator="eyeriss", space="toy-mlp", budget="latency<=1s", accuracy=0.5,
                                      nas_strategy="grid", nas_evals=100, final_mapper_evals=64, workers=1,
                                      out=tmp_path)
    result = cosearch.run(settings)
    device = result.devices[0]
    assert device.strategy == "grid" and device.evaluations == 81
    space = ToyMLPSpace()
    configs = [config_from(space, slot_choices(space.genes()), picks)
               for picks in itertools.product(range(3), range(3), range(3), range(3))]
    best = max(ToyAccuracy().score_batch(configs))
    assert math.isclose(device.accuracy, best) and device.subnet["d"] == 3


def test_a_nas_strategy_refuses_a_space_before_any_work(toy_members, tmp_path):
    settings = cosearch.make_settings(accelerator="eyeriss", space="ofa-mbv3", budget="latency<=10ms",
                                      nas_strategy="grid", out=tmp_path)
    with pytest.raises(cosearch.UsageError, match="--nas-strategy grid: space ofa-mbv3 has .* configs, over 1000"):
        cosearch.run(settings)
    assert not (tmp_path / "tables").exists()
