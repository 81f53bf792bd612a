"""Check cosearch against Timeloop runs listed in a case manifest (`cases.json`, format cosearch-timeloop-cases/1).

Each case names its input files (globs relative to the manifest, loaded as they are), the Jinja2
variables, the energy table, and where Timeloop's figures are: a folder of Timeloop's outputs
(`reference` + `reference_prefix`: the `*.stats.txt` report), or a case of the reference corpus
(`corpus_case`: an id in the JSON-lines corpus named by the manifest's `corpus`; its `ert` may then be
`corpus:<id>`, that case's energy table). Mapper cases (`tool: mapper`) also give the mapping Timeloop's
mapper found (`reference_mapping`), which is evaluated; given a mapper (`python -m mappings.timeloop check`),
the mapper is also run under the files' constraints and compared with Timeloop's result on the mapper
file's metric.

A case agrees when it loads, cycles are equal, utilization is equal to the report's precision, energy
(leakage included) is within 1%, every per-level count is equal or labelled as made by an older Timeloop
build, and (mapper cases) the mapper is at or below Timeloop's result.
"""
from __future__ import annotations

import glob
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nets import DIMS
from nets.problem_shape import tensor_dims

from ..accelerator import TENSORS
from ..reference import loop_nest
from ..result import EvalResult
from ._fields import show
from ._yaml import read_text
from .corpus import default_corpus_path, exact_reference, read_raw_cases
from .inputs import TimeloopSpec, load_spec
from .report import evaluate_spec
from .stats import TensorCounts, TimeloopStats, read_stats

FORMAT = "cosearch-timeloop-cases/1"
ENERGY_TOLERANCE = 0.01
"""Relative energy error within which a case agrees (docs/cost_model.md: energy within 1%)."""
_CASE_KEYS = ("id", "tool", "inputs", "jinja", "ert", "reference", "reference_prefix", "reference_mapping",
              "corpus_case", "note")
MAPPER_PROG = "python -m mappings.timeloop"
"""The command line of the mapper and of the check with the mapper comparison (cosearch's mapper lives in
`mappings`, after `accel_models` in the flow)."""
MapperFn = Callable[[TimeloopSpec], tuple[int, float]]
"""Runs cosearch's mapper on a spec (its mapping ignored); returns (cycles, energy pJ) of the best mapping."""


@dataclass
class CaseResult:
    """One case's comparison."""

    id: str
    tool: str
    error: str | None = None
    cycles: tuple[int, int] = (0, 0)
    utilization: tuple[float, float] = (0.0, 0.0)
    energy_pj: tuple[float, float] = (0.0, 0.0)
    counts_equal: int = 0
    counts_total: int = 0
    mismatches: list[str] = field(default_factory=list)
    older_build: list[str] = field(default_factory=list)
    mapper: tuple[tuple[int, float], tuple[int, float]] | None = None
    mapper_ok: bool | None = None
    metrics: tuple[str, ...] = ()

    @property
    def energy_error(self) -> float:
        ours, theirs = self.energy_pj
        return (ours - theirs) / theirs if theirs else 0.0

    @property
    def agrees(self) -> bool:
        if self.error is not None:
            return False
        util_ok = abs(self.utilization[0] - self.utilization[1]) <= 5e-5 + 1e-12
        return (self.cycles[0] == self.cycles[1] and util_ok and abs(self.energy_error) <= ENERGY_TOLERANCE
                and not self.mismatches and self.mapper_ok is not False)


