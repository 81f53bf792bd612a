"""User-given depth-first groups (DeFiNES's and Stream's "fusion stacks"): `--fusion-groups 3-5,7-9` or
`fusion_groups="inception3a.branch2.0-inception3a.branch2.1"`.

A group is FIRST-LAST (both ends included), each end a layer index (0-based, network order) or a layer name; a
single index or name is a group of one layer. Groups are comma-separated and may not overlap. Each must be a chain
of the network's graph (`groups.chainable`); the depth-first plan then runs exactly these groups (each with its best
tiling, `modes.depth_first`) and every other layer alone. Every check raises a one-line ValueError that names the
field (`label`: the flag on the command line, the keyword in Python).
"""
from __future__ import annotations

from nets import Network

from .groups import chainable


def parse_fusion_groups(text, label: str = "fusion_groups") -> tuple[tuple[str, str], ...]:
    """The groups of `text` as (first, last) ends, each still an index or a name; a ValueError on bad syntax."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{label}: {text!r} must be comma-separated groups FIRST-LAST of layer indices or names, "
                         "e.g. 3-5,7-9")
    found = []
    for item in text.split(","):
        ends = [e.strip() for e in item.split("-")]
        if len(ends) not in (1, 2) or not all(ends):
            raise ValueError(f"{label}: group {item.strip()!r} must be FIRST-LAST or one layer (an index from 0 or a "
                             "layer name, e.g. 3-5)")
        found.append((ends[0], ends[-1]))
    return tuple(found)


def _index(network: Network, end: str, label: str) -> int:
    n = len(network.layers)
    if end.isdigit():
        if int(end) >= n:
            raise ValueError(f"{label}: layer index {end} is out of range for {network.name} (accepted: 0-{n - 1})")
        return int(end)
    names = [layer.name for layer in network.layers]
    if end not in names:
        raise ValueError(f"{label}: {end!r} is not a layer of {network.name} (accepted: an index 0-{n - 1} or a "
                         f"layer name, e.g. {names[min(1, n - 1)]!r})")
    return names.index(end)


def resolve_fusion_groups(network: Network, groups, label: str = "fusion_groups") -> tuple[tuple[int, int], ...]:
    """`groups` (text or parsed ends) as sorted (first, last) layer indices of `network`, each a chain of its graph;
    a one-line ValueError naming `label` otherwise."""
    ends = parse_fusion_groups(groups, label) if isinstance(groups, str) else groups
    resolved = []
    for a, b in ends:
        first, last = _index(network, a, label), _index(network, b, label)
        if last < first:
            raise ValueError(f"{label}: group {a}-{b} runs backwards (layers {first} to {last}); give FIRST-LAST in "
                             "network order")
        for k in range(first, last):
            if not chainable(network, k, k + 2):
                layer = network.layers[k + 1]
                reads = network.input_sources[k + 1]
                raise ValueError(f"{label}: layers {first}-{last} do not chain: layer {k + 1} ({layer.name or 'unnamed'}) "
                                 f"reads {list(reads) or 'an input the graph does not record'}, and a group needs each "
                                 f"layer to read the previous one's output alone, that output read by nothing else")
        if not chainable(network, first, last + 1):
            raise ValueError(f"{label}: layers {first}-{last} do not chain: they mix layers tiled by output rows and "
                             "by tokens")
        resolved.append((first, last))
    resolved.sort()
    for (f0, l0), (f1, l1) in zip(resolved, resolved[1:]):
        if f1 <= l0:
            raise ValueError(f"{label}: groups {f0}-{l0} and {f1}-{l1} overlap (accepted: disjoint groups)")
    return tuple(resolved)


__all__ = ["parse_fusion_groups", "resolve_fusion_groups"]
