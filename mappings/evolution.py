"""The compiled kernel of the evolution strategy (`mappings.strategies.EvolutionStrategy`, the co-search's per-layer
mapper): a sep-CMA-ES over the importance encoding whose whole run is compiled.

Each generation of every island is sampled, decoded (`_decode_kernel.decode_batch`), scored by the cost kernel
(`accel_models.kernel.evaluate_range`; both passed in by address: `Search`) and used to update its island without
leaving numba; one call runs the whole search. Written here, rather than taken from the `cmaes` package (which stays the
reference strategy "cmaes" and is compared against this one in the tests), because that package's
per-candidate Python calls (ask / tell / should_stop) were measured at about half of a co-search
trial's time, against 7% for the cost kernel itself.

The algorithm is sep-CMA-ES (Ros & Hansen, PPSN 2008: diagonal covariance, learning rates scaled by
(n + 2) / 3) with cumulative step-size adaptation (Hansen, "The CMA Evolution Strategy: A Tutorial",
2016, default parameters), genes reflected into [0, 1] before decoding, and restarts: an island that
stalls for `patience` generations or whose step collapses restarts around the best genes found with a
small step (probability `local_restarts`, BIPOP's local regime, Hansen 2009) or from a random mean with
twice the population (IPOP, Auger & Hansen 2005), up to `max_popsize` and 4x the gene count. Seeds
(genes of good mappings found before, e.g. for the same layer on a similar accelerator) are scored
first and centre the first island with the step `seed_sigma`.
"""
from __future__ import annotations

import inspect
import math
import threading
from collections import OrderedDict
from time import perf_counter
from typing import NamedTuple

import numpy as np
from numba import njit, objmode, typeof, types
from numba.extending import typeof_impl

from accel_models import MAPPING_DTYPE, MappingArrays
from accel_models.jit import driver_pointer
from accel_models.kernel import (Outputs, evaluate_range, evaluate_range_perfect, make_workspace, max_children,
                                 new_outputs)
from accel_models.kernel.workspace import reset_workspace
from accel_models.mapping_arrays import N_DIMS

from ._decode_kernel import decode_scratch, decoder_pointer, reset_decode_scratch
from ._fast_random import normal, uniform
from .fitness import INVALID, fitness_into, objective_value

HISTORY = 256
"""Improvements recorded per search (evaluations, wall seconds, objective value)."""
SCORED_SLOTS = 1024
"""The table of residual mappings already scored in one search (`_score`): its slots, at most half of them used."""
_HASH1, _HASH2 = 0, 1
"""The scored table's key columns (`_new_scored`): a mapping's two hashes (`_row_hashes`); a first hash of 0 marks a
free slot."""
_REASON, _CYCLES, _ENERGY_PJ = 0, 1, 2
"""The scored table's value columns: the cost kernel's reason, cycles and energy (pJ) of the mapping in the slot."""
_COUNT = SCORED_SLOTS
"""The scored table's last key row: its `_HASH1` column counts the slots taken. Its index, not -1: the kernel
packages' indices have no negative wrap (`accel_models.jit._indexing`)."""
_H1, _H2 = -7046029254386353131, 1442695040888963407
"""Two odd 64-bit multipliers (2^64 / golden ratio; Knuth's MMIX LCG) of a mapping's two hashes (`_row_hashes`)."""


@njit(cache=True, inline="always")
def _reflect(v):
    """Fold the real line onto [0, 1] by mirroring at the bounds (period 2)."""
    return 1.0 - abs((v % 2.0) - 1.0)


@njit(cache=True, inline="always")
def _row_hashes(maps, r):
    """Two independent 64-bit hashes of mapping r (every field); a residual mapping is looked up by both, so that
    two different mappings share a score only if both hashes collide (about 2^-128 a pair)."""
    h1 = np.int64(len(maps))
    h2 = np.int64(1)
    for field in maps:
        row = field[r]
        for l in range(row.shape[0]):
            for d in range(row.shape[1]):
                v = row[l, d]
                h1 = (h1 ^ v) * _H1
                h2 = (h2 + v) * _H2
    h1 ^= h1 >> 29
    return (h1 if h1 != 0 else np.int64(1)), h2 ^ (h2 >> 31)     # a first hash of 0 marks a free slot


@njit(cache=True, inline="always")
def _has_residual(maps, r):
    """Does mapping r have a residual loop (the decode writes 0 for a perfect one)?"""
    for field in (maps.temporal_residual, maps.spatial_x_residual, maps.spatial_y_residual):
        for l in range(field.shape[1]):
            for d in range(N_DIMS):
                if field[r, l, d] != 0:
                    return True
    return False


