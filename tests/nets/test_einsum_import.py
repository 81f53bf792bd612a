"""AccelForge Einsum workloads as networks: each Einsum cosearch models becomes one layer with the loop bounds its
rank variables give; any other Einsum is refused in one line naming it."""
import pytest

from nets.einsum_import import network_from_einsums


def _dims(layer) -> dict:
    return {d: getattr(layer, d) for d in "RSPQCKNG" if getattr(layer, d) != 1}


def _matmul(i: int) -> dict:
    return {"name": f"Matmul{i}", "tensor_accesses": [
        {"name": f"T{i}", "projection": ["m", f"n{i}"]}, {"name": f"W{i}", "projection": [f"n{i}", f"n{i + 1}"]},
        {"name": f"T{i + 1}", "projection": ["m", f"n{i + 1}"], "output": True}],
        "renames": {"weight": f"W{i}", "input": f"T{i}", "output": f"T{i + 1}"}}


def test_a_chain_of_matmuls_reads_each_others_outputs():
    workload = {"iteration_space_shape": {"m": "0 <= m < 64", "n0": "0 <= n0 < 32", "n1": "0 <= n1 < 16",
                                          "n2": "0 <= n2 < 8"}, "einsums": [_matmul(0), _matmul(1)]}
    net = network_from_einsums(workload, "mm")
    assert [_dims(l) for l in net.layers] == [{"N": 64, "C": 32, "K": 16}, {"N": 64, "C": 16, "K": 8}]
    assert net.sources == ((-1,), (0,)) and [l.name for l in net.layers] == ["Matmul0", "Matmul1"]


def test_pointwise_and_depthwise_convolutions_of_rank_sizes():
    workload = {"rank_sizes": {"B": 2, "P0": 28, "Q0": 28, "N0": 24, "T0": 192, "P1": 28, "Q1": 28}, "einsums": [
        {"name": "Pointwise", "tensor_accesses": [
            {"name": "T0", "projection": ["p0", "q0", "n0", "b"]}, {"name": "WA", "projection": ["n0", "t0"]},
            {"name": "TA", "projection": ["p0", "q0", "t0", "b"], "output": True}]},
        {"name": "Depthwise", "iteration_space_shape": ["0 <= r0 < 3", "0 <= s0 < 3"], "tensor_accesses": [
            {"name": "TA", "projection": {"P0": "2*p1 + r0", "Q0": "q1 + s0", "T0": "t0", "B": "b"}},
            {"name": "WB", "projection": ["r0", "s0", "t0"]},
            {"name": "TB", "projection": ["p1", "q1", "t0", "b"], "output": True}]}]}
    pointwise, depthwise = network_from_einsums(workload, "mbv2").layers
    assert _dims(pointwise) == {"P": 28, "Q": 28, "C": 24, "K": 192, "N": 2}
    assert _dims(depthwise) == {"R": 3, "S": 3, "P": 28, "Q": 28, "G": 192, "N": 2}
    assert (depthwise.stride_w, depthwise.stride_h) == (2, 1) and not depthwise.weights_are_activations


def test_written_einsums_and_an_attention_product():
    workload = {"rank_sizes": {"B": 2, "M": 16, "H": 4, "E": 8, "D": 32},
                "einsums": ["Q[b, m, h, e] = I[b, m, d] * WQ[h, e, d]",
                            "K[b, m, h, e] = I[b, m, d] * WK[h, e, d]",
                            {"einsum": "QK[b, m, p, h] = Q[b, m, h, e] * K[b, M: p, h, e]", "name": "scores"}]}
    q, k, scores = network_from_einsums(workload, "attn").layers
    assert _dims(q) == {"P": 2, "Q": 16, "C": 32, "K": 4 * 8} and not q.weights_are_activations
    assert scores.name == "scores" and scores.weights_are_activations
    assert _dims(scores) == {"G": 2 * 4, "C": 8, "K": 16, "N": 16}


@pytest.mark.parametrize("einsum, match", [
    ("Y[a] = X[a]", r"einsums\[0\] \(Y\): 2 tensors, 1 output\(s\)"),
    ("Y[a] = X[a] * V[a] * U[a]", r"\(Y\): 4 tensors"),
    ("Y[a] = X[a, z] * V[a]", r"\(Y\): rank variable 'z' indexes only X"),
    ("Y[a] = X[a, b] * V[b, q]", r"\(Y\): no size for rank variable\(s\) \['q'\]"),
    ("Y[a] = X[a*b] * V[b]", r"projection expression 'a\*b'"),
    ("Y = X * V", r"accepted: TENSOR\[index, ...\]"),
])
def test_an_einsum_cosearch_does_not_model_is_named(einsum, match):
    with pytest.raises(ValueError, match=match) as info:
        network_from_einsums({"iteration_space_shape": ["0 <= a < 4", "0 <= b < 4", "0 <= z < 2"],
                              "einsums": [einsum]}, "bad")
    assert str(info.value).startswith("workload.einsums[0]") and "\n" not in str(info.value)


@pytest.mark.parametrize("workload, match", [
    ({"einsums": []}, r"workload.einsums: expected a non-empty list"),
    ({"rank_sizes": {"A": "many"}, "einsums": ["Y[a] = X[a, b] * V[b]"]}, r"workload.rank_sizes.A: expected a positive"),
    ({"iteration_space_shape": ["a < 4"], "einsums": ["Y[a] = X[a, b] * V[b]"]}, r"bound 'a < 4'"),
])
def test_a_malformed_workload_is_named(workload, match):
    with pytest.raises(ValueError, match=match):
        network_from_einsums(workload, "bad")
