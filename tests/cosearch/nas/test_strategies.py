"""The network search strategies on a stand-in device (latency from MACs, exact and cheap) and a stand-in accuracy
(grows with MACs): each keeps to its budget and the limits, is deterministic under a seed, and the gradient's
expected latency is the exact expectation with the exact gradient."""
from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import torch

from cosearch.config import Budget
from cosearch.config.objectives import Accuracy, MnasNetReward
from cosearch.nas_strategies import BudgetSpent, get_nas_strategy
from cosearch.nas_strategies.gradient import expected_cost
from cosearch.search.nas import NASProblem, SubnetCost
from nets import count_macs, get_space, sample_configs, slot_choices
from nets.spaces.terms import term_layers

SPACE = get_space("ofa-mbv3")


class _Accuracy:
    """Top-1 growing with log MACs; `estimator.soft_score` absent (the gradient needs OFA's predictor)."""

    source = type("S", (), {"label": "stand-in"})()
    estimator = None

    def score_batch(self, configs):
        return np.array([0.70 + 0.03 * math.log(count_macs(c) / 1e8) for c in configs])


def _cost(config) -> SubnetCost:
    macs = count_macs(config)
    return SubnetCost(macs / 1e11, macs * 1e-12)


def _problem(budget_evals=400, seed=0, latency_ms=4.0, objective=Accuracy()) -> NASProblem:
    return NASProblem(SPACE, SPACE.genes(), _Accuracy(), _cost, objective, Budget(math.inf, latency_ms * 1e-3),
                      budget_evals, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["evolution", "random", "rl"])
def test_a_strategy_keeps_to_its_budget_and_the_limits_and_repeats_under_a_seed(name):
    strategy = get_nas_strategy(name)
    a, b = _problem(), _problem()
    strategy.search(a)
    strategy.search(b)
    assert a.evaluations <= 400 and a.best is not None and a.best.feasible
    assert a.best.cost.latency_s <= 4e-3 and a.best.config == b.best.config
    assert [(e, v) for e, _, v in a.history] == [(e, v) for e, _, v in b.history]
    assert [h[0] for h in a.history] == sorted(h[0] for h in a.history)      # improvements in order
    values = [e.value for e in a.evaluated.values() if e.feasible]
    assert a.best.value == max(values)


@pytest.mark.slow
def test_searching_beats_random_sampling_at_one_budget():
    """On a limit that only smaller subnets meet, OFA's evolution finds a more accurate one than uniform sampling
    of the same number of subnets (median of 3 seeds)."""
    def best(name):
        out = []
        for seed in range(3):
            p = _problem(budget_evals=600, seed=seed, latency_ms=3.0)
            get_nas_strategy(name).search(p)
            out.append(p.best.accuracy if p.best.feasible else 0.0)
        return float(np.median(out))

    assert best("evolution") > best("random")


def test_mnasnet_reward_is_what_rl_maximises():
    """The controller learns: the subnets it draws late in the search score a higher MnasNet reward, on average,
    than the ones it drew first (a policy updated against the reward's gradient would draw worse ones)."""
    p = _problem(objective=MnasNetReward(3e-3, (-0.07, -0.07)))
    get_nas_strategy("rl").search(p)
    values = [e.value for e in p.evaluated.values() if e.cost is not None]
    assert len(values) >= 300 and p.best.value == max(values)
    assert np.mean(values[-100:]) > np.mean(values[:100])


def _tables(terms, genes):
    """Each term's (latency) table from the stand-in cost of its layers: MACs / 1e11 s."""
    base = SPACE.parse({"ks": [7] * 20, "e": [6] * 20, "d": [4] * 5, "r": 224})
    out = []
    for i, term in enumerate(terms):
        shape = tuple(len(genes[f][p]) for f, p in term.support)
        table = np.empty(shape)
        for idx, values in zip(np.ndindex(*shape), itertools.product(*(genes[f][p] for f, p in term.support))):
            table[idx] = sum(layer.macs for layer in term_layers(SPACE, terms, i, values, base)) / 1e11
        out.append(table)
    return out


@pytest.fixture(scope="module")
def tables():
    genes = SPACE.genes()
    # a few resolutions keep the tables small; the other genes keep every choice
    genes = {**genes, "r": ((128, 160, 224),)}
    terms = SPACE.layer_terms()
    return terms, genes, _tables(terms, genes)


