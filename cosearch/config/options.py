"""The options of a co-search, each written once: flag, settings field, parser and check, help, default, metavar.

From `OPTIONS` come `run_cosearch.py`'s argument parser (`add_options`), the keywords of `make_settings`
(a flag's name with underscores: `--mapper-evals` -> `mapper_evals`; `option_values` applies defaults
and checks; `cosearch.config.builder` assembles the settings), the command that reproduces a run
(`command_line`), and the README's flag table, which tests/cosearch/config/test_options.py holds to
this one. Help texts never state a default: the parser
and the README take it from the table.
"""
from __future__ import annotations

import os
import shlex
import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from accel_models.presets import PRESETS
from accel_models.timing import TIMINGS
from mappings import FACTOR_MODES

from ..fusion import FUSION_MODES, parse_fusion_groups
from nets import ZOO, space_names

from .loops import FINAL_MAPPER, POLISH_EVALUATIONS, POLISH_TIME_SHARE, SEARCH_MAPPER, EvolutionSettings
from ..nas_strategies import NAS_STRATEGIES
from .objectives import (DEFAULT_OBJECTIVE, check_objective, check_pareto, objective_flags, pareto_metrics,
                         single_objectives)
from .resources import ResourceBounds
from .settings import CoSearchSettings
from .storage_url import parse_storage
from .devices import ACCEPTED as DEVICES_ACCEPTED
from .folders import check_folder, check_path
from .validate import UsageError, check_choice, check_int, check_member, is_number, parse_duration
from .workloads import resolve_space, space_alias

SAMPLERS = ("cmaes", "tpe", "random", "nsga2")
"""Outer-loop Optuna samplers by name (`cosearch.search.study.make_sampler` builds them)."""
DEFAULT_ACCURACY = 0.80
"""Accuracy floor of the subnet search when none is given: OFA's predictor puts about half of the
random MBv3 w1.2 subnets above it (OFA's headline: 80 % top-1 under 600 M MACs)."""
MAX_WORKERS = 64
DEFAULT_WORKERS = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
                             MAX_WORKERS))
"""One worker process per core this process may run on: trials run in parallel, each single-threaded (measured
on 2 cores: two workers complete about twice the trials of one; threads inside a trial would contend for the
GIL in the subnet search's Python)."""


@dataclass(frozen=True)
class Option:
    """One command-line option of a co-search, and where its value goes."""

    flag: str
    help: str
    """What the option means (no default: `default_text` is appended where it is shown)."""
    default: Any = None
    """The value used when the option is not given (None: none, or derived, as `shown_default` says)."""
    shown_default: str | None = None
    """The default as help and the README show it, where `str(default)` does not say it."""
    metavar: str | None = None
    type: Callable[[str], Any] = str
    """Command-line text -> value (argparse's `type`)."""
    check: Callable[[str, Any], Any] | None = None
    """(flag, value) -> the checked value the settings hold; a `UsageError` naming the flag otherwise."""
    field: str | None = None
    """The `CoSearchSettings` field the option sets (dotted inside nested settings); None: the command line's own."""
    derived: bool = False
    """`make_settings` computes the field from this option together with others."""
    write: Callable[[CoSearchSettings], str | None] | None = None
    """The option's text in the command that reproduces a run, None to leave it out (default: the field's value)."""
    repeatable: bool = False
    switch: bool = False

    @property
    def keyword(self) -> str:
        """The `make_settings` keyword: the flag without dashes, '-' as '_'."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.switch:
            return "off"
        return "none" if self.default is None else str(self.default)

    def text_in(self, settings: CoSearchSettings) -> str | None:
        """The option's value in `settings` as the command line writes it (None: not written)."""
        if self.write is not None:
            return self.write(settings)
        if self.field is None:
            return None
        value = attrgetter(self.field)(settings)
        return None if value is None else str(value)


# ---- command-line text -> value (argparse's `type`) ------------------------------------------------------
def _integer_text(text: str) -> int | str:
    """An integer, or the text itself, which the option's check then rejects naming the flag and its range
    (argparse's own "invalid int value" states no range)."""
    try:
        return int(text)
    except ValueError:
        return text


def _number_text(text: str) -> float | str:
    """A number, or the text itself (see `_integer_text`)."""
    try:
        return float(text)
    except ValueError:
        return text


# ---- checks (flag, value) -> value -----------------------------------------------------------------------
def _int_in(lo: int, hi: int) -> Callable[[str, Any], int]:
    return lambda flag, value: check_int(flag, value, lo, hi)


