"""How a network runs under a fusion plan (`NetworkCost.meta["fusion"]`): one line, and the per-group table."""
from __future__ import annotations



def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.3g} MB"


def fusion_line(summary: dict) -> str:
    """'runs with --fusion resident: ...' (groups, what stays on chip, DRAM traffic against layer-wise)."""
    groups = summary["groups"]
    fused = sum(1 for g in groups if g["last"] > g["first"])
    text = (f"runs with --fusion {summary['mode']}: {summary['layers_with_tensors_on_chip']} of {summary['layers']} "
            f"layers keep tensors on chip; {len(groups)} group{'' if len(groups) == 1 else 's'} ({fused} of more than "
            f"one layer); "
            f"{summary['activations_on_chip']} activations stay on chip; weights kept on chip across inferences "
            f"{_mb(summary['pinned_weight_bytes']) if summary['pinned_weight_bytes'] else 'none'}; DRAM "
            f"traffic {_mb(summary['dram_bytes'])} per inference (layer-wise "
            f"{_mb(summary['layer_wise_dram_bytes'])})")
    return text + "".join(f"; {note}" for note in summary["notes"])


GROUP_COLUMNS = ("group", "layers", "activations on chip", "cycles", "energy uJ", "DRAM", "DRAM layer-wise")


def group_rows(summary: dict) -> list[list[str]]:
    """One row per group of `summary` (cells as `GROUP_COLUMNS`)."""
    return [[str(i), f"{g['first']}-{g['last']} ({g['layers'][0]} .. {g['layers'][1]})",
             _mb(g["activations_on_chip_bytes"]), f"{g['cycles']:,}", f"{g['energy_pj'] * 1e-6:.3f}",
             _mb(g["dram_bytes"]), _mb(g["layer_wise_dram_bytes"])]
            for i, g in enumerate(summary["groups"])]
