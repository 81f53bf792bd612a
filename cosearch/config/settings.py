"""Everything one co-search run needs, checked: `CoSearchSettings` (no heavy imports here)."""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .budget import Budget, parse_budget
from .validate import UsageError
from .loops import EvolutionSettings, MapperSettings
from .resources import ResourceBounds
from ..search.storage import StorageSpec, parse_storage
from .workloads import NetworkSpec, parse_network, parse_networks, resolve_space

SAMPLERS = ("cmaes", "tpe", "random", "nsga2")
DEFAULT_BUDGET = "area=5mm2"
DEFAULT_TRIALS = 64
DEFAULT_TIME_LIMIT_S = 180.0
"""The default run stops starting trials after this long, so that it ends within five minutes on a
2-core machine even when the machine is busy or the numba kernels compile first (64 trials take
about 170 s on an idle machine; the final mapping, presets and report add about 35 s)."""
DEFAULT_ACCURACY = 0.80
"""Accuracy floor of the subnet search when none is given: OFA's predictor puts about half of the
random MBv3 w1.2 subnets above it (OFA's headline: 80 % top-1 under 600 M MACs)."""
MAX_WORKERS = 64
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(s|sec|m|min|h)?\s*$", re.IGNORECASE)


def parse_duration(text: str | float | None, field: str = "--time-limit") -> float | None:
    """Seconds from '90', '90s', '5m', '1.5h'; None, '', 'none' and '0' mean no limit."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        if text.strip().lower() in ("", "none", "0"):
            return None
        m = _DURATION.match(text)
        if not m:
            raise UsageError(f"{field}: cannot read {text!r} as a duration; accepted: seconds (90, 90s), minutes (5m), "
                             "hours (1.5h), or none")
        value = float(m.group(1)) * {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[(m.group(2) or "s").lower()]
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{field}: must be a duration >= 0, got {text!r}")
    return value or None


@dataclass(frozen=True)
class CoSearchSettings:
    """A co-search: budget, what network (OFA space or fixed network), Optuna and storage settings, loop sizes.

    budget.accuracy is the accuracy floor of the subnet search (None with a fixed network).
    """

    budget: Budget
    space: str = "ofa_mbv3_w1.2"
    network: NetworkSpec | None = None
    trials: int = DEFAULT_TRIALS
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    seed: int = 0
    out: Path = Path("cosearch_out")
    sampler: str = "cmaes"
    storage: StorageSpec | None = None
    study_name: str = ""
    workers: int = 1
    evolution: EvolutionSettings = field(default_factory=EvolutionSettings)
    mapper: MapperSettings = field(default_factory=MapperSettings)
    final_mapper: MapperSettings = field(default_factory=lambda: MapperSettings(budget_evals=4096, islands=4))
    predictor: str | None = None
    technology_nm: float = 45
    clock_ghz: float = 1.0
    resources: ResourceBounds | None = None
    networks: tuple[NetworkSpec, ...] = ()
    """Several fixed networks (`--networks`): the objective is the geometric mean of their EDPs; `network` is
    the first of them (the one the per-layer report shows)."""

    @property
    def searches_subnet(self) -> bool:
        return self.network is None

    @property
    def all_networks(self) -> tuple[NetworkSpec, ...]:
        """The fixed networks the objective runs (empty for a subnet search)."""
        if self.networks:
            return self.networks
        return () if self.network is None else (self.network,)

    def identity(self) -> dict:
        """What a study's trials depend on: a resumed study must have been made with the same."""
        return {"budget": self.budget.to_dict(), "space": None if self.network else self.space,
                "network": None if self.network is None else self.network.to_dict(), "sampler": self.sampler,
                "seed": self.seed, "evolution": asdict(self.evolution), "mapper": asdict(self.mapper),
                "technology_nm": self.technology_nm, "clock_ghz": self.clock_ghz,
                **({"resources": self.resources.to_dict()} if self.resources is not None else {}),
                **({"networks": [n.to_dict() for n in self.networks]} if len(self.networks) > 1 else {})}

    def describe(self) -> str:
        """One line: what is searched, how, and where the study lives."""
        what = f"network {self.network.name}" if self.network else f"space {self.space}"
        if len(self.networks) > 1:
            what = f"networks {', '.join(n.name for n in self.networks)} (geometric-mean EDP)"
        if self.resources is not None:
            what += f"; {self.resources.describe()}"
        limit = "" if self.time_limit_s is None else f", time limit {self.time_limit_s:g} s"
        return (f"co-search: budget {self.budget.describe() or 'none'}; {what}; {self.trials} trials{limit}, sampler "
                f"{self.sampler}, {self.workers} worker(s); study {self.study_name!r} in {self.storage.display}")

    def to_dict(self) -> dict:
        d = self.identity()
        d.update({"trials": self.trials, "time_limit_s": self.time_limit_s, "out": str(self.out),
                  "storage": None if self.storage is None else self.storage.display, "study_name": self.study_name,
                  "workers": self.workers, "final_mapper": asdict(self.final_mapper), "predictor": self.predictor})
        return d


