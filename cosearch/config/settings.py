"""Everything one co-search run needs, checked: `CoSearchSettings` (made by `make_settings` from the options)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .budget import Budget
from .devices import DeviceSpec
from .loops import POLISH_EVALUATIONS, EvolutionSettings, MapperSettings
from .objectives import EDP, ObjectiveSpec, pareto_mapper_objective
from .resources import ResourceBounds
from .storage_url import StorageSpec
from .workloads import NetworkSpec


IDENTITY_ABSENT = {"fusion": "none", "timing": "timeloop"}
"""Settings a study's identity leaves out at these values (`CoSearchSettings.identity`): the studies made before
the setting existed hold no key for it, and resume with this value."""


@dataclass(frozen=True)
class CoSearchSettings:
    """A co-search: budget, what network (OFA space or fixed network), Optuna and storage settings, loop sizes.

    budget.accuracy is the accuracy floor of the subnet search (None with a fixed network). Each field
    set from a command-line option is listed, with its default, in `cosearch.config.options.OPTIONS`.
    """

    budget: Budget
    space: str
    network: NetworkSpec | None
    trials: int
    time_limit_s: float | None
    seed: int
    out: Path
    sampler: str
    storage: StorageSpec
    study_name: str
    workers: int
    evolution: EvolutionSettings
    mapper: MapperSettings
    final_mapper: MapperSettings
    predictor: str | None
    resources: ResourceBounds | None
    networks: tuple[NetworkSpec, ...]
    """Several fixed networks (`--networks`): the objective is the geometric mean of their EDPs; `network` is
    the first of them (the one the per-layer report shows)."""
    technology_nm: float = 45
    clock_ghz: float = 1.0
    start_over: bool = False
    """Delete the study of this name before the run (`--start-over`); not part of what the study is."""
    objective: ObjectiveSpec = EDP()
    pareto: tuple[str, ...] = ()
    """Metrics of a multi-objective study (`--pareto`); empty: the single `objective`."""
    latency_table: Path | None = None
    """Where to write the layer-wise latency table of the found accelerator (`--export-latency-table`)."""
    devices: tuple[DeviceSpec, ...] = ()
    """Fixed devices (`--accelerator`): a network search on each instead of an accelerator search."""
    nas_strategy: str = "evolution"
    """The network search strategy on fixed devices (`--nas-strategy`)."""
    nas_evals: int = 10_000
    """Subnet evaluations per device of that search (`--nas-evals`)."""
    efficiency: str = "table"
    """Where a subnet's latency and energy on a fixed device come from: the exact layer table, or a predictor."""
    fusion: str = "resident"
    """How a network's layers share the chip (`cosearch.fusion`, `--fusion`): what each design and subnet is scored
    with."""
    fusion_groups: str | None = None
    """With `fusion` "depth-first" and fixed networks: the groups to run tile by tile instead of the planner's
    (`cosearch.fusion.stacks`, `--fusion-groups`)."""
    timing: str = "timeloop"
    """How a mapping's counts become cycles in every network's score (`accel_models.timing`, `--timing`): Timeloop's
    semantics, or the hardware model's tile-by-tile overheads."""
    polish_evals: int = POLISH_EVALUATIONS
    """Designs the final phase's pattern search scores at most around each of the best designs (`POLISH_CANDIDATES`;
    `--polish-evals`; 0: none); not part of what the study is."""

    def __post_init__(self) -> None:
        # the mappers choose each layer's mapping under the timing every score uses (`mappings.MapperSettings.timing`)
        for name in ("mapper", "final_mapper"):
            object.__setattr__(self, name, replace(getattr(self, name), timing=self.timing))

    @property
    def limits(self) -> Budget:
        """The hard limits a run must meet (the budget, less a latency term that is MnasNet's target)."""
        return self.objective.limits(self.budget)

    @property
    def mapper_objective(self) -> str:
        """What the per-layer mapper minimises: "edp", "latency" or "energy" (see `cosearch.config.objectives`)."""
        return pareto_mapper_objective(self.pareto) if self.pareto else self.objective.mapper_objective

    @property
    def searches_subnet(self) -> bool:
        return self.network is None

    @property
    def fixed_devices(self) -> bool:
        """A network search on given devices (`--accelerator`) rather than a co-search."""
        return bool(self.devices)

    def identity(self) -> dict:
        """What a study's trials depend on: a resumed study must have been made with the same."""
        return {"budget": self.budget.to_dict(), "space": None if self.network else self.space,
                "network": None if self.network is None else self.network.to_dict(), "sampler": self.sampler,
                "seed": self.seed, "evolution": asdict(self.evolution), "mapper": self.mapper.to_dict(),
                "technology_nm": self.technology_nm, "clock_ghz": self.clock_ghz,
                **({"resources": self.resources.to_dict()} if self.resources is not None else {}),
                **({"networks": [n.to_dict() for n in self.networks]} if len(self.networks) > 1 else {}),
                **({"objective": self.objective.identity()} if self.objective != EDP() else {}),
                **({"pareto": list(self.pareto)} if self.pareto else {}),
                **({"fusion": self.fusion} if self.fusion != IDENTITY_ABSENT["fusion"] else {}),
                **({"fusion_groups": self.fusion_groups} if self.fusion_groups else {}),
                **({"timing": self.timing} if self.timing != IDENTITY_ABSENT["timing"] else {}),
                **({"devices": [d.to_dict() for d in self.devices], "nas_strategy": self.nas_strategy,
                    "nas_evals": self.nas_evals, "efficiency": self.efficiency,
                    "final_mapper": self.final_mapper.to_dict()} if self.devices else {})}

    def describe(self) -> str:
        """One line: what is searched, how, and where the study lives."""
        what = f"network {self.network.name}" if self.network else f"space {self.space}"
        if self.devices:
            return (f"network search on {', '.join(d.name for d in self.devices)}: space {self.space}; budget "
                    f"{self.budget.describe() or 'none'}; {'Pareto front of ' + ', '.join(self.pareto) if self.pareto else self.objective.describe()}; "
                    f"strategy {self.nas_strategy}, {self.nas_evals} subnet evaluations per device; "
                    f"{'' if self.timing == 'timeloop' else f'{self.timing} timing; '}study "
                    f"{self.study_name!r} in {self.storage.display}")
        if len(self.networks) > 1:
            what = f"networks {', '.join(n.name for n in self.networks)} (geometric-mean EDP)"
        if self.resources is not None:
            what += f"; {self.resources.describe()}"
        limit = "" if self.time_limit_s is None else f", time limit {self.time_limit_s:g} s"
        goal = (f"Pareto front of {', '.join(self.pareto)}" if self.pareto else self.objective.describe())
        return (f"co-search: budget {self.budget.describe() or 'none'}; {goal}; {what}; {self.trials} trials{limit}, "
                f"sampler "
                f"{self.sampler}, {self.workers} worker(s); study {self.study_name!r} in {self.storage.display}")

    def to_dict(self) -> dict:
        d = self.identity()
        d.update({"trials": self.trials, "time_limit_s": self.time_limit_s, "out": str(self.out),
                  "storage": None if self.storage is None else self.storage.display, "study_name": self.study_name,
                  "workers": self.workers, "final_mapper": self.final_mapper.to_dict(), "polish_evals": self.polish_evals,
                  "predictor": self.predictor,
                  "objective": self.objective.to_dict(), "pareto": list(self.pareto) or None,
                  "latency_table": None if self.latency_table is None else str(self.latency_table)})
        return d