def _new_scored(rows):
    """An empty table of the residual mappings scored in one search (`_score`): keys [SCORED_SLOTS + 1, 2] (columns
    `_HASH1`, `_HASH2`; row `_COUNT` counts the slots taken) and values [SCORED_SLOTS + 1, 3] (columns `_REASON`,
    `_CYCLES`, `_ENERGY_PJ`), an open-addressing hash table; and the hashes of a batch's `rows` mappings [rows, 2]
    (`_hash_rows`)."""
    return (np.zeros((SCORED_SLOTS + 1, 2), dtype=np.int64), np.empty((SCORED_SLOTS + 1, 3)),
            np.empty((rows, 2), dtype=np.int64))


@njit(cache=True, inline="always")
def _slot_of(keys, h1, h2):
    """The slot of the mapping with hashes (h1, h2) in the scored table, or the free slot where it would go (linear
    probing from the first hash's high bits over the SCORED_SLOTS slots, a power of 2)."""
    mask = keys.shape[0] - 2
    s = (h1 >> 32) & mask
    while keys[s, _HASH1] != 0:
        if keys[s, _HASH1] == h1 and keys[s, _HASH2] == h2:
            return s
        s = (s + 1) & mask
    return s


@njit(cache=True, inline="always")
def _hash_rows(maps, k, hashes):
    """hashes[r] = the two hashes of mapping r (`_row_hashes`) for the rows 0..k-1 with residual loops, (0, 0) for a
    perfect one (a first hash is never 0). Once per row: each inlined copy of the hashing is ~0.5 s of the search's
    cold compile."""
    for r in range(k):
        h1, h2 = np.int64(0), np.int64(0)
        if _has_residual(maps, r):
            h1, h2 = _row_hashes(maps, r)
        hashes[r, _HASH1] = h1
        hashes[r, _HASH2] = h2


@njit(cache=True, inline="always")
def _known_slot(hashes, r, keys):
    """The slot holding mapping r's score if r has residual loops (its hashes in `hashes`) and was scored before, else
    -1."""
    if hashes[r, _HASH1] == 0:
        return -1
    s = _slot_of(keys, hashes[r, _HASH1], hashes[r, _HASH2])
    return s if keys[s, _HASH1] != 0 else -1


@njit(cache=True, inline="always")
def _scores(out):
    """The cost kernel's outputs a search reads, per row: (reason, cycles, energy_pj) of its `Outputs`
    (`accel_models.kernel.new_outputs`)."""
    return out.reason, out.cycles, out.energy_pj


@njit(cache=True, inline="always")
def _score(XD, k, tables, layer, acc, maps, out, ws, objective, F, scored, calls, dscratch):
    """Decode rows 0..k-1 of XD, evaluate them, write their fitness into F[:k]; the decoder and the cost kernel's
    driver are called by address (`calls`: `SearchCalls`; dscratch: the decoder's `DecodeScratch`).

    A search decodes many gene vectors to a mapping it has scored before, near its mean as the step shrinks; a
    mapping with residual loops costs the cost model tens of times a perfect one, so those are kept by hash
    (`scored`, `_new_scored`) and scored once: a row found there gets its reason, cycles and energy (what the
    fitness and the tally read), not its counts."""
    calls.decode(XD[:k], tables, maps, dscratch)
    keys, vals, hashes = scored
    _hash_rows(maps, k, hashes)
    reason, cycles, energy_pj = _scores(out)
    lo = np.int64(0)                  # not Literal[int](0): the driver's type takes an int64
    for r in range(k + 1):
        known = _known_slot(hashes, r, keys) if r < k else -1
        if known < 0 and r < k:
            continue
        if r > lo:                        # the rows before this one, not scored before: evaluated together
            calls.driver(lo, r, layer, acc, maps, out, ws, calls.paths)
            for q in range(lo, r):
                _remember(hashes, q, reason, cycles, energy_pj, keys, vals)
        if r < k:
            reason[r] = np.int64(vals[known, _REASON])
            cycles[r] = np.int64(vals[known, _CYCLES])
            energy_pj[r] = vals[known, _ENERGY_PJ]
        lo = r + 1
    fitness_into(reason, energy_pj, cycles, k, objective, F)


@njit(cache=True, inline="always")
def _remember(hashes, r, reason, cycles, energy_pj, keys, vals):
    """Keep the score of mapping r if it has residual loops (its hashes in `hashes`), is not in the table yet and the
    table has room (half its slots)."""
    h1, h2 = hashes[r, _HASH1], hashes[r, _HASH2]
    if keys[_COUNT, _HASH1] >= (keys.shape[0] - 1) // 2 or h1 == 0:
        return
    s = _slot_of(keys, h1, h2)
    if keys[s, _HASH1] != 0:
        return
    keys[s, _HASH1] = h1
    keys[s, _HASH2] = h2
    vals[s, _REASON] = float(reason[r])
    vals[s, _CYCLES] = float(cycles[r])
    vals[s, _ENERGY_PJ] = energy_pj[r]
    keys[_COUNT, _HASH1] += 1