# ---- the manifest ----------------------------------------------------------------------------
def read_manifest(path: Path) -> tuple[list[dict], Path | None]:
    """(cases, corpus path or None) of a manifest, each case's keys checked."""
    try:
        doc = json.loads(read_text(path, "CASES", "JSON"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("cases"), list):
        raise ValueError(f"{path}: expected {{\"format\": \"{FORMAT}\", \"cases\": [...]}}")
    if not doc["cases"]:
        raise ValueError(f"{path}: the manifest lists no case")
    for i, c in enumerate(doc["cases"]):
        where = f"{path}: cases[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("id"), str):
            raise ValueError(f"{where}: expected an object with an id")
        unknown = [k for k in c if k not in _CASE_KEYS]
        if unknown:
            raise ValueError(f"{where} ({c['id']}): unknown key(s) {unknown}; accepted: {', '.join(_CASE_KEYS)}")
        if c.get("tool") not in ("model", "mapper"):
            raise ValueError(f"{where} ({c['id']}).tool must be model or mapper, got {show(c.get('tool'))}")
        if not isinstance(c.get("inputs"), list) or not c["inputs"]:
            raise ValueError(f"{where} ({c['id']}).inputs: expected a list of globs")
        if ("reference" in c) == ("corpus_case" in c):
            raise ValueError(f"{where} ({c['id']}): give either reference (Timeloop's output folder) or corpus_case")
        if c["tool"] == "mapper" and "reference_mapping" not in c:
            raise ValueError(f"{where} ({c['id']}): a mapper case needs reference_mapping (Timeloop's best mapping)")
    corpus = doc.get("corpus")
    return doc["cases"], (path.parent / corpus if corpus else None)


def _files(root: Path, patterns: list[str], case_id: str) -> list[Path]:
    files = []
    for pattern in patterns:
        found = sorted(glob.glob(str(root / pattern)))
        if not found:
            raise ValueError(f"{case_id}: input {pattern!r} matches no file under {root}")
        files += [Path(f) for f in found]
    return files


class _Corpus:
    """The reference corpus's lines by id, read on first use; `mapper_bench/NAME.json` names a mapper-benchmark
    pair beside the corpus (its best case, with Timeloop's mapper runs)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path or default_corpus_path()
        self._cases: dict[str, dict] | None = None

    def case(self, case_id: str) -> dict:
        if case_id.endswith(".json"):
            path = self.path.parent / case_id
            raw = json.loads(read_text(path, "mapper benchmark", "JSON"))
            return {**raw["best_case"], "mapper_runs": raw["mapper_runs"]}
        if self._cases is None:
            if not self.path.is_file():
                raise ValueError(f"corpus: no file at {self.path}")
            self._cases = {raw["id"]: raw for raw in read_raw_cases(self.path)}
        if case_id not in self._cases:
            raise ValueError(f"corpus {self.path}: no case {case_id!r}")
        return self._cases[case_id]


def _corpus_stats(raw: dict) -> TimeloopStats:
    """A corpus case's Timeloop figures, with its exact (non-extrapolated) counts where it has them."""
    tl = raw["timeloop"]
    exact = exact_reference(raw) or tl
    st = TimeloopStats(int(exact["cycles"]), float(tl["utilization"]), int(tl["macs"]), float(exact["energy_pJ"]))
    for level, tensors in exact["per_level"].items():
        st.counts[level] = {t: TensorCounts(c["reads"], c["fills"], c["updates"],
                                            tl["per_level"][level][t]["instances_used"]) for t, c in tensors.items()}
    return st


# ---- comparing ---------------------------------------------------------------------------------
def _innermost_loop_above(spec: TimeloopSpec, level: int) -> str | None:
    temporal = [lp for lp in loop_nest(spec.mapping) if lp.kind == "T" and lp.level < level]
    return DIMS[temporal[-1].dim] if temporal else None


def _compare_counts(spec: TimeloopSpec, tl: TimeloopStats, result: EvalResult, case: CaseResult) -> None:
    """Per level, data space and action: equal, labelled (the older build's halo reuse), or a mismatch."""
    acc = spec.accelerator
    names = spec.names
    halo: dict[int, float] = {}
    pending = []
    for level, tensors in tl.counts.items():
        if level not in acc.level_names:
            case.mismatches.append(f"{level}: no such level in cosearch's reading")
            continue
        l = acc.level_index(level)
        for tname, counts in tensors.items():
            cosearch = names.tensors.get(tname, tname if tname in TENSORS else None)  # the corpus uses cosearch's
            if cosearch is None:
                case.mismatches.append(f"{level}.{tname}: no such data space in the problem")
                continue
            t = TENSORS.index(cosearch)
            for action in ("reads", "fills", "updates"):
                ours, theirs = float(getattr(result, action)[l, t]), counts.total(action)
                case.counts_total += 1
                if abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs)):
                    case.counts_equal += 1
                    continue
                inner = _innermost_loop_above(spec, l)
                inner_name = names.problem_dim(inner) if inner else None
                if (TENSORS[t] == "Inputs" and action == "fills" and theirs > ours and inner is not None
                        and inner not in tensor_dims(TENSORS[t])):
                    halo[t] = theirs - ours
                    case.older_build.append(
                        f"{level}.{tname}.fills: {ours:,.0f} vs Timeloop's {theirs:,.0f}: the older build gives no "
                        f"halo reuse of {tname} after a step of {inner_name}, the innermost loop above {level}, "
                        "which does not index them")
                    continue
                pending.append((level, l, tname, t, action, ours, theirs))
    for level, l, tname, t, action, ours, theirs in pending:
        child_labelled = t in halo and action == "reads" and theirs > ours
        if child_labelled:
            case.older_build.append(f"{level}.{tname}.reads: {ours:,.0f} vs Timeloop's {theirs:,.0f}: the parent's "
                                    "side of the halo-reuse difference below it")
        else:
            case.mismatches.append(f"{level}.{tname}.{action}: {ours:,.0f} vs {theirs:,.0f}")


