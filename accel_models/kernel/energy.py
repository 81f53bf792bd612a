"""Energy (R8) and cycles (R7) of docs/cost_model.md from the per-instance counts: `reference.result_from_counts`."""
from __future__ import annotations

import math

from numba import njit

from ..mapping_arrays import N_TENSORS
from .workspace import BW_READ, BW_SHARED, BW_WRITE, PJ_FILL, PJ_READ, PJ_UPDATE


@njit(cache=True, inline="always")
def level_cycles(bw, l, r_rate, w_rate, compute_cycles):
    """R7: level l's cycles, the compute cycles slowed by any of its read, write and shared bandwidths (bw [L, 3],
    words per cycle per instance, < 0: no limit) below the demand (r_rate, w_rate: words per compute cycle)."""
    slow = 1.0
    if bw[l, BW_READ] >= 0 and bw[l, BW_READ] < r_rate:
        slow = min(slow, bw[l, BW_READ] / r_rate)
    if bw[l, BW_WRITE] >= 0 and bw[l, BW_WRITE] < w_rate:
        slow = min(slow, bw[l, BW_WRITE] / w_rate)
    if bw[l, BW_SHARED] >= 0 and bw[l, BW_SHARED] < r_rate + w_rate:
        slow = min(slow, bw[l, BW_SHARED] / (r_rate + w_rate))
    return math.ceil(compute_cycles / slow)


@njit(cache=True, inline="always")
def tensor_actions(t, outermost, counts):
    """(reads, fills, updates) per instance of one kept (level, tensor) from its counts (R4, R6; `counts`: a level's
    record, or an instance class's, with its access, peer and fill per tensor and its Outputs' partition): the
    accesses its children make and the peer transfers are reads; the fills come from its parent (none at the
    outermost level); for Outputs (t == 2) the accesses are also updates, and the first write of each element of
    the partition needs no read and no fill."""
    if t == 2:
        u_ = counts.access[t]
        r_ = counts.access[t] + counts.peer[t] - counts.partition
        f_ = 0.0 if outermost else counts.fill[t] - counts.partition
    else:
        u_ = 0.0
        r_ = counts.access[t] + counts.peer[t]
        f_ = 0.0 if outermost else counts.fill[t]
    return r_, f_, u_


@njit(cache=True, inline="always")
def level_tensor_actions(t, l, home, kept, level0, own):
    """(moves, reads, fills, updates) per instance of tensor t at level l (`tensor_actions`), with t's home
    `home` (`acc.homes[t]`) and whether level l keeps it: a tensor homed on chip at l > 0 takes level 0's
    accesses (`level0`: level 0's record, or its one class's) as its outermost level; one not kept at l, or homed
    on chip while l is level 0, moves nothing there (moves False); any other takes its own (`own`)."""
    if home == l and l > 0:            # t lives whole here: level 0's accesses of it are this level's
        r_, f_, u_ = tensor_actions(t, True, level0)
        return True, r_, f_, u_
    if not kept or (l == 0 and home > 0):
        return False, 0.0, 0.0, 0.0
    r_, f_, u_ = tensor_actions(t, l == 0, own)
    return True, r_, f_, u_


@njit(cache=True, inline="always")
def blocks_pj(energy, l, read_blocks, fill_blocks, update_blocks):
    """R8: the energy (pJ) of one instance's accesses at level l given in blocks (rounded up to whole blocks here),
    each action at its own energy per block (`energy` [L, 3])."""
    return (math.ceil(read_blocks) * energy[l, PJ_READ] + math.ceil(fill_blocks) * energy[l, PJ_FILL]
            + math.ceil(update_blocks) * energy[l, PJ_UPDATE])


@njit(cache=True, inline="always")
def charged_instances(used, clusters, l):
    """The instances of level l whose accesses are charged: the used ones, at most one per cluster."""
    return used if used <= clusters[l] else clusters[l]


@njit(cache=True, inline="always")
def energy_and_cycles(acc, levels, compute_cycles, reads, fills, updates):
    """Per level and kept tensor the per-instance reads, fills and updates (R4, R6), written as totals over
    instances into reads / fills / updates [L, 3]; returns (energy pJ without the MACs, cycles).

    Energy: instances x sum over actions of whole blocks per instance x energy per block access, the
    instances counted at most once per cluster (`clusters`: a cluster's vector access is charged once).
    Cycles: per level, read and write rates summed over tensors in the order Weights, Inputs, Outputs
    (each divided first: summing counts first is off by one cycle in 4 corpus cases), slowed by any
    bandwidth below the demand; the slowest level sets the cycles.
    A tensor homed on chip (`acc.homes[t]` = h > 0, `Accelerator.tensor_homes`) moves nothing at level 0: level 0's
    reads and updates of it are level h's (h has one instance, as level 0 has), priced with h's blocks, energies
    and bandwidth, with no fills.

    Divisions are a large part of this step's time; those whose quotient a multiplication gives exactly are
    multiplications: by 1 / block where the block is a power of two (then x * (1 / block) and x / block are the
    same real number, both rounded once), and a level without a bandwidth limit computes no rates and no slow-down.
    """
    L = reads.shape[0]
    block, energy, bw, clusters, homes = acc.block_words, acc.energy_pj, acc.bandwidth, acc.clusters, acc.homes
    total_energy = 0.0
    cycles = 0
    for l in range(L):
        lv = levels[l]
        used = lv.used
        r_rate = 0.0
        w_rate = 0.0
        blk = block[l]
        scale = 1.0 / blk
        whole = int(blk)
        exact = blk == whole and whole > 0 and whole & (whole - 1) == 0   # a power of two: x * scale == x / blk
        limited = bw[l, BW_READ] >= 0 or bw[l, BW_WRITE] >= 0 or bw[l, BW_SHARED] >= 0
        charged = charged_instances(used, clusters, l)
        for t in range(N_TENSORS):
            moves, r_, f_, u_ = level_tensor_actions(t, l, homes[t], lv.kept[t], levels[0], lv)
            if not moves:
                reads[l, t] = 0.0
                fills[l, t] = 0.0
                updates[l, t] = 0.0
                continue
            if exact:
                rb, fb, ub = r_ * scale, f_ * scale, u_ * scale
            else:
                rb, fb, ub = r_ / blk, f_ / blk, u_ / blk
            total_energy += charged * blocks_pj(energy, l, rb, fb, ub)
            if limited:
                r_rate += r_ / compute_cycles
                w_rate += (f_ + u_) / compute_cycles
            reads[l, t] = r_ * used
            fills[l, t] = f_ * used
            updates[l, t] = u_ * used
        # an unlimited level runs at the compute cycles: math.ceil(compute_cycles / 1.0), without the division
        lc = level_cycles(bw, l, r_rate, w_rate, compute_cycles) if limited else math.ceil(float(compute_cycles))
        if lc > cycles:
            cycles = lc
    return total_energy, cycles
