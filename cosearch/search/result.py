"""What a co-search found: the best design and subnet (re-mapped with the final mapper), the presets, the study.

The search's last product and the report's input (`cosearch.report` reads it; nothing here writes).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..config import CoSearchSettings
from .accuracy import AccuracySource
from .baselines import PresetRun
from .evaluate import NetworkCost
from .space import Design
from .workers import WorkerReport


@dataclass(frozen=True)
class TrialPoint:
    """One trial as the plots see it: number, objective (in its unit), whether it met the budget, accuracy, subnets
    scored; `values`: every objective's (one per metric of a multi-objective study, whose `value` is None)."""

    number: int
    value: float | None
    state: str
    feasible: bool
    accuracy: float | None = None
    subnets: tuple = ()
    values: tuple = ()


@dataclass
class CoSearchResult:
    """The outcome of `cosearch.run`; `best` is None when no trial met the budget."""

    settings: CoSearchSettings
    design: Design | None
    best: NetworkCost | None
    best_trial: int | None
    search_metrics: dict
    presets: list[PresetRun]
    accuracy_source: AccuracySource | None
    trials: list[TrialPoint]
    counts: dict[str, int]
    workers: list[WorkerReport]
    """Every worker that ran trials of the study (this command's first), and this command's workers."""
    timings_s: dict[str, float]
    notes: list[str] = field(default_factory=list)
    per_network: dict[str, dict] = field(default_factory=dict)
    """With `--networks`: per network name, the metrics of the co-searched design ("cosearch") and of each preset."""
    pareto_front: list[dict] = field(default_factory=list)
    """With `--pareto`: every design of the search's front, re-mapped with the final mapper (`finalize._front`)."""
    seeds: list[dict] = field(default_factory=list)
    """The seed trials of an area-budget study (`seeds.seed_summary`): the fitting presets' designs, run first."""
    polish: dict = field(default_factory=dict)
    """The final phase's pattern search (`finalize._polish_candidates`) that produced the best design, else the one from
    the best trial's design: the trial, the moves kept, the search mapper's objective values before and after, the final
    mapper's, whether its design won; the searches from the other candidates under "others"; empty if none ran
    (`--polish-evals 0`, `--pareto`)."""

    @property
    def design_origin(self) -> str:
        """Where the best design comes from: 'trial N', or 'trial N, polished (k moves)' when the pattern search's
        design won."""
        if self.polish.get("kept"):
            return f"trial {self.best_trial}, polished ({len(self.polish['moves'])} moves)"
        return f"trial {self.best_trial}"

    @property
    def fitting_presets(self) -> list[PresetRun]:
        return [p for p in self.presets if p.fits and p.cost is not None]

    def edp_ratio(self, preset: PresetRun) -> float | None:
        """Preset EDP / best design EDP (> 1: the co-searched design is better)."""
        if self.best is None or preset.cost is None:
            return None
        return preset.cost.edp_j_s / self.best.edp_j_s

    @property
    def beats_every_preset(self) -> bool | None:
        ratios = [self.edp_ratio(p) for p in self.fitting_presets]
        return None if self.best is None or not ratios else all(r > 1 for r in ratios)