def _at_or_below(ours: tuple[int, float], theirs: tuple[int, float], metrics: tuple[str, ...], slack_pj: float
                 ) -> bool:
    """Is our (cycles, energy) at or below Timeloop's on its metric (energies within the report's precision)?"""
    (c1, e1), (c2, e2) = ours, theirs
    if metrics == ("edp",):
        return c1 * e1 <= c2 * (e2 + slack_pj)
    for m in metrics:                      # lexicographic: the first metric that differs decides
        a, b = (c1, c2) if m == "delay" else (e1, e2)
        tie = 0 if m == "delay" else slack_pj
        if a < b - tie:
            return True
        if a > b + tie:
            return False
    return True


def check_case(c: dict, root: Path, corpus: _Corpus, mapper: MapperFn | None) -> CaseResult:
    """Load, evaluate and compare one case (errors are reported in the result, not raised)."""
    case = CaseResult(c["id"], c["tool"])
    try:
        files = _files(root, c["inputs"], c["id"])
        ert = c.get("ert")
        if isinstance(ert, str) and ert.startswith("corpus:"):
            ert = corpus.case(ert.split(":", 1)[1])["timeloop_yaml"]["ert"]
        elif ert is not None:
            ert = root / ert
        mapping = [root / c["reference_mapping"]] if c["tool"] == "mapper" else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = load_spec(files + mapping, jinja=c.get("jinja") or {}, ert=ert, require_mapping=True,
                             check_mapping=c["tool"] == "model")
        if "corpus_case" in c:
            tl = _corpus_stats(corpus.case(c["corpus_case"]))
            slack = 0.0
        else:
            tl = read_stats(root / c["reference"] / f"{c.get('reference_prefix', 'timeloop-model')}.stats.txt")
            slack = 0.005 * tl.computes / 1000.0      # the report prints fJ/compute to 2 decimals
        result = evaluate_spec(spec)
        _compare(c, case, spec, tl, result, corpus, mapper, slack)
    except (ValueError, OSError) as exc:
        case.error = " ".join(str(exc).split())
    return case


