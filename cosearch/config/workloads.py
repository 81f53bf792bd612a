"""What the co-search runs: a search space (`--space`: OFA's or an elastic transformer) or a fixed network
(`--network`: a zoo name, a subnet config, an ONNX file or an AccelForge workload)."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nets
from accel_models.accelforge import read_accelforge_workload
from nets import SPACES, ZOO, Network, SubnetConfig, get_network, get_space, parse_config, to_network

from .accelforge_files import FORM, PREFIX, parse_accelforge, variables_text
from .folders import check_path
from .validate import UsageError, check_member, named_apart, plain_name

def resolve_space(name: str) -> str:
    """The `nets` name of a registered search space given by its command-line name or its own name."""
    return SPACES.get(check_member(SPACES)("--space", name)).name


def default_accuracy(space: str, fallback: float) -> float:
    """The accuracy floor of a search in `space` when none is given: the space's own (a decoder space's, on its
    estimate's scale), else `fallback`."""
    own = get_space(space).default_accuracy
    return fallback if own is None else own


def space_alias(space: str) -> str:
    """The command-line name of a `nets` space name."""
    return get_space(space).cli_name


def _zoo_key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(".", "")


_ZOO_BY_KEY = {_zoo_key(n): n for n in ZOO}


@dataclass(frozen=True)
class NetworkSpec:
    """A fixed network: a zoo network by name, one subnet of an OFA space, or the model of an ONNX file."""

    kind: str  # "zoo", "subnet", "onnx" or "accelforge"
    name: str
    config: SubnetConfig | None = None
    path: str | None = None  # of an ONNX or AccelForge file
    variables: tuple[tuple[str, object], ...] = ()  # an AccelForge template's Jinja2 variables

    @property
    def fixed(self) -> bool:
        """A network without an accuracy of its own (not a subnet of a search space)."""
        return self.kind != "subnet"

    @property
    def text(self) -> str:
        """What `--network` takes to give this network again."""
        if self.kind == "subnet":
            return json.dumps(self.config.to_dict())
        if self.kind == "accelforge":
            return f"{PREFIX}{self.path}{variables_text(dict(self.variables))}"
        return self.path if self.kind == "onnx" else self.name

    def build(self) -> Network:
        if self.kind == "zoo":
            return get_network(self.name)
        if self.kind == "onnx":
            return nets.from_onnx(self.path, self.name)
        if self.kind == "accelforge":
            return read_accelforge_workload(self.path, dict(self.variables), self.name)
        return to_network(self.config)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name,
                "config": None if self.config is None else self.config.to_dict(),
                **({"path": self.path} if self.path is not None else {}),
                **({"variables": dict(self.variables)} if self.variables else {})}


MAX_CONFIG_BYTES = 1 << 20
"""Largest subnet config accepted, inline or in a file (a config is a few hundred bytes)."""
MAX_CONFIG_DEPTH = 20
"""Deepest nesting of JSON arrays and objects in a config (a config nests two levels)."""


