"""The timeline of a cold command (`bench_cold_compile.py --workers N --timeline`): the environment that makes each of
its processes record its events (`_timeline_hook`), and the table printed from them.

Times are wall seconds from the command's start; CPU is the process's own. A numba compilation outside every step of
the shared compile (`accel_models.jit.SplitCompile`) is one the plan does not list (or one a step did not
reach): each process pays it alone.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

HOOK = Path(__file__).resolve().with_name("_timeline_hook.py")
SPANS = ("plan_inputs", "plan_steps", "plan", "objective", "load_study", "resumable", "split.start", "split.finish",
         "trial", "check_feasible", "prepare_study", "claim_out", "accuracy_model", "command.main")
"""The events printed as rows besides the steps and the compilations outside them (`_timeline_hook.WRAPPED`)."""


def timeline_env(env: dict, folder: Path) -> dict:
    """`env` with a `sitecustomize` on PYTHONPATH that loads `_timeline_hook`, writing to `folder`/timeline."""
    site, events = folder / "site", folder / "timeline"
    site.mkdir(parents=True, exist_ok=True)
    events.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('_timeline_hook', {str(HOOK)!r})\n"
        "module = importlib.util.module_from_spec(spec)\nsys.modules['_timeline_hook'] = module\n"
        "spec.loader.exec_module(module)\n")
    path = ":".join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return {**env, "PYTHONPATH": path, "COSEARCH_TIMELINE_DIR": str(events)}


def _load(folder: Path) -> dict[int, list[dict]]:
    events = {}
    for path in folder.glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        events[int(path.stem)] = sorted(rows, key=lambda r: r["w0"])
    return events


def _label(rows: list[dict]) -> str:
    argv = next((r["name"] for r in rows if r["kind"] == "process"), "")
    if "worker_process" in argv:
        return f"worker {argv.split()[-1]}" if argv.split()[-1].isdigit() else "worker"
    return "helper" if "_helper_main" in argv else "command" if "run_cosearch" in argv else argv[:40]


def _inside(row: dict, spans: list[dict]) -> bool:
    return any(s["w0"] <= row["w0"] and row["w1"] <= s["w1"] + 1e-3 for s in spans)


def print_timeline(folder: Path, t0: float, first_s: float | None) -> None:
    """Each process's rows (start, end, CPU), its summary, and the functions compiled in more than one process."""
    events = _load(folder)
    compiled_in: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for pid, rows in sorted(events.items(), key=lambda kv: kv[1][0]["w0"]):
        label = _label(rows)
        print(f"--- {label} (pid {pid}): started at {rows[0]['w0'] - t0:.1f} s")
        for r in rows:       # by process: the workers share a label
            if r["kind"] == "compile":
                compiled_in[r["name"]].append((f"{label} {pid}", r["c1"] - r["c0"]))
        _print_process(rows, t0)
    twice = {name: where for name, where in compiled_in.items() if len({w for w, _ in where}) > 1}
    print(f"compiled in more than one process: {len(twice)} functions, "
          f"{sum(c for where in twice.values() for _, c in where):.1f} s CPU in all (nested: callers include callees)")
    for name, where in sorted(twice.items(), key=lambda kv: -max(c for _, c in kv[1]))[:12]:
        print(f"    {name}: " + ", ".join(f"{w} {c:.1f} s" for w, c in where))
    if first_s is not None:
        print(f"first trial complete at {first_s:.1f} s")


def _print_process(rows: list[dict], t0: float) -> None:
    """One process's rows and summary."""
    steps = [r for r in rows if r["kind"] == "step"]
    trials = [r for r in rows if r["kind"] == "trial"]
    outside = [r for r in rows if r["kind"] == "compile" and r["depth"] == 0 and not _inside(r, steps)]
    for r in rows:
        if r["kind"] == "loaded" and r["name"] in ("numba.core.event", "cosearch.search.workers",
                                                   "accel_models.jit._schedule"):
            print(f"{r['w1'] - t0:7.1f}          {r['c1']:6.1f} CPU  imported {r['name']}")
        elif r["kind"] in SPANS or r["kind"] == "step" or r in outside:
            what = {"step": "step ", "compile": "compile outside the plan: "}.get(r["kind"], r["kind"] + " ")
            when = " (in a trial)" if r["kind"] == "compile" and _inside(r, trials) else ""
            print(f"{r['w0'] - t0:7.1f}-{r['w1'] - t0:6.1f} {r['c1'] - r['c0']:6.1f} CPU  {what}{r['name']}{when}")
    split = [r for r in rows if r["kind"] in ("split.start", "split.finish")]
    split_wall = sum(r["w1"] - r["w0"] for r in split)
    steps_wall = sum(r["w1"] - r["w0"] for r in steps if _inside(r, split))  # not those after the first trial
    before = [r for r in outside if not trials or r["w1"] <= trials[0]["w0"]]
    during = [r for r in outside if trials and _inside(r, trials[:1])]
    cpu = lambda rs: sum(r["c1"] - r["c0"] for r in rs)  # noqa: E731
    nested = [r for r in rows if r["kind"] == "compile" and r["depth"] > 0 and _inside(r, steps)]
    in_trial = [r for r in rows if r["kind"] == "compile" and _inside(r, trials[:1])]
    if nested or in_trial:
        print(f"    compiled inside a step besides its own function: {len(nested)} "
              f"({', '.join(sorted({r['name'].rsplit('.', 1)[-1] for r in nested}))}); "
              f"in the first trial: {len(in_trial)} ({', '.join(sorted({r['name'] for r in in_trial}))})")
    print(f"    steps {len(steps)}: {cpu(steps):.1f} s CPU, {steps_wall:.1f} s wall; waiting in the split "
          f"{split_wall - steps_wall:.1f} s wall; compiles outside the plan: {cpu(before):.1f} s CPU before the "
          f"first trial, {cpu(during):.1f} s CPU in it" + (
              f"; first trial {trials[0]['w0'] - t0:.1f}-{trials[0]['w1'] - t0:.1f} s "
              f"({cpu(trials[:1]):.1f} s CPU; the process's CPU at its end {trials[0]['c1']:.1f} s)" if trials
              else ""))
