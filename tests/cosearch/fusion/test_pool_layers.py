"""Pool layers (`Layer.pool`) in depth-first groups: a pool is tiled as the depthwise layer it is (its window's halo,
its stride), held to the literal references of `test_tiling` and `test_group_walker` on chains that hold pools."""
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosearch.fusion.tiling import schedule
from nets import Layer

from _group_walker import walk_group
from test_group_walker import _check_group
from test_tiling import _check, chains


@st.composite
def pool_chains(draw):
    """`test_tiling.chains` with each depthwise layer a pool or not (a pool has the depthwise's loop nest)."""
    layers, tile, halo = draw(chains())
    pooled = tuple(replace(layer, is_pool=True) if layer.kind == "depthwise" and draw(st.booleans()) else layer
                   for layer in layers)
    return pooled, tile, halo


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(pool_chains())
def test_a_chain_with_pools_is_scheduled_as_the_row_by_row_walk(case):
    _check(case)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(pool_chains(), st.booleans(), st.integers(-64, 2048))
def test_a_group_with_pools_moves_what_the_literal_walk_moves(case, with_weights, slack):
    layers, tile, halo = case
    need = walk_group(layers, tile, halo, False).peak_intermediate_words
    need += sum(layer.param_words for layer in layers) if with_weights else 0
    _check_group(layers, tile, halo, max(16, need + slack))


def test_a_max_pools_halo_and_stride_in_a_worked_chain():
    """3x3 conv (same, 16 rows) -> 3x3 max pool, stride 2, no padding (7 rows), tiles of 2 pool rows: the pool's
    rows 2t, 2t+1 read conv rows 4t .. 4t+4, so the recompute schedule computes 5, 5, 5 and 3 conv rows, the cache
    schedule 5, 4, 4 and 2 (the shared row once); the same as for a depthwise layer of that shape."""
    conv = Layer.conv(4, 8, 3, 16, name="c")
    pool = Layer.pool(8, 3, 7, 2, name="p")
    depthwise = Layer.conv(8, 8, 3, 7, 2, groups=8, name="d")
    for halo, rows in (("recompute", [5, 5, 5, 3]), ("cache", [5, 4, 4, 2])):
        fast = schedule((conv, pool), 2, halo)
        assert [computed[0] for computed in fast.computed] == rows
        assert [computed[1] for computed in fast.computed] == [2, 2, 2, 1]
        assert fast == schedule((conv, depthwise), 2, halo)
