"""One Optuna trial = one accelerator: decode, reject over the area budget, search the subnet (or run the fixed
network) with every layer at its best mapping, and record metrics and the design as user attributes."""
from __future__ import annotations

import math
import time

import numpy as np

from nets import parse_config, to_network

from .accuracy import AccuracyModel, load_accuracy_model
from .evaluate import NoValidMapping, evaluate_network
from .subnets import Candidate, search_subnet
from ..config.settings import CoSearchSettings
from .space import AcceleratorSpace
from .storage import worker_tag

PENALTY_J_S = 1.0
"""Objective of a design whose best run is over the latency / energy / power budget: far above any
real EDP (J*s), growing with the overshoot so that samplers are led back into the budget."""
SEED_SUBNETS = 3
"""How many of the best subnets found so far (in the whole study) seed each trial's subnet search."""
PARETO_POINTS_PER_TRIAL = 24


def accelerator_space(settings: CoSearchSettings) -> AcceleratorSpace:
    return AcceleratorSpace(settings.budget.area_mm2, settings.technology_nm, settings.clock_ghz,
                            resources=settings.resources)


def geomean(values) -> float:
    """Geometric mean of positive values (the `--networks` objective over EDPs)."""
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def accuracy_model(settings: CoSearchSettings) -> AccuracyModel | None:
    """The accuracy source of a subnet search or of a fixed OFA subnet (None for a zoo network)."""
    if settings.network is not None and settings.network.kind != "subnet":
        return None
    space = settings.network.config.space if settings.network is not None else settings.space
    return load_accuracy_model(space, settings.predictor, memo_path=settings.out / "proxy_scores.json",
                               seed=settings.seed)


class TrialObjective:
    """The callable Optuna optimizes: x in [0,1]^n -> network EDP (J*s) of the best run on that accelerator."""

    def __init__(self, settings: CoSearchSettings, worker: int = 0, accuracy: AccuracyModel | None = None) -> None:
        self.settings = settings
        self.worker = worker
        self.space = accelerator_space(settings)
        self.accuracy = accuracy if accuracy is not None else accuracy_model(settings)
        self.network = None if settings.searches_subnet else settings.network.build()
        self.extra_networks = [n.build() for n in settings.networks[1:]]

    def __call__(self, trial) -> float:
        import optuna

        t0 = time.perf_counter()
        trial.set_user_attr("worker", {**worker_tag(), "index": self.worker})
        genes = {g: trial.suggest_float(g, 0.0, 1.0) for g in self.space.genes}
        design = self.space.decode(genes, name=f"trial{trial.number}")
        check = self.space.check(design)
        trial.set_user_attr("design", design.to_dict())
        trial.set_user_attr("design_text", design.describe())
        trial.set_user_attr("area_mm2", round(check.area_mm2, 4))
        if not check.fits:
            trial.set_user_attr("status", "rejected")
            trial.set_user_attr("reason", check.reason())
            raise optuna.TrialPruned(check.reason())
        cache = self.settings.mapper.cache()
        try:
            best, evaluated = self._run(trial, design.accelerator, cache)
        except NoValidMapping as exc:
            trial.set_user_attr("status", "rejected")
            trial.set_user_attr("reason", str(exc))
            raise optuna.TrialPruned(str(exc)) from None
        if self.extra_networks:
            try:
                costs = [best.cost] + [evaluate_network(n, design.accelerator, cache) for n in self.extra_networks]
            except NoValidMapping as exc:
                trial.set_user_attr("status", "rejected")
                trial.set_user_attr("reason", str(exc))
                raise optuna.TrialPruned(str(exc)) from None
            budget = self.settings.budget
            violation = sum(budget.violation(c.latency_s, c.energy_j) for c in costs)
            trial.set_user_attr("edp_per_network_j_s", {c.network.name: c.edp_j_s for c in costs})
            self._record(trial, best, evaluated, cache, time.perf_counter() - t0)
            trial.set_user_attr("feasible", violation == 0)
            trial.set_user_attr("status", "ok" if violation == 0 else "over budget")
            if violation == 0:
                return geomean(c.edp_j_s for c in costs)
            return PENALTY_J_S * (1.0 + min(violation, 1e6))
        self._record(trial, best, evaluated, cache, time.perf_counter() - t0)
        if best.feasible:
            return best.edp_j_s
        return PENALTY_J_S * (1.0 + min(best.violation, 1e6))

    def _run(self, trial, accelerator, cache) -> tuple[Candidate, list[Candidate]]:
        budget = self.settings.budget
        if self.network is not None:
            config = self.settings.network.config
            accuracy = math.nan if config is None else self.accuracy.score(config)
            cost = evaluate_network(self.network, accelerator, cache, accuracy=None if config is None else accuracy)
            c = Candidate(config, accuracy, cost, budget.violation(cost.latency_s, cost.energy_j))
            return c, [c]
        rng = np.random.default_rng([self.settings.seed, trial.number])
        result = search_subnet(self.accuracy, budget.accuracy,
                               lambda config: evaluate_network(to_network(config), accelerator, cache),
                               budget, self.settings.evolution, rng, self._seed_subnets(trial.study))
        if all(c.cost is None for c in result.evaluated):
            raise NoValidMapping(f"no subnet has a valid mapping on {accelerator.name}")
        return result.best, result.evaluated

    def _seed_subnets(self, study) -> list:
        """The subnets of the best feasible trials so far."""
        from optuna.trial import TrialState

        done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.user_attrs.get("feasible") and t.user_attrs.get("subnet")]
        done.sort(key=lambda t: t.value)
        return [parse_config(t.user_attrs["subnet"], self.settings.space) for t in done[:SEED_SUBNETS]]

    def _record(self, trial, best: Candidate, evaluated: list[Candidate], cache, wall_s: float) -> None:
        cost = best.cost
        trial.set_user_attr("status", "ok" if best.feasible else "over budget")
        trial.set_user_attr("feasible", best.feasible)
        trial.set_user_attr("network", cost.network.name)
        trial.set_user_attr("macs_m", round(cost.network.macs / 1e6, 3))
        if best.config is not None:
            trial.set_user_attr("subnet", best.config.to_dict())
            trial.set_user_attr("accuracy", round(best.accuracy, 5))
            pareto = sorted((c for c in evaluated if c.cost is not None), key=Candidate.rank_key)
            trial.set_user_attr("subnets", [[round(c.accuracy, 5), c.edp_j_s, c.feasible]
                                            for c in pareto[:PARETO_POINTS_PER_TRIAL]])
        m = cost.metrics()
        for key in ("latency_ms", "energy_mj", "edp_j_s", "power_mw", "utilization"):
            trial.set_user_attr(key, m[key])
        if not best.feasible:
            trial.set_user_attr("budget_overshoot", best.violation)
        trial.set_user_attr("mapper", {"searches": cache.misses, "lookups": cache.lookups,
                                       "hit_rate": round(cache.hit_rate, 3)})
        trial.set_user_attr("wall_s", round(wall_s, 2))
        if self.accuracy is not None:
            self.accuracy.save_memo()
