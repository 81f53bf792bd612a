"""An interrupt whose KeyboardInterrupt a C callback swallowed (numba's compiler calls one) is not lost: the search
raises it after the next layer's mapping."""
import pytest

from accel_models import get_preset
from cosearch.search import interrupts
from cosearch.search.evaluate import network_run
from mappings import MapperSettings, MappingCache
from nets import Layer, Network


def test_a_recorded_signal_stops_the_next_network_run(monkeypatch):
    signals: list[int] = []
    monkeypatch.setattr(interrupts, "_requested", signals)
    net = Network("two", [Layer.conv(8, 8, 3, 8, name="a"), Layer.conv(8, 16, 1, 8, name="b")])
    cache = MappingCache(MapperSettings(budget_evals=16))
    acc = get_preset("eyeriss")
    assert network_run(net, acc, cache).latency_s > 0          # nothing recorded: runs
    signals.append(15)                                           # a SIGTERM whose exception was swallowed
    with pytest.raises(KeyboardInterrupt):
        network_run(net, acc, cache)
