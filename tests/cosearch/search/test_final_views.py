"""The final phase scores every row it compares, its candidates and the presets, by one rule: plans with the views
they keep searched with the final mapper's settings (`finalize.final_views`)."""
from accel_models import get_preset
from cosearch.config.builder import make_settings
from cosearch.search.evaluate import evaluate_network
from cosearch.search.finalize import _final_scored, _preset_runs, final_views
from mappings import MappingCache


def test_candidates_and_presets_are_planned_with_the_views_their_plans_keep():
    settings = make_settings("area<=5mm2", network="mobilenet_v2", fusion="resident", mapper_evals=16,
                             final_mapper_evals=16, workers=1)
    cache = MappingCache(settings.final_mapper)
    network, chip = settings.network.build(), get_preset("nvdla_256")
    views = final_views(cache)
    assert views.settings is cache.settings and views.share == 1.0
    [preset] = _preset_runs(settings, network, cache, ["nvdla_256"])
    _, candidate, _ = _final_scored(settings, chip, [network], None, cache)
    kept = evaluate_network(network, chip, cache, settings.mapper_objective, fusion="resident", search_views=views)
    every = evaluate_network(network, chip, cache, settings.mapper_objective, fusion="resident", search_views=True)
    assert preset.cost.edp_j_s == candidate.edp_j_s == kept.edp_j_s
    assert every.edp_j_s != kept.edp_j_s       # x0.92 here: 16-evaluation searches of every view tried
