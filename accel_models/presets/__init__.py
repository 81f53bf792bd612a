"""Baseline accelerators (Eyeriss, NVDLA, ShiDianNao, Edge TPU-like, TPU v1-like) and their summary table."""
from .designs import (EDGE_TPU_TILED, EYERISS_CLOCK_TREE_W, EYERISS_CONTROL_SHARE, OUTPUT_STATIONARY_2D, PRESETS,
                      ROW_STATIONARY, WEIGHT_STATIONARY_CK, edge_tpu_like, eyeriss, eyeriss_chip, get_preset, nvdla_256,
                      nvdla_1024, shidiannao, tpu_v1_like, with_clock_and_control)
from .summary import buffers_summary, table

__all__ = ["PRESETS", "get_preset", "eyeriss", "eyeriss_chip", "with_clock_and_control", "EYERISS_CLOCK_TREE_W",
           "EYERISS_CONTROL_SHARE", "nvdla_256", "nvdla_1024", "shidiannao", "edge_tpu_like",
           "tpu_v1_like", "ROW_STATIONARY", "OUTPUT_STATIONARY_2D", "WEIGHT_STATIONARY_CK", "EDGE_TPU_TILED",
           "buffers_summary", "table"]
