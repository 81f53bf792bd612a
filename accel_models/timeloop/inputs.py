"""The input files of one Timeloop run read together, as timeloop-model / timeloop-mapper and timeloopfe take them.

Every file is a YAML document (or a Jinja2 template of one) holding some of Timeloop's top-level keys;
the files are merged (constraint targets and mapping entries concatenated, variables joined) and read
into cosearch types: the problem first (its names of dims and tensors), then the architecture with the
energy table and the constraints, then the mapping if there is one. Errors name the file; keys Timeloop
ignores are ignored with a warning.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nets import Layer

from ..accelerator import Accelerator
from ..mapping_arrays import MappingArrays
from ..mapspace import MapspaceConstraints
from ._expressions import ExpressionError, evaluate_document
from ._fields import show
from ._yaml import YamlSource, load
from .architecture import accelerator_from_timeloop
from .constraints import CONSTRAINT_KEYS, constraint_targets, mapspace_constraints
from .energy_table import ert_tables
from .mapping import mapping_from_timeloop
from .problem import ProblemNames, layer_from_timeloop, problem_from_timeloop

SINGLE_KEYS = ("architecture", "problem", "mapper", "ERT")
EXPRESSION_SECTIONS = ("problem", "targets", "mapping", "mapper")
"""The merged sections whose values may be timeloopfe expressions over `spec` and `variables`."""
"""Top-level keys one file at most may give."""
IGNORED_KEYS = ("compound_components", "components", "ART", "ART_summary", "ERT_summary", "globals", "mapspace",
                "dumped_by_timeloop_front_end", "model", "sparse_optimizations")
"""Top-level keys Timeloop's inputs may hold that cosearch reads nothing from (Accelergy's classes: the energy
table already prices them)."""
OBJECTIVES = {("edp",): "edp", ("delay", "energy"): "latency", ("delay",): "latency", ("energy",): "energy",
              ("energy", "delay"): "energy"}
"""timeloop-mapper's optimization_metrics -> cosearch's mapper objective (the lexicographic pairs break ties
by the second metric)."""


@dataclass
class TimeloopSpec:
    """One Timeloop run's inputs in cosearch types (`mapping` None for a mapper run without one)."""

    layer: Layer
    names: ProblemNames
    accelerator: Accelerator
    constraints: MapspaceConstraints
    mapping: MappingArrays | None
    metrics: tuple[str, ...]
    files: list[str] = field(default_factory=list)

    @property
    def objective(self) -> str:
        """cosearch's mapper objective for the mapper file's optimization_metrics."""
        return OBJECTIVES[self.metrics]