@njit(cache=True, no_cpython_wrapper=True)
def _tally(XD, F, out, k, evals, objective, t0, best_x, best_f, best_cycles, best_energy, valid, n_hist, hist_evals,
           hist_wall, hist_value):
    """After a batch of k scored rows (the `evals` before it): count the valid ones, keep the best (genes into
    best_x) and record each valid improvement in hist_*; returns (best_f, best_cycles, best_energy, valid, n_hist,
    the batch's row that became the best or -1)."""
    _, cycles, energy_pj = _scores(out)
    best_row = -1
    for r in range(k):
        if F[r] < 1e3:
            valid += 1
        if F[r] < best_f:
            best_f = F[r]
            best_row = r
            for g in range(best_x.shape[0]):
                best_x[g] = XD[r, g]
            best_cycles = cycles[r]
            best_energy = energy_pj[r]
            if F[r] < 1e3 and n_hist < hist_evals.shape[0]:
                hist_evals[n_hist] = evals + r + 1
                hist_wall[n_hist] = _now() - t0
                hist_value[n_hist] = objective_value(energy_pj[r], cycles[r], objective)
                n_hist += 1
    return best_f, best_cycles, best_energy, valid, n_hist, best_row


@njit(cache=True, inline="always")
def _keep_best_mapping(maps, r, best_maps):
    """best_maps' row 0 = maps' row r, every field (the decoded best, so that the search's caller need not decode
    its genes again)."""
    for i in range(len(maps)):
        src, dst = maps[i], best_maps[i]
        for l in range(src.shape[1]):
            for d in range(src.shape[2]):
                dst[0, l, d] = src[r, l, d]


@njit(cache=True, inline="always")
def _argsort_into(F, lo, n, idx):
    """idx[:n] = lo + the indices of F[lo:lo + n] by increasing value (insertion sort, stable: populations are small,
    and numba's np.argsort calls a comparator per comparison)."""
    for i in range(n):
        v = F[lo + i]
        j = i
        while j > 0 and F[idx[j - 1]] > v:
            idx[j] = idx[j - 1]
            j -= 1
        idx[j] = lo + i


@njit(cache=True, no_cpython_wrapper=True)
def _now():
    with objmode(t="float64"):
        t = perf_counter()
    return t


@njit(cache=True, inline="always")
def _population_sizes(n, popsize, max_popsize):
    """(the first population, the largest) for n genes: 4 + 3 ln n (Hansen's tutorial) unless `popsize` (> 0) says
    otherwise; IPOP's doublings stop at max(that default, min(max_popsize, 4n))."""
    lam_default = 4 + int(3 * math.log(max(n, 2)))
    lam_cap = max(lam_default, min(max_popsize, 4 * n))
    return min(popsize if popsize > 0 else lam_default, lam_cap), lam_cap


@njit(cache=True, inline="always")
def _reflect_seeds(seeds, s0, k, XD):
    """XD[:k] = seeds s0 .. s0 + k - 1, reflected into [0, 1]; returns k."""
    for r in range(k):
        for g in range(XD.shape[1]):
            XD[r, g] = _reflect(seeds[s0 + r, g])
    return k


@njit(cache=True, inline="always")
def _start_islands(best_x, seeded, seed_sigma, sigma0, rng, mean, sigma):
    """Every island's first mean and step: the first island around the best seed (`seeded`: one was scored) with
    seed_sigma, the others (and the first without a seed) around a uniform random mean with sigma0."""
    for i in range(mean.shape[0]):
        if i == 0 and seeded:
            for g in range(mean.shape[1]):
                mean[i, g] = best_x[g]
            sigma[i] = seed_sigma
        else:
            for g in range(mean.shape[1]):
                mean[i, g] = uniform(rng)
            sigma[i] = sigma0


@njit(cache=True, inline="always")
def _sample_generation(mean, C, sigma, lam, rng, normals, X, Y, XD, sqrt_c):
    """One generation of every island into consecutive rows: Y ~ N(0, C), X = mean + sigma Y, XD = X reflected into
    [0, 1] (what is decoded). Returns the rows written."""
    n = X.shape[1]
    row = 0
    for i in range(mean.shape[0]):
        for g in range(n):
            sqrt_c[g] = math.sqrt(C[i, g])
        for r in range(lam[i]):
            for g in range(n):
                y = normal(rng, normals) * sqrt_c[g]
                Y[row, g] = y
                X[row, g] = mean[i, g] + sigma[i] * y
                XD[row, g] = _reflect(X[row, g])
            row += 1
    return row


