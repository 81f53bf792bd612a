"""The exhaustive strategy in residual mode: it enumerates the residual space the decode reaches (balanced tiles of
what is left, canonical residual ends), so its optimum is at or below the perfect optimum and any residual search."""
import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel
from accel_models.reference import evaluate, uniform_instances
from accel_models.result import OK
from mappings import Encoding, best_mapping
from mappings.exhaustive import ExhaustiveSpace
from nets import Layer

DRAM = StorageLevel("DRAM", read_energy_pj=100.0, write_energy_pj=100.0, update_energy_pj=100.0)
ONE_BUFFER = Accelerator("one_buffer", (DRAM, StorageLevel("Buf", capacity_words=24, read_energy_pj=1.0,
                                                           write_energy_pj=1.0, update_energy_pj=1.0)), 1.0)
FOUR_PES = Accelerator("four_pes", (StorageLevel("DRAM"), StorageLevel("GLB", capacity_words=32, fanout_x=4),
                                    StorageLevel("RF", capacity_words=6)), 1.0)


def _key(m: MappingArrays, b: int) -> bytes:
    """Mapping b up to the order of loops with end 1 (which change nothing): factors, residual ends, keep, and per
    level the order of its temporal loops with end > 1, then of its Y and of its X loops with end > 1."""
    parts = [np.asarray(a[b], dtype=np.int64).tobytes() for a in (m.temporal, m.spatial_x, m.spatial_y, m.keep,
                                                                   m.temporal_residual, m.spatial_x_residual,
                                                                   m.spatial_y_residual)]
    for l in range(m.num_levels):
        parts.append(bytes([d for d in m.order[b, l] if m.temporal[b, l, d] > 1] + [255]))
        parts.append(bytes([d for d in m.spatial_order[b, l] if m.spatial_y[b, l, d] > 1] + [255]))
        parts.append(bytes([d for d in m.spatial_order[b, l] if m.spatial_x[b, l, d] > 1] + [255]))
    return b"".join(parts)


def test_the_residual_optimum_beats_the_perfect_one_where_a_prime_map_overflows():
    """R = S = 3 over a 13 x 5 map through a 24-word buffer, no fan-out (every mapping is of the temporal class, which
    the kernel counts): the perfect space's best is beaten by a residual tile of P, and a residual CMA-ES run cannot
    beat the residual space's best, which holds every mapping the decode gives."""
    layer = Layer(R=3, S=3, P=13, Q=5, name="prime_map")
    residual = best_mapping(layer, ONE_BUFFER, strategy="exhaustive", factors="residual")
    perfect = best_mapping(layer, ONE_BUFFER, strategy="exhaustive", factors="perfect")
    searched = best_mapping(layer, ONE_BUFFER, strategy="cmaes", factors="residual", budget_evals=1000, seed=0)
    space = ExhaustiveSpace(Encoding(layer, ONE_BUFFER, factors="residual"))
    assert residual.evaluations == space.size > 10 * ExhaustiveSpace(Encoding(layer, ONE_BUFFER)).size
    assert residual.valid and perfect.valid and searched.valid
    assert residual.edp_pj_cycles < perfect.edp_pj_cycles * 0.99, (residual.edp_pj_cycles, perfect.edp_pj_cycles)
    assert residual.edp_pj_cycles <= searched.edp_pj_cycles
    assert not residual.arrays.is_perfect()[0]


@pytest.mark.slow
def test_the_residual_space_holds_every_decode_and_its_walk_optimum_every_search(shape_ok):
    """Four PEs, P = 7 and K = 3: every enumerated mapping passes the kernel's shape check, every residual decode of
    random genes is one of them, and the walk's optimum over them (the spatial class included, which only the walk
    counts) is at or below the perfect space's and a residual CMA-ES run's (which the kernel scores)."""
    layer = Layer(P=7, K=3, name="seven_by_three")
    enc = Encoding(layer, FOUR_PES, bypass="none", factors="residual")
    keys, best, spatial_class = set(), {"perfect": np.inf, "residual": np.inf}, 0
    for mode in ("perfect", "residual"):
        for chunk in ExhaustiveSpace(Encoding(layer, FOUR_PES, bypass="none", factors=mode)).chunks():
            for b in range(chunk.batch_size):
                assert shape_ok(layer, FOUR_PES, chunk, b)
                walk = evaluate(layer, FOUR_PES, chunk, b)
                if walk.reason == OK:
                    best[mode] = min(best[mode], walk.energy_pj * walk.cycles)
                if mode == "residual":
                    keys.add(_key(chunk, b))
                    spatial_class += not uniform_instances(chunk, b)
    assert spatial_class > 0
    decoded = enc.decode(np.random.default_rng(0).random((400, enc.size)))
    assert not decoded.is_perfect().all()
    for b in range(decoded.batch_size):
        assert _key(decoded, b) in keys, b
    searched = best_mapping(layer, FOUR_PES, strategy="cmaes", factors="residual", budget_evals=1000, seed=0,
                            bypass="none")
    assert searched.valid
    assert best["residual"] <= best["perfect"] and best["residual"] <= searched.edp_pj_cycles * (1 + 1e-12)
    assert best["residual"] < best["perfect"]          # here a spatial residual pays: 4 PEs on 7 outputs


def test_the_size_guard_counts_the_residual_space():
    layer = Layer(R=3, S=3, P=13, Q=5, name="prime_map")
    ExhaustiveSpace(Encoding(layer, ONE_BUFFER), max_mappings=5_000).check()
    with pytest.raises(ValueError, match="mappings that fit the buffers"):
        ExhaustiveSpace(Encoding(layer, ONE_BUFFER, factors="residual"), max_mappings=5_000).check()
