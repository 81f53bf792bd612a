"""The layer-cost table: the best mapping per (accelerator, layer shape, objective), searched once.

OFA and ProxylessNAS score subnets from a table of per-layer latencies; here each accelerator's table
holds the mapper's best result per layer shape, so a shape that repeats across layers, blocks and
subnets is searched once and a network's cost is a sum over the table. A cache keeps the tables of
its most recent accelerators and the warm starts (`WarmStarts`) that seed each new search from the
best mappings found before (the same shape on recent accelerators, neighbouring shapes on this one).
The key is the accelerator's cost-relevant content (not its name), the layer's `shape_key` (not its
name), the objective, and the mapper settings the cache was built with (their timing model among them: results
chosen under another are another cache's, `for_timing`). `save` / `load` carry the warm starts
over to another process (a resumed co-search worker), cheaply enough to save after every trial.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from numbers import Integral
from pathlib import Path

import numpy as np

from accel_models import Accelerator, check_accelerator
from accel_models.timing import TimingModel, get_timing
from nets import Layer, check_layer

from ._accelerator_key import accelerator_key
from .mapper import MapperSettings
from .result import MapperResult, with_layer
from ._warm_log import WarmLog, read_log
from .warm_starts import WarmStarts

COMPACT_MIN_RECORDS = 4096
"""Records a save file may hold beyond twice those kept before `MappingCache.save` rewrites it whole."""
_SCREENED = "screened"
"""The last element of a table key that holds a screened result (`MappingCache.result`)."""
_SCREENED_SHAPE = "screened shape"
"""The last element of a table key that holds a shape screened whatever its factors (`MappingCache.screened_shapes`)."""
_RESIDUAL, _EVERY_SHAPE = "residual", "every shape"
"""What a look-up screens (`MappingCache._lookup`): the residual layers of `factors="auto"`, or every shape."""
_POOL = "pool"
"""The element of a table key that marks a pool's result searched with its own share of the budget."""
SCREEN_SHARE = 8
"""A screened search of a residual layer runs 1/8 of the mapper's budget: on ShiDianNao's 8x8 array, 32 evaluations
of OFA-MBv3 layers with residual factors end 0-14% above 256 (median ~5%), where perfect factors end 1.8-51x above
(10 of 12 layers 4-16x)."""