@njit(cache=True, inline="always")
def _recombination_weights(mu, w):
    """w[:mu] = the log-decreasing weights of the mu best, normalised to sum 1; returns their variance-effective
    number mu_eff = 1 / sum w^2 (Hansen's tutorial)."""
    wsum = 0.0
    for j in range(mu):
        w[j] = math.log(mu + 1.0) - math.log(j + 1.0)
        wsum += w[j]
    w2 = 0.0
    for j in range(mu):
        w[j] /= wsum
        w2 += w[j] * w[j]
    return 1.0 / w2


@njit(cache=True, inline="always")
def _learning_rates(n, mueff):
    """sep-CMA-ES's rates for n genes: (cs, ds) of the step's path and its damping, (cc, c1, cmu) of the covariance's
    path, rank-one and rank-mu updates, the last two scaled by (n + 2) / 3 for the diagonal (Ros & Hansen 2008)."""
    cs = (mueff + 2.0) / (n + mueff + 3.0)
    ds = 1.0 + 2.0 * max(0.0, math.sqrt((mueff - 1.0) / (n + 1.0)) - 1.0) + cs
    cc = 4.0 / (n + 4.0)
    c1 = 2.0 / ((n + 1.3) ** 2 + mueff)
    cmu = (n + 2.0) / 3.0 * (2.0 / mueff / (n + math.sqrt(2.0)) ** 2
                             + (1.0 - 1.0 / mueff) * min(1.0, (2.0 * mueff - 1.0) / ((n + 2.0) ** 2 + mueff)))
    return cs, ds, cc, c1, cmu


@njit(cache=True, inline="always")
def _update_island(i, row0, lam_i, F, Y, mean, C, ps, pc, sigma, gen, w, idx, ymean, chi):
    """Island i's sep-CMA-ES update from its generation (rows row0 .. row0 + lam_i - 1 of F and Y): the weighted mean
    of the best half's steps moves the mean; the paths, the diagonal covariance and the step follow (cumulative
    step-size adaptation, the path's length against chi = E|N(0, I)|). Leaves the generation's order in idx (best
    first); returns the largest variance, for the restart test."""
    n = Y.shape[1]
    mu = lam_i // 2
    mueff = _recombination_weights(mu, w)
    cs, ds, cc, c1, cmu = _learning_rates(n, mueff)
    _argsort_into(F, row0, lam_i, idx)
    for g in range(n):
        acc_y = 0.0
        for j in range(mu):
            acc_y += w[j] * Y[idx[j], g]
        ymean[g] = acc_y
    norm_ps = 0.0
    for g in range(n):
        mean[i, g] += sigma[i] * ymean[g]
        ps[i, g] = (1.0 - cs) * ps[i, g] + math.sqrt(cs * (2.0 - cs) * mueff) * ymean[g] / math.sqrt(C[i, g])
        norm_ps += ps[i, g] * ps[i, g]
    norm_ps = math.sqrt(norm_ps)
    gen[i] += 1
    hs = norm_ps / math.sqrt(1.0 - (1.0 - cs) ** (2.0 * gen[i])) < (1.4 + 2.0 / (n + 1.0)) * chi
    c_max = 0.0
    for g in range(n):
        pc[i, g] = (1.0 - cc) * pc[i, g] + (math.sqrt(cc * (2.0 - cc) * mueff) * ymean[g] if hs else 0.0)
        rank_mu = 0.0
        for j in range(mu):
            rank_mu += w[j] * Y[idx[j], g] * Y[idx[j], g]
        C[i, g] = ((1.0 - c1 - cmu) * C[i, g] + c1 * (pc[i, g] * pc[i, g]
                   + (0.0 if hs else cc * (2.0 - cc) * C[i, g])) + cmu * rank_mu)
        c_max = max(c_max, C[i, g])
    sigma[i] *= math.exp((cs / ds) * (norm_ps / chi - 1.0))
    return c_max


@njit(cache=True, inline="always")
def _stalled(i, gen_best, c_max, sigma, stall, run_best, patience):
    """Count island i's generations without improvement (its generation's best fitness `gen_best`); is it due for a
    restart: stalled for more than `patience`, its step broken, or collapsed (sigma sqrt(max C) < 1e-4)?"""
    if gen_best < run_best[i] - 1e-9:
        run_best[i] = gen_best
        stall[i] = 0
    else:
        stall[i] += 1
    broken = not (math.isfinite(sigma[i]) and sigma[i] < 1e3)
    return broken or stall[i] > patience or sigma[i] * math.sqrt(c_max) < 1e-4


