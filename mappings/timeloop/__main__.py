"""timeloop-mapper on cosearch, and the check of a manifest of Timeloop runs with the mapper comparison.

    python -m mappings.timeloop mapper FILE... [--ert ERT] [--jinja NAME=VALUE] [-o DIR] [--budget N]
                                               [--time-limit S] [--seed N] [--factors perfect|residual]
    python -m mappings.timeloop check CASES.json [--budget N] [--seed N] [--factors perfect|residual]

`mapper` takes the files timeloop-mapper takes (architecture, problem, constraints, mapper settings; v0.4
`nodes:` or `subtree:`, Jinja2 templates), runs cosearch's mapper under the files' constraints for the
mapper file's optimization_metrics and writes DIR/cosearch-mapper.map.yaml (a mapping timeloop-model and
`python -m accel_models.timeloop model` read) and DIR/cosearch-mapper.stats.json. `check` is
`python -m accel_models.timeloop check` plus, on mapper cases, the mapper run and compared with
Timeloop's. Bad input ends with one line `... error: ...` and exit status 2.
"""
from __future__ import annotations

import argparse
import sys

from accel_models.timeloop import mapping_to_timeloop_yaml, summary
from accel_models.timeloop.command_line import OneLineParser, add_cases_argument, add_input_arguments, check_cases, \
    load_inputs, output_dir, positive_seconds, run, write_json

from ..encoding import FACTOR_MODES
from ..mapper import DEFAULT_BUDGET_EVALS, MAX_BUDGET_EVALS
from .run import mapper_figures, mapper_report, run_mapper

PROG = "python -m mappings.timeloop"


def cmd_mapper(args: argparse.Namespace) -> int:
    spec = load_inputs(args, require_mapping=False)
    out = output_dir(args.out)
    result = run_mapper(spec, args.budget, args.seed, args.time_limit, args.factors)
    report = mapper_report(spec, result)
    (out / "cosearch-mapper.map.yaml").write_text(
        mapping_to_timeloop_yaml(result.arrays, spec.accelerator, spec.layer, names=spec.names))
    write_json(out / "cosearch-mapper.stats.json", report)
    print(f"{result.evaluations:,} mappings evaluated in {result.wall_s:.1f} s ({'/'.join(spec.metrics)})")
    print(summary(report))
    print(f"wrote {out / 'cosearch-mapper.map.yaml'} and {out / 'cosearch-mapper.stats.json'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    return check_cases(args.cases, lambda spec: mapper_figures(spec, args.budget, args.seed, args.factors))


def _budget(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_BUDGET_EVALS:
        raise argparse.ArgumentTypeError(f"must be a positive number of evaluations, got {text!r}; accepted: a whole "
                                         "number in [1, 2**62]")
    return value


def _search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET_EVALS,
                        help=f"mapper evaluations per layer (default {DEFAULT_BUDGET_EVALS})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--factors", choices=FACTOR_MODES, default="auto",
                        help="residual: tiles need not divide their dims (D=e,r loops); perfect: divisors only; auto: "
                             "residual where the layer's dims leave an axis of the PE array idle with divisors "
                             "(default auto)")


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    help_ = "find the best mapping under the files' constraints (as timeloop-mapper)"
    s = sub.add_parser("mapper", help=help_, description=help_)
    add_input_arguments(s)
    _search_arguments(s)
    s.add_argument("--time-limit", type=positive_seconds, default=None, metavar="S", help="stop after S seconds")
    help_ = "compare evaluations and the mapper with the Timeloop runs of a case manifest"
    s = sub.add_parser("check", help=help_, description=help_)
    add_cases_argument(s)
    _search_arguments(s)
    return p


def main(argv: list[str] | None = None) -> int:
    return run(PROG, _parser(), {"mapper": cmd_mapper, "check": cmd_check}, argv)


if __name__ == "__main__":
    sys.exit(main())
