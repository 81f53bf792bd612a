"""Check the cost model against a Timeloop reference corpus.

    python -m accel_models.check_timeloop [CASES.jsonl[.gz]] [--reference] [--verbose]

CASES defaults to the project's corpus (`default_corpus_path`, installed with the package). One row per
family: cases, agreeing with Timeloop's exact counts (no temporal extrapolation), agreeing with its default
counts, worst energy error; the last line is `agree: X/Y cases` and the exit status is 0 only if X == Y (and
Y > 0: a file with no case is an error, exit status 2). A case agrees when the valid flag matches and, for
valid cases, cycles and every per-level per-tensor reads/fills/updates total are equal and the total energy
is within 1%.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from ..accelerator import TENSORS
from ..cost_model import evaluate_batch
from ..reference import evaluate
from .command_line import OneLineParser
from .corpus import CorpusCase, default_corpus_path, load_cases

ENERGY_TOLERANCE = 0.01
"""Relative energy error within which a case agrees (docs/cost_model.md: counts equal, energy within 1%)."""


def compare_case(case: CorpusCase, valid: bool, cycles: int, energy_pj: float, totals: dict[str, np.ndarray],
                 expected: dict) -> tuple[bool, float, list[str]]:
    """(agrees, relative energy error, mismatches) of one evaluation against one Timeloop run."""
    tl = case.timeloop
    if valid != bool(tl["valid"]):
        return False, 0.0, [f"valid: cosearch {valid}, timeloop {tl['valid']} ({tl.get('error')})"]
    if not valid:
        return True, 0.0, []
    problems = []
    if cycles != expected["cycles"]:
        problems.append(f"cycles: {cycles} vs {expected['cycles']}")
    for l, name in enumerate(case.accelerator.level_names):
        for tname, counts in expected["per_level"].get(name, {}).items():
            t = TENSORS.index(tname)
            inst = tl["per_level"][name][tname]["instances_used"]
            for key in ("reads", "fills", "updates"):
                ours, theirs = totals[key][l, t], counts[key] * inst
                if abs(ours - theirs) > 1e-6 * max(1.0, abs(theirs)):
                    problems.append(f"{name}.{tname}.{key}: {ours:.0f} vs {theirs:.0f}")
    err = abs(energy_pj - expected["energy_pJ"]) / expected["energy_pJ"]
    if err > ENERGY_TOLERANCE:
        problems.append(f"energy: {energy_pj:.1f} vs {expected['energy_pJ']:.1f} pJ ({100 * err:.2f}%)")
    return not problems, err, problems


def check_corpus(cases: list[CorpusCase], use_reference: bool = False, verbose: bool = False) -> tuple[int, int, str]:
    """Evaluate every case; return (agreeing, total, report text)."""
    rows: dict[str, dict] = defaultdict(lambda: {"n": 0, "exact": 0, "default": 0, "worst": 0.0})
    lines = []
    for case in cases:
        if use_reference:
            r = evaluate(case.layer, case.accelerator, case.mapping)
            valid, cycles, energy = r.valid, r.cycles, r.energy_pj
            totals = {"reads": r.reads, "fills": r.fills, "updates": r.updates} if r.valid else {}
        else:
            r = evaluate_batch(case.layer, case.accelerator, case.mapping)
            valid, cycles, energy = bool(r.valid[0]), int(r.cycles[0]), float(r.energy_pj[0])
            totals = {"reads": r.reads[0], "fills": r.fills[0], "updates": r.updates[0]}
        row = rows[case.family]
        row["n"] += 1
        ok_exact, err, problems = compare_case(case, valid, cycles, energy, totals, case.exact or case.timeloop)
        ok_default, _, _ = compare_case(case, valid, cycles, energy, totals, case.timeloop)
        row["exact"] += ok_exact
        row["default"] += ok_default
        row["worst"] = max(row["worst"], err)
        if verbose and not ok_exact:
            lines.append(f"  {case.id}: " + "; ".join(problems[:4]))
    agree = sum(r["exact"] for r in rows.values())
    total = sum(r["n"] for r in rows.values())
    table = [f"{'family':<8}{'cases':>7}{'agree (exact)':>15}{'agree (default)':>17}{'worst energy err':>18}"]
    for fam in sorted(rows):
        r = rows[fam]
        table.append(f"{fam:<8}{r['n']:>7}{r['exact']:>15}{r['default']:>17}{100 * r['worst']:>17.4f}%")
    return agree, total, "\n".join(table + lines)


def main(argv: list[str] | None = None) -> int:
    """The corpus check's command line; prints the table and `agree: X/Y cases`, returns the exit status (0 only if
    every case agrees; bad input, including a file with no case, is a one-line error and exit status 2)."""
    parser = OneLineParser(prog="python -m accel_models.check_timeloop", description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", type=Path, nargs="?", default=default_corpus_path(),
                        help="a corpus file in the format of cases_dev.jsonl (gzipped if named .gz; default: the "
                             "project's corpus, %(default)s)")
    parser.add_argument("--reference", action="store_true",
                        help="use the pure-Python walk instead of the kernel (slow)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list each disagreeing case")
    args = parser.parse_args(argv)
    if args.cases.is_dir():
        parser.error(f"CASES: {args.cases} is a directory; accepted: a corpus file of JSON lines (cases_dev.jsonl)")
    if not args.cases.is_file():
        parser.error(f"CASES: no such file: {args.cases}")
    try:
        cases = load_cases(args.cases)
    except KeyError as exc:
        parser.error(f"CASES: {args.cases} is not a corpus file (a case has no field {exc})")
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        parser.error(f"CASES: {args.cases} is not a corpus file ({exc})")
    if not cases:
        parser.error(f"CASES: {args.cases} holds no case, so nothing can agree; accepted: a corpus file of JSON "
                     "lines, one case each (cases_dev.jsonl)")
    agree, total, report = check_corpus(cases, args.reference, args.verbose)
    print(report)
    print(f"agree: {agree}/{total} cases")
    return 0 if agree == total else 1
