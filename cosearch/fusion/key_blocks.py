"""Attention fused over key blocks: the schedule of FlashAttention (Dao et al., NeurIPS 2022) and FuseMax (Nayak et
al., MICRO 2024), as a depth-first group's tiling of attention's scores -> context (-> the layers after it).

A group that starts with attention's two products (`attention_pair`: scores = Q K^T, then context = softmax(scores)
V, reducing over the scores' columns, the keys) is tiled over query tokens, `tile_rows` per query block, as every
group by tokens (`tiling.by_tokens`); with `key_rows` below the keys, each query block also loops over blocks of
`key_rows` keys:

- the query block (Tq rows of every head's Q) is loaded from DRAM into the home level once per query block and read
  there by every key block's scores;
- per key block, the scores tile (Tq x Tk per head) reads its K block from DRAM and writes the score block to the home
  level; the context tile reads the score block there and its V block from DRAM, and accumulates into the output
  block (Tq x d per head), which stays in the home level across the key blocks; the last key block's context writes
  it to DRAM when the context is the group's last layer, and otherwise leaves it on chip for the next layer;
- the softmax runs online (Milakov and Gimelshein, "Online normalizer calculation for softmax", 2018): per query row
  and head a running max and a running sum stay on chip, and at every key block after the first the accumulator and
  the running sum are rescaled by exp(old max - new max). That work is element-wise (`nets.elementwise`: listed, not
  charged in cycles or energy, like the softmax itself): per query row and head and extra key block, a `correction`
  (max, subtract, exp) and d + 1 `rescale` elements (the accumulator's d values and the sum);
- the layers after the context run once per query block, as in any group by tokens;
- the heads of a query block go all at once or `head_rows` key/value heads at a time (with the query heads that share
  them), as FlashAttention runs one head per thread block: each head group loads its own Q rows and runs its own key
  loop, so only its blocks are on chip (the accumulator keeps every head's rows when a later layer reads them).

K and V are read from DRAM once per query block (the re-reads the schedule pays for keeping the scores on chip), or
loaded once for the group when they fit whole beside the rest (`groups.group_cost` decides, as for weights).
With one key block (`key_rows` >= the keys) the group is the query-block schedule of `tiling.schedule`, unchanged.
On chip at once during a query block (`KeyBlockSchedule.peak_words`): the head group's query block, score block and
running statistics (2 words per query row and head) and the accumulator (the context's output rows); after the key
loop, the group's later intermediate rows. `walk_attention` (tests/cosearch/fusion/_group_walker.py) is the literal
reference.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from nets import Layer
from nets.elementwise import ElementwiseOp

from .tiling import by_tokens, output_rows, row_words, tile_layer

BLOCK_ROWS: tuple[int, ...] = (64, 128, 256)
"""Key-block sizes the planner tries (and query-block sizes besides its usual ones): FlashAttention-2 (Dao, 2023)
tunes its blocks among 64 and 128 rows of queries and of keys for heads of 64-128 dims; 256 for chips whose buffer
holds more than a GPU's shared memory."""

STATS_WORDS_PER_ROW = 2
"""Running statistics per query row and head: the max and the sum of the exponentials."""


def attention_pair(layers: tuple[Layer, ...]) -> bool:
    """Whether `layers` starts with attention's scores -> context: two products of activations by tokens, the second
    reducing over the first's columns (the keys), with the same query tokens and heads."""
    if len(layers) < 2:
        return False
    scores, context = layers[0], layers[1]
    return (scores.weights_are_activations and context.weights_are_activations and by_tokens(scores)
            and by_tokens(context) and context.C == scores.K and context.N == scores.N
            and context.G == scores.G and context.P == scores.P)


def key_blocks(keys: int, key_rows: int) -> tuple[int, ...]:
    """The key blocks' sizes, in order: `key_rows` each, the last the remainder."""
    return tuple(min(key_rows, keys - k) for k in range(0, keys, key_rows))


def scores_tile(scores: Layer, rows: int, keys: int, kv_heads: int | None = None) -> Layer:
    """The scores of `rows` query tokens against `keys` keys (its second operand: a K block), for `kv_heads` of its
    key/value heads (all by default) and the query heads that share them."""
    kv_heads = scores.G if kv_heads is None else kv_heads
    if (rows, keys, kv_heads) == (scores.N, scores.K, scores.G):
        return scores
    return replace(scores, N=rows, K=keys, G=kv_heads)


def context_tile(context: Layer, rows: int, keys: int, kv_heads: int | None = None) -> Layer:
    """The context of `rows` query tokens over `keys` keys (its first operand a score block, its second a V block),
    for `kv_heads` of its key/value heads (all by default)."""
    kv_heads = context.G if kv_heads is None else kv_heads
    if (rows, keys, kv_heads) == (context.N, context.C, context.G):
        return context
    return replace(context, N=rows, C=keys, G=kv_heads)


def _row_width(layers: tuple[Layer, ...], j: int) -> int:
    """Words of one row of intermediate tensor j (layer j's output), the wider of its producer's and reader's views."""
    return row_words(layers[j], layers[j + 1])


