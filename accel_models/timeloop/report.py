"""What `python -m accel_models.timeloop model` writes and prints for one evaluated mapping: the JSON
(`cosearch-model.json`) and a short summary in the spirit of Timeloop's stats (cycles, utilization, pJ/MAC,
energy per level)."""
from __future__ import annotations

from ..accelerator import TENSORS
from ..cost_model import evaluate_batch, explain
from ..mapping_arrays import MappingArrays
from ..reference import capacity_overflow, spatial_overflow, uniform_instances
from ..result import CAPACITY_OVERFLOW, SPATIAL_OVERFLOW, EvalResult
from ..timing import dram_words, get_timing
from .inputs import TimeloopSpec

FORMAT = "cosearch-model/1"


def evaluate_spec(spec: TimeloopSpec, arrays: MappingArrays | None = None) -> EvalResult:
    """The compiled cost model on the spec's mapping (or `arrays`), as a readable result; an invalid mapping
    is an error naming why."""
    arrays = spec.mapping if arrays is None else arrays
    if arrays is None:
        raise ValueError("no mapping to evaluate")
    result = explain(spec.layer, spec.accelerator, arrays)
    if not result.valid:
        raise ValueError(f"the mapping is invalid: {_where_invalid(spec, arrays, result)}")
    return result


def _where_invalid(spec: TimeloopSpec, arrays: MappingArrays, result: EvalResult) -> str:
    """Why the mapping is invalid, naming the level where the reason is one level's (as Timeloop's
    "couldn't map level GLB: mapped tile size 129 exceeds buffer capacity 32")."""
    acc = spec.accelerator
    if result.reason == CAPACITY_OVERFLOW:
        l, tensors, capacity = capacity_overflow(acc, arrays, 0, result.tile_words)
        parts = [f"{spec.names.problem_tensor(TENSORS[t])} {result.tile_words[l, t]:,.0f}" for t in tensors]
        total = sum(result.tile_words[l, t] for t in tensors)
        return (f"the tile kept in {acc.levels[l].name} is {total:,.0f} words ({', '.join(parts)}), more than its "
                f"capacity of {capacity:,.0f} words")
    if result.reason == SPATIAL_OVERFLOW:
        l, x, y = spatial_overflow(acc, arrays, 0)
        lv = acc.levels[l]
        return (f"the spatial factors under {lv.name} need {x} x {y} (X x Y) instances; its fan-out is "
                f"{lv.fanout_x} x {lv.fanout_y}")
    return result.reason_text


UNEQUAL_NOTE = ("instances under a fan-out do unequal work (a residual on or below a spatial loop): these are the real "
                "counts; Timeloop counts processing element 0 and scales it (its spatial residual class), so its MACs, "
                "its counts below the fan-out and its cycles differ (docs/imperfect.md)")


def model_report(spec: TimeloopSpec, result: EvalResult, arrays: MappingArrays | None = None) -> dict:
    """JSON-ready figures: totals, and per level its energy (leakage included), leakage, instances used and
    per data space (the problem's names) the reads / fills / updates summed over instances; `unequal_instances`:
    whether the mapping (`arrays`, else the spec's) is of Timeloop's spatial residual class."""
    acc = spec.accelerator
    levels = {}
    for l, lv in enumerate(acc.levels):
        tensors = {spec.names.problem_tensor(t): {"reads": float(result.reads[l, i]),
                                                  "fills": float(result.fills[l, i]),
                                                  "updates": float(result.updates[l, i])}
                   for i, t in enumerate(TENSORS) if result.tile_words[l, i] >= 0}
        levels[lv.name] = {"energy_pj": float(result.level_energy_pj[l]), "leakage_pj": float(result.level_leak_pj[l]),
                           "instances": acc.instances(l), "instances_used": int(result.instances_used[l]),
                           "tensors": tensors}
    return {
        "format": FORMAT, "inputs": spec.files,
        "problem": {n: getattr(spec.layer, d) for n, d in spec.names.dims.items()}, "macs": spec.layer.macs,
        "cycles": int(result.cycles), "utilization": float(result.utilization), "energy_pj": float(result.energy_pj),
        "pj_per_mac": float(result.energy_pj / spec.layer.macs), "mac_energy_pj": float(result.mac_energy_pj),
        "leakage_pj": float(result.level_leak_pj.sum()), "levels": levels,
        "unequal_instances": not uniform_instances(spec.mapping if arrays is None else arrays, 0),
    }


def with_timing(report: dict, spec: TimeloopSpec, timing: str, arrays: MappingArrays | None = None) -> dict:
    """`report` (`model_report`'s) with its cycles and utilization under the timing model `timing`
    (`accel_models.timing`) and a "timing" entry: the model's name, Timeloop's cycles and, where the model has them,
    its terms in cycles. With "timeloop" the report is returned as it is."""
    if timing == "timeloop":
        return report
    arrays = spec.mapping if arrays is None else arrays
    result = evaluate_batch(spec.layer, spec.accelerator, arrays, timing=timing)
    entry = {"model": timing, "timeloop_cycles": report["cycles"]}
    model = get_timing(timing)
    if hasattr(model, "terms"):
        terms = model.terms(spec.layer, spec.accelerator, arrays.with_residuals(), dram_words(result))
        entry["terms_cycles"] = {k: float(v[0]) for k, v in terms.items() if k != "cycles"}
    return {**report, "cycles": int(result.cycles[0]), "utilization": float(result.utilization[0]), "timing": entry}


def summary(report: dict) -> str:
    """A few lines: cycles, utilization, pJ/MAC, then energy per level (with its share and leakage)."""
    total = report["energy_pj"]
    timing = report.get("timing")
    lines = [f"cycles {report['cycles']:,}   utilization {100 * report['utilization']:.2f}%   "
             f"energy {total:,.2f} pJ   {report['pj_per_mac']:.3f} pJ/MAC   ({report['macs']:,} MACs)"]
    if timing:
        terms = ", ".join(f"{k} {v:,.0f}" for k, v in timing.get("terms_cycles", {}).items())
        lines.append(f"timing {timing['model']}: {terms}{'; ' if terms else ''}Timeloop's semantics "
                     f"{timing['timeloop_cycles']:,} cycles")
    lines += [
              f"{'level':<26}{'energy pJ':>18}{'share':>9}{'leakage pJ':>14}"]
    for name, lv in report["levels"].items():
        lines.append(f"{name:<26}{lv['energy_pj']:>18,.2f}{100 * lv['energy_pj'] / total:>8.1f}%"
                     f"{lv['leakage_pj']:>14,.2f}")
    lines.append(f"{'MACs':<26}{report['mac_energy_pj']:>18,.2f}{100 * report['mac_energy_pj'] / total:>8.1f}%")
    if report.get("unequal_instances"):
        lines.append(f"note: {UNEQUAL_NOTE}")
    return "\n".join(lines)
