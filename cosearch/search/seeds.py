"""The seed trials of an area-budget search: the designs of the presets that fit the budget run first, and CMA-ES
starts from the best of them.

Started from the centre of the space, the outer CMA-ES did not reach NVDLA-1024's region (about 1000 PEs,
32 B/cycle) in a few hundred trials on the transformer spaces and lost to it (0.70x its EDP on vit-elastic, 0.34x
on decoder-elastic). A search should never return a design worse than a known one it could have picked: each
fitting preset's design, as close as the space expresses it (`AcceleratorSpace.encode_preset`), is enqueued as
one of the study's first trials, scored like any other trial (its own subnet search), and CMA-ES's mean starts at
the best of them (`best_seed_params`), with the default step (1/6 of each gene's range) so that it still explores.
"""
from __future__ import annotations

import time

from accel_models.presets import get_preset

from .baselines import fitting_presets
from .space import GLB_STEP_BYTES, AcceleratorSpace, preset_glb
from .storage import fail_dead_trials

SEEDS_ATTR = "cosearch.seeds"
"""Study user attribute: the presets whose designs are the study's first trials (numbers 0 .. n-1), in order."""
SEED_ATTR = "seed"
"""Trial user attribute of a seed trial: the preset whose design it runs."""
SEED_POLL_S = 0.2
SEED_MAX_WAIT_S = 600.0
"""How long the first CMA-ES trial waits for seed trials still running on other workers (a trial takes seconds, a
minute with a cold numba cache; a dead worker's trial is failed by the heartbeat after its grace period, or at once
when the worker ran on this host (`storage.fail_dead_trials`), and then no longer waited for); past it, the best
seed finished so far is the start."""


def preset_seeds(space: AcceleratorSpace) -> list[tuple[str, dict[str, float]]]:
    """(preset, genes) of every preset that fits the space's area budget (as the final comparison counts them)
    whose design, as the space expresses it, fits too with the preset's global buffer (the space's buffer takes
    what the area leaves beside the PEs: a preset whose buffer does not fit there is not its own design);
    in `accel_models.presets.PRESETS` order."""
    seeds = []
    for name in fitting_presets(space.area_budget_mm2):
        genes = space.encode_preset(name)
        design = space.decode(genes)
        if space.check(design).fits and design.glb_bytes >= preset_glb(get_preset(name))[0] - GLB_STEP_BYTES:
            seeds.append((name, genes))
    return seeds


def enqueue_seeds(study, space: AcceleratorSpace) -> list[str]:
    """Queue the preset seeds as the study's next trials (call on a new study: they become trials 0 .. n-1) and
    record their names in the study (`SEEDS_ATTR`); returns the names."""
    seeds = preset_seeds(space)
    for name, genes in seeds:
        study.enqueue_trial(genes, user_attrs={SEED_ATTR: name})
    study.set_user_attr(SEEDS_ATTR, [name for name, _ in seeds])
    return [name for name, _ in seeds]


def _seed_number(trial) -> int:
    """The number of the trial `trial` runs: its own, or the original's for a retry (see `storage.retry_trial`)."""
    return trial.system_attrs.get("failed_trial", trial.number)


def is_seed(trial, study) -> bool:
    """Whether `trial` (a FrozenTrial of `study`) runs one of the study's seed designs (a retry of one included)."""
    return _seed_number(trial) < len(study.user_attrs.get(SEEDS_ATTR, ()))


def best_seed_params(study, max_wait_s: float = SEED_MAX_WAIT_S, poll_s: float = SEED_POLL_S) -> dict | None:
    """The genes of the best complete seed trial by the study's objective (None without seeds or without a complete
    one), once no seed trial is running (waiting at most `max_wait_s`): every worker that asks picks the same
    start, whatever the timing."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    count = len(study.user_attrs.get(SEEDS_ATTR, ()))
    if not count:
        return None
    t0 = time.time()
    while True:
        seeds = [t for t in study.get_trials(deepcopy=False) if _seed_number(t) < count]
        if not any(t.state == TrialState.RUNNING for t in seeds) or time.time() - t0 > max_wait_s:
            break
        fail_dead_trials(study)  # a dead worker's seed: failed, not waited for
        time.sleep(poll_s)
    done = [t for t in seeds if t.state == TrialState.COMPLETE and t.value is not None]
    if not done:
        return None
    sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
    best = min(done, key=lambda t: (sign * t.value, t.number))
    return dict(best.params)


def seed_summary(study) -> list[dict]:
    """The study's seed trials (retries included), for result.json and the terminal: preset, trial, state, objective
    value (a penalty when the design is over the latency / energy / power limits: `within_budget` says which), and
    whether it is the best complete one (`best`: CMA-ES's start; none in a multi-objective study)."""
    from optuna.study import StudyDirection

    names = study.user_attrs.get(SEEDS_ATTR, ())
    count = len(names)
    seeds = [{"preset": names[_seed_number(t)], "trial": t.number, "state": t.state.name,
              "value": t.value if t.state.name == "COMPLETE" and len(study.directions) == 1 else None,
              "within_budget": bool(t.user_attrs.get("feasible", True)), "best": False}
             for t in study.get_trials(deepcopy=False) if _seed_number(t) < count]
    done = [s for s in seeds if s["value"] is not None]
    if done:
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        min(done, key=lambda s: (sign * s["value"], s["trial"]))["best"] = True
    return seeds


def seeds_text(seeds: list[dict], objective: str = "objective") -> str:
    """One line: each seed's preset, trial and `objective` value (its name and unit, e.g. 'EDP (J*s)'), and the best
    (CMA-ES's start)."""
    def value(s: dict) -> str:
        if s["value"] is None:
            return s["state"].lower()
        shown = f"{s['value']:.3g}" if s.get("within_budget", True) else f"over the limits, penalty {s['value']:.3g}"
        return shown + (", the best" if s["best"] else "")

    parts = [f"{s['preset']} (trial {s['trial']}: {value(s)})" for s in seeds]
    return f"seed trials (the fitting presets' designs; {objective}): " + ", ".join(parts)