@njit(cache=True, no_cpython_wrapper=True)
def _restart(i, best_x, best_f, rng, local_restarts, local_sigma, sigma0, lam0, lam_cap, mean, C, ps, pc, sigma, lam,
             gen, stall, run_best):
    """Restart island i: around the best genes with local_sigma and the first population (probability
    local_restarts, BIPOP's local regime), else around a random mean with sigma0 and twice the population (IPOP), up
    to lam_cap; paths, covariance and counters reset. A call, not inlined: it runs once a restart."""
    if best_f < np.inf and uniform(rng) < local_restarts:
        for g in range(mean.shape[1]):
            mean[i, g] = best_x[g]
        sigma[i] = local_sigma
        lam[i] = lam0
    else:
        for g in range(mean.shape[1]):
            mean[i, g] = uniform(rng)
        sigma[i] = sigma0
        lam[i] = min(2 * lam[i], lam_cap)
    C[i, :] = 1.0
    ps[i, :] = 0.0
    pc[i, :] = 0.0
    gen[i] = 0
    stall[i] = 0
    run_best[i] = np.inf


@njit(cache=True, no_cfunc_wrapper=True)
def run_evolution(seeds, n_seeds, budget, rng, normals, islands, popsize, sigma0, seed_sigma, patience, max_popsize,
                  local_restarts, local_sigma, objective, tables, layer, acc, n_levels, hist_evals, hist_wall,
                  hist_value, time_limit_s, buffers, calls):
    """The whole search: returns (best genes, best fitness, its cycles, its energy pJ, evaluations, valid
    evaluations, history length).

    seeds [S, n] (the first `n_seeds` rows are used, scored first in batches of the buffers' size), `budget`
    evaluations at most (the last batch is cut to fit), and `time_limit_s` seconds at most (np.inf: none; the clock
    is read before each batch after the first, and only when a limit is set, so that a search under an evaluation
    budget alone does exactly what it did without one); rng: a generator state (`new_state`, advanced in place),
    normals: `NORMAL_TABLE`, `objective` an index into fitness.OBJECTIVES; tables: `Encoding.kernel_args()`;
    layer / acc: the kernels' `LayerArrays` / `AcceleratorArrays`. hist_*: the improvements, filled in. buffers: the
    search's working arrays (`SearchBuffers`, holding a new search's initial values: `_start_buffers`; the best
    genes returned are its `best_x`) and calls: the decoder and the cost kernel's driver by address (`SearchCalls`),
    both from `Search`.
    """
    n = seeds.shape[1]
    t0 = _now()
    lam0, lam_cap = _population_sizes(n, popsize, max_popsize)
    K = islands
    X, Y, XD, F, maps, out, scored = buffers.X, buffers.Y, buffers.XD, buffers.F, buffers.maps, buffers.out, \
        buffers.scored
    mean, C, ps, pc, sigma, lam, gen = buffers.mean, buffers.C, buffers.ps, buffers.pc, buffers.sigma, buffers.lam, \
        buffers.gen
    stall, run_best, w, idx, ymean, sqrt_c = buffers.stall, buffers.run_best, buffers.w, buffers.idx, buffers.ymean, \
        buffers.sqrt_c
    best_x, best_maps, ws, dscratch = buffers.best_x, buffers.best_maps, buffers.ws, buffers.dscratch
    chi = math.sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n))
    # typed int64 from the start: a bare 0 would compile _tally once more for Literal[int](0) (see the
    # docstring of accel_models.kernel)
    best_f, best_cycles, best_energy = np.inf, np.int64(0), 0.0
    evals, valid, n_hist = np.int64(0), np.int64(0), np.int64(0)
    timed = time_limit_s < np.inf
    s0 = 0
    row = 0
    started = False
    while evals < budget:             # one batch: seeds while any are left, then a generation of every island
        if timed and evals > 0 and _now() - t0 >= time_limit_s:
            break
        seeding = s0 < n_seeds
        if seeding:
            k = _reflect_seeds(seeds, s0, min(XD.shape[0], n_seeds - s0, budget - evals), XD)
            s0 += k
        else:
            if not started:           # the first generation: the islands start, after the seeds
                _start_islands(best_x, best_f < np.inf, seed_sigma, sigma0, rng, mean, sigma)
                started = True
            row = _sample_generation(mean, C, sigma, lam, rng, normals, X, Y, XD, sqrt_c)
            k = min(row, budget - evals)
        _score(XD, k, tables, layer, acc, maps, out, ws, objective, F, scored, calls, dscratch)
        best_f, best_cycles, best_energy, valid, n_hist, best_row = _tally(
            XD, F, out, k, evals, objective, t0, best_x, best_f, best_cycles, best_energy, valid, n_hist, hist_evals,
            hist_wall, hist_value)
        if best_row >= 0:
            _keep_best_mapping(maps, best_row, best_maps)
        evals += k
        if seeding or evals >= budget:
            continue
        row0 = 0
        for i in range(K):
            lam_i = lam[i]
            c_max = _update_island(i, row0, lam_i, F, Y, mean, C, ps, pc, sigma, gen, w, idx, ymean, chi)
            if _stalled(i, F[idx[0]], c_max, sigma, stall, run_best, patience):
                _restart(i, best_x, best_f, rng, local_restarts, local_sigma, sigma0, lam0, lam_cap, mean, C, ps, pc,
                         sigma, lam, gen, stall, run_best)
            row0 += lam_i
    return best_x, best_f, best_cycles, best_energy, evals, valid, n_hist


