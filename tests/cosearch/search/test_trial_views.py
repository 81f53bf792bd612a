"""A co-search trial with a fusion mode ranks runs whose views are searched by the searches' one rule
(`fusion.view_search_settings`), and records the figures it ranked."""
import numpy as np
import pytest

from cosearch.config.builder import make_settings
from cosearch.search.evaluate import network_run
from cosearch.search.trial import TrialObjective


def test_a_resident_trial_records_the_figures_it_ranked_with_views_searched():
    optuna = pytest.importorskip("optuna")
    settings = make_settings("area<=5mm2", network="mobilenet_v2", fusion="resident", mapper_evals=16,
                             final_mapper_evals=16, workers=1)
    objective = TrialObjective(settings)
    rng = np.random.default_rng(0)
    fits = [g for g in (objective.space.sample(rng) for _ in range(200))
            if objective.space.check(objective.space.decode(g)).fits]

    def glb_words(genes) -> int:
        words = objective.space.decode(genes).to_dict()["glb_words"]
        return sum(words.values()) if isinstance(words, dict) else words
    study = optuna.create_study()
    study.enqueue_trial(max(fits, key=glb_words))       # the largest buffer drawn: most stays on chip
    best, _, costs, _ = objective._evaluate(study.ask())
    assert best.run.cycles == costs[0].cycles
    assert best.run.energy_pj == pytest.approx(costs[0].energy_pj, rel=1e-12)
    priced = network_run(costs[0].network, costs[0].accelerator, objective.cache, settings.mapper_objective,
                         "resident", search_views=False)
    assert priced.edp_pj_cycles > 1.05 * best.run.edp_pj_cycles      # x1.23 here: the moved mappings only priced
