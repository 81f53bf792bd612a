"""What Timeloop's two commands on cosearch share, one tool per package along the flow:
`python -m accel_models.timeloop` (model, as timeloop-model, and check) and `python -m mappings.timeloop`
(mapper, as timeloop-mapper, and check with the mapper comparison) take the same input arguments, load
the files the same way (each warning one `warning: ...` line on stderr) and end bad input the same way
(one `PROG COMMAND: error: ...` line, exit status 2).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from .cases_check import MapperFn, check_manifest
from .inputs import TimeloopSpec, load_spec

Command = Callable[[argparse.Namespace], int]


class OneLineParser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit status 2; its subcommands' parsers are of this class
    too (argparse makes them with the parent's class)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def positive_seconds(text: str) -> float:
    """A `--time-limit` value: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {text!r}")
    return value


def jinja_variables(items: list[str]) -> dict:
    """`--jinja NAME=VALUE` items -> {name: value}, values read as int or float where they are numbers."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--jinja: expected NAME=VALUE, got {item!r}")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        out[name.strip()] = value
    return out


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of a command that reads one Timeloop run's input files (FILE..., --ert, --jinja, -o)."""
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Timeloop YAML inputs (or templates)")
    parser.add_argument("--ert", type=Path, help="the energy table (Accelergy's ERT) if no input file holds one")
    add_template_arguments(parser)


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of a command that reads templates and writes into a folder: --jinja NAME=VALUE, -o DIR."""
    parser.add_argument("--jinja", action="append", default=[], metavar="NAME=VALUE",
                        help="a Jinja2 variable of the templates (repeatable)")
    parser.add_argument("-o", "--out", type=Path, default=Path("."), metavar="DIR", help="output folder (default .)")


def add_cases_argument(parser: argparse.ArgumentParser) -> None:
    """The manifest argument of `check`."""
    parser.add_argument("cases", type=Path, metavar="CASES.json", help="a manifest of Timeloop runs (cases.json)")


def load_inputs(args: argparse.Namespace, require_mapping: bool) -> TimeloopSpec:
    """The input files of `args` read into a `TimeloopSpec`; each warning printed as a `warning: ...` line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_spec(args.files, jinja=jinja_variables(args.jinja), ert=args.ert, require_mapping=require_mapping)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return spec


def output_dir(path: Path) -> Path:
    """The `-o` folder, created if missing."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"-o: {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"-o: cannot create {path} ({exc.strerror or exc})") from None
    return path


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


def check_cases(cases: Path, mapper: MapperFn | None) -> int:
    """Print the check of a manifest (see `cases_check`); exit status 0 only if every case agrees."""
    if not cases.is_file():
        raise ValueError(f"CASES: no such file: {cases}")
    results, report = check_manifest(cases, mapper)
    print(report)
    return 0 if all(r.agrees for r in results) else 1


def run(prog: str, parser: argparse.ArgumentParser, commands: dict[str, Command], argv: list[str] | None) -> int:
    """Parse `argv`, run the command it names; a ValueError ends as one `PROG COMMAND: error: ...` line, exit 2."""
    args = parser.parse_args(argv)
    try:
        return commands[args.command](args)
    except ValueError as exc:
        print(f"{prog} {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