def _one_hot(genes, config):
    probs = {}
    for f, per in genes.items():
        for i, choices in enumerate(per):
            v = getattr(config, f) if f in SPACE.scalar_genes else getattr(config, f)[i]
            t = torch.zeros(len(choices), dtype=torch.float64)
            t[choices.index(v)] = 1.0
            probs[(f, i)] = t
    return probs


def test_expected_latency_at_a_subnet_is_its_latency(tables):
    terms, genes, t = tables
    for config in sample_configs(SPACE, 5, rng=2):
        config = config.replace(r=160)
        assert float(expected_cost(terms, t, _one_hot(genes, config))) == pytest.approx(_cost(config).latency_s,
                                                                                         rel=1e-12)


def test_expected_latency_is_the_expectation_over_the_soft_genes(tables):
    """Three genes soft (a stage's depth, a slot's kernel, the resolution), the rest fixed: E[LAT] equals the
    probability-weighted sum of the latencies of all 27 subnets, to 1e-9 relative."""
    terms, genes, t = tables
    rng = np.random.default_rng(0)
    base = sample_configs(SPACE, 1, rng=5)[0].replace(r=128)
    probs = _one_hot(genes, base)
    soft = [("d", 2), ("ks", 9), ("r", 0)]
    for g in soft:
        p = rng.random(len(probs[g]))
        probs[g] = torch.as_tensor(p / p.sum())
    want = 0.0
    for picks in itertools.product(*(range(len(probs[g])) for g in soft)):
        weight = math.prod(float(probs[g][k]) for g, k in zip(soft, picks))
        values = {g: genes[g[0]][g[1]][k] for g, k in zip(soft, picks)}
        config = base.replace(d=tuple(values[("d", 2)] if i == 2 else d for i, d in enumerate(base.d)),
                              ks=tuple(values[("ks", 9)] if i == 9 else k for i, k in enumerate(base.ks)),
                              r=values[("r", 0)])
        want += weight * _cost(config).latency_s
    assert float(expected_cost(terms, t, probs)) == pytest.approx(want, rel=1e-9)


def test_the_gradient_of_the_expected_latency_matches_finite_differences(tables):
    terms, genes, t = tables
    decisions = slot_choices(genes)
    rng = np.random.default_rng(1)
    alpha = [torch.tensor(rng.normal(size=len(c)), dtype=torch.float64, requires_grad=True) for _, _, c in decisions]

    def value(alphas):
        return expected_cost(terms, t, {(f, p): torch.softmax(a, 0) for (f, p, _), a in zip(decisions, alphas)})

    value(alpha).backward()
    h = 1e-6
    for k in (0, 25, 40, len(alpha) - 1):           # a ks slot, an e slot, a depth, the resolution
        for j in range(len(alpha[k])):
            up = [a.detach().clone() for a in alpha]
            down = [a.detach().clone() for a in alpha]
            up[k][j] += h
            down[k][j] -= h
            fd = (float(value(up)) - float(value(down))) / (2 * h)
            assert float(alpha[k].grad[j]) == pytest.approx(fd, rel=1e-5, abs=1e-12)


def test_evaluate_answers_in_order_and_scores_nothing_past_the_budget():
    """One result per config in the caller's order (a reward must meet its own subnet), seen subnets not re-counted,
    and no accuracy scored for subnets past the budget."""
    from cosearch.config.objectives import objective_spec
    from cosearch.config import Budget
    from nets import get_space, sample_configs

    class Counting:
        def __init__(self):
            self.scored = 0

        def score_batch(self, configs):
            self.scored += len(configs)
            return [0.5 + 0.001 * i for i in range(len(configs))]

    space = get_space("ofa-mbv3")
    acc = Counting()
    cost = lambda c: type("C", (), {"latency_s": 1e-3, "energy_j": 1e-3})()   # noqa: E731
    problem = NASProblem(space, space.genes(), acc, cost, objective_spec("accuracy")(), Budget(float("inf")), 5)
    a, b, c, d, e, f = sample_configs(space, 6, rng=3)
    first = problem.evaluate([a, b])
    mixed = problem.evaluate([c, a, d])
    assert [x.config for x in mixed] == [c, a, d] and mixed[1] is first[0] and problem.evaluations == 4
    with pytest.raises(BudgetSpent):
        problem.evaluate([e, f, b])
    assert problem.evaluations == 5 and acc.scored == 5
