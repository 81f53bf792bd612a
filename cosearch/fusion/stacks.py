r"""User-given depth-first groups (DeFiNES's and Stream's "fusion stacks"): `--fusion-groups 3-5,7-9` or
`fusion_groups="inception3a.branch2.0-inception3a.branch2.1"`.

A group is FIRST-LAST (both ends included), each end a layer index (0-based, network order, ASCII digits) or a layer
name; a single index or name is a group of one layer. Groups are comma-separated and may not overlap. A name holding
`-`, `,`, a quote or a backslash, or made of digits, is written in double quotes (`"block-1"-"block-3"`, inside
which `\"` and `\\` stand for a quote and a backslash), or with a backslash before each such character
(`block\-1-block\-3`); from Python too the groups are this text. Each group must be a chain of the network's graph
(`groups.chainable`); the depth-first plan then runs exactly these groups (each with its best tiling,
`modes.depth_first`) and every other layer alone. Every check raises a one-line ValueError that names the field
(`label`: the flag on the command line, the keyword in Python).
"""
from __future__ import annotations

from nets import Network

from .groups import chainable

End = int | str
"""A group's end: a layer index or a layer name."""

SYNTAX = ('comma-separated groups FIRST-LAST of layer indices (from 0) or names, e.g. 3-5,7-9; a name holding "-" '
          'or "," in double quotes, e.g. "block-1"-"block-3"')
"""The accepted form, as the errors and `--help` state it."""

_SPECIAL = frozenset('-,"\\')


def parse_fusion_groups(text, label: str = "fusion_groups") -> tuple[tuple[End, End], ...]:
    """The groups of `text` as (first, last) ends, each an int (a layer index) or a str (a layer name); a one-line
    ValueError naming `label` on bad syntax, or when `text` is not a str."""
    if not isinstance(text, str):
        raise ValueError(f"{label}: {text!r} ({type(text).__name__}): accepted: a str of {SYNTAX}")
    return _parse_text(text, label)


def _parse_text(text: str, label: str) -> tuple[tuple[End, End], ...]:
    """Split on unquoted, unescaped ',' then '-'; quoted or escaped characters are part of a name."""
    if not text.strip():
        raise ValueError(f"{label}: {text!r}: accepted: {SYNTAX}")
    groups: list[list[list[tuple[str, bool]]]] = [[[]]]   # groups -> ends -> (character, literal)
    quoted, chars = False, iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt is None:
                raise ValueError(f"{label}: {text!r} ends with a lone backslash; accepted: {SYNTAX}")
            groups[-1][-1].append((nxt, True))
        elif ch == '"':
            quoted = not quoted
            groups[-1][-1].append(("", True))   # marks the end as a name even when the quotes hold nothing else
        elif quoted:
            groups[-1][-1].append((ch, True))
        elif ch == ",":
            groups.append([[]])
        elif ch == "-":
            groups[-1].append([])
        else:
            groups[-1][-1].append((ch, False))
    if quoted:
        raise ValueError(f"{label}: {text!r} opens a quote it does not close; accepted: {SYNTAX}")
    found = []
    for group in groups:
        ends = [_end(chars_, label) for chars_ in group]
        shown = "-".join(_written(e) if e is not None else "" for e in ends)
        if len(ends) not in (1, 2) or any(e is None for e in ends):
            raise ValueError(f"{label}: group {shown!r} must be FIRST-LAST or one layer (an index from 0 or a layer "
                             f"name); accepted: {SYNTAX}")
        found.append((ends[0], ends[-1]))
    return tuple(found)


def _end(chars: list[tuple[str, bool]], label: str) -> End | None:
    """One end: None if empty; a name if any character was quoted or escaped; else an index if ASCII digits."""
    while chars and not chars[0][1] and chars[0][0].isspace():
        chars = chars[1:]
    while chars and not chars[-1][1] and chars[-1][0].isspace():
        chars = chars[:-1]
    if not chars:
        return None
    text = "".join(c for c, _ in chars)
    if any(literal for _, literal in chars):
        return text if text else None
    if text.isascii() and text.isdigit():
        return int(text)
    if text.isnumeric():
        raise ValueError(f"{label}: {text!r} is not an index in ASCII digits 0-9 (a layer of that name is written in "
                         f'double quotes, "{text}"); accepted: {SYNTAX}')
    return text


def _written(end: End) -> str:
    """An end as the text syntax writes it (a name quoted where it must be)."""
    if isinstance(end, int):
        return str(end)
    if end.isdigit() or any(c in _SPECIAL for c in end) or end != end.strip():
        return '"' + end.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return end


def _index(network: Network, end: End, label: str) -> int:
    n = len(network.layers)
    if isinstance(end, int):
        if end >= n:
            raise ValueError(f"{label}: layer index {end} is out of range for {network.name} (accepted: 0-{n - 1})")
        return end
    names = [layer.name for layer in network.layers]
    if end not in names:
        raise ValueError(f"{label}: {end!r} is not a layer of {network.name} (accepted: an index 0-{n - 1} or a "
                         f"layer name, e.g. {_written(names[min(1, n - 1)])})")
    return names.index(end)


def resolve_fusion_groups(network: Network, groups, label: str = "fusion_groups") -> tuple[tuple[int, int], ...]:
    """`groups` (text, `parse_fusion_groups`) as sorted (first, last) layer indices of `network`, each a chain of its
    graph; a one-line ValueError naming `label` otherwise."""
    ends = parse_fusion_groups(groups, label)
    resolved = []
    for a, b in ends:
        first, last = _index(network, a, label), _index(network, b, label)
        if last < first:
            raise ValueError(f"{label}: group {_written(a)}-{_written(b)} runs backwards (layers {first} to {last}); "
                             "give FIRST-LAST in network order")
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


__all__ = ["parse_fusion_groups", "resolve_fusion_groups", "SYNTAX"]
