"""Depth-first tiling of a chain of layers over output rows: which rows each layer computes for each tile.

A group is a chain of consecutive layers (each reads the previous one's output: `groups.chainable`). Its last layer's
output rows (Q, the output height; tokens for a transformer's row-wise layers) are cut into tiles of `tile_rows`
rows, computed one tile at a time through the whole chain, so that only a tile's rows of the intermediate tensors
live on chip. Layer j's output rows [lo, hi) read its input rows [lo * s - pad, (hi - 1) * s + span - pad) of the
previous layer's output (s the vertical stride, span = (S - 1) x dilation + 1, pad its top padding: the cost model
has no padding, so a layer's input box is `pad` rows taller than the rows the previous layer produces), or rather
the bounding box of those of its rows that exist (a dilated window may skip the rows at an edge). A KxK conv's halo (the rows two consecutive tiles both read) is either computed again by every
tile that reads it (`recompute`) or kept on chip from the tile before (`cache`), as DeFiNES (Mei et al., HPCA 2023)
compares; `cache` keeps the intermediate tensors' halos; the group's input comes from where it lives and its halo
rows are read again.

`schedule` computes the rows with interval arithmetic, one step per tile and layer (the fast model);
`walk_rows` (tests/cosearch/fusion/_walker.py) is the literal reference, row by row.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from nets import Layer

from .memo import PRICED_KEPT, LruMemo

HALO_MODES: tuple[str, ...] = ("recompute", "cache")


def by_tokens(layer: Layer) -> bool:
    """Whether the layer's rows are its N (a transformer's tokens: a linear layer or a product of two activations,
    each token's row computed from the same row of its input), not its output height Q."""
    return layer.Q == 1 and layer.S == 1 and (layer.weights_are_activations or layer.kind == "fc")


def output_rows(layer: Layer) -> int:
    """The rows a tile cuts: Q, or N for a layer by tokens."""
    return layer.N if by_tokens(layer) else layer.Q


def input_height(layer: Layer) -> int:
    """Rows of the layer's input box (N for a layer by tokens)."""
    if by_tokens(layer):
        return layer.N
    return (layer.Q - 1) * layer.stride_h + (layer.S - 1) * layer.dilation_h + 1


def pad_top(layer: Layer, rows_before: int) -> int:
    """Rows of `layer`'s input box above the first row its producer computes (`rows_before` rows)."""
    return max(0, input_height(layer) - rows_before) // 2