def _positive_int(field: str, value, lo: int = 1, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        accepted = f"an integer >= {lo}" + ("" if hi is None else f" and <= {hi}")
        raise UsageError(f"{field}: must be {accepted}, got {value!r}")
    return value


def _default_study_name(budget: Budget, what: str, seed: int) -> str:
    return f"cosearch-{what}-{budget.slug}-seed{seed}"


def make_settings(budget: str | list[str] | Budget | None = None, *, space: str = "ofa-mbv3",
                  network: str | None = None, accuracy: float | None = None, trials: int = DEFAULT_TRIALS,
                  time_limit: str | float | None = DEFAULT_TIME_LIMIT_S, seed: int = 0,
                  out: str | Path = "cosearch_out", sampler: str = "cmaes", storage: str | None = None,
                  study_name: str | None = None, workers: int = 1, population: int | None = None,
                  generations: int | None = None, mapper_evals: int | None = None,
                  final_mapper_evals: int | None = None, predictor: str | None = None,
                  match_resources: str | None = None, networks: str | list[str] | None = None) -> CoSearchSettings:
    """Checked settings from command-line-like values; every problem is a `UsageError` naming its field.

    match_resources: a preset name (`accel_models.presets.PRESETS`) whose #PEs, on-chip bytes and DRAM
    bandwidth bound the accelerator space (NAAS); the area term of the budget is then optional.
    networks: several fixed networks (comma-joined zoo names or a list); objective = geometric mean of EDPs.
    """
    resources = None if match_resources is None else ResourceBounds.from_preset(match_resources.strip())
    if not isinstance(budget, Budget):
        if resources is not None:
            budget = parse_budget(budget, require_area=False) if budget else parse_budget([], require_area=False)
        else:
            budget = parse_budget(budget if budget else DEFAULT_BUDGET)
    space_name = resolve_space(space)
    nets_list: tuple[NetworkSpec, ...] = ()
    if networks is not None:
        if network is not None:
            raise UsageError("--networks and --network: give one of them")
        nets_list = parse_networks(networks, space)
    net = None if network is None else parse_network(network, space)
    if nets_list:
        net = nets_list[0]
    if accuracy is not None:
        if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 < accuracy <= 1:
            raise UsageError(f"--accuracy: must be a fraction in (0, 1], got {accuracy!r}")
        if budget.accuracy is not None and abs(budget.accuracy - accuracy) > 1e-12:
            raise UsageError(f"--accuracy {accuracy:g} disagrees with the budget's accuracy>={budget.accuracy:g}; "
                             "give one of them")
        budget = budget.with_accuracy(float(accuracy))
    if net is not None:
        if budget.accuracy is not None:
            raise UsageError("--accuracy / accuracy>=: the accuracy floor applies to the OFA subnet search; "
                             "a fixed --network has no accuracy to check")
    elif budget.accuracy is None:
        budget = budget.with_accuracy(DEFAULT_ACCURACY)
    from ..search.space import AcceleratorSpace

    AcceleratorSpace(budget.area_mm2, resources=resources)  # a budget below the smallest design is a UsageError
    _positive_int("--trials", trials, 1, 1_000_000)
    _positive_int("--seed", seed, 0, 2**31 - 1)
    _positive_int("--workers", workers, 1, MAX_WORKERS)
    if sampler not in SAMPLERS:
        raise UsageError(f"--sampler: unknown sampler {sampler!r}; accepted: {', '.join(SAMPLERS)}")
    time_limit_s = parse_duration(time_limit)
    out_path = Path(out).expanduser()
    if out_path.exists() and not out_path.is_dir():
        raise UsageError(f"--out: {out_path} exists and is not a directory")
    spec = parse_storage(storage, out_path)
    what = (net.name if net.kind == "zoo" else "subnet") if net is not None else space_name
    if len(nets_list) > 1:
        what = "+".join(n.name for n in nets_list)
    if resources is not None:
        what += f"-{resources.preset}"
    name = study_name if study_name is not None else _default_study_name(budget, what, seed)
    if not name.strip() or len(name) > 200 or any(not c.isprintable() for c in name):
        raise UsageError(f"--study-name: must be 1-200 printable characters, got {study_name!r}")
    evo = EvolutionSettings()
    try:
        evo = replace(evo, population=_positive_int("--population", population, 2, 1000) if population is not None
                      else evo.population,
                      generations=_positive_int("--generations", generations, 0, 1000) if generations is not None
                      else evo.generations)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    mapper = MapperSettings(seed=seed)
    if mapper_evals is not None:
        mapper = replace(mapper, budget_evals=_positive_int("--mapper-evals", mapper_evals, 16, 10_000_000))
    final = MapperSettings(budget_evals=4096, islands=4, seed=seed)
    if final_mapper_evals is not None:
        final = replace(final, budget_evals=_positive_int("--final-mapper-evals", final_mapper_evals, 16, 10_000_000))
    return CoSearchSettings(budget=budget, space=space_name, network=net, trials=trials, time_limit_s=time_limit_s,
                            seed=seed, out=out_path, sampler=sampler, storage=spec, study_name=name, workers=workers,
                            evolution=evo, mapper=mapper, final_mapper=final, predictor=predictor,
                            resources=resources, networks=nets_list if len(nets_list) > 1 else (),
                            **({} if resources is None else {"technology_nm": resources.technology_nm,
                                                               "clock_ghz": resources.clock_ghz}))
