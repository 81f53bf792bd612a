"""Timeloop documents in and out: parse YAML text, a dict or a file; dump plain data as Timeloop's files read.

Issue 12's Jinja2 rendering and `variables:` belong here, in front of the parse.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

YamlSource = str | Path | dict
"""YAML text, an already parsed document, or a path to a YAML file."""


def load(source: YamlSource, what: str) -> dict:
    """Parse `source` (text, dict or path) into a dict; `what` names the document in errors."""
    if isinstance(source, dict):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and _names_file(source)):
        source = _read_file(Path(source), what)
    if not isinstance(source, str):
        raise ValueError(f"{what}: expected YAML text, a dict or a path, got {type(source).__name__}")
    try:
        data = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ValueError(f"{what}: not valid YAML ({' '.join(str(exc).split())})") from exc
    if not isinstance(data, dict):
        hint = f" ({source.strip()!r} names no file either)" if isinstance(data, str) and "\n" not in source else ""
        raise ValueError(f"{what}: expected a YAML mapping at the top level, got {type(data).__name__}{hint}")
    return data


_YAML_SUFFIXES = (".yaml", ".yml", ".j2", ".jinja", ".jinja2")


def _names_file(text: str) -> bool:
    """True if `text` is one line naming an existing file or folder, or a path ending in a YAML suffix (YAML
    text never is)."""
    if "\n" in text or not text.strip():
        return False
    try:
        return Path(text).exists() or text.strip().lower().endswith(_YAML_SUFFIXES)
    except (OSError, ValueError):
        return False


def _read_file(path: Path, what: str) -> str:
    """The text of a YAML file; a missing file, a folder or a binary file is a one-line ValueError."""
    if path.is_dir():
        raise ValueError(f"{what}: {path} is a directory; expected a YAML file")
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ValueError(f"{what}: no file at {path}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what}: {path} is not UTF-8 text (a binary file?): byte {exc.start}") from None
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


class Flow(list):
    """A list written inline, `[Weights, Inputs]`, as Timeloop's own files write short lists."""


class FlowMap(dict):
    """A mapping written inline, `{name: Wstride, default: 1}`."""


class Quoted(str):
    """A string written in double quotes (`technology: "45nm"`, as Accelergy's examples do)."""


def inline(value):
    """`value` written inline if it is a list or a mapping (attribute values, as Timeloop writes them)."""
    if isinstance(value, dict):
        return FlowMap(value)
    if isinstance(value, (list, tuple)):
        return Flow(value)
    return value


class _Dumper(yaml.SafeDumper):
    """Safe dumping with block lists indented under their key, no anchors, and Timeloop's float text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data) -> bool:
        return True


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    """Shortest text that reads back to `value`, exponent without leading zeros ('1e-9', as Timeloop writes)."""
    if not math.isfinite(value):
        return dumper.represent_float(value)
    return dumper.represent_scalar("tag:yaml.org,2002:float", re.sub(r"e([+-])0*(\d)", r"e\1\2", repr(value)))


_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(Quoted, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style='"'))
_Dumper.add_representer(tuple, lambda d, v: d.represent_list(list(v)))
_Dumper.add_representer(float, _float)
# YAML 1.2 reads '1e-9' as a float (Timeloop's yaml-cpp, timeloopfe's ruamel): let it be written plain.
_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$"),
                              list("-+0123456789"))


def dump(document: dict) -> str:
    """`document` (plain dicts, lists, scalars; `Flow`/`FlowMap`/`Quoted` where Timeloop writes them so) as YAML."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 20,
                     allow_unicode=True)