def _reference_expected_cost(terms, tables, probs):
    """E[cost] as torch's einsum of each term's table with its genes' probabilities (autograd's gradient)."""
    total = torch.zeros((), dtype=torch.float64)
    for term, table in zip(terms, tables):
        spec = "abcdefgh"[:len(term.support)]
        total = total + torch.einsum(f"{spec},{','.join(spec)}->", torch.as_tensor(table, dtype=torch.float64),
                                     *(probs[g] for g in term.support))
    return total


def test_the_stacked_expected_latency_and_its_gradient_equal_the_einsum_reference(tables):
    terms, genes, t = tables
    decisions = slot_choices(genes)
    rng = np.random.default_rng(3)
    fast = [torch.tensor(rng.normal(size=len(c)), dtype=torch.float64, requires_grad=True) for _, _, c in decisions]
    slow = [a.detach().clone().requires_grad_(True) for a in fast]
    got = expected_cost(terms, t, {(f, p): torch.softmax(a, 0) for (f, p, _), a in zip(decisions, fast)})
    want = _reference_expected_cost(terms, t, {(f, p): torch.softmax(a, 0) for (f, p, _), a in zip(decisions, slow)})
    got.backward()
    want.backward()
    assert got.item() == pytest.approx(want.item(), rel=1e-12)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-18)


class _MacTable:
    """A stand-in layer table: a layer's latency its MACs / 1e11 s, its energy MACs pJ."""

    def cost(self, layers):
        macs = sum(layer.macs for layer in layers)
        return SubnetCost(macs / 1e11, macs * 1e-12)


def test_the_per_choice_tables_filled_together_equal_each_term_costed_alone():
    """`fill_terms` costs every term at every joint choice from few networks; each entry is what the term costs on
    its own (`term`, one network per entry)."""
    from cosearch.search.nas import Device, DeviceCosts

    genes = {**SPACE.genes(), "r": ((128, 176, 224),)}
    device = Device("stand-in", "test")
    together = DeviceCosts(device, SPACE, _MacTable())
    built = together.fill_terms(genes)
    alone = DeviceCosts(device, SPACE, _MacTable())
    entries = 0
    for i, term in enumerate(alone.terms):
        for values in itertools.product(*(genes[f][p] for f, p in term.support)):
            assert together._cache[(i, values)] == alone.term(i, values)
            entries += 1
        lat, en = together.term_tables(i, genes)
        assert lat.shape == tuple(len(genes[f][p]) for f, p in term.support) and np.isfinite(en).all()
    assert built <= entries / 10


@pytest.mark.slow
def test_rl_samples_its_policy_within_the_limits():
    """The controller checks a sample's latency before it is evaluated (as evolution and random do): at a limit few
    uniform subnets meet, nearly every subnet it evaluates is within it."""
    p = _problem(budget_evals=200, latency_ms=1.5)
    uniform = np.mean([_cost(p.sample()).latency_s <= 1.5e-3 for _ in range(200)])
    get_nas_strategy("rl").search(p)
    within = np.mean([e.feasible for e in p.evaluated.values()])
    assert uniform < 0.5 and within > 0.9, (uniform, within)


def test_draws_within_the_limits_stop_at_the_deadline():
    """Past the deadline no subnet is evaluated, so `sample_within` draws once and returns, however few draws meet
    the limits (it drew up to MAX_DRAWS, each a latency check: eyeriss at 12 ms ran 527 s on a 230 s limit)."""
    draws = []

    def draw():
        draws.append(1)
        return _problem().sample()

    problem = _problem(latency_ms=1e-9)                 # no subnet meets it
    problem.sample_within(draw, attempts=50)
    assert len(draws) == 50
    draws.clear()
    problem.deadline = time.time() - 1.0
    problem.sample_within(draw, attempts=50)
    assert len(draws) == 1


