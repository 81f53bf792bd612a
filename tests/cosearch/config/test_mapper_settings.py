"""The co-search's two mappers: the search's restarts around its best with a wide first step around warm starts,
the final one searches longer with the strategy's defaults; a cache searches with the settings it is given."""
from dataclasses import replace

from cosearch.config import FINAL_MAPPER, SEARCH_MAPPER
from mappings import EvolutionStrategy, MappingCache


def test_the_co_search_mapper_restarts_around_its_best_and_the_final_one_does_not():
    search = MappingCache(SEARCH_MAPPER).settings.to_dict()
    assert search["strategy"] == "es" and search["patience"] == 8 and search["local_restarts"] == 1.0
    assert search["budget_evals"] == 256 and search["seed"] == 0 and search["islands"] == 1
    assert search["seed_sigma"] == 0.2                    # a wider first step around the warm starts
    assert search["cold_islands"] == 4                    # more basins tried where there are no warm starts
    final = FINAL_MAPPER.to_dict()
    assert FINAL_MAPPER.strategy == EvolutionStrategy() and final["budget_evals"] == 4096
    assert final["patience"] == 40 and final["local_restarts"] == 0.5 and final["seed_sigma"] == 0.1


def test_a_cache_takes_another_seed_and_fixed_keep_without_changing_the_settings():
    cache = MappingCache(replace(SEARCH_MAPPER, seed=7, fixed_keep={"GLB": ("Weights",)}))
    assert cache.settings.seed == 7 and cache.settings.fixed_keep == {"GLB": ("Weights",)}
    assert SEARCH_MAPPER.seed == 0 and SEARCH_MAPPER.fixed_keep is None


def test_a_run_whose_workers_each_run_one_trial_searches_with_one_driver(tmp_path):
    """trials <= workers: every worker's first trial is its last and the final phase calls the full driver, so every
    search of the run takes that driver (`EvolutionStrategy.perfect_driver` off, both mappers); a run with a second
    trial keeps the perfect-factor driver. No result depends on it: the study's identity is the same."""
    from cosearch import make_settings

    short = make_settings("area=5mm2", trials=2, workers=2, out=tmp_path / "a")
    longer = make_settings("area=5mm2", trials=3, workers=2, out=tmp_path / "b")
    assert not short.mapper.strategy.perfect_driver and not short.final_mapper.strategy.perfect_driver
    assert longer.mapper.strategy.perfect_driver and longer.final_mapper.strategy.perfect_driver
    assert short.identity() == longer.identity() and "perfect_driver" not in short.mapper.to_dict()
