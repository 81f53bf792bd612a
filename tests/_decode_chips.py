"""The chips the decoder's frozen digests run on (`tests/mappings/test_perfect_decode_frozen.py`,
`test_decode_digest.py`): every preset and a tight chip whose small buffers and odd fan-out make the repair and the
fan-out bind. A change here changes both digests."""
from accel_models import Accelerator, StorageLevel, get_preset

PRESETS = ("eyeriss", "nvdla_256", "nvdla_1024", "shidiannao", "edge_tpu_like", "tpu_v1_like")


def digest_accelerators() -> list[Accelerator]:
    tight = Accelerator("tight", (StorageLevel("DRAM"), StorageLevel("GLB", capacity_words=512, fanout_x=6,
                                                                      fanout_y=5),
                                  StorageLevel("RF", capacity_words=10)), 1.0)
    return [get_preset(name) for name in PRESETS] + [tight]
