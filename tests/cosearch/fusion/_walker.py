"""The literal reference of depth-first tiling (`tiling.schedule`): tile by tile, row by row.

For each tile it marks every output row of the last layer, then, layer by layer backwards, every input row each
needed row reads (row q of layer j reads rows q * s + k * dilation - pad for k in 0..S-1 of the previous layer's
output, those that exist), keeps a set of the rows each intermediate layer holds on chip (a tile's rows being, as every tile in the cost model,
the bounding box of what it reads), computes the rows it lacks
(every needed row again in `recompute` mode) and, after the tile, drops the rows no later tile reads (every row in
`recompute` mode). An intermediate tensor's rows held during a tile are counted in its reader's frame: the rows on
chip and the reader's input-box rows (padding included) together. Slow (a Python set per layer and tile) and obvious: tests hold `schedule` to it.
"""
from __future__ import annotations

from nets import Layer

from cosearch.fusion.tiling import TileSchedule, by_tokens, input_height, output_rows, pad_top


def read_rows(layer: Layer, rows: set[int], rows_before: int) -> set[int]:
    """The rows of its producer's output (of `rows_before`) that `layer`'s output `rows` read, as the cost model's
    tile: the bounding box of the rows q * stride + k * dilation - pad that exist (R1: a strided window's box counts
    the rows it skips); token q reads token q for a layer by tokens."""
    if by_tokens(layer):
        return {q for q in rows if q < rows_before}
    pad = pad_top(layer, rows_before)
    out = set()
    for q in rows:
        for k in range(layer.S):
            r = q * layer.stride_h + k * layer.dilation_h - pad
            if 0 <= r < rows_before:
                out.add(r)
    return set(range(min(out), max(out) + 1)) if out else set()


def box_rows(layer: Layer, rows: set[int]) -> set[int]:
    """The rows of `layer`'s input box, in its own frame (row 0 its first row, padding included), that its output
    `rows` read: the bounding box of every q * stride + k * dilation (the tile layer's input box)."""
    if by_tokens(layer):
        return set(rows)
    touched = {q * layer.stride_h + k * layer.dilation_h for q in rows for k in range(layer.S)}
    return set(range(min(touched), max(touched) + 1)) if touched else set()


def needed_rows(layers: tuple[Layer, ...], tile_rows: int) -> list[list[set[int]]]:
    """Per tile of `tile_rows` output rows of the last layer, the rows of each layer's output the tile needs, found
    backwards from the tile's rows (`read_rows`)."""
    n = len(layers)
    before = [input_height(layers[0])] + [output_rows(layer) for layer in layers[:-1]]
    last_rows = output_rows(layers[-1])
    needed = []
    for lo in range(0, last_rows, tile_rows):
        need = [set() for _ in range(n)]
        need[n - 1] = set(range(lo, min(last_rows, lo + tile_rows)))
        for j in range(n - 1, 0, -1):
            need[j - 1] = read_rows(layers[j], need[j], before[j])
        needed.append(need)
    return needed


def walk_rows(layers: tuple[Layer, ...], tile_rows: int, halo: str) -> TileSchedule:
    n = len(layers)
    held: list[set[int]] = [set() for _ in range(n)]
    producers_rows = [input_height(layers[0])] + [output_rows(layer) for layer in layers[:-1]]

    def reads(j: int, rows: set[int]) -> set[int]:
        return read_rows(layers[j], rows, producers_rows[j])

    needed_per_tile = needed_rows(layers, tile_rows)
    tiles = [need[n - 1] for need in needed_per_tile]

    def box(j: int, rows: set[int]) -> set[int]:
        return box_rows(layers[j], rows)

    pads = [0 if by_tokens(layers[j]) else pad_top(layers[j], producers_rows[j]) for j in range(n)]
    computed, alive, inputs, frames = [], [], [], []
    for t, need in enumerate(needed_per_tile):
        counts, news = [], []
        for j in range(n):
            if halo == "cache" and j < n - 1:
                new = need[j] - held[j]
                held[j] |= new
            else:
                new = need[j]
            counts.append(len(new))
            news.append(new)
        inputs.append(len(reads(0, need[0])))
        computed.append(tuple(counts))
        alive.append(tuple(len(held[j] | need[j]) if halo == "cache" else len(need[j]) for j in range(n)))
        frames.append(tuple(len({r + pads[j + 1] for r in (held[j] | need[j] if halo == "cache" else need[j])}
                                | box(j + 1, news[j + 1])) for j in range(n - 1)))
        later = [set().union(*(needed_per_tile[u][j] for u in range(t + 1, len(tiles)))) for j in range(n)]
        for j in range(n):
            held[j] = held[j] & later[j] if halo == "cache" else set()
    return TileSchedule(tile_rows, halo, tuple(computed), tuple(alive), tuple(inputs), tuple(frames))


__all__ = ["box_rows", "read_rows", "walk_rows"]