def _fraction(flag: str, value) -> float:
    if not is_number(value) or not 0 < value <= 1:
        raise UsageError(f"{flag}: must be a fraction in (0, 1], got {value!r}")
    return float(value)


def _out_dir(flag: str, value) -> Path:
    """A folder that exists or can be created, and can be written (nothing is created here: see `ensure_folder`)."""
    path = check_path(flag, value, "a folder path")
    check_folder(flag, path)
    return path


def _switch(flag: str, value) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{flag}: a switch is True or False, got {value!r}")
    return value


def _table_file(flag: str, value) -> Path:
    """A file path whose folder exists and can be written, and which is a file that can be replaced if it exists
    (the file itself is written at the end of the run: everything that could stop it is checked here)."""
    path = check_path(flag, value, "a file path such as latency_table.csv")
    if path.is_dir():
        raise UsageError(f"{flag}: {path} is a folder; accepted: a file path such as {path / 'latency_table.csv'}")
    check_folder(flag, path.parent if str(path.parent) else ".", must_exist=True)
    if path.exists() and not path.is_file():
        raise UsageError(f"{flag}: {path} exists and is not a regular file; accepted: a new file or a file to replace")
    if path.is_symlink() and not path.exists():
        raise UsageError(f"{flag}: {path} is a symbolic link to nothing; accepted: a new file or a file to replace")
    return path


def _predictor_file(flag: str, value) -> Path:
    """An existing, readable file (what it holds is checked when it is loaded, before the search)."""
    path = check_path(flag, value, "the path of OFA's predictor file")
    if not path.is_file():
        raise UsageError(f"{flag}: no file at {path}; accepted: OFA's predictor file, acc_predictor_mbv3_w1.2.pth")
    if not os.access(path, os.R_OK):
        raise UsageError(f"{flag}: cannot read {path} (permission denied)")
    return path


def _objective_options() -> tuple["Option", ...]:
    """The options every registered objective adds (`ObjectiveSpec.flags`); each is written back only for a run of
    its own objective."""
    def write(owner, flag):
        return lambda s: flag.write(s.objective) if isinstance(s.objective, owner) else None

    return tuple(Option(flag.flag, flag.help, shown_default=flag.shown_default, metavar=flag.metavar, check=flag.check,
                        field=f"objective.{flag.attribute}", derived=True, write=write(owner, flag))
                 for owner, flag in objective_flags())


