"""Every producer of mapping rows builds them in `MAPPING_DTYPE`, the type the compiled kernel is compiled for: a
producer left on int64 would cost every batch a conversion in `evaluate_batch` and fail the searches' direct calls."""
import numpy as np
import pytest

from accel_models import MAPPING_DTYPE, MappingArrays, get_preset
from mappings import Encoding, MapperResult, Mapping, best_mapping, random_valid_mappings
from nets import Layer
from nets.layer import MAX_BOUND

LAYER = Layer.conv(16, 32, 3, 8, name="small")
ACC = get_preset("eyeriss")


def _off_type(maps: MappingArrays) -> dict[str, np.dtype]:
    """The fields of `maps` (residuals filled in) whose type is not `MAPPING_DTYPE`, with their types."""
    return {name: a.dtype for name, a in zip(MappingArrays._fields, maps.with_residuals()) if a.dtype != MAPPING_DTYPE}


def _decoded(factors: str) -> MappingArrays:
    enc = Encoding(LAYER, ACC, factors=factors)
    return enc.decode(np.random.default_rng(0).random((4, enc.size)))


@pytest.mark.parametrize("make", [
    pytest.param(lambda: MappingArrays.empty(1, 3), id="empty, one"),
    pytest.param(lambda: MappingArrays.empty(5, 3), id="empty, five"),
    pytest.param(lambda: MappingArrays(*MappingArrays.empty(2, 3)[:6]), id="residuals filled in"),
    pytest.param(lambda: random_valid_mappings(LAYER, ACC, 8, rng=0), id="random_valid_mappings"),
    pytest.param(lambda: _decoded("perfect"), id="decode, perfect"),
    pytest.param(lambda: _decoded("residual"), id="decode, residual"),
])
def test_producers_build_rows_of_the_kernel_type(make):
    assert _off_type(make()) == {}


def test_a_search_result_and_its_round_trip_keep_the_kernel_type():
    found = best_mapping(LAYER, ACC, budget_evals=64, seed=0)
    assert _off_type(found.arrays) == {}
    back = MapperResult.from_dict(found.to_dict(), LAYER, ACC)
    assert _off_type(back.arrays) == {}
    again = Mapping.from_arrays(back.arrays).to_arrays(ACC)
    assert _off_type(again) == {}
    np.testing.assert_array_equal(again.temporal, found.arrays.temporal)


def test_every_bound_a_layer_takes_fits_the_row_type():
    """The kernel no longer checks ends against `MAX_BOUND`, and `evaluate_batch` refuses only what int32 cannot
    hold: both rest on the largest bound fitting `MAPPING_DTYPE`."""
    assert MAX_BOUND <= np.iinfo(MAPPING_DTYPE).max