@dataclass(frozen=True)
class KeyBlockSchedule:
    """A group starting with scores -> context in query blocks of `tile_rows` tokens and key blocks of `key_rows`
    keys (`attention_pair`; at least two key blocks), the heads of a query block taken `head_rows` key/value heads
    at a time (with the query heads that share them): each head group runs its own key loop, with its own query
    block, score block and running statistics on chip."""

    tile_rows: int
    key_rows: int
    query_tiles: tuple[int, ...]
    blocks: tuple[int, ...]
    head_rows: int
    head_groups: int

    @property
    def tiles(self) -> int:
        return len(self.query_tiles)

    def runs(self, layers: tuple[Layer, ...]) -> tuple[tuple[tuple[Layer, bool, bool, int], ...], ...]:
        """Per layer of the group, its tile layers in order of first run, each (tile layer, inputs on chip, outputs
        on chip, how many runs)."""
        n, last = len(layers), len(self.blocks) - 1
        found: list[dict] = [{} for _ in layers]

        def add(j, layer, inputs_on_chip, outputs_on_chip, times=1):
            key = (layer, inputs_on_chip, outputs_on_chip)
            found[j][key] = found[j].get(key, 0) + times

        g, groups = self.head_rows, self.head_groups
        for rows in self.query_tiles:
            for b, keys in enumerate(self.blocks):
                add(0, scores_tile(layers[0], rows, keys, g), True, True, groups)
                add(1, context_tile(layers[1], rows, keys, g), True, n > 2 or b < last, groups)
            for j in range(2, n):
                add(j, tile_layer(layers[j], rows), True, j < n - 1)
        return tuple(tuple((*key, times) for key, times in f.items()) for f in found)

    def query_words(self, scores: Layer, rows: int) -> int:
        """Words of a block of `rows` query tokens of one head group (the scores' Inputs rows), loaded once per
        query block and head group."""
        return rows * scores.C * scores.P * self.head_rows

    def peak_words(self, layers: tuple[Layer, ...]) -> int:
        """Most words the group keeps in the home level at once besides its mappings' tiles and kept weights: during
        the key loop the query block, a score block, the accumulator (the context's output rows) and the running
        statistics; after it, every later intermediate tensor's rows of the query block at once."""
        scores = layers[0]
        rows, keys, heads = self.query_tiles[0], self.blocks[0], scores.P * self.head_rows
        # the accumulator: every head's context rows when a later layer reads them, else the head group's
        acc_width = _row_width(layers, 1) if len(layers) > 2 else layers[1].K * heads
        loop = (self.query_words(scores, rows) + rows * keys * heads + rows * acc_width
                + rows * heads * STATS_WORDS_PER_ROW)
        tail = sum(rows * _row_width(layers, j) for j in range(1, len(layers) - 1))
        return max(loop, tail)

    def elementwise(self, layers: tuple[Layer, ...]) -> tuple[ElementwiseOp, ...]:
        """The online softmax's extra element-wise work over the group: per query row and head and key block after
        the first, a `correction` factor and d + 1 `rescale` elements (the accumulator and the running sum)."""
        scores, context = layers[0], layers[1]
        heads, extra = scores.P * scores.G, len(self.blocks) - 1
        row_heads = sum(self.query_tiles) * heads * extra
        if not row_heads:
            return ()
        return (ElementwiseOp("correction", row_heads), ElementwiseOp("rescale", row_heads * (context.K + 1)))


def key_block_schedule(layers: tuple[Layer, ...], tile_rows: int, key_rows: int,
                       head_rows: int | None = None) -> KeyBlockSchedule:
    """The key-block schedule of a group starting with scores -> context (`attention_pair`); `head_rows`: key/value
    heads per head group (a divisor of the heads; all of them by default)."""
    if not attention_pair(layers):
        raise ValueError("key_rows applies to a group that starts with attention's scores -> context")
    tokens, keys = layers[0].N, layers[0].K
    if not 1 <= tile_rows <= tokens:
        raise ValueError(f"tile_rows must be an integer in [1, {tokens}] (the query tokens), got {tile_rows!r}")
    if not 1 <= key_rows < keys:
        raise ValueError(f"key_rows must be an integer in [1, {keys - 1}] (fewer than the keys, {keys}), "
                         f"got {key_rows!r}")
    kv_heads = layers[0].G
    head_rows = kv_heads if head_rows is None else head_rows
    if not (isinstance(head_rows, int) and 1 <= head_rows <= kv_heads and kv_heads % head_rows == 0):
        raise ValueError(f"head_rows must be a divisor of the {kv_heads} key/value heads, got {head_rows!r}")
    query_tiles = tuple(min(tile_rows, tokens - q) for q in range(0, tokens, tile_rows))
    return KeyBlockSchedule(tile_rows, key_rows, query_tiles, key_blocks(keys, key_rows), head_rows,
                            kv_heads // head_rows)


__all__ = ["BLOCK_ROWS", "KeyBlockSchedule", "STATS_WORDS_PER_ROW", "attention_pair", "context_tile",
           "key_block_schedule", "key_blocks", "scores_tile"]