def _study_name(flag: str, value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or any(not c.isprintable() for c in value):
        raise UsageError(f"{flag}: must be 1-200 printable characters, got {value!r}")
    return value


# ---- how derived fields are written back -----------------------------------------------------------------
def _space_text(s: CoSearchSettings) -> str | None:
    """The space, unless a zoo network makes it irrelevant (a subnet config is read in its space)."""
    return None if s.network is not None and s.network.fixed else space_alias(s.space)


def _network_text(s: CoSearchSettings) -> str | None:
    if s.networks or s.network is None:
        return None
    return s.network.text


def _storage_text(s: CoSearchSettings) -> str | None:
    """The storage, unless it is the default one in --out (compared only: an empty default file is no error here)."""
    return None if s.storage == parse_storage(None, s.out, start_over=True) else s.storage.display


FIXED_DEVICE_FUSION = "resident"
"""A fixed device's fusion mode unless --fusion is given: tensors kept on chip as the co-search's default scores
them, except under a NAS strategy that needs per-choice cost tables (`none` then: `make_settings`)."""

def _fusion_groups_text(flag: str, value) -> str:
    """The groups' syntax (`fusion.parse_fusion_groups`); the network and the mode are checked by `make_settings`."""
    try:
        parse_fusion_groups(value, flag)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return value

OPTIONS: tuple[Option, ...] = (
    Option("--budget", "limits, comma-joined or repeated: area=5mm2 (or um2), latency<=10ms, energy<=2mJ, "
           "power<=500mW, accuracy>=0.76", default="area=5mm2", shown_default="area=5mm2; none with --accelerator",
           metavar="TERMS", field="budget", derived=True,
           repeatable=True, write=lambda s: s.budget.describe().replace(" ", "") or None),
    # 300: the best EDP still falls past trial 200, and the time limit below ends most runs first
    # (docs/defaults.md).
    Option("--trials", "complete trials (evaluated designs) the study should reach", default=300, metavar="N",
           type=_integer_text, check=_int_in(1, 1_000_000), field="trials"),
    # 225 s: the default run ends within five minutes on a 2-core machine (start-up ~15 s; the final mapping,
    # presets, the polish and report of whole-network plans take 40-50 s after it; docs/defaults.md).
    Option("--time-limit", "stop starting trials after this long (with --accelerator: the devices' network searches, one "
           "after another, from when the layer tables are ready): 90, 90s, 5m, 1h, or none (0 is none too)", default="225s",
           metavar="DURATION", check=lambda flag, value: parse_duration(value, flag), field="time_limit_s",
           write=lambda s: "none" if s.time_limit_s is None else f"{s.time_limit_s:g}s"),
    Option("--space", f"search space of the subnet search: {', '.join(space_names())}", default="ofa-mbv3",
           metavar="SPACE", check=lambda flag, value: resolve_space(value), field="space", write=_space_text),
    Option("--network", f"a fixed network instead of a subnet search: {', '.join(ZOO)}, a JSON subnet config of "
           "--space, a .json file holding one, an .onnx model file, or an AccelForge workload "
           "accelforge:WORKLOAD.yaml[+NAME=VALUE...]", metavar="NET", field="network", derived=True,
           write=_network_text),
    Option("--networks", "several fixed networks (comma-joined names as for --network); the objective is the "
           "geometric mean of their EDPs", metavar="A,B,C", field="networks", derived=True,
           write=lambda s: ",".join(n.name for n in s.networks) or None),
    Option("--accelerator", f"fixed device(s) instead of an accelerator search, comma-joined: the best network for "
           f"each; a device is {DEVICES_ACCEPTED}",
           metavar="DEVICE[,DEVICE]", field="devices", derived=True,
           write=lambda s: ",".join(d.text for d in s.devices) or None),
    Option("--nas-strategy", f"network search strategy on fixed devices: {', '.join(NAS_STRATEGIES.names())}",
           default="evolution", metavar="NAME", check=check_member(NAS_STRATEGIES),
           field="nas_strategy", write=lambda s: s.nas_strategy if s.fixed_devices else None),
    Option("--nas-evals", "subnet evaluations per device of the network search on fixed devices", default=10_000,
           metavar="N", type=_integer_text, check=_int_in(1, 10_000_000), field="nas_evals",
           write=lambda s: str(s.nas_evals) if s.fixed_devices else None),
    Option("--efficiency", "latency and energy of a subnet on a fixed device: table (exact, from the layer table) or "
           "predictor (an MLP trained on it: an estimate)", default="table", metavar="SOURCE",
           check=lambda flag, value: check_choice(flag, value, ("table", "predictor"), "source"),
           field="efficiency", write=lambda s: s.efficiency if s.fixed_devices else None),
    Option("--match-resources", "bound the accelerator space by a preset's #PEs, on-chip bytes and DRAM bandwidth "
           f"(NAAS), with its word width, node and clock, instead of an area budget: {', '.join(PRESETS)}",
           metavar="PRESET", check=lambda flag, value: ResourceBounds.from_preset(str(value).strip(), flag),
           field="resources", write=lambda s: None if s.resources is None else s.resources.preset),
    Option("--accuracy", "accuracy floor of the subnet search, a fraction; the same as accuracy>= in --budget",
           shown_default=f"{DEFAULT_ACCURACY:g} (decoder spaces: their own; none with --accelerator when accuracy is "
                         "the objective)", metavar="FLOOR", type=_number_text,
           check=_fraction,
           field="budget.accuracy", derived=True, write=lambda s: None),  # written inside --budget
    Option("--seed", "seed of the samplers, the subnet evolution and the mapper", default=0, metavar="N",
           type=_integer_text,
           check=_int_in(0, 2**31 - 1), field="seed"),
    Option("--out", "output folder: the storage (unless --storage), report, plots", default="cosearch_out",
           metavar="DIR",
           check=_out_dir, field="out"),
    Option("--quiet", "no progress display, only the result", switch=True),
    Option("--start-over", "begin a new study: delete the study of this name from the storage first (its trials are "
           "lost), accept an empty (0-byte) storage file, which is otherwise refused as a damaged one, and take "
           "over an --out another run owns (its outputs removed, and its study where it shares this storage)",
           default=False, switch=True, check=_switch, field="start_over", write=lambda s: None),
    Option("--sampler", f"outer-loop Optuna sampler: {', '.join(SAMPLERS)}", shown_default="cmaes; nsga2 with --pareto",
           metavar="NAME", check=lambda flag, value: check_choice(flag, value, SAMPLERS, "sampler"), field="sampler",
           derived=True),
    Option("--objective", f"what the search optimises: {', '.join(single_objectives())} (the README gives each "
           "formula)",
           default=DEFAULT_OBJECTIVE, shown_default=f"{DEFAULT_OBJECTIVE}; accuracy with --accelerator", metavar="NAME",
           check=check_objective, field="objective", derived=True, write=lambda s: s.objective.name if s.objective.name
           != ("accuracy" if s.devices else DEFAULT_OBJECTIVE) else None),
    *_objective_options(),
    Option("--pareto", f"a multi-objective study instead of --objective: two or three of "
           f"{', '.join(pareto_metrics())}, comma-joined", metavar="A,B[,C]", check=check_pareto, field="pareto",
           write=lambda s: ",".join(s.pareto) or None),
    Option("--export-latency-table", "write a CSV of every layer shape of the space (or network) with its best "
           "mapping's latency and energy on the found accelerator, under the run's --timing (a timing column names it)",
           metavar="FILE", check=_table_file,
           field="latency_table"),
    Option("--storage", "Optuna storage: sqlite:///PATH.db, PATH.db, postgresql://..., mysql+pymysql://..., "
           "journal:PATH.log", shown_default="sqlite:///OUT/cosearch.db", metavar="URL", field="storage",
           derived=True, write=_storage_text),
    Option("--study-name", "study in the storage", shown_default="from the space or network, budget and seed",
           metavar="NAME", check=_study_name, field="study_name", derived=True),
    Option("--workers", "worker processes on the storage", default=DEFAULT_WORKERS,
           shown_default="the machine's cores", metavar="N", type=_integer_text, check=_int_in(1, MAX_WORKERS),
           field="workers"),
    Option("--population", "subnet evolution per trial: population", default=EvolutionSettings.population,
           metavar="N", type=_integer_text, check=_int_in(2, 1000), field="evolution.population"),
    Option("--generations", "subnet evolution per trial: generations", default=EvolutionSettings.generations,
           metavar="N", type=_integer_text, check=_int_in(0, 1000), field="evolution.generations"),
    Option("--mapper-evals", "mapper evaluations per layer during the search", default=SEARCH_MAPPER.budget_evals,
           metavar="N", type=_integer_text, check=_int_in(16, 10_000_000), field="mapper.budget_evals"),
    Option("--final-mapper-evals", "mapper evaluations per layer for the best designs and the presets",
           default=FINAL_MAPPER.budget_evals, metavar="N", type=_integer_text, check=_int_in(16, 10_000_000),
           field="final_mapper.budget_evals"),
    Option("--factors", "tiling factors the mappers decode: auto (residual for the layers whose dims leave an axis "
           "of the PE array idle with divisors, perfect for the others), residual (tiles need not divide their dims; "
           "the last pass of a loop runs short, Timeloop's D=e,r) or perfect (divisors only)",
           default=SEARCH_MAPPER.factors,
           metavar="KIND", check=lambda flag, value: check_choice(flag, value, FACTOR_MODES, "factors"),
           field="mapper.factors"),
    Option("--fusion", "how the layers of a network share the chip: "
           + "; ".join(f"{name} ({mode.description})" for name, mode in FUSION_MODES.members().items()),
           default="resident", shown_default="resident (none with an --accelerator strategy that needs per-choice "
                                             "costs, gradient; none for Timeloop-style per-layer studies)",
           metavar="MODE", check=check_member(FUSION_MODES), field="fusion"),
    Option("--fusion-groups", "with --fusion depth-first and a fixed --network/--networks: the groups to run tile "
           "by tile instead of the planner's, comma-separated FIRST-LAST ranges of layer indices (from 0) or layer "
           "names, e.g. 3-5,7-9; a name holding - or , in double quotes (\\\" and \\\\ inside them for a quote and a "
           "backslash), e.g. '\"block-1\"-\"block-3\"', or with a backslash before that character, block\\-1; every "
           "other layer runs alone", default=None, metavar="GROUPS",
           check=_fusion_groups_text, field="fusion_groups"),
    Option("--timing", "how each layer's counts become cycles in every score: timeloop (Timeloop's semantics, a lower "
           "bound) or hardware (a tile-by-tile chip's start-up, command and DRAM-burst overheads, fitted to Gemmini's "
           "RTL; docs/timing.md). Each layer's mapping is chosen under it: the best of the mapper's final candidates "
           "by the objective with that model's cycles",
           default="timeloop", metavar="MODEL", check=check_member(TIMINGS), field="timing"),
    Option("--polish-evals", "designs the final phase's pattern search scores around each of the best 3 designs (its "
           "network fixed, each gene moved in turn; at most the study's complete trials, and within "
           f"{POLISH_TIME_SHARE:.0%} of --time-limit in all; 0: none)",
           default=POLISH_EVALUATIONS, metavar="N",
           type=_integer_text, check=_int_in(0, 100_000), field="polish_evals"),
    Option("--predictor", "OFA's accuracy predictor file, acc_predictor_mbv3_w1.2.pth",
           shown_default="looked up: $COSEARCH_OFA_PREDICTOR, the packaged copy", metavar="PATH",
           check=lambda flag, value: str(_predictor_file(flag, value)), field="predictor"),
)
SETTING_OPTIONS: dict[str, Option] = {o.keyword: o for o in OPTIONS if o.field is not None}
"""The options `make_settings` takes, by keyword."""


def option_values(given: dict[str, Any]) -> dict[str, Any]:
    """Every settings option's value by keyword: the given one or the table's default, checked.

    None is checked like any value where the default is not None (`time_limit=None` is no limit, as
    `--time-limit none`; `trials=None` is a `UsageError`) and means "not given" where it is. Unknown
    keywords are a TypeError, as for any Python function.
    """
    unknown = sorted(set(given) - set(SETTING_OPTIONS))
    if unknown:
        raise TypeError(f"make_settings: unknown option(s) {', '.join(unknown)}; "
                        f"accepted: {', '.join(SETTING_OPTIONS)}")
    values = {}
    for keyword, option in SETTING_OPTIONS.items():
        value = given.get(keyword, option.default)
        if option.check is not None and (value is not None or option.default is not None):
            value = option.check(option.flag, value)
        values[keyword] = value
    return values


def add_options(parser: ArgumentParser) -> ArgumentParser:
    """Add every option to an argparse parser (no argparse defaults: `make_settings` applies the table's)."""
    for o in OPTIONS:
        text = f"{o.help} (default {o.default_text})".replace("%", "%%")
        if o.switch:
            parser.add_argument(o.flag, action="store_true", help=text)
        else:
            parser.add_argument(o.flag, type=o.type, metavar=o.metavar, help=text,
                                action="append" if o.repeatable else "store")
    return parser


def parse_options(parser: ArgumentParser, argv: list[str] | None = None) -> Namespace:
    """`parser.parse_args(argv)` (a parser with `add_options`), where a value that starts with '-' is taken as
    the option's value (`--time-limit -5s`), so that the option's check names what is wrong with it instead of
    argparse saying "expected one argument"."""
    argv = list(sys.argv[1:] if argv is None else argv)
    takes_value = {o.flag for o in OPTIONS if not o.switch}
    flags = {o.flag for o in OPTIONS} | {"-h", "--help"}
    joined, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in takes_value and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1] not in flags:
            joined.append(f"{arg}={argv[i + 1]}")
            i += 2
        else:
            joined.append(arg)
            i += 1
    return parser.parse_args(joined)


def given_options(args: Namespace) -> dict[str, Any]:
    """The settings options given on a parsed command line, by `make_settings` keyword."""
    return {k: getattr(args, k) for k in SETTING_OPTIONS if getattr(args, k, None) is not None}


def command_line(settings: CoSearchSettings, relative_to: Path | None = None) -> str:
    """The run_cosearch.py command that reproduces a run of `settings` (same study, same settings); paths under
    `relative_to` (e.g. the checkout) are written relative to it."""
    args = ["python", "run_cosearch.py"]
    for o in OPTIONS:
        text = o.text_in(settings)
        if text is not None:
            args += [o.flag, _relative(text, relative_to)]
    return " ".join(shlex.quote(a) for a in args)


def _relative(text: str, root: Path | None) -> str:
    path = Path(text)
    if root is None or not path.is_absolute():
        return text
    root = Path(root).resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else text


__all__ = ["Option", "OPTIONS", "FIXED_DEVICE_FUSION", "SETTING_OPTIONS", "SAMPLERS", "DEFAULT_ACCURACY", "MAX_WORKERS", "option_values",
           "add_options", "parse_options", "given_options", "command_line"]
