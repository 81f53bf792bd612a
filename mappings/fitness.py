"""What the mappers minimise: the objective's value (`objective_value`), searched as its log with near-ties broken by
the other metric, invalid mappings last.

One owner for the compiled search loop (`fitness_into`, `objective_value`) and the Python mappers (`fitness`,
`MapperResult.objective_value`).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


OBJECTIVES = ("edp", "energy", "latency")
"""edp: energy x cycles; energy: pJ; latency: cycles (each with the other metric as a tie-break)."""
EDP, ENERGY, LATENCY = (OBJECTIVES.index(name) for name in ("edp", "energy", "latency"))
"""The objectives' indices into OBJECTIVES, as compiled code takes them (`objective_index`)."""
TIE = 1e-6
"""Weight of the secondary metric: breaks exact ties (e.g. equal EDP) toward the mapping that is also better on the
other metric, without reordering any real difference."""
INVALID = 1e3
"""Fitness of an invalid mapping (plus its reason code): above any log-objective of a valid one."""


@njit(cache=True)
def objective_value(energy_pj, cycles, objective):
    """The objective's value of one valid mapping: pJ*cycles (edp), pJ (energy) or cycles (latency); `objective` an
    index into OBJECTIVES."""
    if objective == EDP:
        return energy_pj * cycles
    if objective == ENERGY:
        return energy_pj
    return float(cycles)


@njit(cache=True)
def fitness_into(reason, energy_pj, cycles, k, objective, out):
    """out[:k] = the fitness of mappings 0..k-1 (lower is better); objective is an index into OBJECTIVES."""
    for b in range(k):
        if reason[b] != 0:
            out[b] = INVALID + reason[b]
            continue
        le = math.log(max(energy_pj[b], 1e-300))
        lc = math.log(max(float(cycles[b]), 1.0))
        if objective == EDP:
            out[b] = le + lc + TIE * lc
        elif objective == ENERGY:
            out[b] = le + TIE * lc
        else:
            out[b] = lc + TIE * le


def objective_index(objective: str) -> int:
    """The index of `objective` in OBJECTIVES, or a ValueError naming the accepted ones."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return OBJECTIVES.index(objective)


def fitness(res, objective: str) -> np.ndarray:
    """The fitness of every mapping of a `BatchResult` (lower is better; invalid = 1e3 + reason)."""
    out = np.empty(len(res.reason))
    fitness_into(res.reason, res.energy_pj, res.cycles, len(out), objective_index(objective), out)
    return out