class MappingCache:
    """Best mapping per (accelerator, layer shape, objective), searched on a miss with `settings` (a
    `MapperSettings`; its defaults if None).

    accelerators: how many accelerators' tables are kept (the least recently used goes first).
    warm_starts: seed each search with the best mappings found before (the strategies score seeds first; the
    compiled evolution strategy also centres its first island on the best of them). A result then depends on what
    the cache searched before it (the same shape on other accelerators, neighbouring shapes on this one), not only on
    the accelerator's content, the shape, the objective and `settings`; without warm starts it depends on those
    alone, whatever was searched before.
    pool_share: a pool layer (`Layer.is_pool`) is searched with 1/pool_share of the budget (evaluations or seconds;
    1: the whole budget). A pool's loop nest has no C or K, and a search seeded with the same pool's mapping on another
    accelerator ends where the whole budget does in nearly every case (the co-search's measurement); with pool_share >
    1 a pool's result is kept apart from that of a
    depthwise layer of the same shape.
    """

    def __init__(self, settings: MapperSettings | None = None, accelerators: int = 16,
                 warm_starts: bool = True, pool_share: int = 1) -> None:
        if settings is not None and not isinstance(settings, MapperSettings):
            raise ValueError(f"MappingCache.settings must be a MapperSettings, got {type(settings).__name__}")
        if isinstance(accelerators, bool) or not isinstance(accelerators, Integral) or accelerators < 1:
            raise ValueError(f"MappingCache.accelerators must be an integer >= 1, got {accelerators!r}")
        if isinstance(pool_share, bool) or not isinstance(pool_share, Integral) or pool_share < 1:
            raise ValueError(f"MappingCache.pool_share must be an integer >= 1, got {pool_share!r}")
        self.settings = settings if settings is not None else MapperSettings()
        self.pool_share = int(pool_share)
        self._share_settings: dict[int, MapperSettings] = {}
        self.max_accelerators = accelerators
        self.warm = WarmStarts() if warm_starts else None
        self._tables: "OrderedDict[str, tuple[Accelerator, dict[tuple, MapperResult]]]" = OrderedDict()
        self.hits = 0
        self.misses = 0
        self._log: WarmLog | None = None

    def for_timing(self, timing: "str | TimingModel") -> "MappingCache":
        """The cache whose results are chosen under `timing` (`MapperSettings.timing`; a name or a model): this one if
        its settings' timing is that model, else its sibling for it, made on first use with these options and its own
        tables and warm starts, so that a mapping chosen under one timing model is never a result under another."""
        model = get_timing(timing, "MappingCache.for_timing: timing")
        if model == self.settings.timing:
            return self
        siblings = self.__dict__.setdefault("_siblings", {self.settings.timing: self})
        sibling = siblings.get(model)
        if sibling is None:
            sibling = siblings[model] = MappingCache(replace(self.settings, timing=model), self.max_accelerators,
                                                     self.warm is not None, self.pool_share)
            sibling._siblings = siblings
        return sibling

    def _table(self, accelerator: Accelerator) -> dict[tuple, MapperResult]:
        key = accelerator_key(accelerator)
        entry = self._tables.get(key)
        if entry is None:
            entry = self._tables[key] = (accelerator, {})
            while len(self._tables) > self.max_accelerators:
                _, (old, _) = self._tables.popitem(last=False)
                if self.warm is not None:
                    self.warm.forget(old)
        else:
            self._tables.move_to_end(key)
        return entry[1]

    def __getstate__(self) -> dict:
        """Pickled without its log writer and its screened views (made again on use)."""
        return {**{k: v for k, v in self.__dict__.items() if k not in ("_screened", "_screened_shapes")},
                "_log": None}

    def clear_tables(self) -> None:
        """Drop every accelerator's table (and the warm starts kept per shape family on them); keep the warm starts
        per shape. The co-search does this at each trial: its accelerators do not recur, so what a trial reads
        from earlier ones is the warm starts alone, which is what `save` saves."""
        self._tables.clear()
        if self.warm is not None:
            self.warm.forget()

    def _log_header(self) -> dict:
        warm = self.warm
        return {"format": 1, "mapper": self.settings.to_dict(), "warm": (warm.per_shape, warm.shapes, warm.neighbours)}

    def save(self, path: Path, tag=None) -> None:
        """Save the warm starts' per-shape records (not the tables: see `clear_tables`) to `path`, labelled `tag`
        (any picklable value, handed to `load`'s `accept`). After the first save, only the records added since the
        last are appended (a few arrays: `_warm_log`), and the file is rewritten whole once it holds more than twice
        the records kept (plus COMPACT_MIN_RECORDS). Nothing is written by a cache without warm starts."""
        if self.warm is None:
            return
        journal = self.warm.journal
        self.warm.journal = []
        log = self._log
        if log is None or journal is None or log.path != Path(path):
            self._log = log = WarmLog(Path(path), self._log_header())
            log.write_base(self.warm.records(), tag)
            return
        if log.records + len(journal) > 2 * len(self.warm) + COMPACT_MIN_RECORDS:
            log.write_base(self.warm.records(), tag)
        elif journal:
            log.append(journal, tag)

    def load(self, path: Path, accept: Callable[[object], bool] = lambda tag: True) -> bool:
        """Take the warm starts saved to `path` (or its .prev) by a cache of the same settings, up to the first save
        whose tag `accept` refuses (e.g. a trial killed before it was recorded), into this new cache; whether a
        save was found. The file is then rewritten as that state, and later saves continue it."""
        if self.warm is None:
            return False
        if len(self.warm) or self._tables:
            raise ValueError("MappingCache.load: only into a new cache")
        found = read_log(Path(path), self._log_header(), accept)
        if found is None:
            return False
        records, tag = found
        for key, acc, arrays in records:
            self.warm.remember(key, acc, arrays)
        self._log = WarmLog(Path(path), self._log_header())
        self._log.write_base(self.warm.records(), tag, keep_previous=False)
        self.warm.journal = []
        return True

    def __len__(self) -> int:
        """The results kept (screened ones not counted)."""
        return sum(1 for _, t in self._tables.values() for k in t if k[-1] not in (_SCREENED, _SCREENED_SHAPE))

    def __contains__(self, item: tuple[Layer, Accelerator, str]) -> bool:
        layer, accelerator, objective = item
        entry = self._tables.get(accelerator_key(accelerator))
        return entry is not None and self._key(layer, objective) in entry[1]

    def _key(self, layer: Layer, objective: str) -> tuple:
        """The table key of `layer`'s result: its shape and the objective (a pool searched with its own share of the
        budget: marked as one)."""
        return (layer.shape_key, objective, _POOL) if layer.is_pool and self.pool_share > 1 else \
            (layer.shape_key, objective)

    def result(self, layer: Layer, accelerator: Accelerator, objective: str = "edp",
               screen: bool = False) -> MapperResult:
        """The table's result for `layer`'s shape (searched on a miss), as it was found: its `layer` may be another
        layer of the same shape (`best_mapping` renames it).

        screen: a layer that the settings' `factors="auto"` maps with residual factors is searched with 1/SCREEN_SHARE
        of the budget instead (a residual evaluation costs 30-50 perfect ones: the kernel's residual paths), and that
        result is kept apart from the layer's own; every other layer, and a layer whose own result is known, gets its
        own result. What a screen is for: ranking many candidates cheaply before the best few are scored with their
        own results, whose searches then start from the screened mapping."""
        check_accelerator("MappingCache.result", accelerator)
        return next(self._lookup((layer,), accelerator, objective, _RESIDUAL if screen else None))

    def results(self, layers, accelerator: Accelerator, objective: str = "edp", screen: bool = False):
        """`result` of each of `layers` (an iterable of `Layer`) on one accelerator, in order, as a generator: the
        accelerator is checked and its table found once (a network's run looks up ~60 layers, most of them hits)."""
        check_accelerator("MappingCache.results", accelerator)
        return self._lookup(layers, accelerator, objective, _RESIDUAL if screen else None)

    def _lookup(self, layers, accelerator: Accelerator, objective: str, screen: str | None):
        """`screen`: None (every layer its own result), _RESIDUAL (`result`'s screen) or _EVERY_SHAPE
        (`screened_shapes`)."""
        table = self._table(accelerator)
        if screen == _RESIDUAL and self.settings.factors != "auto":
            screen = None
        kept = {None: (), _RESIDUAL: (_SCREENED,), _EVERY_SHAPE: (_SCREENED, _SCREENED_SHAPE)}[screen]
        for layer in layers:
            check_layer("MappingCache.result", layer)
            k = self._key(layer, objective)
            cached = table.get(k)
            for marker in kept:
                if cached is not None:
                    break
                cached = table.get(k + (marker,))
            if cached is not None:
                self.hits += 1
                yield cached
                continue
            self.misses += 1
            yield self._search(table, k, layer, accelerator, objective, screen)

    def _search(self, table: dict, k: tuple, layer: Layer, accelerator: Accelerator, objective: str,
                screen: str | None) -> MapperResult:
        enc = self.settings.encoding(layer, accelerator)
        warm = self.warm
        seeds = warm.seeds(enc) if warm is not None else np.zeros((0, enc.size))
        share = self.pool_share if layer.is_pool else 1
        if screen == _EVERY_SHAPE or (screen == _RESIDUAL and enc.factors == "residual"):
            result = self._shared(max(share, SCREEN_SHARE)).search(enc, objective, seeds)
            # not a warm start: the shape's own search comes later, if at all
            table[k + (_SCREENED if screen == _RESIDUAL else _SCREENED_SHAPE,)] = result
            return result
        for marker in (_SCREENED, _SCREENED_SHAPE):
            screened = table.get(k + (marker,))
            if screened is not None and screened.valid:
                seeds = np.concatenate([seeds, enc.encode(screened.arrays)[None]])
        result = self._shared(share).search(enc, objective, seeds)
        if warm is not None and result.valid:
            warm.record(enc, result.arrays, result.genes if result.genes is not None else enc.encode(result.arrays))
        table[k] = result
        return result

    def _shared(self, share: int) -> MapperSettings:
        """The settings of a search with 1/share of the budget (evaluations or seconds): a screened search
        (SCREEN_SHARE) or a pool's (`pool_share`)."""
        s = self.settings
        if share == 1:
            return s
        if share not in self._share_settings:
            self._share_settings[share] = replace(
                s, budget_evals=None if s.budget is None else max(1, s.budget // share),
                time_limit_s=None if s.time_limit_s is None else s.time_limit_s / share)
        return self._share_settings[share]

    def insert(self, result: MapperResult) -> None:
        """Put a result found elsewhere (a saved layer-cost table) in the table of its accelerator and objective, as
        the result for its layer's shape."""
        self._table(result.accelerator)[self._key(result.layer, result.objective)] = result

    def best_mapping(self, layer: Layer, accelerator: Accelerator, objective: str = "edp") -> MapperResult:
        """The table's result for this shape (renamed to `layer`), or a new search that is then kept."""
        return with_layer(self.result(layer, accelerator, objective), layer)

    @property
    def screened(self) -> "ScreenedResults":
        """This cache read through its screened results (`result` with `screen=True`), for a caller that only takes a
        cache (a fusion plan that ranks candidates cheaply); the same object each time, so that what a caller
        remembers per cache it remembers per screened view too."""
        view = self.__dict__.get("_screened")
        if view is None:
            view = self.__dict__["_screened"] = ScreenedResults(self)
        return view

    @property
    def screened_shapes(self) -> "ScreenedResults":
        """This cache read so that every shape without its own result is searched with 1/SCREEN_SHARE of the budget
        (whatever its factors), kept apart as a screened result; a shape whose own result (or screened result) is
        known gets that. For shapes whose best mapping is only a starting point: a depth-first tile's rows, whose
        layer-wise mapping is moved onto the tile's view and seeds that view's own search (`cosearch.fusion`); a
        later search of the shape's own result starts from it. The same object each time."""
        view = self.__dict__.get("_screened_shapes")
        if view is None:
            view = self.__dict__["_screened_shapes"] = ScreenedResults(self, _EVERY_SHAPE)
        return view

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Hits / lookups (0 before the first lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0

    def stats(self) -> str:
        return (f"mapping cache: {len(self)} shapes, {self.lookups} lookups, {self.hits} hits "
                f"({100 * self.hit_rate:.1f}%), {self.misses} searches")


class ScreenedResults:
    """A `MappingCache`'s screened results behind the cache's own look-ups (`result`, `results`, `best_mapping`):
    under `factors="auto"` a layer that takes residual factors is searched with a fraction of the budget
    (`MappingCache.result`'s `screen`; `MappingCache.screened`), every other layer gets the cache's own result; or
    every shape without a result is (`MappingCache.screened_shapes`)."""

    def __init__(self, cache: MappingCache, screen: str = _RESIDUAL) -> None:
        self.cache = cache
        self._screen = screen

    @property
    def settings(self) -> MapperSettings:
        return self.cache.settings

    @property
    def screened_shapes(self) -> "ScreenedResults":
        """The cache's `screened_shapes`."""
        return self.cache.screened_shapes

    def result(self, layer: Layer, accelerator: Accelerator, objective: str = "edp") -> MapperResult:
        check_accelerator("MappingCache.result", accelerator)
        return next(self.cache._lookup((layer,), accelerator, objective, self._screen))

    def results(self, layers, accelerator: Accelerator, objective: str = "edp"):
        check_accelerator("MappingCache.results", accelerator)
        return self.cache._lookup(layers, accelerator, objective, self._screen)

    def best_mapping(self, layer: Layer, accelerator: Accelerator, objective: str = "edp") -> MapperResult:
        return with_layer(self.result(layer, accelerator, objective), layer)