def test_a_deadline_ends_a_batch_between_chunks_of_accuracy_estimates(monkeypatch):
    """A slow estimator (a zero-cost proxy: ~0.3 s a subnet) is called `ACCURACY_CHUNK` subnets at a time under a
    deadline, so a deadline passing during the first chunk leaves the rest of a population of 40 unscored (one call
    for all 40 would run ~12 s past it); without a deadline the batch is one call, as the door's estimators see it."""
    import cosearch.search.nas.problem as problem_module
    from types import SimpleNamespace

    from cosearch.search.nas.problem import ACCURACY_CHUNK

    clock = [0.0]
    calls: list[int] = []

    class _Slow(_Accuracy):
        def score_batch(self, configs):
            calls.append(len(configs))
            clock[0] += 0.3 * len(configs)
            return super().score_batch(configs)

    monkeypatch.setattr(problem_module, "time", SimpleNamespace(time=lambda: clock[0],
                                                                perf_counter=time.perf_counter))
    configs = sample_configs(SPACE, 40, rng=1)
    problem = NASProblem(SPACE, SPACE.genes(), _Slow(), _cost, Accuracy(), Budget(math.inf, None), 400, deadline=1.0)
    with pytest.raises(BudgetSpent):
        problem.evaluate(configs)
    assert calls == [ACCURACY_CHUNK] and problem.evaluations == 0 < ACCURACY_CHUNK < 40
    calls.clear()
    clock[0] = 0.0
    free = NASProblem(SPACE, SPACE.genes(), _Slow(), _cost, Accuracy(), Budget(math.inf, None), 400)
    assert len(free.evaluate(configs)) == 40 and calls == [40]
    calls.clear()
    late = NASProblem(SPACE, SPACE.genes(), _Slow(), _cost, Accuracy(), Budget(math.inf, None), 400, deadline=-1.0)
    with pytest.raises(BudgetSpent):
        late.evaluate(configs)
    assert calls == []


def test_subnets_drawn_within_the_limits_before_the_deadline_are_evaluated_after_it(monkeypatch):
    """A population's draws check each subnet's cost against the limits before any is evaluated; when the deadline
    passes during the draws, the subnets already found within the limits are evaluated (their cost is finished
    work), and no other: a short time limit under a tight latency limit ended with nothing evaluated otherwise."""
    import cosearch.search.nas.problem as problem_module
    from types import SimpleNamespace

    clock = [0.0]
    costed = []

    def slow_cost(config):
        clock[0] += 1.0                 # one second of planning a subnet
        costed.append(config)
        return _cost(config)

    monkeypatch.setattr(problem_module, "time", SimpleNamespace(time=lambda: clock[0],
                                                                perf_counter=time.perf_counter))
    problem = NASProblem(SPACE, SPACE.genes(), _Accuracy(), slow_cost, Accuracy(), Budget(math.inf, 4e-3), 400,
                         seed=0, deadline=12.0)
    get_nas_strategy("evolution").search(problem)       # ends at the deadline
    within = [c for c in costed if _cost(c).latency_s <= 4e-3]
    assert 0 < len(within) < 12 <= len(costed) + 1
    assert problem.evaluations == len(within)
    assert {problem._key(c) for c in within} == set(problem.evaluated)
    assert all(e.feasible and math.isfinite(e.accuracy) for e in problem.evaluated.values())
    assert len(costed) == len(set(map(problem._key, costed)))     # no subnet costed twice


def test_a_latency_floor_over_the_limit_rejects_a_draw_without_its_cost_and_changes_nothing_else():
    """With `latency_floor` (a quick estimate below the latency: here half of it) a draw whose floor is over the
    limit is drawn again without its cost being computed; a floor below the latency rejects only draws the cost
    would reject, so the search evaluates the same subnets and finds the same best, with fewer cost calls."""
    calls = {"plain": 0, "floored": 0}

    def counted(name):
        def cost(config):
            calls[name] += 1
            return _cost(config)
        return cost

    plain = NASProblem(SPACE, SPACE.genes(), _Accuracy(), counted("plain"), Accuracy(), Budget(math.inf, 1.5e-3),
                       30, seed=3)
    floored = NASProblem(SPACE, SPACE.genes(), _Accuracy(), counted("floored"), Accuracy(), Budget(math.inf, 1.5e-3),
                         30, seed=3, latency_floor=lambda config: _cost(config).latency_s / 2)
    for problem in (plain, floored):
        get_nas_strategy("random").search(problem)
    assert set(plain.evaluated) == set(floored.evaluated) and plain.best.config == floored.best.config
    assert floored.best.feasible and calls["floored"] < 0.8 * calls["plain"], calls
