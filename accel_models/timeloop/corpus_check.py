"""Check the cost model against a Timeloop reference corpus.

    python -m accel_models.check_timeloop [CASES.jsonl[.gz]] [--reference] [--verbose]

CASES defaults to the project's corpus (`default_corpus_path`, installed with the package). One row per
family: cases, agreeing with Timeloop's exact counts (no temporal extrapolation), agreeing with its default
counts, worst energy error; the last line is `agree: X/Y cases` and the exit status is 0 only if X == Y (and
Y > 0: a file with no case is an error, exit status 2). A case agrees when the valid flag matches and, for
valid cases, cycles and every per-level per-tensor reads/fills/updates total are equal and the total energy
is within 1%. A valid case whose rerun without extrapolation gave no results (`corpus.exact_reference`) is checked
against the default run's figures, and the report names it.

A case of Timeloop's spatial residual class (`residuals.residual_class == "spatial"`, rule F9 of
docs/imperfect.md) is held to the real counts instead, which Timeloop does not report: it agrees when the valid
flag, the refusal reason its generator intended, the compute cycles, `mac_instances_used` and the real MACs
(`residuals.problem_macs`) match Timeloop's, and the kernel's counts, cycles and energy equal the walk's
(`reference.evaluate`; with --reference the walk is what is checked). Timeloop's own figures for such a case are
printed beside ours, labelled "Timeloop's approximation (F9)" (per case with --verbose, and a summary line).

The walk takes from milliseconds to over 20 minutes a case (it visits every iteration of every kind of instance),
so its results for the imperfect corpus's development cases are stored (`data/imperfect_walks.json.gz`, keyed by
each case's inputs; `--save-walks` writes such a file) and the walk runs only for the cases not there, on every
core (`--jobs`).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..accelerator import TENSORS
from ..cost_model import evaluate_batch
from ..reference import evaluate
from ..result import BAD_FACTORS, CAPACITY_OVERFLOW, SPATIAL_OVERFLOW, SPATIAL_RESIDUAL, EvalResult
from .command_line import OneLineParser
from .corpus import CorpusCase, default_corpus_path, load_cases

WALKS = Path(__file__).parent / "data" / "imperfect_walks.json.gz"
"""The walk's results for the valid spatial-class cases of the imperfect corpus's development split (see its
README)."""
_WALK_FIELDS = ("cycles", "compute_cycles", "energy_pj", "macs")

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


INTENDED_REASON = {"invalid_factors": BAD_FACTORS, "invalid_mesh": SPATIAL_OVERFLOW,
                   "invalid_capacity": CAPACITY_OVERFLOW}
"""The refusal each `generator_intent` of the residual corpus asks for (result.REASONS)."""

F9_LABEL = "Timeloop's approximation (F9)"


def spatial_class(case: CorpusCase) -> bool:
    """Is the case in Timeloop's spatial residual class (instances under a fan-out do unequal work, F9)?"""
    return (case.raw.get("residuals") or {}).get("residual_class") == "spatial"


def mac_instances_used(case: CorpusCase) -> int:
    """F5: the product of the spatial ends over every level."""
    m = case.mapping
    return int(np.prod(m.spatial_x[0]) * np.prod(m.spatial_y[0]))


def compare_spatial_case(case: CorpusCase, reason: int, compute_cycles: int, ours: EvalResult | None,
                         walk: EvalResult | None) -> list[str]:
    """Mismatches of a spatial-class case (empty if it agrees). `reason`, `compute_cycles`: the evaluation
    checked; `ours`: its counts, cycles and energy (None if invalid); `walk`: the reference walk's result they
    must equal (None when `ours` is the walk)."""
    tl = case.timeloop
    valid = reason == 0
    if reason == SPATIAL_RESIDUAL:
        return ["kernel: more instance classes than its tables hold"]
    if valid != bool(tl["valid"]):
        return [f"valid: cosearch {valid}, timeloop {tl['valid']} ({tl.get('error')})"]
    if not valid:
        want = INTENDED_REASON.get(case.raw.get("generator_intent"))
        return [] if want is None or want == reason else [f"reason: cosearch {reason}, intended {want}"]
    problems = []
    if compute_cycles != tl["compute_cycles"]:
        problems.append(f"compute cycles: {compute_cycles} vs {tl['compute_cycles']}")
    if mac_instances_used(case) != tl["mac_instances_used"]:
        problems.append(f"mac_instances_used: {mac_instances_used(case)} vs {tl['mac_instances_used']}")
    if case.layer.macs != case.raw["residuals"]["problem_macs"]:
        problems.append(f"MACs: {case.layer.macs} vs {case.raw['residuals']['problem_macs']}")
    if walk is not None:
        if not walk.valid:
            problems.append(f"the walk refuses it: {walk.reason_text}")
        else:
            if ours.cycles != walk.cycles:
                problems.append(f"cycles: {ours.cycles} vs the walk's {walk.cycles}")
            if abs(ours.energy_pj - walk.energy_pj) > 1e-9 * walk.energy_pj:
                problems.append(f"energy: {ours.energy_pj:.1f} vs the walk's {walk.energy_pj:.1f} pJ")
            for key in ("reads", "fills", "updates"):
                diff = np.abs(getattr(ours, key) - getattr(walk, key)) > 1e-6 * np.maximum(1.0, getattr(walk, key))
                for l, t in zip(*np.nonzero(diff)):
                    problems.append(f"{case.accelerator.level_names[l]}.{TENSORS[t]}.{key}: "
                                    f"{getattr(ours, key)[l, t]:.0f} vs the walk's {getattr(walk, key)[l, t]:.0f}")
    return problems