def _json_config(text: str, origin: str):
    """The JSON value of a config's text, after the size and nesting checks that keep the parser from running out
    of stack or memory (Python's JSON parser recurses once per nesting level)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise UsageError(f"--network: the {origin} is {len(text):,} characters; accepted: a subnet config of at most "
                         f"{MAX_CONFIG_BYTES:,}")
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_CONFIG_DEPTH:
                raise UsageError(f"--network: the {origin} nests JSON more than {MAX_CONFIG_DEPTH} levels deep; "
                                 "accepted: a subnet config, a JSON object of numbers and lists of numbers")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--network: invalid JSON config in the {origin} ({exc.msg} at character {exc.pos})") from None


def parse_network(text, space: str = "ofa-mbv3") -> NetworkSpec:
    """A zoo name (resnet50, mobilenetv2, vgg16, ...), an inline JSON subnet config of `space`, a .json file of one
    (text or a path), or an .onnx model file; a config may also be given as a mapping or a `SubnetConfig`."""
    accepted = f"accepted: {', '.join(ZOO)}, a JSON subnet config, a .json file, an .onnx file or {FORM}"
    space_name = resolve_space(space)
    if isinstance(text, SubnetConfig):
        return _subnet(text, space_name, "config")
    if isinstance(text, Mapping):
        return _subnet(dict(text), space_name, "config")
    if isinstance(text, os.PathLike) and not isinstance(text, bytes):
        text = os.fspath(text)
    if not isinstance(text, str):
        raise UsageError(f"--network: expected a network name or a subnet config (text), got "
                         f"{type(text).__name__} {text!r}; {accepted}")
    text = text.strip()
    if not text:
        raise UsageError(f"--network: empty; {accepted}")
    if text.startswith("{"):
        return _subnet(_json_config(text, "inline config"), space_name, "inline config")
    if text.endswith(".json"):
        path = check_path("--network", text, "a .json config file")
        if not path.is_file():
            raise UsageError(f"--network: no config file at {path}")
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise UsageError(f"--network: {path} is {path.stat().st_size:,} bytes; accepted: a subnet config of "
                                 f"at most {MAX_CONFIG_BYTES:,}")
            data = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--network: cannot read a JSON config from {path}: {exc}") from None
        return _subnet(_json_config(data, f"config file {path}"), space_name, path.name)
    if text.lower().endswith(".onnx"):
        return _onnx(text)
    if text.startswith(PREFIX):
        return _accelforge(text)
    key = _zoo_key(text)
    if key in _ZOO_BY_KEY:
        return NetworkSpec("zoo", _ZOO_BY_KEY[key])
    raise UsageError(f"--network: unknown network {text!r}; accepted: {', '.join(ZOO)}, "
                     f"a JSON subnet config of --space, a .json file holding one, an .onnx model file or {FORM}")


def _accelforge(text: str) -> NetworkSpec:
    """The network of an AccelForge workload, read once here so that an Einsum it cannot map is refused before the
    search."""
    path, variables = parse_accelforge("--network", text)
    name = plain_name(path.stem, "accelforge")
    try:
        read_accelforge_workload(path, variables, name)
    except ValueError as exc:
        raise UsageError(f"--network: {exc}") from None
    return NetworkSpec("accelforge", name, path=str(path.resolve()), variables=tuple(variables.items()))


def _onnx(text: str) -> NetworkSpec:
    """The network of an ONNX file, read once here so that a file it cannot map is refused before the search."""
    path = check_path("--network", text, "an .onnx model file")
    if not path.is_file():
        raise UsageError(f"--network: no ONNX file at {path}")
    name = plain_name(path.stem, "onnx")
    try:
        nets.from_onnx(path, name)
    except ValueError as exc:
        raise UsageError(f"--network: {exc}") from None
    return NetworkSpec("onnx", name, path=str(path.resolve()))


def _distinct_names(specs: list[NetworkSpec]) -> list[NetworkSpec]:
    """ONNX files that share a name with another network (d1/model.onnx, d2/model.onnx) named after their folders
    too (d1-model, d2-model), then numbered if that is not enough (`named_apart`)."""
    return named_apart(specs, (lambda spec, i: plain_name(f"{Path(spec.path).parent.name}-{Path(spec.path).stem}", "onnx"),
                               lambda spec, i: f"{spec.name}-{i + 1}"), lambda spec: spec.kind == "onnx")


def _subnet(data, space: str, origin: str) -> NetworkSpec:
    try:
        config = parse_config(data, space)
    except ValueError as exc:
        raise UsageError(f"--network ({origin}): {exc}") from None
    return NetworkSpec("subnet", f"{get_space(space).name} subnet", config)


def parse_networks(text: str | list[str], space: str = "ofa-mbv3") -> tuple[NetworkSpec, ...]:
    """Several fixed networks: comma-joined zoo names (or a list of them), each as `parse_network` reads it."""
    accepted = f"accepted: comma-joined names of {', '.join(ZOO)}"
    if not isinstance(text, (str, list, tuple)):
        raise UsageError(f"--networks: expected network names (text or a list of texts), got "
                         f"{type(text).__name__} {text!r}; {accepted}")
    parts = list(text) if isinstance(text, (list, tuple)) else text.split(",")
    bad = [p for p in parts if not isinstance(p, str)]
    if bad:
        raise UsageError(f"--networks: expected network names, got {type(bad[0]).__name__} {bad[0]!r}; {accepted}")
    parts = [p.strip() for p in parts]
    if not parts or any(not p for p in parts):
        raise UsageError(f"--networks: empty name in {text!r}; accepted: comma-joined names of {', '.join(ZOO)}")
    specs = []
    for p in parts:
        if p.startswith("{") or p.endswith(".json"):
            raise UsageError(f"--networks: {p!r}: only zoo names are accepted here ({', '.join(ZOO)}); "
                             "use --network for a subnet config")
        try:
            specs.append(parse_network(p, space))
        except UsageError as exc:
            raise UsageError(str(exc).replace("--network:", "--networks:", 1)) from None
    seen: dict[tuple[str, str], str] = {}
    for part, spec in zip(parts, specs):
        key = (spec.kind, spec.path if spec.kind == "onnx" else spec.name)
        if key in seen:
            raise UsageError(f"--networks: a network is given twice in {text!r} ({seen[key]!r} and {part!r} are "
                             "the same one); accepted: each network once")
        seen[key] = part
    return tuple(_distinct_names(specs))
