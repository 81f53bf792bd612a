"""The seed trials of an area-budget search: the fitting presets' designs run first, CMA-ES starts at the best."""
from __future__ import annotations

import numpy as np
import optuna
import pytest

from accel_models import area_mm2
from accel_models.presets import get_preset
from cosearch.config import ResourceBounds
from cosearch.search import AcceleratorSpace
from cosearch.search.baselines import fitting_presets
from cosearch.search.seeds import (SEED_ATTR, SEEDS_ATTR, best_seed_params, enqueue_seeds, preset_seeds, seed_summary,
                                   seeds_text)
from cosearch.search.study import make_sampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("preset", ["nvdla_256", "nvdla_1024", "shidiannao"])
def test_area_space_expresses_the_fitting_presets(preset):
    """The design a seed runs is the preset's, but for what the area space cannot say (1-word register files for
    the tensors it keeps none of, its own node)."""
    space = AcceleratorSpace(5.0)
    acc, bounds = get_preset(preset), ResourceBounds.from_preset(preset)
    d = space.decode(space.encode_preset(preset))
    assert d.pe_array == acc.mesh
    assert d.word_bits == bounds.word_bits
    assert d.dram_bytes_per_cycle == bounds.dram_bytes_per_cycle
    assert d.parallel_dims == tuple(acc.dataflow.spatial_x[:1] + acc.dataflow.spatial_y[:1])
    glb_bytes = sum(lv.tensor_capacity_words and sum(lv.tensor_capacity_words) or lv.capacity_words
                    for i, lv in enumerate(acc.levels) if lv.kind != "DRAM" and acc.instances(i) == 1) \
        * bounds.word_bits // 8
    assert abs(d.glb_bytes - glb_bytes) <= 16
    assert max(d.rf_words) <= 1  # NVDLA: one weight register, ShiDianNao: one 16-bit word per tensor
    assert space.check(d).fits and d.area_mm2 < 1.07 * area_mm2(acc) + 0.3


def test_seeds_are_the_presets_that_fit():
    assert [n for n, _ in preset_seeds(AcceleratorSpace(5.0))] == ["nvdla_256", "nvdla_1024", "shidiannao"]
    assert fitting_presets(5.0) == ["nvdla_256", "nvdla_1024", "shidiannao"]
    assert preset_seeds(AcceleratorSpace(1.0)) == [] and fitting_presets(1.0) == []
    # nvdla_1024 fits 4 mm2 (3.94) but its design with the area space's 1-word input/output registers does not
    assert "nvdla_1024" in fitting_presets(4.0)
    assert [n for n, _ in preset_seeds(AcceleratorSpace(4.0))] == ["nvdla_256"]


def _seeded_study(scores: dict[str, float], direction: str = "minimize"):
    """A study with the 5 mm2 seeds whose trials score `scores[preset]` (seeds) or a smooth function of the genes."""
    space = AcceleratorSpace(5.0)
    study = optuna.create_study(direction=direction, sampler=make_sampler("cmaes", 0))
    names = enqueue_seeds(study, space)
    seeds = preset_seeds(space)

    def objective(trial):
        genes = {g: trial.suggest_float(g, 0.0, 1.0) for g in space.genes}
        seed = next((name for name, seed_genes in seeds if seed_genes == genes), None)  # a retry's too
        return scores[seed] if seed else 10.0 + float(np.sum(np.square(list(genes.values()))))
    return study, space, names, objective


@pytest.mark.parametrize("best", ["nvdla_256", "nvdla_1024", "shidiannao"])
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_cmaes_starts_at_the_best_seed(best, direction):
    scores = {"nvdla_256": 3.0, "nvdla_1024": 2.0, "shidiannao": 4.0}
    sign = 1 if direction == "minimize" else -1
    scores = {k: sign * (0.5 if k == best else v) for k, v in scores.items()}
    study, space, names, objective = _seeded_study(scores, direction)
    assert study.user_attrs[SEEDS_ATTR] == names == ["nvdla_256", "nvdla_1024", "shidiannao"]
    study.optimize(objective, n_trials=3 + 13)  # the seeds, then CMA-ES's first generation (4 + 3 ln 21 = 13)
    trials = study.get_trials(deepcopy=False)
    assert [t.user_attrs.get(SEED_ATTR) for t in trials[:4]] == [*names, None]
    start = space.encode_preset(best)
    assert best_seed_params(study) == pytest.approx(start)
    assert study.sampler._x0 == pytest.approx(start)
    # the first generation is spread around the best seed, not around the centre of the space
    first = np.array([[t.params[g] for g in space.genes] for t in trials[3:]])
    x0 = np.array([start[g] for g in space.genes])
    assert np.abs(first.mean(axis=0) - x0).mean() < np.abs(first.mean(axis=0) - 0.5).mean()


def test_no_seeds_no_start():
    """Without seeds (a budget no preset fits) CMA-ES starts at the centre, as before."""
    study = optuna.create_study(sampler=make_sampler("cmaes", 0))
    assert enqueue_seeds(study, AcceleratorSpace(1.0)) == []
    space = AcceleratorSpace(1.0)
    study.optimize(lambda t: sum(t.suggest_float(g, 0, 1) for g in space.genes), n_trials=3)
    assert best_seed_params(study) is None and study.sampler._x0 is None


