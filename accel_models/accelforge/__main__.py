"""cosearch's model on AccelForge's files, as AccelForge evaluates a spec with a mapping.

    python -m accel_models.accelforge model FILE... [--jinja NAME=VALUE] [-o DIR]

The files (Jinja2 templates, rendered with the `--jinja` variables) hold together an `arch:`, a `workload:` and a
`mapping:` of one of the workload's Einsums (a LoopTree mapping, read as `accel_models.accelforge.mapping_reader`
says); `model` evaluates that mapping with cosearch's model, writes DIR/cosearch-model.json (the format of
`python -m accel_models.timeloop model`) and prints a summary. Bad input ends with one line
`python -m accel_models.accelforge model: error: ...` and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..mapspace import MapspaceConstraints
from ..timeloop.command_line import (OneLineParser, add_template_arguments, jinja_variables, output_dir, run,
                                     write_json)
from ..timeloop.inputs import TimeloopSpec
from ..timeloop.problem import ProblemNames, problem_dims
from ..timeloop.report import evaluate_spec, model_report, summary
from . import read_accelforge_mapping

PROG = "python -m accel_models.accelforge"


def cmd_model(args: argparse.Namespace) -> int:
    accelerator, layer, arrays = read_accelforge_mapping(args.files, jinja_variables(args.jinja))
    spec = TimeloopSpec(layer, ProblemNames.standard(problem_dims(layer)), accelerator, MapspaceConstraints(), arrays,
                        (), [str(f) for f in args.files])
    out = output_dir(args.out)
    report = model_report(spec, evaluate_spec(spec))
    write_json(out / "cosearch-model.json", report)
    print(summary(report))
    print(f"wrote {out / 'cosearch-model.json'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    help_ = "evaluate the LoopTree mapping of AccelForge files with cosearch's model"
    model = sub.add_parser("model", help=help_, description=help_)
    model.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="AccelForge YAML files (arch, workload, mapping)")
    add_template_arguments(model)
    return p


def main(argv: list[str] | None = None) -> int:
    return run(PROG, _parser(), {"model": cmd_model}, sys.argv[1:] if argv is None else list(argv))


if __name__ == "__main__":
    sys.exit(main())
