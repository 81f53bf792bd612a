"""Subnet configs in OFA's own format, validated on construction against their space's genes."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from numbers import Real
from typing import Any

from .spaces import MBSpace, ResNetSpace, Space, get_space, scalar_genes


def _describe(choices: tuple) -> str:
    """Human-readable accepted values: a list, or 'a, b, ..., z (step s)' for long progressions."""
    if len(choices) > 5:
        steps = {b - a for a, b in zip(choices, choices[1:])}
        if len(steps) == 1:
            return f"{choices[0]}, {choices[1]}, ..., {choices[-1]} (step {steps.pop()})"
    return ", ".join(str(c) for c in choices)


def _check_value(space: str, field: str, where: str, value: Any, choices: tuple) -> Any:
    """The choice equal to `value` (so 6.0 becomes 6), or a ValueError naming the field."""
    if isinstance(value, Real) and not isinstance(value, bool):
        for choice in choices:
            if value == choice:
                return choice
    raise ValueError(f"{space}: config field {where} = {value!r} is not accepted; "
                     f"accepted values for {field!r}: {_describe(choices)}")


@lru_cache(maxsize=256)
def _shared_int_choices(per_position: tuple) -> frozenset | None:
    """The choices of a per-slot gene when every slot has the same integer ones (OFA's ks, e, d), else None."""
    first = per_position[0] if per_position else None
    if first is None or any(c != first for c in per_position) or not all(type(c) is int for c in first):
        return None
    return frozenset(first)


def _validate(space: Space, values: dict[str, Any]) -> dict[str, Any]:
    """Check every field against the space's gene table; return normalised values (tuples, choices)."""
    genes = space.genes()
    out: dict[str, Any] = {}
    for field, per_position in genes.items():
        value = values[field]
        if field in scalar_genes(space):
            # OFA's evolution code stores the resolution as a one-element list.
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
                value = value[0]
            out[field] = _check_value(space.name, field, f"'{field}'", value, per_position[0])
            continue
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{space.name}: config field {field!r} must be a list of {len(per_position)} "
                             f"values, got {type(value).__name__} {value!r}")
        if len(value) != len(per_position):
            raise ValueError(f"{space.name}: config field {field!r} must have {len(per_position)} entries, "
                             f"got {len(value)}")
        shared = _shared_int_choices(per_position)
        if shared is not None and all(type(v) is int for v in value) and shared.issuperset(value):
            out[field] = tuple(value)  # the usual case, checked at once: a subnet search draws thousands a trial
            continue
        out[field] = tuple(_check_value(space.name, field, f"{field}[{i}]", v, choices)
                           for i, (v, choices) in enumerate(zip(value, per_position)))
    return out


_CONFIG_TYPES: list[type] = []
"""Every config class (subclasses of `_ConfigBase` register themselves): `config_type` picks by space type."""


class _ConfigBase:
    """Shared behaviour of subnet configs (fields are defined by the subclasses, the space's gene table checks
    them). A subclass names its space type (`_space_type`) and, for spaces outside OFA's, how a space name is
    looked up (`_lookup_space`)."""

    space: str

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "_space_type" in cls.__dict__:  # a concrete config (not an intermediate base)
            _CONFIG_TYPES.append(cls)

    @staticmethod
    def _lookup_space(name: str) -> Space:
        return get_space(name)

    def __post_init__(self) -> None:
        space = self._lookup_space(self.space)
        expected = self._space_type()
        if not isinstance(space, expected):
            raise ValueError(f"{type(self).__name__}.space: {self.space!r} is not a {expected.__name__}; "
                             f"use {config_type(space).__name__}")
        object.__setattr__(self, "space", space.name)
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "space"}
        for name, value in _validate(space, values).items():
            object.__setattr__(self, name, value)

    @staticmethod
    def _space_type() -> type:
        raise NotImplementedError

    @property
    def space_def(self) -> Space:
        """The space object this config belongs to."""
        return self._lookup_space(self.space)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "space")

    def to_dict(self) -> dict[str, Any]:
        """OFA's format: lists for the per-slot genes, an int resolution."""
        values = {k: getattr(self, k) for k in self.keys()}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    def replace(self, **changes: Any):
        """A copy with some fields changed (validated again)."""
        values = {k: getattr(self, k) for k in self.keys()}
        values.update(changes)
        return type(self)(**values, space=self.space)


