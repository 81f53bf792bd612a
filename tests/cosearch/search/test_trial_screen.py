"""Under --factors auto a trial's subnet search ranks screened runs, then scores the best few again on their own
mappings (`trial.RESCORED_SUBNETS`)."""
import math
from types import SimpleNamespace

import pytest

from cosearch.config.builder import make_settings
from cosearch.search import trial as trial_module
from cosearch.search.evaluate import NoValidMapping, RunCost
from cosearch.search.subnets import Candidate
from cosearch.search.trial import RESCORED_SUBNETS, TrialObjective


@pytest.fixture
def rescore(monkeypatch):
    """`TrialObjective._rescored` over stand-in runs: subnet i's own run takes `own_ms[i]` ms, its screened run
    `screened_ms[i]` (a run of None: no valid mapping)."""
    own_ms = {}
    calls = []

    def fake_run(network, accelerator, cache, goal, fusion="none", fusion_groups=None, screen=False,
                 search_views=None, timing="timeloop"):
        assert not screen                       # the scores again are the runs on the layers' own mappings
        assert search_views is False            # ... with no view searched (the trial's result searches them)
        calls.append(network)
        if own_ms[network] is None:
            raise NoValidMapping("none")
        return RunCost(round(own_ms[network] * 1e6), 1e-3, 1.0)

    monkeypatch.setattr(trial_module, "network_run", fake_run)
    monkeypatch.setattr(trial_module, "to_network", lambda config: config)
    settings = make_settings("area<=5mm2", workers=1)
    assert settings.mapper.factors == "auto"
    objective = TrialObjective(settings, accuracy=object())
    assert objective._screens

    def run(screened_ms: list[float], own: list[float | None]):
        own_ms.clear()
        own_ms.update(enumerate(own))
        calls.clear()
        evaluated = [Candidate(i, 0.8, RunCost(round(ms * 1e6), 1e-3, 1.0)) for i, ms in enumerate(screened_ms)]
        best = objective._rescored(evaluated, SimpleNamespace(name="fake"), objective.cache,
                                   lambda accuracy, run: (run.edp_j_s,))
        return best, evaluated, sorted(calls)
    return run


def test_the_best_screened_subnets_are_scored_again_and_the_best_own_run_wins(rescore):
    n = RESCORED_SUBNETS + 3
    screened = [10.0 + i for i in range(n)]                 # subnet 0 screens best ...
    own = [12.0] * n
    own[RESCORED_SUBNETS - 1] = 5.0                         # ... the last one scored again is best on its own
    own[RESCORED_SUBNETS] = 1.0                             # past the cut: never scored again
    best, evaluated, calls = rescore(screened, own)
    assert calls == list(range(RESCORED_SUBNETS))
    assert best.config == RESCORED_SUBNETS - 1 and best.run.latency_s == pytest.approx(5e-3)
    assert evaluated[0].run.latency_s == pytest.approx(12e-3)          # updated in place
    assert evaluated[RESCORED_SUBNETS].run.latency_s == pytest.approx((10.0 + RESCORED_SUBNETS) * 1e-3)


def test_a_rescored_subnet_without_a_valid_mapping_drops_out(rescore):
    best, evaluated, _ = rescore([1.0, 2.0], [None, 3.0])
    assert best.config == 1 and evaluated[0].run is None and math.isinf(evaluated[0].violation)
    with pytest.raises(NoValidMapping):
        rescore([1.0], [None])


class _Trial:
    """The part of an Optuna trial that `TrialObjective._evaluate` reads before its design is checked."""

    number = 0

    def __init__(self, genes: dict) -> None:
        self.genes, self.user_attrs = genes, {}

    def suggest_float(self, name, low, high):
        return self.genes[name]

    def set_user_attr(self, key, value):
        self.user_attrs[key] = value


def test_a_design_over_the_area_budget_is_rejected_before_any_subnet_or_mapping(monkeypatch):
    import numpy as np

    def never(*args, **kwargs):
        raise AssertionError("a rejected design built a subnet or mapped a layer")

    monkeypatch.setattr(trial_module, "to_network", never)
    monkeypatch.setattr(trial_module, "network_run", never)
    monkeypatch.setattr(trial_module, "search_subnet", never)
    objective = TrialObjective(make_settings("area<=5mm2", workers=1), accuracy=object())
    rng = np.random.default_rng(0)
    genes = next(g for g in (objective.space.sample(rng) for _ in range(200))
                 if not objective.space.check(objective.space.decode(g)).fits)
    trial = _Trial(genes)
    with pytest.raises(trial_module._Rejected, match="area"):
        objective._evaluate(trial)
    assert trial.user_attrs["area_mm2"] > 5.0 and objective.cache.lookups == 0


def test_the_search_maps_pools_with_a_share_of_its_budget_and_other_layers_with_all_of_it():
    """The trials' layer-cost table (`trial.search_cache`, also the polish's) searches a pool layer with
    1/SEARCH_POOL_SHARE of the search mapper's budget, any other layer with the whole budget."""
    from dataclasses import replace

    from accel_models import get_preset
    from cosearch.config import SEARCH_POOL_SHARE
    from nets import Layer

    settings = replace(make_settings("area<=5mm2", workers=1), mapper=replace(make_settings().mapper, budget_evals=64))
    objective = TrialObjective(settings, accuracy=object())
    assert SEARCH_POOL_SHARE > 1 and objective.cache.pool_share == SEARCH_POOL_SHARE
    cache = trial_module.search_cache(settings)
    acc = get_preset("eyeriss")
    assert cache.result(Layer.pool(96, 14, 1, 14), acc).evaluations == 64 // SEARCH_POOL_SHARE
    assert cache.result(Layer(R=3, S=3, P=14, Q=14, G=96), acc).evaluations == 64


