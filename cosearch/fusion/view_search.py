"""How the searches search the views their plans meet: the budget (`VIEW_SEARCH_EVALS`, `view_search_settings`), the
search itself seeded with the layer-wise mapping moved onto the view (`view_search`, remembered per process), and
the file a run keeps its searches in so that a later run reads them instead (`ViewSearchFile`)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from accel_models import Accelerator
from mappings import MapperResult, MapperSettings
from nets import Layer

from .memo import PRICED_KEPT, LruMemo, accelerator_memo_key, mapping_bytes

VIEW_SEARCH_EVALS = {"latency": 32, "edp": 128, "energy": 128}
"""Evaluations of a view search in the searches (the fixed-device network search and the co-search's trials), by
the mapper objective: their inner mapper's settings with this budget (`view_search_settings`). Seeded with the
layer-wise mapping moved onto the view, measured against 256 (`benchmarks/bench_view_search.py`: 12 ofa-mbv3
subnets on each of edge_tpu_like, nvdla_1024 and three 5 mm2 co-searched designs): at the latency objective 32
evaluations are within x1.0015 of 256's figure on every subnet; at EDP 32 stay up to x1.16 above it (median
x1.037 on a 130 KB design), 128 within x1.083 (median within x1.014) at 1.6-2.4x the CPU of 32 for the plans of new
subnets; at the energy objective 32 stay up to x1.071 above, 128 within x1.031."""

_VIEW_SETTINGS = LruMemo(64)
"""(id of a mapper's settings, objective) -> (those settings, their view search settings)."""


def view_search_settings(mapper: MapperSettings, objective: str) -> MapperSettings:
    """How a search (the fixed-device search, a co-search trial) searches the views its plans meet for the mapper
    `objective`: `mapper`'s strategy, seed, bypass and factors with a budget of `VIEW_SEARCH_EVALS[objective]`
    evaluations and no time limit. The same object for the same `mapper` object and objective, so that the view
    searches' memo (`view_search`, keyed by the settings' identity too) is shared by every plan of a search."""
    if objective not in VIEW_SEARCH_EVALS:
        raise ValueError(f"view_search_settings: objective must be one of {', '.join(VIEW_SEARCH_EVALS)}, got "
                         f"{objective!r}")

    def derived():
        return mapper, dataclasses.replace(mapper, budget_evals=VIEW_SEARCH_EVALS[objective], time_limit_s=None)
    key = (id(mapper), objective)
    hit = _VIEW_SETTINGS.recall(key, derived)
    if hit[0] is not mapper:        # the id of settings freed since, now another object's
        hit = _VIEW_SETTINGS.remember(key, derived())
    return hit[1]


VIEW_SEARCH_SHARE = 0.9
"""`ChosenViews`' default share: the views searched are those of the layers that make up this share of the plan's
objective (linearised around its totals), largest first. Measured on 48 (design, ofa-mbv3 subnet) pairs, six random
5 mm2 co-search designs, edge_tpu_like and nvdla_1024, EDP objective: 0.9 searches 2.6-3.2x fewer views than 1.0
for an EDP at most x1.015 of theirs (median x1.000); 0.8 searches ~3.8x fewer, at most x1.033; no view searched at
all is up to x1.17."""


@dataclasses.dataclass(frozen=True)
class ChosenViews:
    """A plan's `search_views` that searches only views the plan keeps: the plan is made on the moved mappings (no
    view searched), then the views of its costliest layers, those making up `share` of the plan's objective
    (linearised around its totals, largest first), are searched with `settings`, and each layer's run chosen again
    among its moved and searched mappings (`runs.choose_runs`: never worse than the moved plan). Which tensors stay
    on chip is then decided on the moved mappings; searching every view the planner tries decides it on the searched
    ones. Measured on three ofa-mbv3 subnets on five 5 mm2 designs, edge_tpu_like and nvdla_1024, with every kept
    view searched (`share` 1): EDP median x1.007, at most x1.057 of the plan that searches every view, with about
    1/15 of its CPU; the plan on the moved mappings alone is up to x1.33 (edge_tpu_like). A co-search trial scores
    its subnet so (`cosearch.search.trial`)."""

    settings: MapperSettings
    share: float = VIEW_SEARCH_SHARE

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"ChosenViews: share must be within [0, 1], got {self.share!r}")


class ViewSearchFile:
    """The view searches made with one `MapperSettings` object (`keep_view_searches`), saved as JSON lines in `path`
    (one per search: the view, layer shape, objective and seed mapping as a digest, and the search's result) and read
    back by a later run with the same settings, which then prices the saved mappings instead of searching again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict] = {}
        self.new: list[str] = []
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row["key"]] = row["result"]
                except (ValueError, KeyError, TypeError):
                    continue        # a damaged line: that view is searched again
        self.loaded = len(self.rows)

    def save(self) -> None:
        """Append the searches made since the file was read or last saved (a line cut short by an interruption is
        skipped when the file is read, and that view searched again)."""
        if not self.new:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(line + "\n" for line in self.new)
        with self.path.open("a+b") as f:
            if f.tell() > 0:                # end a line cut short, so that only it is lost
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    text = "\n" + text
            f.write(text.encode())
        self.new.clear()

    def _get(self, key: str, layer: Layer, view: Accelerator) -> MapperResult | None:
        row = self.rows.get(key)
        return None if row is None else MapperResult.from_dict(row, layer, view)

    def _put(self, key: str, result: MapperResult) -> None:
        row = self.rows[key] = {**result.to_dict(), "history": []}     # the mapping and its figures, not the path
        self.new.append(json.dumps({"key": key, "result": row}))


_FILES: dict[int, tuple[MapperSettings, ViewSearchFile]] = {}


def keep_view_searches(settings: MapperSettings, path: Path) -> ViewSearchFile:
    """The file of the view searches made with `settings` (this object): searches saved there are read instead of
    run, new ones added to it (written by its `save`)."""
    file = ViewSearchFile(path)
    _FILES[id(settings)] = (settings, file)
    return file


_SEARCHED = LruMemo(PRICED_KEPT)


def view_search(layer: Layer, view: Accelerator, settings: MapperSettings, objective: str,
                 start) -> MapperResult:
    """The mapper's best mapping of `layer` on a view with `settings`, seeded with the mapping `start` (MappingArrays
    on the view, or None), remembered here rather than in a `MappingCache`: a cache's tables keep the most recent
    accelerators only, and views, one per capacity a plan leaves a layer, would push the accelerator's own table
    out."""
    seed = b"" if start is None else mapping_bytes(start)
    key = (accelerator_memo_key(view), layer.shape_key, objective, id(settings), settings, seed)

    def search() -> MapperResult:
        kept = _FILES.get(id(settings))
        file = kept[1] if kept is not None and kept[0] is settings else None
        found = saved = None
        if file is not None:
            saved = hashlib.sha1(repr((key[0], key[1], objective)).encode() + seed).hexdigest()
            found = file._get(saved, layer, view)
        if found is None:
            enc = settings.encoding(layer, view)
            found = settings.search(enc, objective, None if start is None else enc.encode(start)[None])
            if file is not None:
                file._put(saved, found)
        return found
    return _SEARCHED.recall(key, search)


__all__ = ["VIEW_SEARCH_EVALS", "VIEW_SEARCH_SHARE", "ViewSearchFile", "keep_view_searches", "view_search", "view_search_settings"]
