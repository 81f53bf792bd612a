"""One Optuna trial = one accelerator: decode, reject it if it breaks the area budget or the resources, search the
subnet (or run the fixed networks) with every layer at its best mapping (under `--factors auto`, ranking screened runs
first: `RESCORED_SUBNETS`), record metrics and the design as user attributes, and return the objective
(`--objective`), or the metrics of a multi-objective study (`--pareto`)."""
from __future__ import annotations

import math
import time

import numpy as np

from mappings import MappingCache
from nets import parse_config, to_network

from ..config import SEARCH_POOL_SHARE, CoSearchSettings
from ..fusion import ChosenViews, get_fusion_mode, view_search_settings
from ..fusion.modes.depth_first import GroupDoesNotFit
from .accuracy import AccuracyModel, accuracy_model
from .evaluate import NetworkCost, NoValidMapping, RunCost, evaluate_network, network_run
from .objective import Objective, objective, rank_value
from .pareto import point_values, trial_points, trial_trade_off
from .space import AcceleratorSpace
from .storage import claim_trial, worker_tag
from .study import draw_number
from .subnets import Candidate, search_subnet

SEED_SUBNETS = 3
"""How many of the best subnets found so far (in the whole study) seed each trial's subnet search."""
PARETO_POINTS_PER_TRIAL = 24
NEAR_LIMIT_OVERSHOOT = 0.05
"""A run under the search's mapper that is over a hard limit (latency, energy, power) by at most this summed relative
overshoot is re-mapped with the final mapper before it is judged, and the better of the two runs counts: a limit
judged on the search mapper's figures alone would reject a subnet the final phase accepts wherever the longer search
finds a faster mapping (on the 5 mm2 designs measured, at most 0.6% faster; docs/defaults.md)."""
PLANNED_WITHIN = 1.5
"""Under a fusion mode that its searches rank by a cheaper mode (`FusionMode.ranked_by`: depth-first by resident,
whose plan bounds the depth-first one from above), a trial plans its subnet in its own mode only when the cheaper
mode's result is feasible and within this factor of the best feasible trial's value so far, or when it is not
feasible; a design further off keeps the cheaper mode's result (user attribute "fusion" says so). On the 57 designs
of a depth-first co-search (`python benchmarks/bench_depth_first_gain.py DIR`) the depth-first plan scored x0.75 of
the resident one at best, so a design whose resident result is more than x1.33 of the best could not have become
the best by its depth-first plan; x1.5 leaves a margin. About half of a run's trials are further off (the run's
early ones, and CMA-ES's wider draws), and a depth-first plan takes about a sixth of a trial's CPU. In a subnet
search (a fixed network's run is planned in the trial's mode already), for minimised objectives of one study value,
without user-given fused groups (those the trial must check)."""
RESCORED_SUBNETS = 5
"""Under `--factors auto` or a fusion mode, the subnet search ranks subnets on screened runs (`network_run`'s
`screen`: under `--factors auto` the layers that take residual factors searched with 1/8 of the budget; under a
fusion mode, plans whose layers run their layer-wise mappings moved onto their views, no view searched), then this
many of the best are scored again on their own mappings (every layer at its own full search; under a fusion mode, plans
that still search no view: ranking five subnets does not need the views' own mappings, whose searches cost more than
the whole subnet search's plans), and the best of those is the trial's. Both rankings plan in the mode's ranking mode
(`FusionMode.ranked_by`: depth-first ranks by resident plans). The trial's result, the one Optuna sees, is that
subnet's plan in the trial's mode with the views it keeps searched (`evaluate_network` with `fusion.ChosenViews`)."""


def search_cache(settings: CoSearchSettings) -> MappingCache:
    """The layer-cost table the search's trials (and the final phase's polish, which scores designs as they do) map
    with: `settings.mapper`, pool layers with 1/SEARCH_POOL_SHARE of its budget."""
    return MappingCache(settings.mapper, pool_share=SEARCH_POOL_SHARE)


def _key(config) -> str:
    """A subnet's identity within a trial (the fixed network's: "")."""
    return "" if config is None else repr(config.canonical())


REJECTION_KINDS = {"area": "over the area budget or the resources", "fused group": "could not hold a fused group",
                   "mapping": "had no valid mapping of a layer"}
"""Why a trial's design was rejected before it ran (user attribute "reason_kind"), as `finalize` counts them."""


class _Rejected(Exception):
    """A design the trial does not score: over the area budget or the resources (`kind` "area"), a user-given fused
    group it cannot hold ("fused group"), or no valid mapping of a layer ("mapping")."""

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind


class TrialObjective:
    """The callable Optuna optimizes: x in [0,1]^n -> the objective (J*s) of the best run on that accelerator."""

    def __init__(self, settings: CoSearchSettings, worker: int = 0, accuracy: AccuracyModel | None = None) -> None:
        self.settings = settings
        self.worker = worker
        self.space = AcceleratorSpace.for_settings(settings)
        self.accuracy = accuracy if accuracy is not None else accuracy_model(settings)
        self.network = None if settings.searches_subnet else settings.network.build()
        self.extra_networks = [n.build() for n in settings.networks[1:]]
        self.cache = search_cache(settings)
        """The layer-cost table of the trial's accelerator (cleared at each trial: designs do not recur, 0 of 60 in
        a default run) and the warm starts, kept across this worker's trials: consecutive trials propose similar
        accelerators, and each new search starts from the best mappings found so far."""
        self.final_cache = MappingCache(settings.final_mapper)
        """The final mapper's table for the runs near a hard limit (`NEAR_LIMIT_OVERSHOOT`), cleared likewise."""
        self._remapped: set[str] = set()
        """The networks (by `_key`) of this trial whose run counts the final mapper's figures."""
        self._ranking_fusion = get_fusion_mode(settings.fusion, settings.fusion_groups).ranked_by
        """The mode the subnet search's rankings plan in (`FusionMode.ranked_by`)."""

    def __call__(self, trial) -> float | tuple[float, ...]:
        import optuna  # imported where used: see cosearch.search

        t0 = time.perf_counter()
        claim_trial(trial, {**worker_tag(), "index": self.worker})  # first: see fail_orphaned_trials
        try:
            best, evaluated, costs, mapper = self._evaluate(trial)
        except _Rejected as exc:
            trial.set_user_attr("status", "rejected")
            trial.set_user_attr("reason", str(exc))
            trial.set_user_attr("reason_kind", exc.kind)
            raise optuna.TrialPruned(str(exc)) from None
        score = objective(costs, self.settings.limits, self.settings.objective,
                          None if best.config is None else best.accuracy)
        self._record(trial, best, evaluated, costs, score, mapper, time.perf_counter() - t0)
        if self.settings.pareto:
            return point_values(self.settings.pareto, best.accuracy, costs[0].latency_s, costs[0].energy_j,
                                costs[0].area_mm2)
        return score.value

    def _evaluate(self, trial) -> tuple[Candidate, list[Candidate], list[NetworkCost], dict]:
        """The design of the trial's genes, checked, then its best run on each network; raises `_Rejected`."""
        genes = {g: trial.suggest_float(g, 0.0, 1.0) for g in self.space.genes}
        design = self.space.decode(genes, name=f"trial{trial.number}")
        check = self.space.check(design)
        trial.set_user_attr("design", design.to_dict())
        trial.set_user_attr("design_text", design.describe())
        for key, value in design.user_attrs().items():  # the decoded values, with units, for the dashboard
            trial.set_user_attr(key, value)
        trial.set_user_attr("area_mm2", round(check.area_mm2, 4))
        if not check.fits:
            raise _Rejected(check.reason(), "area")
        cache = self.cache
        cache.clear_tables()  # what a trial reads from earlier trials is the warm starts alone (cache_snapshot)
        self.final_cache.clear_tables()
        self._remapped.clear()
        before = (cache.hits, cache.misses)
        try:
            best, evaluated = self._run(trial, design.accelerator, cache)
            network = self.network if best.config is None else to_network(best.config)
            scored = self.final_cache if _key(best.config) in self._remapped else cache
            accuracy = None if best.config is None else best.accuracy
            costs = None
            if self._gated:
                ranked = self._costs(self._ranking_fusion, network, design.accelerator, scored, cache, accuracy)
                beyond = self._beyond_reach(trial.study, ranked, accuracy)
                if beyond is not None:
                    trial.set_user_attr("fusion", f"{self._ranking_fusion}: x{beyond:.3g} of the best trial's "
                                                  f"value, not planned {self.settings.fusion}")
                    costs = ranked
            if costs is None:
                costs = self._costs(self.settings.fusion, network, design.accelerator, scored, cache, accuracy)
            if self.settings.pareto:
                trial.set_user_attr("pareto_points", trial_points(self.settings.pareto, evaluated, check.area_mm2))
        except NoValidMapping as exc:
            raise _Rejected(str(exc), "fused group" if isinstance(exc, GroupDoesNotFit) else "mapping") from None
        hits, misses = cache.hits - before[0], cache.misses - before[1]
        return best, evaluated, costs, {"searches": misses, "lookups": hits + misses,
                                        "hit_rate": round(hits / max(1, hits + misses), 3),
                                        "final_mapper_networks": len(self._remapped)}

    def _costs(self, fusion: str, network, accelerator, scored: MappingCache, cache: MappingCache,
               accuracy: float | None) -> list[NetworkCost]:
        """The trial's result in `fusion`: its network's plan with the views it keeps searched (`ChosenViews`) from
        `scored` (the search's table, or the final mapper's where the run was near a hard limit), then each further
        network's from `cache`."""
        goal, groups, timing = self.settings.mapper_objective, self.settings.fusion_groups, self.settings.timing
        groups = groups if fusion == self.settings.fusion else None
        first = evaluate_network(network, accelerator, scored, goal, accuracy=accuracy, fusion=fusion,
                                 fusion_groups=groups,
                                 search_views=ChosenViews(view_search_settings(scored.settings, goal)), timing=timing)
        return [first] + [evaluate_network(n, accelerator, cache, goal, fusion=fusion, fusion_groups=groups,
                                           search_views=ChosenViews(view_search_settings(cache.settings, goal)),
                                           timing=timing)
                          for n in self.extra_networks]

    @property
    def _gated(self) -> bool:
        """Whether the trial's result may keep its ranking mode's plan (`PLANNED_WITHIN`)."""
        s = self.settings
        return (self.network is None and self._ranking_fusion != s.fusion and not s.pareto
                and not s.objective.maximize and s.fusion_groups is None)

    def _beyond_reach(self, study, costs: list[NetworkCost], accuracy: float | None) -> float | None:
        """The ratio of the ranking mode's result `costs` to the best feasible trial's value where it is feasible and
        more than `PLANNED_WITHIN` times that value; else None (plan in the trial's own mode)."""
        score = objective(costs, self.settings.limits, self.settings.objective, accuracy)
        if not score.feasible:
            return None
        values = [t.value for t in self._feasible_trials(study) if t.value is not None and t.value > 0]
        if not values or score.value <= PLANNED_WITHIN * values[0]:
            return None
        return score.value / values[0]

    def _network_run(self, config, accelerator, cache: MappingCache, screen: bool = False,
                     search_views: "bool | ChosenViews | None" = None) -> RunCost:
        """The network's run under the search's mapper, or, when that run is near a hard limit, the final mapper's
        run if it is closer to the limits (`NEAR_LIMIT_OVERSHOOT`); `screen`: both from screened results;
        `search_views`: `network_run`'s (None: its rule)."""
        limits, goal = self.settings.limits, self.settings.mapper_objective
        network = self.network if config is None else to_network(config)
        fusion, groups = self.settings.fusion, self.settings.fusion_groups
        if search_views is False or (search_views is None and screen):    # a ranking (no view searched)
            fusion, groups = self._ranking_fusion, None
        run = network_run(network, accelerator, cache, goal, fusion, groups, screen, search_views,
                          timing=self.settings.timing)
        over = limits.violation(run.latency_s, run.energy_j)
        if 0.0 < over <= NEAR_LIMIT_OVERSHOOT:
            final = network_run(network, accelerator, self.final_cache, goal, fusion, groups, screen, search_views,
                                timing=self.settings.timing)
            if limits.violation(final.latency_s, final.energy_j) < over:
                if not screen:
                    self._remapped.add(_key(config))
                return final
        return run

    @property
    def _screens(self) -> bool:
        """Whether the subnet search ranks on screened runs (`RESCORED_SUBNETS`)."""
        return self.settings.mapper.factors == "auto" or self.settings.fusion != "none"

    def _rescored(self, evaluated: list[Candidate], accelerator, cache: MappingCache, score) -> Candidate:
        """The best of the `RESCORED_SUBNETS` best screened candidates, each scored again (in place) on its own
        mappings, no view searched."""
        limits = self.settings.limits
        best = sorted((c for c in evaluated if c.run is not None), key=Candidate.rank_key)[:RESCORED_SUBNETS]
        for c in best:
            try:
                c.run = self._network_run(c.config, accelerator, cache, search_views=False)
            except NoValidMapping:
                c.run, c.violation, c.score = None, math.inf, ()
                continue
            c.violation = limits.violation(c.run.latency_s, c.run.energy_j)
            c.score = score(c.accuracy, c.run)
        scored = [c for c in best if c.run is not None]
        if not scored:
            raise NoValidMapping(f"no subnet has a valid mapping on {accelerator.name}")
        return min(scored, key=Candidate.rank_key)

    def _run(self, trial, accelerator, cache) -> tuple[Candidate, list[Candidate]]:
        limits = self.settings.limits
        # seeded by the draw number: a retried trial searches what the interrupted one searched (see draw_number)
        draw = draw_number(trial.study.get_trials(deepcopy=False), trial.number)
        score = self._score(trial, draw)
        if self.network is not None:
            config = self.settings.network.config
            accuracy = math.nan if config is None else self.accuracy.score(config)
            run = self._network_run(config, accelerator, cache,
                                    search_views=ChosenViews(view_search_settings(cache.settings,
                                                                                  self.settings.mapper_objective)))
            c = Candidate(config, accuracy, run, limits.violation(run.latency_s, run.energy_j))
            return c, [c]
        rng = np.random.default_rng([self.settings.seed, draw])
        screen = self._screens
        result = search_subnet(self.accuracy, limits.accuracy,
                               lambda config: self._network_run(config, accelerator, cache, screen),
                               limits, self.settings.evolution, rng, self._seed_subnets(trial.study), score)
        if all(c.run is None for c in result.evaluated):
            raise NoValidMapping(f"no subnet has a valid mapping on {accelerator.name}")
        if screen:
            return self._rescored(result.evaluated, accelerator, cache, score), result.evaluated
        return result.best, result.evaluated

    def _score(self, trial, draw: int):
        """How the subnet search ranks runs: by the objective, or by the trial's own trade-off (`--pareto`, drawn
        by the trial's draw number)."""
        s = self.settings
        if s.pareto:
            best = None if self.accuracy is None or self.network is not None else self.accuracy.best_possible()
            trade_off = trial_trade_off(s.pareto, s.budget.accuracy, best,
                                        np.random.default_rng([s.seed, draw, 1]))
            trial.set_user_attr("trade_off", trade_off.to_dict())
            return trade_off
        return lambda accuracy, run: rank_value(s.objective, run.latency_s, run.energy_j, accuracy)

    def _seed_subnets(self, study) -> list:
        """The subnets of the best feasible trials so far (none in a multi-objective study: each trial aims at its
        own trade-off)."""
        if self.settings.pareto:
            return []
        done = [t for t in self._feasible_trials(study) if t.user_attrs.get("subnet")]
        return [parse_config(t.user_attrs["subnet"], self.settings.space) for t in done[:SEED_SUBNETS]]

    def _feasible_trials(self, study) -> list:
        """The study's complete trials within the budget so far, best first by the objective (one study value)."""
        from optuna.trial import TrialState

        done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.user_attrs.get("feasible")]
        done.sort(key=lambda t: -t.value if self.settings.objective.maximize else t.value)
        return done

    def _record(self, trial, best: Candidate, evaluated: list[Candidate], costs: list[NetworkCost], score: Objective,
                mapper: dict, wall_s: float) -> None:
        cost = costs[0]
        trial.set_user_attr("status", "ok" if score.feasible else "over budget")
        trial.set_user_attr("feasible", score.feasible)
        trial.set_user_attr("network", cost.network.name)
        trial.set_user_attr("macs_m", round(cost.network.macs / 1e6, 3))
        if len(costs) > 1:
            trial.set_user_attr("edp_per_network_j_s", {c.network.name: c.edp_j_s for c in costs})
            trial.set_user_attr("runs_per_network", {c.network.name: [c.latency_s * 1e3, c.energy_j * 1e3]
                                                     for c in costs})   # [ms, mJ]: what the budget judged
        if best.config is not None:
            trial.set_user_attr("subnet", best.config.to_dict())
            trial.set_user_attr("accuracy", round(best.accuracy, 5))
            trial.set_user_attr("accuracy_source", self.accuracy.source.label)  # an estimate says so
            pareto = sorted((c for c in evaluated if c.run is not None), key=Candidate.rank_key)
            trial.set_user_attr("subnets", [[round(c.accuracy, 5), c.edp_j_s, c.feasible]
                                            for c in pareto[:PARETO_POINTS_PER_TRIAL]])
        m = cost.metrics(split_energy=False)
        for key in ("latency_ms", "energy_mj", "edp_j_s", "power_mw", "utilization"):
            trial.set_user_attr(key, m[key])
        if not score.feasible:
            trial.set_user_attr("budget_overshoot", score.violation)
        if self.settings.sampler in ("nsga2", "tpe") and hasattr(trial, "set_constraint"):  # Optuna >= 5
            trial.set_constraint("budget_overshoot", score.violation)  # these samplers rank designs over it last
        trial.set_user_attr("mapper", mapper)
        trial.set_user_attr("wall_s", round(wall_s, 2))
        if self.accuracy is not None:
            self.accuracy.save_memo()