def _merge(sources: list[tuple[str, dict]], ert: YamlSource | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge the documents' top-level keys; returns (merged, {key: the file that gave it})."""
    merged: dict[str, Any] = {"mapping": [], "targets": [], "variables": {}}
    origin: dict[str, str] = {}
    accepted = SINGLE_KEYS + CONSTRAINT_KEYS + IGNORED_KEYS + ("mapping", "variables")
    for name, doc in sources:
        for key, value in doc.items():
            if key not in accepted:     # Timeloop reads the keys it knows and ignores the others
                warnings.warn(f"{name}: top-level key {key!r} ignored (Timeloop's keys: {', '.join(accepted)})",
                              stacklevel=3)
            elif key in SINGLE_KEYS:
                if key in origin:
                    raise ValueError(f"{name}: {key} is given twice (also in {origin[key]})")
                merged[key], origin[key] = value, name
            elif key == "mapping":
                entries = value.get("mapping", value) if isinstance(value, dict) else value
                if not isinstance(entries, list):
                    raise ValueError(f"{name}: mapping: expected a list of {{target, type, ...}}, got {show(entries)}")
                merged["mapping"] += entries
                origin.setdefault("mapping", name)
            elif key == "variables":
                if not isinstance(value, dict):
                    raise ValueError(f"{name}: variables: expected a mapping of names to values, got {show(value)}")
                merged["variables"].update({k: v for k, v in value.items() if k != "version"})
            elif key in CONSTRAINT_KEYS:
                merged["targets"] += [{**t, "_where": f"{name}: {t['_where']}"}
                                      for t in _in(name, constraint_targets, {key: value})]
            elif key == "sparse_optimizations" and value and (value.get("targets") if isinstance(value, dict) else 1):
                warnings.warn(f"{name}: sparse_optimizations are not modelled by cosearch (dense tensors); ignored",
                              stacklevel=3)
    if ert is not None:
        doc = load(ert, "ert")
        merged["ERT"], origin["ERT"] = doc.get("ERT", doc), str(ert) if isinstance(ert, (str, Path)) else "--ert"
    return merged, origin


def _in(name: str, fn, *args, **kwargs):
    """fn(*args) with any ValueError prefixed by the file it is about."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        text = str(exc)
        raise ValueError(text if text.startswith(name) else f"{name}: {text}") from None


def _metrics(mapper: Any, where: str) -> tuple[str, ...]:
    if mapper is None:
        return ("edp",)
    if not isinstance(mapper, dict):
        raise ValueError(f"{where}: mapper: expected a mapping of settings, got {show(mapper)}")
    raw = mapper.get("optimization_metrics", mapper.get("optimization_metric"))
    if not raw:
        return ("edp",)
    metrics = tuple(str(m) for m in ([raw] if isinstance(raw, str) else raw))
    if metrics not in OBJECTIVES:
        raise ValueError(f"{where}: mapper.optimization_metrics {list(metrics)} is not supported; accepted: "
                         + ", ".join(str(list(k)) for k in OBJECTIVES))
    return metrics


def _expressions_in(merged: dict, origin: dict) -> None:
    """timeloopfe's expressions (with `spec` and `variables` in scope) evaluated in the problem, constraints, mapping
    and mapper sections (the architecture evaluates its own, with each component's attributes in scope); an
    expression that refers to itself names the file and the section."""
    for section in EXPRESSION_SECTIONS:
        try:
            evaluate_document(merged, (section,), merged["variables"])
        except ExpressionError as exc:
            where = origin.get(section, origin.get("constraints", "input"))
            raise ValueError(f"{where}: {section}: an expression has no value: {exc}") from None


def _require(merged: dict, key: str, what: str, hint: str = "") -> None:
    if key not in merged:
        raise ValueError(f"no input file gives {what} ({key}:){hint}")


def _check_energy_table(merged: dict, origin: dict) -> None:
    """The energy table read on its own first, so that a bad value in it is reported against the file that holds
    it, not against the architecture that uses it."""
    _in(origin.get("ERT", "ert"), ert_tables, {"ERT": merged["ERT"]})


def load_spec(files: list[YamlSource], jinja: dict | None = None, ert: YamlSource | None = None,
              require_mapping: bool = False, check_mapping: bool = True) -> TimeloopSpec:
    """Read the input files of one Timeloop run (paths, texts or parsed documents) into a `TimeloopSpec`.

    jinja: the variables of the files that are Jinja2 templates; ert: the energy table (if no file holds one).
    A mapping that breaks the constraints is an error, as in timeloop-model (a loop order that differs from
    a constrained permutation only warns: timeloop-mapper's own output does that at loops that cost the
    same); check_mapping=False skips the check (for Timeloop's own mapper output).
    """
    sources = []
    for i, f in enumerate(files):
        name = str(f) if isinstance(f, (str, Path)) and "\n" not in str(f) else f"input {i + 1}"
        sources.append((name, load(f, "input", jinja) if not isinstance(f, dict) else f))
    if not sources:
        raise ValueError("no input files")
    merged, origin = _merge(sources, ert)
    _expressions_in(merged, origin)
    _require(merged, "problem", "a problem")
    layer, names = _in(origin["problem"], problem_from_timeloop, {"problem": merged["problem"]})
    _require(merged, "architecture", "an architecture")
    _require(merged, "ERT", "an energy table", " (pass --ert ERT.yaml: Accelergy's plug-ins are not run here)")
    _check_energy_table(merged, origin)
    variables = merged["variables"]
    acc = _in(origin["architecture"], accelerator_from_timeloop, {"architecture": merged["architecture"]},
              {"ERT": merged["ERT"]}, constraints_yaml={"constraints": {"targets": merged["targets"]}}, names=names,
              variables=variables, spec_document=merged)
    targets = acc.meta["timeloop"]["constraints"]
    bounds = {n: getattr(layer, d) for n, d in names.dims.items()}
    constraints = _in(origin.get("architecture", "constraints"), mapspace_constraints, targets, acc, names, bounds)
    mapping = None
    if merged["mapping"]:
        where = origin["mapping"]
        mapping = _in(where, mapping_from_timeloop, merged["mapping"], acc, layer, names)
        broken = constraints.violations(mapping, acc, orders=False) if check_mapping else []
        if broken:
            raise ValueError(f"{where}: the mapping breaks the constraints: {broken[0]}"
                             + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""))
        orders = [v for v in constraints.violations(mapping, acc) if v not in broken] if check_mapping else []
        for v in orders:
            warnings.warn(f"{where}: {v}", stacklevel=2)
    elif require_mapping:
        raise ValueError("no input file gives a mapping (mapping:); timeloop-model needs one")
    metrics = _metrics(merged.get("mapper"), origin.get("mapper", "mapper"))
    return TimeloopSpec(layer, names, acc, constraints, mapping, metrics, [name for name, _ in sources])


def load_architecture(files: list[YamlSource], jinja: dict | None = None, ert: YamlSource | None = None,
                      name: str | None = None) -> Accelerator:
    """The accelerator of Timeloop input files (as `load_spec` reads them: merged, Jinja2 templates rendered), with
    its energy table from one of the files or `ert`; the files' problem, mapping and mapper settings, if any, are
    not read (a folder of a Timeloop run's files may hold several). Constraints that bypass a tensor at a level are
    kept (they shape the accelerator's levels)."""
    sources = []
    for i, f in enumerate(files):
        label = str(f) if isinstance(f, (str, Path)) and "\n" not in str(f) else f"input {i + 1}"
        doc = load(f, "input", jinja) if not isinstance(f, dict) else f
        sources.append((label, {k: v for k, v in doc.items() if k not in ("problem", "mapping", "mapper")}))
    if not sources:
        raise ValueError("no input files")
    merged, origin = _merge(sources, ert)
    _require(merged, "architecture", "an architecture")
    _require(merged, "ERT", "an energy table", " (give the ERT file too: Accelergy's plug-ins are not run here)")
    _check_energy_table(merged, origin)
    return _in(origin["architecture"], accelerator_from_timeloop, {"architecture": merged["architecture"]},
               {"ERT": merged["ERT"]}, name, {"constraints": {"targets": merged["targets"]}},
               variables=merged["variables"], spec_document=merged)


def load_timeloop(arch: YamlSource, problem: YamlSource, mapping: YamlSource, ert: YamlSource,
                  constraints: YamlSource | None = None) -> tuple[Layer, Accelerator, MappingArrays]:
    """The four timeloop-model inputs (each a file, text or parsed document) -> (layer, accelerator, mapping arrays)."""
    layer = layer_from_timeloop(problem)
    accelerator = accelerator_from_timeloop(arch, ert, constraints_yaml=constraints)
    return layer, accelerator, mapping_from_timeloop(mapping, accelerator, layer)
