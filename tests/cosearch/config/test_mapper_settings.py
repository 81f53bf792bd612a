"""The mapper settings reach the mapping cache that searches with them."""
from cosearch.config import FINAL_MAPPER, MapperSettings


def test_the_co_search_mapper_restarts_around_its_best_and_the_final_one_does_not():
    cache = MapperSettings().cache()
    assert cache.settings["patience"] == 8 and cache.settings["local_restarts"] == 1.0
    assert cache.settings["budget_evals"] == 256 and cache.settings["seed"] == 0
    assert cache.settings["seed_sigma"] == 0.2                    # a wider first step around the warm starts
    final = FINAL_MAPPER.cache().settings
    assert final["patience"] == 40 and final["local_restarts"] == 0.5 and final["budget_evals"] == 4096
    assert final["seed_sigma"] == 0.1


def test_a_cache_takes_another_seed_and_fixed_keep_without_changing_the_settings():
    settings = MapperSettings(budget_evals=64)
    cache = settings.cache(seed=7, fixed_keep={"GLB": ("Weights",)})
    assert cache.settings["seed"] == 7 and cache.settings["fixed_keep"] == {"GLB": ("Weights",)}
    assert settings.seed == 0 and "fixed_keep" not in settings.cache().settings