_PARAMETERS = tuple(inspect.signature(run_evolution.py_func).parameters)
_LAYER_ARG, _ACC_ARG, _TABLES_ARG = (_PARAMETERS.index(name) for name in ("layer", "acc", "tables"))
"""Where `run_evolution` takes the layer's and the accelerator's kernel arrays and the encoding's tables (the
pointers' signatures are built from their types)."""
_SEEDS_ARG, _ISLANDS_ARG, _POPSIZE_ARG, _MAX_POPSIZE_ARG, _LEVELS_ARG = (
    _PARAMETERS.index(name) for name in ("seeds", "islands", "popsize", "max_popsize", "n_levels"))
"""Where it takes what sizes its buffers (`_buffer_shape`)."""
assert _PARAMETERS[-2:] == ("buffers", "calls")  # what `Search` appends


class SearchCalls(NamedTuple):
    """What the compiled search calls by address (`accel_models.jit.FunctionPointer`s), its last argument."""

    driver: object    # the cost kernel's driver: driver(lo, hi, layer, acc, maps, out, ws, paths)
    paths: object     # the driver's `accel_models.jit.Paths`
    decode: object    # the decoder: decode(x, tables, maps, scratch) (`_decode_kernel.decode_batch`)


def _calls_type(calls: SearchCalls):
    """The numba type of `calls`, built from its items' types."""
    return types.NamedTuple([typeof(v) for v in calls], SearchCalls)


_TYPED_CALLS: list = []
"""Each `Search`'s `SearchCalls` with its numba type, built once (`_typeof_calls`)."""


@typeof_impl.register(SearchCalls)
def _typeof_calls(val, c):
    # numba types a call's arguments at every call, and a tuple holding Python objects (the pointers) is typed item
    # by item in Python: ~37 us of every search for the same few objects
    for calls, numba_type in _TYPED_CALLS:
        if val is calls:
            return numba_type
    return _calls_type(val)


class Search:
    """The compiled search `run_evolution` with its cost-kernel `driver` (`evaluate_range`, or the perfect-factor
    `evaluate_range_perfect`), called with `run_evolution`'s arguments but the last. The driver and the decoder are
    passed by address (`SearchCalls`): numba does not link a callee passed so into its caller, so `run_evolution` is
    compiled once for both drivers and apart from them and from the decoder, which a cold start compiles side by
    side, and the decoder's code is optimised once, not again inside the
    search. Each is called once per batch of rows, so the indirect calls cost nothing measurable."""

    def __init__(self, driver):
        self.driver = driver
        self._calls = None

    def calls(self, layer, acc, tables) -> SearchCalls:
        """The `SearchCalls` for the kernel arrays of `layer` and `acc` and an encoding's `tables` (their types are
        the same for every layer, accelerator and encoding: built once)."""
        if self._calls is None:
            pointer, paths = driver_pointer(self.driver, layer, acc)
            self._calls = SearchCalls(pointer, paths, decoder_pointer(tables, acc.fanout.shape[0]))
            _TYPED_CALLS.append((self._calls, _calls_type(self._calls)))
        return self._calls

    def __call__(self, *args, finalists: bool = False):
        """`run_evolution(*args, buffers, calls)`: args are its arguments but the last two, in its order; the buffers
        are this thread's set of their size, reused between its searches and set as new (`_ThreadBuffers`): building
        them took ~0.13 ms of a 256-evaluation search's ~1.4 ms. Returns `run_evolution`'s results and, last, the best
        genes' mapping (`MappingArrays`, one row; not meaningful if no row was scored). With `finalists`, also (after
        it) the valid mappings of the search's last batches, best first (`_final_population`; None if none)."""
        shape, buffers = _BUFFERS.take(args)
        if finalists:
            buffers.F.fill(np.inf)       # rows no batch scores stay out of `_final_population`
        best_x, *rest = run_evolution(*args, buffers, self.calls(args[_LAYER_ARG], args[_ACC_ARG], args[_TABLES_ARG]))
        # copies: the buffers' arrays, which the thread's next search of this size overwrites
        best_x, best_mapping = best_x.copy(), buffers.best_maps.copy()
        final = _final_population(buffers) if finalists else None
        _BUFFERS.give_back(shape, buffers)
        return (best_x, *rest, best_mapping) if not finalists else (best_x, *rest, best_mapping, final)