def inputs_sha256(case: CorpusCase) -> str:
    """A case's inputs (problem, architecture, mapping) as a hash: the key of its stored walk."""
    inputs = {k: case.raw[k] for k in ("problem", "arch", "mapping")}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def walk_figures(case: CorpusCase) -> dict:
    """The walk's cycles, energy, MACs and counts of a case, as stored."""
    r = evaluate(case.layer, case.accelerator, case.mapping)
    if not r.valid:
        return {"valid": False, "reason": int(r.reason)}
    return {"valid": True, **{k: getattr(r, k) for k in _WALK_FIELDS},
            **{k: getattr(r, k).tolist() for k in ("reads", "fills", "updates")}}


def _as_result(case: CorpusCase, fig: dict) -> EvalResult:
    if not fig["valid"]:
        return EvalResult(False, fig["reason"], "", case.accelerator.level_names, case.layer.macs)
    return EvalResult(True, 0, "ok", case.accelerator.level_names, int(fig["macs"]), cycles=int(fig["cycles"]),
                      compute_cycles=int(fig["compute_cycles"]), energy_pj=float(fig["energy_pj"]),
                      **{k: np.array(fig[k], dtype=float) for k in ("reads", "fills", "updates")})


def load_walks(path: Path | None) -> dict[str, dict]:
    """Stored walks by inputs hash (an empty dict for None)."""
    if path is None:
        return {}
    with gzip.open(path, "rt") as f:
        return json.load(f)["walks"]


def save_walks(path: Path, walks: dict[str, dict]) -> None:
    """Write walks by inputs hash (gzipped JSON, keys sorted, so that equal walks give equal files)."""
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(json.dumps({"walks": walks}, sort_keys=True).encode())


def _walks(cases: list[CorpusCase], stored: dict[str, dict], jobs: int) -> dict[str, dict]:
    """The walk's figures of the given cases by inputs hash: stored ones, the rest walked on `jobs` processes."""
    keys = [inputs_sha256(c) for c in cases]
    todo = [(k, c) for k, c in zip(keys, cases) if k not in stored]
    out = {k: stored[k] for k in keys if k in stored}
    if todo and jobs > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            for (k, _), fig in zip(todo, pool.map(walk_figures, [c for _, c in todo])):
                out[k] = fig
    else:
        for k, c in todo:
            out[k] = walk_figures(c)
    return out


def _f9_note(case: CorpusCase, ours: EvalResult) -> tuple[str, tuple[float, float, float]]:
    """Timeloop's figures beside ours for a valid spatial-class case, and its relative gaps (MACs, cycles,
    energy) from the real counts."""
    tl = case.timeloop
    gaps = (tl["macs"] / ours.macs - 1, tl["cycles"] / ours.cycles - 1, tl["energy_pJ"] / ours.energy_pj - 1)
    text = (f"  {case.id}: {F9_LABEL}: MACs {tl['macs']:,} (real {ours.macs:,}, {100 * gaps[0]:+.1f}%), cycles "
            f"{tl['cycles']:,} (ours {ours.cycles:,}, {100 * gaps[1]:+.1f}%), energy {tl['energy_pJ']:,.0f} pJ "
            f"(ours {ours.energy_pj:,.0f}, {100 * gaps[2]:+.1f}%)")
    return text, gaps


def _kernel_result(case: CorpusCase, r, names) -> EvalResult | None:
    """The kernel's figures of a valid case, in the walk's result type (totals only)."""
    if not r.valid[0]:
        return None
    return EvalResult(True, 0, "ok", names, case.layer.macs, cycles=int(r.cycles[0]),
                      compute_cycles=int(r.compute_cycles[0]), energy_pj=float(r.energy_pj[0]),
                      reads=r.reads[0], fills=r.fills[0], updates=r.updates[0])