def _compare(c: dict, case: CaseResult, spec: TimeloopSpec, tl: TimeloopStats, result: EvalResult, corpus: _Corpus,
             mapper: MapperFn | None, slack: float) -> None:
    case.metrics = spec.metrics
    case.cycles = (int(result.cycles), tl.cycles)
    case.utilization = (float(result.utilization), tl.utilization)
    case.energy_pj = (float(result.energy_pj), tl.energy_pj)
    _compare_counts(spec, tl, result, case)
    if c["tool"] == "mapper" and mapper is not None:
        spec.mapping = None
        ours = mapper(spec)
        theirs = [(tl.cycles, tl.energy_pj)]
        if "corpus_case" in c:       # a mapper benchmark: Timeloop's best over its mapper runs
            runs = corpus.case(c["corpus_case"]).get("mapper_runs", {}).values()
            theirs += [(int(r["best"]["cycles"]), float(r["best"]["energy_pJ"])) for r in runs]
        best = next(t for t in theirs if all(_at_or_below(t, u, spec.metrics, 0.0) for u in theirs))
        case.mapper = (ours, best)
        case.mapper_ok = _at_or_below(ours, best, spec.metrics, slack)


def _row(r: CaseResult, w: int) -> str:
    if r.error is not None:
        return f"{r.id:<{w}}{r.tool:<8}{'no':<7}{r.error}"
    cyc = f"{r.cycles[0]:,}" + (" =" if r.cycles[0] == r.cycles[1] else f" != {r.cycles[1]:,}")
    util = f"{100 * r.utilization[0]:.2f}%"
    counts = f"{r.counts_equal}/{r.counts_total}" + (f" +{len(r.older_build)}*" if r.older_build else "")
    mapper = "-"
    if r.mapper is not None:
        (c1, e1), (c2, e2) = r.mapper
        verdict = "<=" if r.mapper_ok else ">"
        mapper = f"{c1:,} cyc {e1:.4g} pJ {verdict} {c2:,} cyc {e2:.4g} pJ ({'/'.join(r.metrics)})"
    return (f"{r.id:<{w}}{r.tool:<8}{'yes':<7}{cyc:<16}{util:>8}  {counts:<12}{100 * r.energy_error:>+9.3f}%  {mapper}"
            + ("" if r.agrees else "   DISAGREES"))


def check_manifest(path: Path, mapper: MapperFn | None = None) -> tuple[list[CaseResult], str]:
    """Check every case of a manifest; returns the results and the report (table, notes, last lines)."""
    cases, corpus_path = read_manifest(path)
    corpus = _Corpus(corpus_path)
    results = [check_case(c, path.parent, corpus, mapper) for c in cases]
    w = max(len(r.id) for r in results) + 2
    lines = [f"{'case':<{w}}{'tool':<8}{'loads':<7}{'cycles':<16}{'util':>8}  {'counts':<12}{'energy err':>10}  "
             "mapper vs timeloop"]
    lines += [_row(r, w) for r in results]
    notes = [(r.id, n) for r in results for n in r.older_build]
    if notes:
        lines.append("* counts that differ because the reference was made by an older Timeloop build:")
        lines += [f"  {cid}: {n}" for cid, n in notes]
    bad = [(r.id, m) for r in results for m in r.mismatches]
    if bad:
        lines.append("counts that disagree:")
        lines += [f"  {cid}: {m}" for cid, m in bad]
    mapped = [r for r in results if r.mapper_ok is not None]
    if mapped:
        lines.append(f"mapper at or below timeloop: {sum(r.mapper_ok for r in mapped)}/{len(mapped)}")
    elif mapper is None and any(r.tool == "mapper" for r in results):
        lines.append(f"mapper cases: Timeloop's mappings evaluated; the mapper comparison is "
                     f"`{MAPPER_PROG} check {path}`")
    lines.append(f"agree: {sum(r.agrees for r in results)}/{len(results)} cases")
    return results, "\n".join(lines)