def _final_population(buffers: "SearchBuffers") -> MappingArrays | None:
    """The valid mappings among the buffers' rows after a search, best fitness first (repeats left in): each row holds
    the mapping its last batch decoded there and that mapping's fitness (a batch writes both for its rows), so the
    first rows hold the search's last generation of every island and the rows beyond them mappings of earlier
    generations (rows no batch wrote are at inf: `Search.__call__`). None if no row is valid."""
    F = buffers.F
    rows = np.flatnonzero(F < INVALID)
    if not len(rows):
        return None
    rows = rows[np.argsort(F[rows], kind="stable")]
    return MappingArrays(*(f[rows] for f in buffers.maps))


class SearchBuffers(NamedTuple):
    """`run_evolution`'s working arrays for one search (float64 unless said otherwise), built in Python
    (`_new_buffers`, with the compiled builders' `py_func`s) and kept per thread between searches (`Search`):
    allocated inside the search, each of its ~45 arrays was an allocation numba typed and lowered in the search's
    cold compile. rows: the largest generation of every island,
    K islands, n genes. The initial values said below are set by `_start_buffers` before each search."""

    X: np.ndarray             # [rows, n]: a generation's genes
    Y: np.ndarray             # [rows, n]: their steps, ~ N(0, C)
    XD: np.ndarray            # [rows, n]: X reflected into [0, 1] (what is decoded)
    F: np.ndarray             # [rows]: their fitness
    maps: MappingArrays       # rows: their mappings (temporal factors 1)
    out: Outputs              # rows: the cost kernel's outputs (`accel_models.kernel.new_outputs`)
    scored: tuple             # the residual mappings scored (`_new_scored`)
    mean: np.ndarray          # [K, n]: each island's mean
    C: np.ndarray             # [K, n]: its diagonal covariance (ones)
    ps: np.ndarray            # [K, n]: the step's path (zeros)
    pc: np.ndarray            # [K, n]: the covariance's path (zeros)
    sigma: np.ndarray         # [K]: its step
    lam: np.ndarray           # [K] int64: its population (the first one)
    gen: np.ndarray           # [K] int64: generations since its (re)start (zeros)
    stall: np.ndarray         # [K] int64: generations without improvement (zeros)
    run_best: np.ndarray      # [K]: best fitness since its (re)start (inf)
    w: np.ndarray             # [rows]: the recombination weights
    idx: np.ndarray           # [rows] int64: a generation's rows, best first
    ymean: np.ndarray         # [n]: the weighted mean step
    sqrt_c: np.ndarray        # [n]: an island's sqrt(C)
    best_x: np.ndarray        # [n]: the best genes (0.5 until one is scored)
    best_maps: MappingArrays  # 1 row: the best genes' mapping (written when one is scored)
    ws: tuple                 # the cost kernel's workspace for the accelerator (`make_workspace`)
    dscratch: tuple           # the decoder's working arrays (`DecodeScratch`)


def _buffer_shape(args: tuple) -> tuple[tuple, int]:
    """What sizes `SearchBuffers` for `run_evolution(*args, ...)` (args: its arguments before `buffers`, in its
    order): (genes n, islands K, rows, levels, the largest fan-out's children), and the first population lam0."""
    n, K = args[_SEEDS_ARG].shape[1], args[_ISLANDS_ARG]
    lam0, lam_cap = _population_sizes.py_func(n, args[_POPSIZE_ARG], args[_MAX_POPSIZE_ARG])
    return (n, K, max(K * lam_cap, 1), args[_LEVELS_ARG], max_children.py_func(args[_ACC_ARG].fanout)), lam0


def _new_buffers(n, K, rows, n_levels, children) -> SearchBuffers:
    """`SearchBuffers` of these sizes (`_buffer_shape`), allocated: `_start_buffers` sets their initial values."""
    return SearchBuffers(
        X=np.empty((rows, n)), Y=np.empty((rows, n)), XD=np.empty((rows, n)), F=np.empty(rows),
        maps=MappingArrays(*(np.empty((rows, n_levels, 3 if field == "keep" else 8), dtype=MAPPING_DTYPE)
                             for field in MappingArrays._fields)),
        out=new_outputs.py_func(rows, n_levels), scored=_new_scored(rows), mean=np.empty((K, n)), C=np.empty((K, n)),
        ps=np.empty((K, n)), pc=np.empty((K, n)), sigma=np.empty(K), lam=np.empty(K, dtype=np.int64),
        gen=np.empty(K, dtype=np.int64), stall=np.empty(K, dtype=np.int64), run_best=np.empty(K), w=np.empty(rows),
        idx=np.empty(rows, dtype=np.int64), ymean=np.empty(n), sqrt_c=np.empty(n), best_x=np.empty(n),
        best_maps=MappingArrays.empty(1, n_levels),
        ws=make_workspace.py_func(n_levels, children), dscratch=decode_scratch.py_func(n_levels))