def test_a_fused_search_screens_subnets_with_no_view_searched_and_plans_the_best_in_full():
    """Under a fusion mode (even without --factors auto) the subnet search screens: `network_run(screen=True)` plans
    with the cache's screened results and no view search, `network_run(screen=False)` searches every view."""
    from dataclasses import replace

    import cosearch.fusion.runs as runs_module
    from accel_models import get_preset
    from cosearch.search.evaluate import network_run
    from nets import Layer, Network

    settings = make_settings("area<=5mm2", workers=1, fusion="resident")
    settings = replace(settings, mapper=replace(settings.mapper, factors="perfect", budget_evals=64))
    assert TrialObjective(settings, accuracy=object())._screens
    assert not TrialObjective(replace(settings, fusion="none"), accuracy=object())._screens

    searched = []
    real = runs_module.view_search
    runs_module.view_search = lambda *args: searched.append(args) or real(*args)
    try:
        net = Network("chain", [Layer.conv(16, 32, 3, 14, name="a"), Layer.conv(32, 32, 1, 14, name="b"),
                                Layer.conv(32, 16, 1, 14, name="c")])
        acc, cache = get_preset("edge_tpu_like"), trial_module.search_cache(settings)
        screened = network_run(net, acc, cache, "edp", "resident", screen=True)
        assert not searched and screened.latency_s > 0
        full = network_run(net, acc, cache, "edp", "resident")
        assert searched                        # every view the plan meets is searched
        assert full.latency_s * full.energy_j <= screened.latency_s * screened.energy_j * (1 + 1e-9)
    finally:
        runs_module.view_search = real


@pytest.mark.parametrize("fusion, ranked_by", [("none", "none"), ("resident", "resident"),
                                               ("depth-first", "resident")])
def test_a_trial_ranks_subnets_by_its_modes_ranking_mode_and_plans_the_chosen_one_in_its_own(monkeypatch, fusion,
                                                                                            ranked_by):
    """The subnet search's screens and the rescoring of the best few (no view searched) plan in the mode's ranking
    mode (`FusionMode.ranked_by`: depth-first ranks by resident plans, its DP being run only on the subnet a trial
    keeps); a run with the views it keeps searched (`ChosenViews`, a fixed network's trial) plans in the trial's own
    mode."""
    from cosearch.fusion import ChosenViews, view_search_settings

    modes = []

    def fake_run(network, accelerator, cache, goal, fusion="none", fusion_groups=None, screen=False,
                 search_views=None, timing="timeloop"):
        modes.append((fusion, fusion_groups))
        return RunCost(1_000_000, 1e-3, 1.0)

    monkeypatch.setattr(trial_module, "network_run", fake_run)
    monkeypatch.setattr(trial_module, "to_network", lambda config: config)
    objective = TrialObjective(make_settings("area<=5mm2", workers=1, fusion=fusion), accuracy=object())
    acc = SimpleNamespace(name="fake")
    objective._network_run("subnet", acc, objective.cache, screen=True)
    objective._network_run("subnet", acc, objective.cache, search_views=False)
    assert modes == [(ranked_by, None)] * 2
    modes.clear()
    objective._network_run("subnet", acc, objective.cache,
                           search_views=ChosenViews(view_search_settings(objective.cache.settings, "edp")))
    assert modes == [(fusion, None)]


@pytest.mark.slow
def test_a_modes_ranking_mode_never_scores_a_network_better_than_the_mode_itself():
    """`FusionMode.ranked_by` names a registered mode whose totals score each network at least as high (EDP) as the
    mode's own: a subnet the ranking keeps out could not have won in the mode itself on that score. Depth-first on
    small-buffer chips, where its groups win over the resident plan."""
    from dataclasses import replace

    from accel_models import get_preset
    from cosearch.fusion import FUSION_MODES, get_fusion_mode
    from nets import get_space, sample_configs

    settings = make_settings("area<=5mm2", workers=1)
    cache = trial_module.search_cache(replace(settings, mapper=replace(settings.mapper, budget_evals=64)))
    space = get_space("ofa-mbv3")
    networks = [space.network(c) for c in sample_configs(space, 2, rng=3)]
    below = 0
    for name, mode in FUSION_MODES.members().items():
        ranking = get_fusion_mode(mode.ranked_by)
        for preset in ("nvdla_256", "eyeriss"):
            acc = get_preset(preset)
            for net in networks:
                cycles, energy = mode.totals(net, acc, cache, "edp")
                rank_cycles, rank_energy = ranking.totals(net, acc, cache, "edp")
                assert cycles * energy <= rank_cycles * rank_energy * (1 + 1e-9), (name, preset, net.name)
                below += cycles * energy < rank_cycles * rank_energy * (1 - 1e-6)
    assert below > 0        # depth-first's groups beat the resident plan somewhere: the bound is not an identity
