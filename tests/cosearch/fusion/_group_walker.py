"""The literal reference of what a fused group moves: it executes the group tile by tile, row by row, and counts
every word that crosses the group's boundary or that the group keeps on chip.

`_walker.walk_rows` checks which rows each layer computes; this module checks what those rows cost at the network
level, the quantities the fast model (`tiling.schedule`, `groups.group_cost`, `modes.resident`) derives with
interval arithmetic and per-layer bookkeeping:

- `walk_group`: a depth-first group (a chain of layers tiled over its last layer's output rows, halo recomputed or
  cached). Per tile it works out, backwards from the tile's output rows, the rows of every layer the tile needs;
  then runs the layers in order, each on the rows it lacks (every needed row again with `recompute`), reading the
  rows its windows touch as the cost model's tile does (the bounding box of the rows it reads, padding rows
  included: the cost model has no padding, so a layer's input box is its Inputs tensor), and checks that each row
  it reads of an intermediate tensor is on chip at that moment. It counts the group's input read from DRAM, the
  weights read from DRAM (once per inference when they stay on chip, else by every tile that runs the layer), the
  output written to DRAM, the intermediate words written to and read from the home level, the MACs (recomputed
  rows included) and the most words the intermediate tensors hold at once.
- `walk_attention`: a group starting with attention's scores -> context fused over query blocks and key blocks
  (`key_blocks`): per query block, per key block, the block of scores written on chip and read there by the context,
  K and V blocks from DRAM, the accumulator updated on chip; it counts the same words and the online softmax's
  element-wise work, and the most words on chip at any moment.
- `walk_resident`: a network run layer by layer with some activations whole on chip and some layers' weights
  cached. It allocates a tensor when its first producer runs and frees it after the last layer that touches it,
  and counts, per layer, the words read and written at DRAM and on chip, residual shortcuts and concatenation
  slices included, and the words on chip while the layer runs.

Both are deliberately slow and obvious (Python sets and dicts, one row or one tensor at a time); the tests hold the
fast model to them on random cases (tests/cosearch/fusion/test_group_walker.py). They do not re-derive what a
layer's mapping does inside the chip: a group of one layer is the per-layer model, which the Timeloop corpus checks.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from nets import Layer, Network

from cosearch.fusion.key_blocks import STATS_WORDS_PER_ROW
from cosearch.fusion.tiling import by_tokens, input_height, output_rows, pad_top
from _walker import box_rows, needed_rows, read_rows


@dataclass(frozen=True)
class GroupWalk:
    """What one inference of a depth-first group moves (words) and computes.

    runs: per layer of the group, sorted (rows computed, tiles that computed that many rows) pairs: the tile
    layers the group runs. The `dram_*` words cross the chip's boundary; the `chip_*` words are the intermediate
    tensors' traffic in the home level; `peak_intermediate_words` is the most they occupy at once (per tile, every
    intermediate tensor's rows on chip during the tile, each row as wide as the largest of its two views: the
    producer's output row or the consumer's input box row)."""

    runs: tuple[tuple[tuple[int, int], ...], ...]
    macs: int
    dram_input_words: int
    dram_weight_words: int
    dram_output_words: int
    chip_written_words: int
    chip_read_words: int
    peak_intermediate_words: int

    @property
    def dram_words(self) -> int:
        return self.dram_input_words + self.dram_weight_words + self.dram_output_words


def _row_words(layer: Layer) -> tuple[int, int]:
    """(words of one output row, words of one input-box row) of `layer`."""
    return layer.output_words // output_rows(layer), layer.input_words // input_height(layer)


def walk_group(layers: tuple[Layer, ...], tile_rows: int, halo: str, weights_on_chip: bool) -> GroupWalk:
    """Execute the chain `layers` in tiles of `tile_rows` output rows of its last layer (`halo`: "recompute" or
    "cache") and count what it moves; `weights_on_chip`: the group's parameters are loaded into the home level once
    per inference and read there by every tile."""
    n = len(layers)
    before = [input_height(layers[0])] + [output_rows(layer) for layer in layers[:-1]]
    pads = [pad_top(layer, rows) if not by_tokens(layer) else 0 for layer, rows in zip(layers, before)]
    needed = needed_rows(layers, tile_rows)
    tiles = [need[n - 1] for need in needed]

    held: list[set[int]] = [set() for _ in range(n)]      # rows of each layer's output on chip
    runs = [Counter() for _ in range(n)]
    macs = dram_in = dram_w = dram_out = chip_w = chip_r = peak = 0
    if weights_on_chip:
        dram_w += sum(layer.param_words for layer in layers)
    for t, need in enumerate(needed):
        boxes: list[set[int]] = [set() for _ in range(n)]   # the input box rows each layer reads in this tile
        for j, layer in enumerate(layers):
            new = need[j] - held[j] if (halo == "cache" and j < n - 1) else set(need[j])
            if not new:
                continue
            runs[j][len(new)] += 1
            macs += len(new) * (layer.macs // output_rows(layer))
            out_row, in_row = _row_words(layer)
            box = box_rows(layer, new)
            if j == 0:
                dram_in += len(box) * in_row
            else:
                real = read_rows(layer, new, before[j])
                missing = real - held[j - 1]
                if missing:
                    raise RuntimeError(f"tile {t}: layer {j} reads rows {sorted(missing)} of layer {j - 1}, "
                                         "which are not on chip")
                chip_r += len(box) * in_row
                boxes[j] = box
            if not (weights_on_chip and layer.param_words):   # a product's second operand: from DRAM, every tile
                dram_w += layer.weight_words
            if j == n - 1:
                dram_out += len(new) * out_row
            else:
                chip_w += len(new) * out_row
                held[j] |= new
        # each intermediate tensor as this tile holds it: the producer's rows on chip, in the consumer's frame with
        # the consumer's box rows (padding included) beside them, each row the wider of the two views
        peak = max(peak, sum(len({r + pads[j + 1] for r in held[j]} | boxes[j + 1])
                             * max(_row_words(layers[j])[0], _row_words(layers[j + 1])[1]) for j in range(n - 1)))
        for j in range(n - 1):     # after the tile: keep what a later tile reads (nothing with recompute)
            later = set().union(*(needed[u][j] for u in range(t + 1, len(tiles))))
            held[j] = held[j] & later if halo == "cache" else set()
    return GroupWalk(tuple(tuple(sorted(c.items())) for c in runs), macs, dram_in, dram_w, dram_out, chip_w, chip_r,
                     peak)


@dataclass(frozen=True)
class AttentionWalk:
    """What one inference of a group starting with attention's scores -> context moves (words) and computes, fused
    over query blocks and key blocks.

    runs: sorted ((layer j of the group, rows, keys, key/value heads, inputs read on chip, outputs written on chip),
    runs) pairs, keys and heads being the key block's and the head group's for the scores and the context and 0 for
    the layers after them. `dram_operand_words`: the
    K and V blocks (the products' second operands). `chip_*`: the home level's words (the query blocks loaded,
    scores, accumulators and later intermediates written; read likewise). `peak_words`: the most the home level
    holds at once besides the mappings' tiles and the kept weights. `correction_elements`, `rescale_elements`: the
    online softmax's element-wise work (`key_blocks`)."""

    runs: tuple[tuple[tuple[int, int, int, int, bool, bool], int], ...]
    macs: int
    dram_input_words: int
    dram_operand_words: int
    dram_weight_words: int
    dram_output_words: int
    chip_written_words: int
    chip_read_words: int
    peak_words: int
    correction_elements: int
    rescale_elements: int

    @property
    def dram_words(self) -> int:
        return self.dram_input_words + self.dram_operand_words + self.dram_weight_words + self.dram_output_words


def walk_attention(layers: tuple[Layer, ...], tile_rows: int, key_rows: int, weights_on_chip: bool,
                   operands_on_chip: bool = False, head_rows: int | None = None) -> AttentionWalk:
    """Execute the group `layers` (scores, context, then layers by tokens) in blocks of `tile_rows` query tokens,
    each over blocks of `key_rows` keys, `head_rows` key/value heads at a time (all by default), and count what it
    moves: per query block and head group, its Q rows loaded into the home level and its running max and sum kept
    there; per key block, the scores of every (head, query, key) of the block written on chip, read there by the
    context (each checked to be on chip), K and V blocks from DRAM, the accumulator rows (the context's output)
    updated on chip (checked to be there) and, after the last key block, written to DRAM if the context ends the
    group; then the later layers on the query block's rows. `weights_on_chip`: the later layers' parameters loaded
    once per inference; `operands_on_chip`: K and V likewise (whole, once), each key block's rows then read on
    chip."""
    walk = _AttentionTally(layers, key_rows, weights_on_chip, operands_on_chip, head_rows)
    tokens = layers[0].N
    for lo in range(0, tokens, tile_rows):
        rows = set(range(lo, min(tokens, lo + tile_rows)))
        for first_head in range(0, walk.kv_heads, walk.head_rows):
            walk.head_group(_HeadGroup(rows, range(first_head, first_head + walk.head_rows)))
        walk.later_layers(rows)
    return walk.result()


@dataclass
class _HeadGroup:
    """One query block's rows and one group of key/value heads, with what the walk keeps on chip for them."""

    rows: set[int]
    group: range
    pairs: frozenset[tuple[int, int]] = field(init=False)            # every (key/value head, query) of the group
    query: set[tuple[int, int]] = field(init=False)                  # its Q rows (head, query), loaded once
    stats: set[tuple[int, int]] = field(init=False)                  # its running max and sum
    acc: set[tuple[int, int]] = field(default_factory=set)           # its accumulator rows (head, query)
    score_block: set[tuple[int, int, int]] = field(default_factory=set)   # (key/value head, query, key) on chip

    def __post_init__(self) -> None:
        self.pairs = frozenset((h, q) for h in self.group for q in self.rows)
        self.query = set(self.pairs)
        self.stats = set(self.pairs)


class _AttentionTally:
    """`walk_attention`'s state: the group's shape, what is on chip across query blocks, and the words and work
    counted so far. Each method is one step of the walk."""

    def __init__(self, layers: tuple[Layer, ...], key_rows: int, weights_on_chip: bool, operands_on_chip: bool,
                 head_rows: int | None) -> None:
        scores, context = layers[0], layers[1]
        self.layers, self.n, self.keys, self.kv_heads = layers, len(layers), scores.K, scores.G
        self.head_rows = self.kv_heads if head_rows is None else head_rows
        self.shared, self.d_qk, self.d_v = scores.P, scores.C, context.K   # query heads per key/value head; dims
        self.heads = self.shared * self.head_rows            # query heads of a head group
        self.blocks = [range(k, min(k + key_rows, self.keys)) for k in range(0, self.keys, key_rows)]
        self.width = [0] + [max(_row_words(layers[j])[0], _row_words(layers[j + 1])[1])
                            for j in range(1, self.n - 1)]
        self.weights_on_chip, self.operands_on_chip = weights_on_chip, operands_on_chip
        self.runs: Counter = Counter()
        self.macs = self.dram_in = self.dram_kv = self.dram_w = self.dram_out = self.chip_w = self.chip_r = 0
        self.peak = self.corrections = self.rescales = 0
        if weights_on_chip:
            self.dram_w += sum(layer.param_words for layer in layers)
        self.kv_on_chip: set[tuple[int, int]] = set()     # (key/value head, key) whose K and V rows are on chip
        if operands_on_chip:
            self.kv_on_chip |= {(h, k) for h in range(self.kv_heads) for k in range(self.keys)}
            self.dram_kv += self.keys * self.kv_heads * (self.d_qk + self.d_v)
        self.held: list[set[int]] = [set() for _ in range(self.n)]   # rows of each later intermediate (j >= 1)

    def head_group(self, hg: _HeadGroup) -> None:
        """A query block's head group: its Q rows loaded, then every key block's scores and context."""
        r = len(hg.rows)
        self.dram_in += r * self.d_qk * self.heads
        self.chip_w += r * self.d_qk * self.heads
        for b, block in enumerate(self.blocks):
            self._scores(hg, b, block)
            self._context(hg, b, block, b == len(self.blocks) - 1)
        if self.n > 2:
            self.held[1] |= hg.rows

    def _scores(self, hg: _HeadGroup, b: int, block: range) -> None:
        """Key block `b`'s scores: Q read on chip, K from DRAM (or checked on chip), each score written on chip."""
        if not hg.pairs <= hg.query:
            raise RuntimeError("the scores read query rows that are not on chip")
        self.chip_r += len(hg.rows) * self.d_qk * self.heads
        if self.operands_on_chip:
            if not {(h, k) for h in hg.group for k in block} <= self.kv_on_chip:
                raise RuntimeError(f"key block {b} finds K and V rows off chip")
        else:
            self.dram_kv += len(block) * self.d_qk * self.head_rows
        for h in hg.group:                                    # the scores, one (head, query, key) at a time
            for q in hg.rows:
                for k in block:
                    hg.score_block.add((h, q, k))
                    self.chip_w += self.shared
                    self.macs += self.shared * self.d_qk
        self.runs[(0, len(hg.rows), len(block), self.head_rows, True, True)] += 1

    def _context(self, hg: _HeadGroup, b: int, block: range, last: bool) -> None:
        """Key block `b`'s context: its scores read on chip (checked there), V from DRAM, the online softmax's
        corrections after the first block, the accumulator updated on chip or, after the last block of a group the
        context ends, written to DRAM; then the block's scores leave room for the next's."""
        r = len(hg.rows)
        wanted = {(h, q, k) for h in hg.group for q in hg.rows for k in block}
        missing = wanted - hg.score_block
        if missing:
            raise RuntimeError(f"the context reads scores {sorted(missing)[:4]} that are not on chip")
        if b > 0 and not hg.pairs <= hg.acc:
            raise RuntimeError(f"key block {b} finds accumulator rows off chip")
        self.chip_r += len(wanted) * self.shared
        if not self.operands_on_chip:
            self.dram_kv += len(block) * self.d_v * self.head_rows
        self.macs += len(wanted) * self.shared * self.d_v
        if b > 0:
            self.corrections += r * self.heads
            self.rescales += r * self.heads * (self.d_v + 1)
        on_chip = self.n > 2 or not last
        if on_chip:
            self.chip_w += r * self.d_v * self.heads
            hg.acc |= hg.pairs
        else:
            self.dram_out += r * self.d_v * self.heads
        self.runs[(1, r, len(block), self.head_rows, True, on_chip)] += 1
        self.peak = max(self.peak, self._key_block_words(hg))
        hg.score_block -= wanted                              # the next key block's scores take their place

    def _key_block_words(self, hg: _HeadGroup) -> int:
        """Words on chip during a key block: the head group's Q rows, score block and statistics, and the
        accumulator (every head's rows once a later layer reads them, allocated whole; else the head group's)."""
        acc_words = len(hg.rows) * self.width[1] if self.n > 2 else len(hg.acc) * self.d_v * self.shared
        return (len(hg.query) * self.d_qk * self.shared + len(hg.score_block) * self.shared
                + len(hg.stats) * STATS_WORDS_PER_ROW * self.shared + acc_words)

    def later_layers(self, rows: set[int]) -> None:
        """The layers after the context on a query block's rows, each reading its predecessor's rows on chip; then
        the block's intermediates leave the chip."""
        r, n = len(rows), self.n
        for j in range(2, n):
            layer = self.layers[j]
            out_row, in_row = _row_words(layer)
            missing = rows - self.held[j - 1]
            if missing:
                raise RuntimeError(f"layer {j} reads rows {sorted(missing)[:4]} of layer {j - 1}, not on chip")
            self.chip_r += r * in_row
            self.macs += r * (layer.macs // layer.N)
            if not (self.weights_on_chip and layer.param_words):
                self.dram_w += layer.weight_words
            if j == n - 1:
                self.dram_out += r * out_row
            else:
                self.chip_w += r * out_row
                self.held[j] |= rows
            self.runs[(j, r, 0, 0, True, j < n - 1)] += 1
            self.peak = max(self.peak, sum(len(self.held[i]) * self.width[i] for i in range(1, n - 1)))
        self.held = [set() for _ in range(n)]

    def result(self) -> AttentionWalk:
        return AttentionWalk(tuple(sorted(self.runs.items())), self.macs, self.dram_in, self.dram_kv, self.dram_w,
                             self.dram_out, self.chip_w, self.chip_r, self.peak, self.corrections, self.rescales)


@dataclass(frozen=True)
class LayerWalk:
    """What one layer moves in a network run with tensors on chip (words): its Inputs, Outputs and weights at DRAM
    and in the home level, the residual shortcuts it adds (read from where they live), and the words living in
    the home level while it runs (tensors alive, cached weights; not its mapping's own tiles)."""

    dram_read_words: int
    dram_written_words: int
    chip_read_words: int
    chip_written_words: int
    shortcut_dram_words: int
    shortcut_chip_words: int
    on_chip_words: int
    inputs_on_chip: bool
    outputs_on_chip: bool
    weights_on_chip: bool


def walk_resident(network: Network, on_chip: set[tuple[int, ...]], cached: set[int]) -> tuple[LayerWalk, ...]:
    """Run `network` layer by layer with the activations whose producers are in `on_chip` (tuples of producer
    indices, a concatenation's in channel order) living whole in the home level, and the layers in `cached`
    keeping their weights there for every inference.

    A tensor is what a set of layers reads whole as Inputs or adds as a shortcut (`Network.input_sources`,
    `Network.skips`); its words are the largest of its views (the producers' outputs side by side, each reader's
    input box). A layer reads its Inputs from the home level when they are an on-chip tensor, else from DRAM (its
    input box). It writes its output into every on-chip tensor it is part of, and to DRAM when some tensor it is
    part of is not on chip or nothing reads it on chip (the network's output)."""
    layers = network.layers
    tensors: dict[tuple[int, ...], dict] = {}
    for i, producers in enumerate(network.input_sources):
        if producers and -1 not in producers:
            tensors.setdefault(tuple(producers), {"readers": [], "adders": []})["readers"].append(i)
    for producer, consumer in network.skips:
        if producer >= 0:
            tensors.setdefault((producer,), {"readers": [], "adders": []})["adders"].append(consumer)
    for producers, t in tensors.items():
        t["words"] = max([sum(layers[p].output_words for p in producers)]
                         + [layers[r].input_words for r in t["readers"]])
        t["last"] = max(list(producers) + t["readers"] + t["adders"])
    pinned = sum(layers[i].param_words for i in cached)
    living: dict[tuple[int, ...], int] = {}       # on-chip tensors allocated so far, and their words
    walked = []
    for i, layer in enumerate(layers):
        for producers in on_chip:                 # allocated whole when the first slice is written
            if min(producers) == i:
                living[producers] = tensors[producers]["words"]
        source = tuple(network.input_sources[i])
        reads_on_chip = source in living
        part_of = [p for p in tensors if i in p]
        writes_on_chip = [p for p in part_of if p in on_chip]
        weights_here = i in cached and layer.param_words > 0
        dram_r = chip_r = dram_w = chip_w = sc_dram = sc_chip = 0
        if reads_on_chip:
            chip_r += layer.input_words
        else:
            dram_r += layer.input_words
        if weights_here:
            chip_r += layer.weight_words
        else:
            dram_r += layer.weight_words
        chip_w += layer.output_words * len(writes_on_chip)     # its slice of each tensor on chip
        if len(writes_on_chip) < len(part_of) or not part_of:
            dram_w += layer.output_words
        for producer, consumer in network.skips:
            if consumer == i:
                if (producer,) in living:
                    sc_chip += layers[producer].output_words
                else:
                    sc_dram += layers[producer].output_words
        walked.append(LayerWalk(dram_r, dram_w, chip_r, chip_w, sc_dram, sc_chip, pinned + sum(living.values()),
                                reads_on_chip, bool(writes_on_chip), weights_here))
        for producers in list(living):
            if tensors[producers]["last"] == i:
                del living[producers]
    return tuple(walked)


__all__ = ["AttentionWalk", "GroupWalk", "LayerWalk", "walk_attention", "walk_group", "walk_resident"]
