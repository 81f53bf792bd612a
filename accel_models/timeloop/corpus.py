"""Read cases of the Timeloop reference corpus (`cases_*.jsonl`, optionally gzipped) into cosearch types.

The project's corpus, `data/cases_dev.jsonl.gz` beside this module, is installed with the package; its README
names how it was made and what each field holds.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from nets import DIMS, Layer

from ..accelerator import TENSORS, Accelerator, StorageLevel
from ..mapping_arrays import MappingArrays
from ._fields import storage_kind
from ._permutation import order_outer_first


@dataclass(frozen=True)
class CorpusCase:
    """One corpus case: the inputs in cosearch types and Timeloop's outputs as raw dicts."""

    id: str
    family: str
    layer: Layer
    accelerator: Accelerator
    mapping: MappingArrays
    timeloop: dict
    exact: dict
    """Timeloop's exact counts (`exact_reference`); {} where the corpus has none."""
    raw: dict


def accelerator_from_arch(arch: dict) -> Accelerator:
    """The corpus's neutral architecture description -> `Accelerator` (energies per block access)."""
    levels = []
    for lv in arch["storage_levels"]:
        e = lv["energy_pJ"]
        levels.append(StorageLevel(
            name=lv["name"], keeps=tuple(lv["tensors_kept"]), capacity_words=lv["capacity_words"],
            word_bits=lv["word_bits"], block_size_words=lv["block_size_words"],
            read_bandwidth=lv["read_bandwidth"], write_bandwidth=lv["write_bandwidth"],
            shared_bandwidth=lv["shared_bandwidth"], read_energy_pj=e["read"], write_energy_pj=e["write"],
            update_energy_pj=e["update"], fanout_x=lv["fanout_to_child"]["X"], fanout_y=lv["fanout_to_child"]["Y"],
            kind=storage_kind(lv["accelergy_class"]),
        ))
    tech = arch.get("technology", "45nm")
    return Accelerator(name=arch["arch_id"], levels=tuple(levels), mac_energy_pj=arch["mac"]["energy_pJ"]["compute"],
                       clock_ghz=arch.get("clock_GHz", 1.0), technology_nm=int(str(tech).rstrip("nm") or 45),
                       mac_bits=arch["mac"].get("multiplier_width", 8))


def layer_from_problem(problem: dict, name: str = "") -> Layer:
    """The corpus's problem ({dims, strides, dilations}) -> `Layer`."""
    return Layer.from_dims(problem["dims"], problem.get("strides"), problem.get("dilations"), name=name)


def mapping_from_corpus(mapping: list[dict]) -> MappingArrays:
    """The corpus's per-level mapping entries -> a batch of one `MappingArrays`.

    Permutations are Timeloop's, innermost first; a spatial entry gives its X and Y factors apart. Factors are
    loop ends; `residuals` (optional, per temporal or spatial entry) gives the residual ends that differ.
    """
    arrays = MappingArrays.empty(1, len(mapping))
    for l, entry in enumerate(mapping):
        t = entry["temporal"]
        arrays.temporal[0, l] = [t["factors"].get(d, 1) for d in DIMS]
        res = t.get("residuals") or {}
        arrays.temporal_residual[0, l] = [res.get(d, t["factors"].get(d, 1)) for d in DIMS]
        arrays.order[0, l] = order_outer_first(t["permutation"])
        sp = entry.get("spatial")
        if sp:
            arrays.spatial_x[0, l] = [sp["X"].get(d, 1) for d in DIMS]
            arrays.spatial_y[0, l] = [sp["Y"].get(d, 1) for d in DIMS]
            res = sp.get("residuals") or {}
            arrays.spatial_x_residual[0, l] = [res.get(d, sp["X"].get(d, 1)) if sp["X"].get(d, 1) > 1 else 1
                                               for d in DIMS]
            arrays.spatial_y_residual[0, l] = [res.get(d, sp["Y"].get(d, 1)) if sp["Y"].get(d, 1) > 1 else 1
                                               for d in DIMS]
            arrays.spatial_order[0, l] = order_outer_first(sp["permutation"])
        arrays.keep[0, l] = [int(tn in entry["keep"]) for tn in TENSORS]
    return arrays


_EXACT_FIELDS = ("cycles", "energy_pJ", "per_level")


def exact_reference(raw: dict) -> dict:
    """A corpus line's exact counts: Timeloop's rerun without temporal extrapolation
    (`timeloop_no_temporal_extrapolation`), or {} when the line has none or the rerun gave no results (it did
    not complete: the corpus's generator stops a rerun after 300 s). A check then falls back to the default run's
    figures (`timeloop`) and says so."""
    rerun = raw.get("timeloop_no_temporal_extrapolation") or {}
    if rerun.get("completed") is False or any(rerun.get(k) is None for k in _EXACT_FIELDS):
        return {}
    return rerun


def case_from_dict(raw: dict) -> CorpusCase:
    """One parsed corpus line -> `CorpusCase`."""
    return CorpusCase(
        id=raw["id"], family=raw["family"], layer=layer_from_problem(raw["problem"], raw["id"]),
        accelerator=accelerator_from_arch(raw["arch"]), mapping=mapping_from_corpus(raw["mapping"]),
        timeloop=raw["timeloop"], exact=exact_reference(raw), raw=raw)


def _numbered_cases(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, parsed line) of every non-blank line of a corpus file; a line that is not a JSON object is a
    ValueError naming the file and the line."""
    path = Path(path)
    try:
        with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")) as f:
            lines = f.readlines()
    except (gzip.BadGzipFile, EOFError) as exc:
        raise ValueError(f"{path}: not a complete gzip file ({exc or 'cut short'})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: line {number} is not JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: line {number} is a JSON {type(raw).__name__}, not a case (an object)")
        out.append((number, raw))
    return out


def read_raw_cases(path: str | Path) -> list[dict]:
    """The parsed lines of a corpus file (JSON lines; a name ending in `.gz` is read through gzip).

    A file that is not gzip data though named so, or is cut short, or a line that is not a JSON object, is a
    ValueError naming the file (and the line).
    """
    return [raw for _, raw in _numbered_cases(path)]


def load_cases(path: str | Path) -> list[CorpusCase]:
    """All cases of a corpus file (`read_raw_cases`); a case that cannot be read is a ValueError naming the file,
    the line and the case."""
    cases = []
    for number, raw in _numbered_cases(path):
        try:
            cases.append(case_from_dict(raw))
        except KeyError as exc:
            raise ValueError(f"{path}: line {number} ({raw.get('id', 'a case')}): no field {exc}") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: line {number} ({raw.get('id', 'a case')}): {exc}") from None
    return cases


def default_corpus_path() -> Path:
    """The project's Timeloop corpus, installed with the package: 280 cases in four architecture families."""
    return Path(__file__).resolve().parent / "data" / "cases_dev.jsonl.gz"
