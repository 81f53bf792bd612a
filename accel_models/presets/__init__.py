"""Baseline accelerators (Eyeriss, NVDLA, ShiDianNao, Edge TPU-like, TPU v1-like) and their summary table."""
from .designs import (EDGE_TPU_TILED, OUTPUT_STATIONARY_2D, PRESETS, ROW_STATIONARY, WEIGHT_STATIONARY_CK, edge_tpu_like, eyeriss,
                      get_preset, nvdla_256, nvdla_1024, shidiannao, tpu_v1_like)
from .summary import buffers_summary, table

__all__ = ["PRESETS", "get_preset", "eyeriss", "nvdla_256", "nvdla_1024", "shidiannao", "edge_tpu_like",
           "tpu_v1_like", "ROW_STATIONARY", "OUTPUT_STATIONARY_2D", "WEIGHT_STATIONARY_CK", "EDGE_TPU_TILED",
           "buffers_summary", "table"]
