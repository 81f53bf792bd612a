"""Energy (R8) and cycles (R7) of docs/cost_model.md from the per-instance counts: `reference.result_from_counts`."""
from __future__ import annotations

import math

from numba import njit


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def energy_and_cycles(acc, levels, compute_cycles, reads, fills, updates):
    """Per level and kept tensor the per-instance reads, fills and updates (R4, R6), written as totals over
    instances into reads / fills / updates [L, 3]; returns (energy pJ without the MACs, cycles).

    Energy: instances x sum over actions of whole blocks per instance x energy per block access, the
    instances counted at most once per cluster (`clusters`: a cluster's vector access is charged once).
    Cycles: per level, read and write rates summed over tensors in the order Weights, Inputs, Outputs
    (each divided first: summing counts first is off by one cycle in 4 corpus cases), slowed by any
    bandwidth below the demand; the slowest level sets the cycles.
    """
    L = reads.shape[0]
    block, energy, bw, clusters = acc.block_words, acc.energy_pj, acc.bandwidth, acc.clusters
    total_energy = 0.0
    cycles = 0
    for l in range(L):
        lv = levels[l]
        used = lv.used
        r_rate = 0.0
        w_rate = 0.0
        blk = block[l]
        charged = used if used <= clusters[l] else clusters[l]
        for t in range(3):
            if not lv.kept[t]:
                reads[l, t] = 0.0
                fills[l, t] = 0.0
                updates[l, t] = 0.0
                continue
            if t == 2:   # Outputs: the first write of each element needs no read and no fill
                u_ = lv.access[t]
                r_ = lv.access[t] + lv.peer[t] - lv.partition
                f_ = 0.0 if l == 0 else lv.fill[t] - lv.partition
            else:
                u_ = 0.0
                r_ = lv.access[t] + lv.peer[t]
                f_ = 0.0 if l == 0 else lv.fill[t]
            total_energy += charged * (math.ceil(r_ / blk) * energy[l, 0] + math.ceil(f_ / blk) * energy[l, 1]
                                       + math.ceil(u_ / blk) * energy[l, 2])
            r_rate += r_ / compute_cycles
            w_rate += (f_ + u_) / compute_cycles
            reads[l, t] = r_ * used
            fills[l, t] = f_ * used
            updates[l, t] = u_ * used
        slow = 1.0
        if bw[l, 0] >= 0 and bw[l, 0] < r_rate:
            slow = min(slow, bw[l, 0] / r_rate)
        if bw[l, 1] >= 0 and bw[l, 1] < w_rate:
            slow = min(slow, bw[l, 1] / w_rate)
        if bw[l, 2] >= 0 and bw[l, 2] < r_rate + w_rate:
            slow = min(slow, bw[l, 2] / (r_rate + w_rate))
        lc = math.ceil(compute_cycles / slow)
        if lc > cycles:
            cycles = lc
    return total_energy, cycles
