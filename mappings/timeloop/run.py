"""timeloop-mapper's work on cosearch: cosearch's mapper on the inputs of one Timeloop run, under the files'
mapspace constraints and for the mapper file's optimization metric, and what `mapper` writes about it."""
from __future__ import annotations

from accel_models import evaluate_batch
from accel_models.timeloop import TimeloopSpec, evaluate_spec, model_report

from ..mapper import DEFAULT_BUDGET_EVALS, best_mapping
from ..result import MapperResult

__all__ = ["run_mapper", "mapper_figures", "mapper_report"]


def run_mapper(spec: TimeloopSpec, budget: int = DEFAULT_BUDGET_EVALS, seed: int = 0,
               time_limit_s: float | None = None, factors: str = "perfect") -> MapperResult:
    """cosearch's mapper on the spec (its constraints, its metric; `budget` evaluations; `factors` as
    `MapperSettings`); the MapperResult. A search that finds no valid mapping is an error."""
    result = best_mapping(spec.layer, spec.accelerator, spec.objective, budget_evals=budget, seed=seed,
                          time_limit_s=time_limit_s, constraints=spec.constraints, factors=factors)
    if not result.valid:
        raise ValueError(f"the mapper found no valid mapping in {result.evaluations:,} evaluations")
    return result


def mapper_figures(spec: TimeloopSpec, budget: int = DEFAULT_BUDGET_EVALS, seed: int = 0,
                   factors: str = "perfect") -> tuple[int, float]:
    """(cycles, energy pJ) of the best mapping the mapper finds: the mapper side of a Timeloop check
    (`accel_models.timeloop.check_manifest`)."""
    r = run_mapper(spec, budget, seed, factors=factors)
    res = evaluate_batch(spec.layer, spec.accelerator, r.arrays)
    return int(res.cycles[0]), float(res.energy_pj[0])


def mapper_report(spec: TimeloopSpec, result: MapperResult) -> dict:
    """`model_report` of the best mapping, with the search's settings and effort under "mapper"."""
    report = model_report(spec, evaluate_spec(spec, result.arrays), result.arrays)
    report["mapper"] = {"metrics": list(spec.metrics), "objective": spec.objective, "strategy": result.strategy,
                        "evaluations": result.evaluations, "valid_evaluations": result.valid_evaluations,
                        "wall_s": result.wall_s, "seed": result.seed}
    return report

