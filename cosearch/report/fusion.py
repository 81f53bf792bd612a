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


GROUP_COLUMNS = ("group", "layers", "schedule", "activations on chip", "cycles", "energy uJ", "DRAM",
                 "DRAM layer-wise")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def group_schedule(group: dict) -> str:
    """How a group of the summary runs, in words: a depth-first group's tiles (rows of its last layer's output, or
    tokens) and halo mode; over key blocks (attention, `cosearch.fusion.key_blocks`) its query blocks, key blocks and
    key/value heads per block; what it keeps on chip for the whole group (weights; attention's K and V); '-' for a
    group that is not tiled (whole activations on chip, or a layer alone)."""
    tiles = group.get("tiles", 1)
    if tiles <= 1 and not group.get("key_rows"):
        return "-"
    if group.get("key_rows"):
        text = (f"{_plural(tiles, 'query block')} of {_plural(group['tile_rows'], 'token')}, key blocks of "
                f"{_plural(group['key_rows'], 'key')}, {_plural(group['head_rows'], 'key/value head')} at a time")
        kept = [k for k, on in (("weights", group.get("weights_on_chip")), ("K and V", group.get("operands_on_chip")))
                if on]
    else:
        text = f"{_plural(tiles, 'tile')} of {_plural(group['tile_rows'], 'row')}, halo {group['halo']}"
        kept = ["weights"] if group.get("weights_on_chip") else []
    return text + (f"; {', '.join(kept)} on chip" if kept else "")


def group_rows(summary: dict) -> list[list[str]]:
    """One row per group of `summary` (cells as `GROUP_COLUMNS`)."""
    return [[str(i), f"{g['first']}-{g['last']} ({g['layers'][0]} .. {g['layers'][1]})", group_schedule(g),
             _mb(g["activations_on_chip_bytes"]), f"{g['cycles']:,}", f"{g['energy_pj'] * 1e-6:.3f}",
             _mb(g["dram_bytes"]), _mb(g["layer_wise_dram_bytes"])]
            for i, g in enumerate(summary["groups"])]
