"""The presets compared with a co-searched design: one the network cannot run on is reported with its reason, and
the comparison (and the result) goes on without it."""
from types import SimpleNamespace

from accel_models import get_preset
from accel_models.limits import MAX_CYCLES, traffic_bound_words
from cosearch.report.summary import excluded_presets_text
from cosearch.search.baselines import preset_runs
from mappings import MapperSettings, MappingCache
from nets import Layer, Network


def _dram_bandwidth(name: str) -> float:
    dram = get_preset(name).levels[0]
    return min(b for b in (dram.read_bandwidth, dram.write_bandwidth, dram.shared_bandwidth) if b is not None)


def test_a_layer_too_large_for_a_presets_bandwidth_is_reported_not_raised():
    """A 2**20-cube product needs 16 words/cycle of DRAM bandwidth for its cycles to be countable (an int64 with a
    margin); eyeriss and shidiannao have 4, so neither can run the network, and each says why."""
    huge = Layer.fc(2**20, 2**20, 2**20, name="huge")
    needed = traffic_bound_words(huge) / MAX_CYCLES
    names = ["eyeriss", "shidiannao"]
    assert all(_dram_bandwidth(n) < needed for n in names)
    network = Network("huge_net", [Layer.fc(16, 16, 4, name="small"), huge])
    runs = preset_runs(network, 1000.0, MappingCache(MapperSettings(budget_evals=16)), names=names)
    assert [(r.name, r.fits, r.cost) for r in runs] == [(n, True, None) for n in names]
    for run in runs:
        assert "huge" in run.error and "bandwidth" in run.error and "\n" not in run.error
        assert run.to_dict()["error"] == run.error
    text = excluded_presets_text(SimpleNamespace(presets=runs, settings=SimpleNamespace(
        budget=SimpleNamespace(area_mm2=1000.0))))
    assert text.startswith("could not run the network: eyeriss (") and "shidiannao (" in text
