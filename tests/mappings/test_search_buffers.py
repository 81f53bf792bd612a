"""The compiled search's working arrays are reused between a thread's searches of one size
(`mappings.evolution._ThreadBuffers`): a search on buffers another search used must end exactly where it ends on new
ones. The sequences mix a residual search (it leaves residual fields, a filled table of scored mappings and the cost
kernel's memos behind) with a perfect encoding searched by the full driver, both of the same gene count, so that
they share one set of buffers; and a set whose every byte is junk is set, field by field, as a search starts."""
import threading
from dataclasses import replace

import numpy as np

from accel_models import get_preset
from mappings import best_mapping, evolution
from nets import Layer

from _decode_chips import digest_accelerators

BUDGET = 300
PRIMES = Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes")
RES2A = Layer.conv(64, 64, 3, 56, name="res2a_3x3")
STRIDED = Layer(R=3, S=3, P=13, Q=7, C=5, K=11, stride_w=2, stride_h=2, name="conv_primes_s2")
GROUPED = Layer(R=1, S=1, P=7, Q=7, C=6, K=10, N=3, G=2, name="grouped_batch3")
SEQUENCE = ((PRIMES, "residual", 7), (GROUPED, "auto", 7), (RES2A, "auto", 7), (PRIMES, "residual", 7),
            (STRIDED, "residual", 7), (GROUPED, "residual", 8), (PRIMES, "auto", 9))
"""(layer, factors, seed): one gene count on each chip (one buffer size), residual and perfect in turn; layers
whose dims without a loop differ (R, S against N, G), and two whose mappings are the same arrays at different costs
(stride 1 and 2: a score kept by the first must not serve the second)."""


def _chips():
    """Eyeriss without its whole filter rows (`Dataflow.whole_dims` pins S where it fits, dropping its gene: two gene
    counts in the sequence), and a digest chip."""
    eyeriss = get_preset("eyeriss")
    return replace(eyeriss, dataflow=replace(eyeriss.dataflow, whole_dims=())), digest_accelerators()[-1]


def _search(layer, acc, factors, seed) -> tuple:
    """What a search returns that its buffers could change: its best genes, cost, evaluations, history, and whether
    its best mapping has residual loops (last)."""
    r = best_mapping(layer, acc, budget_evals=BUDGET, seed=seed, factors=factors)
    history = tuple((e, v) for e, _, v in r.history)
    return (r.cycles, r.energy_pj, r.evaluations, r.valid_evaluations, r.genes.tobytes(), history,
            bool(r.arrays.temporal_residual.any()))


def _on_new_buffers(acc) -> list:
    results = []
    for layer, factors, seed in SEQUENCE:
        evolution._BUFFERS.sets.clear()
        results.append(_search(layer, acc, factors, seed))
    return results


def test_a_search_on_used_buffers_ends_as_on_new_ones():
    residual_best = 0                                   # the residual paths are in it
    for acc in _chips():
        new = _on_new_buffers(acc)
        evolution._BUFFERS.sets.clear()
        reused = [_search(layer, acc, factors, seed) for layer, factors, seed in SEQUENCE]
        assert len(evolution._BUFFERS.sets) == 1          # every search of the sequence took the same set
        assert reused == new
        residual_best += sum(r[-1] for r in new)
    assert residual_best >= 1


def test_threads_reuse_their_own_buffers():
    acc = _chips()[1]
    new = _on_new_buffers(acc)
    results, kept = {}, {}

    def run(i):
        results[i] = [_search(layer, acc, factors, seed) for layer, factors, seed in SEQUENCE]
        kept[i] = list(evolution._BUFFERS.sets.values())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == new for i in range(3))
    assert all(len(kept[i]) == 1 for i in range(3))
    memos = [kept[i][0].ws.memo for i in range(3)]      # each thread its own set
    assert not any(np.shares_memory(a, b) for a in memos for b in memos if a is not b)


def test_a_set_of_junk_bytes_is_set_as_a_search_starts():
    """`_start_buffers` writes every initial value `run_evolution` reads (an island restart reads the counters and
    the best so far, which a short search never reaches), whatever the set held before."""
    buffers = evolution._new_buffers(16, 3, 40, 4, 12)
    for array in (a for field in buffers for a in (field if isinstance(field, tuple) else (field,))
                  if isinstance(a, np.ndarray)):
        array.view(np.uint8).fill(0xA5)
    evolution._start_buffers(buffers, 7)
    expected = {"C": 1.0, "ps": 0.0, "pc": 0.0, "lam": 7, "gen": 0, "stall": 0, "run_best": np.inf, "best_x": 0.5}
    for name, value in expected.items():
        assert np.all(getattr(buffers, name) == value), name
    assert np.all(buffers.maps.temporal == 1) and np.all(buffers.scored[0] == 0)
    assert not buffers.dscratch.auto.any()
    fresh = evolution._new_buffers(16, 3, 40, 4, 12)
    evolution._start_buffers(fresh, 7)
    for name in ("ready", "stamp"):                     # the kernel's workspace as a new one (`reset_workspace`)
        np.testing.assert_array_equal(buffers.ws.memo[name], fresh.ws.memo[name])
    np.testing.assert_array_equal(buffers.ws.table, fresh.ws.table)