def check_corpus(cases: list[CorpusCase], use_reference: bool = False, verbose: bool = False,
                 walks: dict[str, dict] | None = None, jobs: int = 1) -> tuple[int, int, str]:
    """Evaluate every case; return (agreeing, total, report text). `walks`: stored walk figures by inputs hash
    (`load_walks`), used for spatial-class cases in place of walking them; the others are walked on `jobs`
    processes and added to `walks`."""
    rows: dict[str, dict] = defaultdict(lambda: {"n": 0, "exact": 0, "default": 0, "worst": 0.0})
    lines = []
    gaps = []
    no_exact = []
    walks = {} if walks is None else walks
    if not use_reference:
        walks.update(_walks([c for c in cases if spatial_class(c) and c.timeloop["valid"]], walks, jobs))
    for case in cases:
        row = rows[case.family]
        row["n"] += 1
        if use_reference:
            r = evaluate(case.layer, case.accelerator, case.mapping)
            valid, cycles, energy, reason, cc = r.valid, r.cycles, r.energy_pj, r.reason, r.compute_cycles
            totals = {"reads": r.reads, "fills": r.fills, "updates": r.updates} if r.valid else {}
            ours = r if r.valid else None
        else:
            r = evaluate_batch(case.layer, case.accelerator, case.mapping)
            valid, cycles, energy = bool(r.valid[0]), int(r.cycles[0]), float(r.energy_pj[0])
            reason, cc = int(r.reason[0]), int(r.compute_cycles[0])
            totals = {"reads": r.reads[0], "fills": r.fills[0], "updates": r.updates[0]}
            ours = _kernel_result(case, r, case.accelerator.level_names)
        if spatial_class(case):
            walk = None
            if not use_reference and ours is not None:
                walk = _as_result(case, walks[inputs_sha256(case)])
            problems = compare_spatial_case(case, reason, cc, ours, walk)
            row["exact"] += not problems
            row["default"] += not problems
            if verbose and problems:
                lines.append(f"  {case.id}: " + "; ".join(problems[:4]))
            if ours is not None and case.timeloop["valid"]:
                note, gap = _f9_note(case, ours)
                gaps.append(gap)
                if verbose:
                    lines.append(note)
            continue
        if case.timeloop["valid"] and not case.exact:
            no_exact.append(case.id)
        ok_exact, err, problems = compare_case(case, valid, cycles, energy, totals, case.exact or case.timeloop)
        ok_default, _, _ = compare_case(case, valid, cycles, energy, totals, case.timeloop)
        row["exact"] += ok_exact
        row["default"] += ok_default
        row["worst"] = max(row["worst"], err)
        if verbose and not ok_exact:
            lines.append(f"  {case.id}: " + "; ".join(problems[:4]))
    if gaps:
        g = np.array(gaps) * 100
        lines.append(f"{F9_LABEL} on {len(g)} spatial-class cases, against the real counts: MACs "
                     f"{g[:, 0].min():+.1f}% to {g[:, 0].max():+.1f}% ({int((g[:, 0] != 0).sum())} differ), "
                     f"cycles {g[:, 1].min():+.1f}% to {g[:, 1].max():+.1f}%, energy {g[:, 2].min():+.1f}% to "
                     f"{g[:, 2].max():+.1f}%")
    if no_exact:
        lines.append(f"{len(no_exact)} valid case{'s' * (len(no_exact) > 1)} without exact counts (Timeloop's rerun "
                     f"without temporal extrapolation gave no results), checked against the default run's figures: "
                     + ", ".join(no_exact))
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
    parser.add_argument("--walks", default=str(WALKS),
                        help="stored walk results of spatial-class cases (default: the imperfect corpus's development "
                             "cases, %(default)s); 'none' walks every such case")
    parser.add_argument("--save-walks", type=Path, metavar="FILE",
                        help="write the walk results used (stored and computed) to FILE (gzipped JSON)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes that walk the spatial-class cases not stored (default: the cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs: {args.jobs}; accepted: an integer >= 1")
    if args.cases.is_dir():
        parser.error(f"CASES: {args.cases} is a directory; accepted: a corpus file of JSON lines (cases_dev.jsonl)")
    if not args.cases.is_file():
        parser.error(f"CASES: no such file: {args.cases}")
    try:
        cases = load_cases(args.cases)
    except ValueError as exc:  # names the file, and the line where one is at fault
        parser.error(f"CASES: {args.cases} is not a corpus file ({str(exc).removeprefix(f'{args.cases}: ')})")
    if not cases:
        parser.error(f"CASES: {args.cases} holds no case, so nothing can agree; accepted: a corpus file of JSON "
                     "lines, one case each (cases_dev.jsonl)")
    if args.walks != "none" and not Path(args.walks).is_file():
        parser.error(f"--walks: no such file: {args.walks}; accepted: a file written by --save-walks, or none")
    try:
        walks = load_walks(None if args.walks == "none" else Path(args.walks))
    except (OSError, ValueError, KeyError) as exc:
        parser.error(f"--walks: {args.walks} is not a file of stored walks ({exc})")
    agree, total, report = check_corpus(cases, args.reference, args.verbose, walks, args.jobs)
    if args.save_walks is not None:
        save_walks(args.save_walks, walks)
    print(report)
    print(f"agree: {agree}/{total} cases")
    return 0 if agree == total else 1
