"""Timeloop's commands on cosearch: evaluate, map and check Timeloop input files as they are.

    python -m accel_models.timeloop model FILE... [--ert ERT] [--jinja NAME=VALUE] [-o DIR]
    python -m accel_models.timeloop mapper FILE... [--ert ERT] [--jinja NAME=VALUE] [-o DIR] [--budget N]
    python -m accel_models.timeloop check CASES.json [--budget N] [--no-mapper]

`model` takes the files timeloop-model takes (architecture, problem, mapping, constraints; v0.4 `nodes:` or
`subtree:`, Jinja2 templates) and writes DIR/cosearch-model.json; `mapper` runs cosearch's mapper under the
files' constraints and the mapper file's optimization_metrics and writes DIR/cosearch-mapper.map.yaml and
DIR/cosearch-mapper.stats.json; `check` compares a manifest of Timeloop runs (see `cases_check`). Bad input
ends with one line `... error: ...` and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from mappings import best_mapping

from ..cost_model import evaluate_batch
from .cases_check import check_manifest
from .inputs import TimeloopSpec, load_spec
from .mapping import mapping_to_timeloop_yaml
from .report import evaluate_spec, model_report, summary

PROG = "python -m accel_models.timeloop"
DEFAULT_BUDGET = 20_000
"""Mapper evaluations per layer (cosearch's `best_mapping` default)."""


def _jinja(items: list[str]) -> dict:
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


def _out_dir(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise ValueError(f"-o: {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"-o: cannot create {path} ({exc.strerror or exc})") from None
    return path


def _load(args, require_mapping: bool) -> TimeloopSpec:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_spec(args.files, jinja=_jinja(args.jinja), ert=args.ert, require_mapping=require_mapping)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return spec


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


def run_mapper(spec: TimeloopSpec, budget: int, seed: int, time_limit_s: float | None = None):
    """cosearch's mapper on the spec (its constraints, its metric); the MapperResult."""
    result = best_mapping(spec.layer, spec.accelerator, spec.objective, budget_evals=budget, seed=seed,
                          time_limit_s=time_limit_s, constraints=spec.constraints)
    if not result.valid:
        raise ValueError(f"the mapper found no valid mapping in {result.evaluations:,} evaluations")
    return result


def cmd_model(args) -> int:
    spec = _load(args, require_mapping=True)
    out = _out_dir(args.out)
    report = model_report(spec, evaluate_spec(spec))
    _write_json(out / "cosearch-model.json", report)
    print(summary(report))
    print(f"wrote {out / 'cosearch-model.json'}")
    return 0


def cmd_mapper(args) -> int:
    spec = _load(args, require_mapping=False)
    out = _out_dir(args.out)
    result = run_mapper(spec, args.budget, args.seed, args.time_limit)
    report = model_report(spec, evaluate_spec(spec, result.arrays))
    report["mapper"] = {"metrics": list(spec.metrics), "objective": spec.objective, "strategy": result.strategy,
                        "evaluations": result.evaluations, "valid_evaluations": result.valid_evaluations,
                        "wall_s": result.wall_s, "seed": args.seed}
    (out / "cosearch-mapper.map.yaml").write_text(
        mapping_to_timeloop_yaml(result.arrays, spec.accelerator, spec.layer, names=spec.names))
    _write_json(out / "cosearch-mapper.stats.json", report)
    print(f"{result.evaluations:,} mappings evaluated in {result.wall_s:.1f} s ({'/'.join(spec.metrics)})")
    print(summary(report))
    print(f"wrote {out / 'cosearch-mapper.map.yaml'} and {out / 'cosearch-mapper.stats.json'}")
    return 0


def cmd_check(args) -> int:
    if not args.cases.is_file():
        raise ValueError(f"CASES: no such file: {args.cases}")

    def mapper(spec: TimeloopSpec) -> tuple[int, float]:
        r = run_mapper(spec, args.budget, args.seed)
        res = evaluate_batch(spec.layer, spec.accelerator, r.arrays)
        return int(res.cycles[0]), float(res.energy_pj[0])

    results, report = check_manifest(args.cases, None if args.no_mapper else mapper)
    print(report)
    return 0 if all(r.agrees for r in results) else 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_ in (("model", "evaluate the mapping of Timeloop input files (as timeloop-model)"),
                        ("mapper", "find the best mapping under the files' constraints (as timeloop-mapper)")):
        s = sub.add_parser(name, help=help_, description=help_)
        s.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Timeloop YAML inputs (or templates)")
        s.add_argument("--ert", type=Path, help="the energy table (Accelergy's ERT) if no input file holds one")
        s.add_argument("--jinja", action="append", default=[], metavar="NAME=VALUE",
                       help="a Jinja2 variable of the templates (repeatable)")
        s.add_argument("-o", "--out", type=Path, default=Path("."), metavar="DIR", help="output folder (default .)")
        if name == "mapper":
            s.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="mapper evaluations (default 20000)")
            s.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop after S seconds")
            s.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("check", help="compare with the Timeloop runs of a case manifest",
                       description="compare with the Timeloop runs of a case manifest (cases.json)")
    s.add_argument("cases", type=Path, metavar="CASES.json")
    s.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="mapper evaluations per mapper case")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--no-mapper", action="store_true", help="evaluate only (skip the mapper comparison)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "budget", 1) < 1:
        parser.error("--budget must be a positive number of evaluations")
    try:
        return {"model": cmd_model, "mapper": cmd_mapper, "check": cmd_check}[args.command](args)
    except ValueError as exc:
        print(f"{PROG} {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
