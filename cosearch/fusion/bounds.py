"""What a depth-first group must at least hold on chip and cost, from the layers' shapes and the chip alone (no
mapping): the planner passes over a group whose bound says it cannot fit, or cannot beat a plan it already has for
the same layers, without mapping its tiles.

`GroupBounds` follows the groups that end at one layer, growing them one layer at a time towards the network's input
(the planner's order). For the group's tilings of one tile (every row at once), of several tiles with the group's
weights kept in the home level, and of several tiles without, it keeps:

- on chip: the one-tile schedule's intermediate words exactly (`tiling.step_back`, the same rows
  `tiling.schedule` holds), and for several tiles the fewest words any tiling holds in its first tile
  (`tiling.fewest_held_words`). Both only grow as the group grows, so once neither leaves a free word, no longer
  group ending there fits either;
- cost: per layer, cycles at least max(MACs / the array's MACs, DRAM words read / DRAM's read rate, written / its
  write rate, both / its shared rate) and energy at least MACs x the MAC's energy plus those DRAM words at DRAM's
  energy per word (cost model rules R7 and R8: a run's cycles are its slowest level's, at least its compute
  cycles; each level charges whole blocks). The DRAM words counted are the compulsory ones: a run reads every word
  of its weights that are not kept on chip, and the last layer writes its whole output once. A tile layer's weights
  are the layer's, so a layer whose weights are not kept reads them once per run: in a tiling of several tiles the
  last layer runs once per tile (at least twice), and so does every layer of a chain tiled by tokens (every tile
  runs every layer); a tiling's own number of tiles bounds it alone, at least twice bounds them all.
  Kept weights are loaded once per inference instead (`groups.weight_load`, not overlapped). MACs counted are those
  of the rows every tiling computes: all of the last layer's, and of a layer before it, the rows its reader's
  windows touch when those form one run of rows (a reader of dilation 1 whose window is at least its stride tall,
  or one by tokens), else none.

The score of a bound is the planner's linearised objective (`plan.LinearObjective`, increasing in both cycles and
energy), so a group's score is never below its bound's: a group whose best plan so far, up to its first layer, plus
its bound is not below the best plan found for its last layer cannot improve it.
"""
from __future__ import annotations

from accel_models import Accelerator
from nets import Layer

from .tiling import by_tokens, fewest_held_words, output_rows, row_words, step_back

ONE_TILE, TILED, ONE_QUERY_BLOCK, KEY_BLOCKS = "one tile", "tiled", "one query block", "key blocks"
"""The classes of tilings: every row in one tile; several tiles of rows; attention over key blocks (`key_blocks`) in
one query block of every token, and in several query blocks."""