def test_a_failed_seed_is_skipped_and_a_running_one_awaited_at_most_max_wait():
    study, space, names, objective = _seeded_study({"nvdla_256": 1.0, "nvdla_1024": 2.0, "shidiannao": 3.0})

    def failing_first(trial):
        if trial.user_attrs.get(SEED_ATTR) == "nvdla_256":
            raise optuna.TrialPruned("over budget")
        if trial.user_attrs.get(SEED_ATTR) == "shidiannao":
            trial.set_user_attr("feasible", False)  # over a latency limit: its value is a penalty
        return objective(trial)
    study.optimize(failing_first, n_trials=3)
    assert best_seed_params(study) == pytest.approx(space.encode_preset("nvdla_1024"))
    summary = seed_summary(study)
    assert [(s["preset"], s["trial"], s["state"], s["best"]) for s in summary] == [
        ("nvdla_256", 0, "PRUNED", False), ("nvdla_1024", 1, "COMPLETE", True), ("shidiannao", 2, "COMPLETE", False)]
    assert seeds_text(summary, "EDP (J*s)") == (
        "seed trials (the fitting presets' designs; EDP (J*s)): nvdla_256 (trial 0: pruned), "
        "nvdla_1024 (trial 1: 2, the best), shidiannao (trial 2: over the limits, penalty 3)")
    running = study.ask()  # a trial of another worker that never ends
    study._storage.set_trial_system_attr(running._trial_id, "failed_trial", 2)  # a retry of seed 2
    assert best_seed_params(study, max_wait_s=0.3, poll_s=0.1) == pytest.approx(space.encode_preset("nvdla_1024"))


def test_final_phase_remaps_the_best_seed_too():
    """The best seed trial is a final candidate even when three trials beat it in the search (the final mapper may
    rank them otherwise): the result is never worse than the best seed."""
    from cosearch.search.finalize import FINAL_CANDIDATES, final_trials

    study = optuna.create_study(sampler=make_sampler("random", 0))
    enqueue_seeds(study, AcceleratorSpace(5.0))
    values = [5.0, 4.0, 6.0, 1.0, 2.0, 3.0, 7.0]  # seeds 0-2, then three better trials and a worse one
    for v in values:
        study.optimize(lambda t, v=v: v + 0 * t.suggest_float("pes", 0, 1), n_trials=1)
    trials = study.get_trials(deepcopy=False)
    assert [t.number for t in final_trials(trials, study)] == [3, 4, 5, 1]
    assert [t.number for t in final_trials(trials[1:], study, maximize=True)] == [6, 2, 1]  # the best seed is in
    plain = optuna.create_study(sampler=make_sampler("random", 0))  # no seeds: the best three only
    for v in values:
        plain.optimize(lambda t, v=v: v + 0 * t.suggest_float("pes", 0, 1), n_trials=1)
    assert [t.number for t in final_trials(plain.get_trials(deepcopy=False), plain)] == [3, 4, 5]
    assert FINAL_CANDIDATES == 3


def test_a_seed_killed_mid_draw_is_rerun_with_its_whole_design(monkeypatch):
    """A seed trial killed before it drew every gene is re-run (storage.retry_trial) with all the genes it was
    queued with, not only those it had drawn; and a seed trial that draws genes never waits for the running seeds
    (of which it is one) to choose CMA-ES's start."""
    import cosearch.search.study as study_module
    from cosearch.search.storage import retry_trial

    calls = []
    monkeypatch.setattr(study_module, "best_seed_params",
                        lambda study: calls.append(study) or best_seed_params(study, max_wait_s=5.0))
    study, space, names, objective = _seeded_study({"nvdla_256": 1.0, "nvdla_1024": 2.0, "shidiannao": 3.0})
    study.optimize(objective, n_trials=2)
    killed = study.ask()  # seed 2, killed after drawing two genes
    assert killed.number == 2
    for g in space.genes[:2]:
        killed.suggest_float(g, 0.0, 1.0)
    study.tell(killed, state=optuna.trial.TrialState.FAIL)
    retry_trial(study, study.get_trials(deepcopy=False)[2])
    study.optimize(objective, n_trials=1)
    retry = study.get_trials(deepcopy=False)[3]
    assert retry.system_attrs["failed_trial"] == 2 and retry.state.name == "COMPLETE"
    assert retry.params == pytest.approx(space.encode_preset("shidiannao"))
    assert retry.value == 3.0 and calls == []
    # a seed's retry without its queued genes (queued by hand) draws the missing ones without waiting
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params={"pes": 0.1},
        distributions={"pes": optuna.distributions.FloatDistribution(0.0, 1.0)}, system_attrs={"failed_trial": 2}))
    study.optimize(objective, n_trials=1)
    assert study.get_trials(deepcopy=False)[4].state.name == "COMPLETE" and calls == []
    study.optimize(objective, n_trials=1)  # the first CMA-ES trial asks for the start
    assert len(calls) == 1 and study.sampler._x0 == pytest.approx(space.encode_preset("nvdla_256"))
