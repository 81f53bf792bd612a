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


def _fields(maps: MappingArrays) -> dict[str, np.dtype]:
    return {name: a.dtype for name, a in zip(MappingArrays._fields, maps.with_residuals())}


@pytest.mark.parametrize("make", [
    pytest.param(lambda: MappingArrays.empty(1, 3), id="empty, one"),
    pytest.param(lambda: MappingArrays.empty(5, 3), id="empty, five"),
    pytest.param(lambda: MappingArrays(*MappingArrays.empty(2, 3)[:6]), id="residuals filled in"),
    pytest.param(lambda: random_valid_mappings(LAYER, ACC, 8, rng=0), id="random_valid_mappings"),
    pytest.param(lambda: Encoding(LAYER, ACC).decode(np.random.default_rng(0).random((4, Encoding(LAYER, ACC).size))),
                 id="decode, perfect"),
    pytest.param(lambda: Encoding(LAYER, ACC, factors="residual").decode(
        np.random.default_rng(0).random((4, Encoding(LAYER, ACC, factors="residual").size))), id="decode, residual"),
])
def test_producers_build_rows_of_the_kernel_type(make):
    dtypes = _fields(make())
    assert all(dt == MAPPING_DTYPE for dt in dtypes.values()), dtypes


def test_a_search_result_and_its_round_trip_keep_the_kernel_type():
    found = best_mapping(LAYER, ACC, budget_evals=64, seed=0)
    assert all(dt == MAPPING_DTYPE for dt in _fields(found.arrays).values())
    back = MapperResult.from_dict(found.to_dict(), LAYER, ACC)
    assert all(dt == MAPPING_DTYPE for dt in _fields(back.arrays).values())
    again = Mapping.from_arrays(back.arrays).to_arrays(ACC)
    assert all(dt == MAPPING_DTYPE for dt in _fields(again).values())
    np.testing.assert_array_equal(again.temporal, found.arrays.temporal)


def test_every_bound_a_layer_takes_fits_the_row_type():
    """The kernel no longer checks ends against `MAX_BOUND`, and `evaluate_batch` refuses only what int32 cannot
    hold: both rest on the largest bound fitting `MAPPING_DTYPE`."""
    assert MAX_BOUND <= np.iinfo(MAPPING_DTYPE).max