def _start_buffers(b: SearchBuffers, lam0: int) -> None:
    """Set, in place, every initial value `run_evolution` reads from its buffers, so that a search on buffers used
    before starts as on new ones: the scored table empty, each island's covariance 1, paths 0, population lam0,
    counters 0 and best inf, the best genes 0.5, the cost kernel's workspace and the decoder's scratch as new
    (`reset_workspace`, `reset_decode_scratch`), and the mappings' temporal factors 1: the decode writes every other
    field of each row it decodes (`_decode_kernel._reset_row` clears its spatial factors and residual ends), but not
    the temporal factors of the dims without a loop above level 0, which another layer of the same gene count may have
    set. The other arrays are written before they are read. (Filling every mapping field, 2.7 MB for 64 genes on
    Eyeriss, took ~80 us of the ~180 us that building a set took.)"""
    b.maps.temporal.fill(1)
    b.C.fill(1.0)
    for field in (b.scored[0], b.ps, b.pc, b.gen, b.stall):
        field.fill(0)
    b.lam.fill(lam0)
    b.run_best.fill(np.inf)
    b.best_x.fill(0.5)
    reset_workspace(b.ws)
    reset_decode_scratch(b.dscratch)


def search_buffers(args: tuple) -> SearchBuffers:
    """New `SearchBuffers` for `run_evolution(*args, ...)` (args: its arguments before `buffers`, in its order), set
    as a search starts."""
    shape, lam0 = _buffer_shape(args)
    buffers = _new_buffers(*shape)
    _start_buffers(buffers, lam0)
    return buffers


KEPT_BUFFERS = 8
"""Sets of `SearchBuffers` a thread keeps between its searches, by size (the least recently used goes first). The
size follows the encoding's gene count, cold or seeded islands, the accelerator's levels and largest fan-out: a
co-search trial's layers take a few (36 layer shapes of MobileNetV2 and ResNet-50 on Eyeriss take 5; with 4 kept,
28 of their 181 searches built a new set). A set is ~12 MB of address space for 64 genes on Eyeriss, ~7.5 MB of it
the cost kernel's workspace, whose memos and frame stack only residual mappings touch; ~28 MB for 100 genes, 8
islands and a 4,096-child fan-out: ~100-230 MB a thread, freed when the thread ends."""


class _ThreadBuffers(threading.local):
    """One thread's `SearchBuffers` by size (`_buffer_shape`): a search takes its set out while it runs, so that
    nothing else uses it meanwhile, and puts it back after."""

    def __init__(self):
        self.sets: OrderedDict[tuple, SearchBuffers] = OrderedDict()

    def take(self, args: tuple) -> tuple[tuple, SearchBuffers]:
        """(its size, a set of buffers for `run_evolution(*args, ...)`, set as a search starts: `_start_buffers`)."""
        shape, lam0 = _buffer_shape(args)
        buffers = self.sets.pop(shape, None)
        if buffers is None:
            buffers = _new_buffers(*shape)
        _start_buffers(buffers, lam0)
        return shape, buffers

    def give_back(self, shape: tuple, buffers: SearchBuffers) -> None:
        """Keep `buffers` (taken for `shape`) for the thread's next search of that size."""
        self.sets[shape] = buffers
        while len(self.sets) > KEPT_BUFFERS:
            self.sets.popitem(last=False)


_BUFFERS = _ThreadBuffers()


_SEARCHES: dict[bool, Search] = {}


def search_kernel(factors: str) -> Search:
    """The compiled search for an encoding's tiling factors (`Encoding.factors`, "auto" resolved for its layer; one
    `Search` per driver in a process): "perfect" -> the perfect-factor driver (`evaluate_range_perfect`: it compiles
    without the cost kernel's residual and spatial-class paths), else the full one (a decode that may give residual
    factors needs the full cost kernel). Both count alike, bit for bit, and the search's code is the same, so a layer
    finds the same mapping with either; under "auto" the layers left perfect take the perfect driver, so that a
    co-search's first trials, whose layers mostly are, compile without the residual paths. The strategy says which
    (`EvolutionStrategy.driver_factors`): one whose runs compile the full
    driver anyway sends every layer to it."""
    perfect = factors == "perfect"
    if perfect not in _SEARCHES:
        _SEARCHES[perfect] = Search(evaluate_range_perfect if perfect else evaluate_range)
    return _SEARCHES[perfect]
