"""AccelForge's tensor-set expressions (`~Intermediates`, `input | output`, `~MainMemory.tensors`, `All`) over the
three tensors of one cosearch layer.

Names: `All`, `Nothing`, the roles `input`, `weight`, `output`, `Inputs` (the tensors no Einsum writes: the input
and the weight of one layer), `Outputs`, `Intermediates` (none within one layer: a fused group's intermediates are
the fusion planner's, not a level's), and an earlier memory's name (or `NAME.tensors`) for the tensors it keeps.
Operators: `~` (complement), `|`, `&`, `-`, parentheses.
"""
from __future__ import annotations

import ast

from ..accelerator import TENSORS

TENSOR_ROLES = {"weight": "Weights", "input": "Inputs", "output": "Outputs"}
"""AccelForge's operand roles -> cosearch's tensors."""
_NAMED = {"All": set(TENSORS), "Nothing": set(), "Intermediates": set(), "Inputs": {"Weights", "Inputs"},
          "Outputs": {"Outputs"}, **{role: {t} for role, t in TENSOR_ROLES.items()}}


def tensor_set(text: str, memories: dict[str, tuple[str, ...]], where: str) -> tuple[str, ...]:
    """The tensors (cosearch's names, in TENSORS order) an expression names; a ValueError naming `where` and the
    name or syntax it cannot read."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{where}: {text!r} is not a tensor-set expression") from None

    def walk(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Name):
            if node.id in _NAMED:
                return set(_NAMED[node.id])
            if node.id in memories:
                return set(memories[node.id])
        elif isinstance(node, ast.Attribute) and node.attr == "tensors" and isinstance(node.value, ast.Name) \
                and node.value.id in memories:
            return set(memories[node.value.id])
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            return set(TENSORS) - walk(node.operand)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd, ast.Sub)):
            a, b = walk(node.left), walk(node.right)
            return a | b if isinstance(node.op, ast.BitOr) else a & b if isinstance(node.op, ast.BitAnd) else a - b
        raise ValueError(f"{where}: {ast.unparse(node)!r} in {text!r}: accepted: {', '.join(_NAMED)}, an earlier "
                         "memory's name, ~, |, &, -")
    found = walk(tree)
    return tuple(t for t in TENSORS if t in found)
