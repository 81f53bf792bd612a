"""Carrying a mapping to another accelerator (`mappings.transfer_mapping`): levels matched by name, factors kept."""
import numpy as np

from accel_models import Accelerator, MappingArrays, StorageLevel
from mappings.transfer import transfer_mapping
from nets import DIMS


def _acc(*levels):
    return Accelerator("t", tuple(levels), mac_energy_pj=0.2)


def test_levels_by_name_factors_kept_and_keeps_those_the_target_allows():
    dram = StorageLevel("DRAM", kind="DRAM")
    source = _acc(dram, StorageLevel("GLB", capacity_words=4096, fanout_x=4, fanout_y=2),
                  StorageLevel("L1", capacity_words=256), StorageLevel("RF", capacity_words=16, kind="regfile"))
    target = _acc(dram, StorageLevel("GLB", capacity_words=8192),                     # no fan-out here
                  StorageLevel("RF", capacity_words=32, keeps=("Weights",), kind="regfile", fanout_x=2))
    m = MappingArrays.empty(1, 4)
    K, P, C = DIMS.index("K"), DIMS.index("P"), DIMS.index("C")
    m.temporal[0, 0, K], m.temporal[0, 1, P], m.temporal[0, 2, C], m.temporal[0, 3, K] = 2, 7, 3, 5
    m.spatial_x[0, 1, K], m.spatial_y[0, 1, C] = 4, 2
    m.order[0, 1] = np.roll(np.arange(8), 3)
    m.keep[0, 2] = (0, 1, 1)
    out = transfer_mapping(m, source, target)
    assert out.num_levels == 3
    # GLB has no fan-out on the target: its spatial factors become temporal there; L1 (not on the target)
    # passes its factors to the next outer level the target has, GLB.
    assert out.temporal[0, 1, P] == 7 and out.temporal[0, 1, K] == 4 and out.temporal[0, 1, C] == 2 * 3
    assert (out.spatial_x[0, 1] == 1).all() and (out.spatial_y[0, 1] == 1).all()
    assert out.temporal[0, 0, K] == 2 and out.temporal[0, 2, K] == 5
    whole = out.temporal.prod(axis=1) * out.spatial_x.prod(axis=1) * out.spatial_y.prod(axis=1)
    before = m.temporal.prod(axis=1) * m.spatial_x.prod(axis=1) * m.spatial_y.prod(axis=1)
    assert (whole == before).all()
    assert (out.order[0, 1] == m.order[0, 1]).all()
    assert out.keep[0, 2].tolist() == [1, 0, 0] and out.keep[0, 0].tolist() == [1, 1, 1]