@dataclass(frozen=True)
class MBConfig(_ConfigBase):
    """A subnet of an OFA MobileNetV3 / ProxylessNAS space: per-slot kernel sizes and expand ratios,
    per-stage depths, input resolution (pixels)."""

    ks: tuple[int, ...]
    e: tuple[int, ...]
    d: tuple[int, ...]
    r: int
    space: str = "ofa_mbv3_w1.2"

    @staticmethod
    def _space_type() -> type:
        return MBSpace

    def active_slots(self) -> list[int]:
        """Indices of the block slots that the depths switch on, in execution order."""
        space = self.space_def
        return [slot for i, depth in enumerate(self.d) for slot in space.stage_slots(i)[:depth]]

    def canonical(self) -> "MBConfig":
        """The same subnet with inactive slots set to the smallest choices (a deduplication key)."""
        space = self.space_def
        active = set(self.active_slots())
        ks = tuple(k if i in active else space.ks_choices[0] for i, k in enumerate(self.ks))
        e = tuple(x if i in active else space.e_choices[0] for i, x in enumerate(self.e))
        return self.replace(ks=ks, e=e)


@dataclass(frozen=True)
class ResNetConfig(_ConfigBase):
    """A subnet of OFA-ResNet50: depths (stem + 4 stages), per-slot bottleneck ratios,
    width-multiplier indices (6), input resolution (pixels)."""

    d: tuple[int, ...]
    e: tuple[float, ...]
    w: tuple[int, ...]
    r: int
    space: str = "ofa_resnet50"

    @staticmethod
    def _space_type() -> type:
        return ResNetSpace

    def active_slots(self) -> list[int]:
        space = self.space_def
        return [slot for i, extra in enumerate(self.d[1:])
                for slot in space.stage_slots(i)[:space.base_depths[i] + extra]]

    def canonical(self) -> "ResNetConfig":
        space = self.space_def
        active = set(self.active_slots())
        e = tuple(x if i in active else space.e_choices[0] for i, x in enumerate(self.e))
        return self.replace(e=e)


SubnetConfig = MBConfig | ResNetConfig


def config_type(space: str | Space) -> type:
    """The config class of a space (by name for OFA's, or any space object)."""
    space = get_space(space)
    for cls in _CONFIG_TYPES:
        if isinstance(space, cls._space_type()):
            return cls
    raise ValueError(f"no config type for space {getattr(space, 'name', space)!r}")


def parse_config(data: Mapping[str, Any] | SubnetConfig, space: str | Space = "ofa_mbv3_w1.2") -> SubnetConfig:
    """A config from OFA's dict format ({"ks", "e", "d", "r"} or {"d", "e", "w", "r"}), validated.

    Errors name the offending field: unknown or missing keys, wrong list lengths, values not in the space.
    """
    if isinstance(data, _ConfigBase):
        return data
    space_obj = get_space(space)
    cls = config_type(space_obj)
    if not isinstance(data, Mapping):
        raise ValueError(f"{space_obj.name}: a config must be a mapping with keys {', '.join(cls.keys())}, "
                         f"got {type(data).__name__}")
    accepted = cls.keys()
    unknown = [k for k in data if k not in accepted]
    if unknown:
        raise ValueError(f"{space_obj.name}: unknown config key(s) {', '.join(map(repr, unknown))}; "
                         f"accepted keys: {', '.join(accepted)}")
    missing = [k for k in accepted if k not in data]
    if missing:
        raise ValueError(f"{space_obj.name}: config is missing key(s) {', '.join(map(repr, missing))}; "
                         f"required keys: {', '.join(accepted)}")
    return cls(**{k: data[k] for k in accepted}, space=space_obj.name)