class GroupBounds:
    """Bounds of the groups that end with the layer `last`, at first `last` alone (`extend` adds the layer before
    the group's first), on `accelerator` whose home level is `home` (`view.home_level`), scored by `score`
    (cycles, pJ) -> float, increasing in both."""

    def __init__(self, last: Layer, accelerator: Accelerator, home: int | None, score) -> None:
        self.accelerator, self.score = accelerator, score
        self.capacity = None if home is None else accelerator.levels[home].capacity_words
        keeps = () if home is None else accelerator.levels[home].keeps
        self.fuses = home is not None and {"Inputs", "Outputs"} <= set(keeps)
        self.keeps_weights = "Weights" in keeps
        dram = accelerator.levels[0]
        self._read_pj = dram.read_energy_pj / dram.block_size_words
        self._write_pj = min(dram.write_energy_pj, dram.update_energy_pj) / dram.block_size_words
        self._rates = (dram.read_bandwidth, dram.write_bandwidth, dram.shared_bandwidth)
        self._load_rate = min((r for r in (dram.read_bandwidth, dram.shared_bandwidth) if r is not None),
                              default=None)
        self._load_pj = 0.0 if home is None else \
            self._read_pj + accelerator.levels[home].write_energy_pj / accelerator.levels[home].block_size_words
        self.first = last
        self.layers = 1
        self.tokens = by_tokens(last)
        self._span = (0, output_rows(last))       # the rows the one-tile schedule computes of the first layer
        self._touched = output_rows(last)          # of those, the rows every tiling computes (0: none counted)
        self.one_tile_words = 0                    # the one-tile schedule's intermediate words
        self.fewest_words = 0                      # the fewest intermediate words any tiling of several tiles holds
        self.param_words = last.param_words
        macs = last.macs
        # (cycles, pJ) bounds summed over the layers: each layer's weights read once (one tile); several tiles
        # without and with kept weights; and the first two layers' own terms, which key blocks count once
        terms = tuple(self._layer(macs, words, last.output_words) for words in (
            last.weight_words, 2 * last.weight_words, 2 * (last.weight_words - last.param_words)))
        self._one, self._tiled, self._kept = terms
        self._heads = (terms,)
        self._layers = [(macs, last.weight_words, last.param_words, last.output_words)]   # last layer first

    def _layer(self, macs: int, read_words: float, written_words: float) -> tuple[float, float]:
        cycles = macs / self.accelerator.num_macs
        for rate, words in zip(self._rates, (read_words, written_words, read_words + written_words)):
            if rate is not None:
                cycles = max(cycles, words / rate)
        return cycles, macs * self.accelerator.mac_energy_pj + read_words * self._read_pj \
            + written_words * self._write_pj

    def extend(self, producer: Layer) -> None:
        """The groups one layer longer: `producer` (whose output the group's first layer reads) first."""
        reader = self.first
        span, held = step_back(producer, reader, self._span)
        self.one_tile_words += held * row_words(producer, reader)
        self.fewest_words += fewest_held_words((producer, reader))[0]
        whole_runs = self.tokens and by_tokens(producer)
        self.tokens = whole_runs
        if self._touched and (by_tokens(reader) or (reader.dilation_h == 1 and reader.S >= reader.stride_h)):
            self._touched = span[1] - span[0]
        else:
            self._touched = 0
        self._span = span
        self.first = producer
        self.layers += 1
        self.param_words += producer.param_words
        macs = producer.macs // output_rows(producer) * self._touched
        runs = 2 if whole_runs else 1
        terms = tuple(self._layer(macs, words, 0) for words in (
            producer.weight_words, runs * producer.weight_words, runs * (producer.weight_words - producer.param_words)))
        self._one, self._tiled, self._kept = (_plus(total, term) for total, term in
                                              zip((self._one, self._tiled, self._kept), terms))
        self._heads = (terms, self._heads[0])
        self._layers.append((macs, producer.weight_words, producer.param_words, 0))

    def fits(self, tiling: str) -> bool:
        """Whether some tiling of the class (ONE_TILE or TILED) may leave the mappings a free word in the home
        level."""
        if self.layers == 1:
            return True
        if not self.fuses:
            return False
        words = self.one_tile_words if tiling == ONE_TILE else self.fewest_words
        return self.capacity - words >= 1

    def longer_may_fit(self) -> bool:
        """Whether a group one layer longer or more (ending at the same layer) may fit: it holds each of this group's
        intermediate tensors in rows, at least one row's input box of each in its first tile, whatever its tiling
        (key blocks shrink only a group's first intermediate tensor, the scores, which this group does not have)."""
        return self.fuses and self.capacity - self.fewest_words >= 1

    def least_score(self, tiling: str, tiles: int = 2) -> float:
        """No tiling of the class with `tiles` tiles (query blocks over key blocks; at least 2, the default bounding
        every tiling of several) scores less than this (the planner's linearised objective). The one-tile bound,
        every layer's weights read once, bounds every tiling (kept weights are loaded once, not overlapped: their
        cycles add). In several tiles the last layer runs once per tile, and every layer of a chain by tokens; over
        key blocks every layer after the first two runs once per query block, and the first two read their second
        operands (K, V) at least once (per query block, or loaded once)."""
        if tiling in (ONE_TILE, ONE_QUERY_BLOCK) or self.layers == 1:
            return self.score(*self._one)
        if tiles == 2:
            tiled, kept = self._tiled, self._kept
            if tiling == KEY_BLOCKS:
                for one, several, several_kept in self._heads:
                    tiled = _plus(_plus(tiled, one), several, -1)
                    kept = _plus(_plus(kept, one), several_kept, -1)
        else:
            tiled, kept = (0.0, 0.0), (0.0, 0.0)
            for k, (macs, weights, params, written) in enumerate(self._layers):
                once = tiling == KEY_BLOCKS and k >= self.layers - 2
                runs = 1 if once else tiles if (self.tokens or k == 0) else 1
                tiled = _plus(tiled, self._layer(macs, runs * weights, written))
                kept = _plus(kept, self._layer(macs, runs * (weights - params), written))
        # key blocks hold less than a row of the scores: no room is known to be taken
        words = 0 if tiling == KEY_BLOCKS else self.fewest_words
        least = self.score(*tiled)
        if not (self.keeps_weights and self.param_words > 0 and self.capacity - words - self.param_words >= 1):
            return least
        load = self.param_words
        cycles = kept[0] + (load / self._load_rate if self._load_rate is not None else 0.0)
        return min(least, self.score(cycles, kept[1] + load * self._load_pj))


def tiling_class(last_rows: int, rows: int, key_rows: int | None) -> str:
    """The class of a group's tiling of `rows` rows (query tokens) of its last layer's `last_rows`, over key blocks
    of `key_rows` keys if given."""
    if key_rows is None:
        return ONE_TILE if rows == last_rows else TILED
    return ONE_QUERY_BLOCK if rows == last_rows else KEY_BLOCKS


def _plus(a: tuple[float, float], b: tuple[float, float], sign: int = 1) -> tuple[float, float]:
    return a[0] + sign * b[0], a[1] + sign * b[1]


__all__ = ["GroupBounds", "KEY_BLOCKS", "ONE_QUERY_BLOCK", "ONE_TILE", "TILED", "tiling_class"]
