"""timeloop-model on cosearch, and the check of a manifest of Timeloop runs, on Timeloop's input files as they are.

    python -m accel_models.timeloop model FILE... [--ert ERT] [--jinja NAME=VALUE] [-o DIR] [--timing MODEL]
    python -m accel_models.timeloop check CASES.json

`model` takes the files timeloop-model takes (architecture, problem, mapping, constraints; v0.4 `nodes:` or
`subtree:`, Jinja2 templates) and writes DIR/cosearch-model.json; `check` compares a manifest of Timeloop
runs (see `cases_check`), evaluating Timeloop's own mapping on mapper cases. timeloop-mapper's counterpart,
which runs cosearch's mapper, is `python -m mappings.timeloop mapper` (and `check` there adds the mapper
comparison). Bad input ends with one line `... error: ...` and exit status 2.
"""
from __future__ import annotations

import argparse
import sys

from .cases_check import MAPPER_PROG
from .command_line import (OneLineParser, add_cases_argument, add_input_arguments, check_cases, load_inputs,
                           output_dir, run, write_json)
from ..timing import TIMINGS
from .report import evaluate_spec, model_report, summary, with_timing

PROG = "python -m accel_models.timeloop"


def cmd_model(args: argparse.Namespace) -> int:
    spec = load_inputs(args, require_mapping=True)
    out = output_dir(args.out)
    report = with_timing(model_report(spec, evaluate_spec(spec)), spec, args.timing)
    write_json(out / "cosearch-model.json", report)
    print(summary(report))
    print(f"wrote {out / 'cosearch-model.json'}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    return check_cases(args.cases, mapper=None)


def cmd_mapper() -> int:
    print(f"{PROG} mapper: the mapper command is `{MAPPER_PROG} mapper FILE...` (the same arguments)",
          file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    help_ = "evaluate the mapping of Timeloop input files (as timeloop-model)"
    model = sub.add_parser("model", help=help_, description=help_)
    add_input_arguments(model)
    model.add_argument("--timing", choices=TIMINGS.names(), default="timeloop",
                       help="how the counts become cycles: timeloop (Timeloop's semantics, the default) or hardware "
                            "(a tile-by-tile chip's start-up, command and transfer overheads; docs/timing.md)")
    help_ = "compare with the Timeloop runs of a case manifest (mapper cases: Timeloop's mapping)"
    add_cases_argument(sub.add_parser("check", help=help_, description=help_))
    sub.add_parser("mapper", help=f"is {MAPPER_PROG} mapper")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["mapper"]:        # whatever its arguments
        return cmd_mapper()
    return run(PROG, _parser(), {"model": cmd_model, "check": cmd_check}, argv)


if __name__ == "__main__":
    sys.exit(main())