def input_rows(layer: Layer, lo: int, hi: int, rows_before: int) -> tuple[int, int]:
    """The producer's rows (of `rows_before`) that `layer`'s output rows [lo, hi) read, as [start, stop): the
    bounding box of the rows q * s + k * dilation - pad (q in [lo, hi), k < S) that exist, one step per filter row."""
    if hi <= lo:
        return (0, 0)
    if by_tokens(layer):
        return (lo, min(hi, rows_before))
    pad = pad_top(layer, rows_before)
    s, d = layer.stride_h, layer.dilation_h
    first, last = None, None
    for k in range(layer.S):
        shift = k * d - pad
        q0 = max(lo, -(shift // s))              # the first q with q * s + shift >= 0
        if q0 < hi:
            first = q0 * s + shift if first is None else min(first, q0 * s + shift)
        q1 = min(hi - 1, (rows_before - 1 - shift) // s)   # the last q with q * s + shift < rows_before
        if q1 >= lo and q1 * s + shift >= 0:
            last = q1 * s + shift if last is None else max(last, q1 * s + shift)
    if first is None or last is None or last < first:
        return (0, 0)
    return (first, last + 1)


@dataclass(frozen=True)
class TileSchedule:
    """Per tile, per layer of the group: the rows it computes (`computed[t][j]`) and the rows of its output alive on
    chip during the tile (`alive[t][j]`, the rows the next layer reads for this tile), and the rows of the group's
    input the first layer reads (`input_rows[t]`). `held[t][j]`, per intermediate tensor (the output of layer
    j < last): the rows it occupies on chip during the tile in its reader's frame, its alive rows and the rows of
    the reader's input box (padding included) taken together, since the cost model has no padding: the reader's
    input box is the tensor it reads from the home level, as `graph.Activation.words` counts it."""

    tile_rows: int
    halo: str
    computed: tuple[tuple[int, ...], ...]
    alive: tuple[tuple[int, ...], ...]
    input_rows: tuple[int, ...]
    held: tuple[tuple[int, ...], ...]

    @property
    def tiles(self) -> int:
        return len(self.computed)

    def runs(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per layer of the group, sorted (rows, tiles) pairs: how many tiles run the layer on that many rows (a
        tile that computes none of its rows does not run it)."""
        found: list[dict[int, int]] = [{} for _ in self.computed[0]] if self.computed else []
        for rows in self.computed:
            for j, r in enumerate(rows):
                if r:
                    found[j][r] = found[j].get(r, 0) + 1
        return tuple(tuple(sorted(f.items())) for f in found)

    def peak_intermediate_words(self, layers: tuple[Layer, ...]) -> int:
        """Most words the intermediate tensors (every layer's output but the last's) hold at once: in each tile, every
        intermediate tensor's held rows, each as wide as the larger of its two views (the producer's output row, the
        reader's input-box row: a same-padded reader's is wider), as `graph.Activation.words` takes the largest."""
        words = [row_words(a, b) for a, b in zip(layers, layers[1:])]
        return max(sum(h * w for h, w in zip(held, words)) for held in self.held)


def row_words(producer: Layer, reader: Layer) -> int:
    """Words one row of the tensor `producer` writes and `reader` reads takes on chip: the larger of its two views,
    the producer's output row and the reader's input-box row (a same-padded reader's is wider)."""
    return max(producer.output_words // output_rows(producer), reader.input_words // input_height(reader))


def fewest_held_words(layers: tuple[Layer, ...]) -> tuple[int, ...]:
    """Per intermediate tensor of the chain `layers` (every output but the last's): the fewest words it holds in
    the first tile of any tiling, both halo modes: its reader computes at least one row there and reads that row's
    input box, (S - 1) x dilation + 1 rows (one token by tokens). Their sum bounds every tiling's
    `peak_intermediate_words` from below; a longer chain only adds terms."""
    return tuple((1 if by_tokens(b) else (b.S - 1) * b.dilation_h + 1) * row_words(a, b)
                 for a, b in zip(layers, layers[1:]))


def schedule(layers: tuple[Layer, ...], tile_rows: int, halo: str) -> TileSchedule:
    """The rows each layer of the chain `layers` computes per tile of `tile_rows` output rows of the last layer."""
    if halo not in HALO_MODES:
        raise ValueError(f"halo must be one of {', '.join(HALO_MODES)}, got {halo!r}")
    last_rows = output_rows(layers[-1])
    if not 1 <= tile_rows <= last_rows:
        raise ValueError(f"tile_rows must be an integer in [1, {last_rows}] (the last layer's output rows), got "
                         f"{tile_rows!r}")
    n = len(layers)
    if halo == "recompute" and all(by_tokens(layer) and layer.N == last_rows for layer in layers):
        # a chain by tokens: every layer computes, and every intermediate tensor holds, the tile's tokens
        sizes = tuple(min(last_rows, lo + tile_rows) - lo for lo in range(0, last_rows, tile_rows))
        rows = tuple((size,) * n for size in sizes)
        return TileSchedule(tile_rows, halo, rows, rows, sizes, tuple(r[1:] for r in rows))
    first = layers[0]
    group_input = input_height(first)
    spans_per_tile, inputs = [], []
    for lo in range(0, last_rows, tile_rows):
        spans = [(0, 0)] * n
        spans[n - 1] = (lo, min(last_rows, lo + tile_rows))
        for j in range(n - 1, 0, -1):
            spans[j - 1] = input_rows(layers[j], *spans[j], output_rows(layers[j - 1]))
        box = input_rows(first, *spans[0], group_input)
        inputs.append(box[1] - box[0])
        spans_per_tile.append(spans)
    pads = [0 if by_tokens(b) else pad_top(b, output_rows(a)) for a, b in zip(layers, layers[1:])]
    if halo == "recompute":
        alive = tuple(tuple(b - a for a, b in spans) for spans in spans_per_tile)
        held = tuple(tuple(_held_rows(spans[j], pads[j], layers[j + 1], spans[j + 1]) for j in range(n - 1))
                     for spans in spans_per_tile)
        return TileSchedule(tile_rows, halo, alive, alive, tuple(inputs), held)
    # cache: a tile computes the rows of its box no earlier tile computed, and holds, of the rows computed so far,
    # those it or a later tile reads (boxes need not move monotonically: a dilated window skips edge rows)
    tiles = len(spans_per_tile)
    before: list[list[list[tuple[int, int]]]] = [[[] for _ in range(n)] for _ in range(tiles + 1)]
    after: list[list[list[tuple[int, int]]]] = [[[] for _ in range(n)] for _ in range(tiles + 1)]
    for t in range(tiles):
        before[t + 1] = [_union(before[t][j], spans_per_tile[t][j]) for j in range(n)]
    for t in range(tiles - 1, -1, -1):
        after[t] = [_union(after[t + 1][j], spans_per_tile[t][j]) for j in range(n)]
    computed, alive, held = [], [], []
    for t, spans in enumerate(spans_per_tile):
        computed.append(tuple(_size(before[t + 1][j]) - _size(before[t][j]) if j < n - 1 else spans[j][1] - spans[j][0]
                              for j in range(n)))
        alive.append(tuple(_common(before[t + 1][j], after[t][j]) if j < n - 1 else spans[j][1] - spans[j][0]
                           for j in range(n)))
        # the rows each layer computes in this tile (those no earlier tile did; all of the last layer's tile) read
        # their box of the layer before
        new = [_minus(before[t + 1][j], before[t][j]) if j < n - 1 else [spans[j]] for j in range(n)]
        tile_held = []
        for j in range(n - 1):
            rows = [(a + pads[j], b + pads[j]) for a, b in _meet(before[t + 1][j], after[t][j])]
            if new[j + 1]:
                rows = _union(rows, box_rows(layers[j + 1], new[j + 1][0][0], new[j + 1][-1][1]))
            tile_held.append(_size(rows))
        held.append(tuple(tile_held))
    return TileSchedule(tile_rows, halo, tuple(computed), tuple(alive), tuple(inputs), tuple(held))


def _held_rows(read: tuple[int, int], pad: int, reader: Layer, rows: tuple[int, int]) -> int:
    """Rows a tensor holds in its reader's frame while `reader` computes its output rows `rows` from the tensor's
    rows `read` (`pad`: the reader's top padding): those rows and the reader's input box, padding included."""
    return _size(_union([(read[0] + pad, read[1] + pad)], box_rows(reader, *rows)))


def step_back(producer: Layer, reader: Layer, rows: tuple[int, int]) -> tuple[tuple[int, int], int]:
    """One step of a single tile, backwards: the rows of `producer`'s output that `reader`'s output rows `rows` (as
    [start, stop)) read (`input_rows`), and the rows that tensor then holds on chip in the reader's frame, as
    `schedule` counts them (`TileSchedule.held`)."""
    read = input_rows(reader, *rows, output_rows(producer))
    pad = 0 if by_tokens(reader) else pad_top(reader, output_rows(producer))
    return read, _held_rows(read, pad, reader, rows)


def box_rows(layer: Layer, lo: int, hi: int) -> tuple[int, int]:
    """The rows of `layer`'s input box, in its own frame (row 0 its first row, padding included), that its output
    rows [lo, hi) read, as [start, stop): the tile layer's input box (`tile_layer`)."""
    if hi <= lo:
        return (0, 0)
    if by_tokens(layer):
        return (lo, hi)
    return (lo * layer.stride_h, (hi - 1) * layer.stride_h + (layer.S - 1) * layer.dilation_h + 1)


def _union(intervals: list[tuple[int, int]], new: tuple[int, int]) -> list[tuple[int, int]]:
    """Disjoint sorted intervals `intervals` with `new` added (merged where they touch)."""
    if new[1] <= new[0]:
        return intervals
    out, (a, b) = [], new
    for c, d in intervals:
        if d < a or c > b:
            out.append((c, d))
        else:
            a, b = min(a, c), max(b, d)
    out.append((a, b))
    return sorted(out)


def _size(intervals: list[tuple[int, int]]) -> int:
    return sum(b - a for a, b in intervals)


def _meet(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The rows in both sets of disjoint sorted intervals, as disjoint sorted intervals."""
    return sorted((max(a, c), min(b, d)) for a, b in x for c, d in y if max(a, c) < min(b, d))


def _minus(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The rows of `x` not in `y` (both disjoint sorted intervals), as disjoint sorted intervals."""
    out = []
    for a, b in x:
        for c, d in y:
            if c < b and d > a:
                if c > a:
                    out.append((a, c))
                a = max(a, d)
        if a < b:
            out.append((a, b))
    return out


def _common(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    """Rows in both sets of disjoint intervals."""
    return sum(max(0, min(b, d) - max(a, c)) for a, b in x for c, d in y)


def tile_layer(layer: Layer, rows: int) -> Layer:
    """`layer` computing `rows` of its output rows (the layer a tile runs); remembered per process (a planner asks
    for the same tile of a layer in every group and tiling that holds it, and a new `Layer` is checked field by
    field), by the layer's shape, name and elementwise operations (which its equality leaves out)."""
    if rows == output_rows(layer):
        return layer
    return _TILE_LAYERS.recall((layer, layer.name, layer.elementwise, rows), lambda: replace(
        layer, **{"N" if by_tokens(layer) else "Q": rows}))


_TILE_LAYERS = LruMemo(PRICED_KEPT)


__all__ = ["HALO_MODES", "TileSchedule", "box_rows", "by_tokens", "fewest_held_words", "input_height", "input_rows",
           "output_rows", "pad_top", "row_words", "schedule", "step_back", "tile_layer"]
