"""`--accelerator DEVICE[,DEVICE...]`: the fixed devices of a network search, checked for form and files here (the
devices themselves are built before the search starts, `cosearch.search.nas.load_device`).

A DEVICE is a preset name (`nvdla_256`), the `result.json` of an earlier co-search (its design), Timeloop input files
(an architecture with its energy table: `arch.yaml+ERT.yaml`, `+`-joined; a folder stands for its YAML files), or
`lut:FILE.yaml[+FILE...]` (a measured latency table in ProxylessNAS's / OFA's format, one file per resolution), or
`zigzag:ACCELERATOR.yaml[+MAPPING.yaml]` (a ZigZag 3.x accelerator, with its spatial-mapping file), or
`accelforge:ARCH.yaml[+NAME=VALUE...]` (an AccelForge architecture, with its template's variables).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accel_models.presets import PRESETS

from .accelforge_files import FORM, PREFIX, parse_accelforge
from .validate import UsageError, named_apart, plain_name

KINDS = ("preset", "result", "timeloop", "lut", "zigzag", "accelforge")


@dataclass(frozen=True)
class DeviceSpec:
    """One `--accelerator` entry: its kind, the text given, a short name, the files it names."""

    kind: str
    text: str
    name: str
    paths: tuple[Path, ...] = ()
    variables: tuple[tuple[str, object], ...] = ()
    """The Jinja2 variables of an AccelForge file."""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "name": self.name, "paths": [str(p) for p in self.paths],
                **({"variables": dict(self.variables)} if self.variables else {})}


ACCEPTED = (f"a preset ({', '.join(PRESETS)}), a co-search's result.json, Timeloop files ARCH.yaml+ERT.yaml (or a "
            f"folder of them), lut:FILE.yaml (a latency table), zigzag:ACCELERATOR.yaml[+MAPPING.yaml], or {FORM}")


def _files(flag: str, text: str) -> tuple[Path, ...]:
    """The paths of `+`-joined files. A path may itself hold `+` (a folder `a+b/`): each file is the longest run of
    `+`-joined parts that names an existing path, so `a+b/acc.yaml+a+b/map.yaml` is two files."""
    parts = text.split("+")
    paths, i = [], 0
    while i < len(parts):
        if not parts[i].strip():
            raise UsageError(f"{flag}: empty file name in {text!r}; accepted: {ACCEPTED}")
        ends = [j for j in range(i + 1, len(parts) + 1)
                if Path("+".join(parts[i:j]).strip()).expanduser().exists()]
        if not ends:
            first, rest = parts[i].strip(), "+".join(parts[i:]).strip()
            where = f" nor at {rest} (files are joined by '+')" if rest != first else ""
            raise UsageError(f"{flag}: no file or folder at {Path(first).expanduser()}{where}; accepted: {ACCEPTED}")
        paths.append(Path("+".join(parts[i:ends[-1]]).strip()).expanduser())
        i = ends[-1]
    return tuple(paths)


def _only_files(flag: str, paths: tuple[Path, ...], form: str) -> None:
    """A one-line refusal naming the first path that is a folder where `form` takes files."""
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{flag}: {p} is a folder, not a file (its name notwithstanding); accepted: {form}")


def parse_device(text: str, flag: str = "--accelerator") -> DeviceSpec:
    text = text.strip()
    if not text:
        raise UsageError(f"{flag}: empty device; accepted: {ACCEPTED}")
    if text.startswith("lut:"):
        paths = _files(flag, text[4:])
        return DeviceSpec("lut", text, f"lut-{paths[0].stem}", paths)
    if text.startswith("zigzag:"):
        paths = _files(flag, text[len("zigzag:"):])
        form = "zigzag:ACCELERATOR.yaml or zigzag:ACCELERATOR.yaml+MAPPING.yaml"
        if len(paths) > 2:
            raise UsageError(f"{flag}: {text!r} names {len(paths)} files; accepted: {form}")
        _only_files(flag, paths, form)
        return DeviceSpec("zigzag", text, f"zigzag-{paths[0].stem}", paths)
    if text.startswith(PREFIX):
        path, variables = parse_accelforge(flag, text)
        return DeviceSpec("accelforge", text, f"accelforge-{path.stem}", (path,), tuple(variables.items()))
    if text in PRESETS:
        return DeviceSpec("preset", text, text)
    if text.lower().endswith(".json"):
        paths = _files(flag, text)
        if len(paths) != 1:
            raise UsageError(f"{flag}: {text!r} names {len(paths)} files; accepted: one result.json file")
        _only_files(flag, paths, "one result.json file")
        return DeviceSpec("result", text, f"{paths[0].parent.name or 'result'}-design", paths)
    if any(ext in text.lower() for ext in (".yaml", ".yml")) or Path(text).expanduser().is_dir():
        paths = _files(flag, text)
        return DeviceSpec("timeloop", text, paths[0].stem if paths[0].is_file() else paths[0].name, paths)
    raise UsageError(f"{flag}: unknown device {text!r}; accepted: {ACCEPTED}")


def _names_files(flag: str, text: str) -> bool:
    """Whether `text` (a device, its kind's prefix included) names files that exist."""
    body = text.strip()
    for prefix in ("zigzag:", "lut:"):
        body = body[len(prefix):] if body.startswith(prefix) else body
    try:
        _files(flag, body)
    except UsageError:
        return False
    return True


def _split_devices(flag: str, text: str) -> list[str]:
    """Comma-joined devices, where a path may itself hold ',' (a folder `a,b/`): each device is the longest run of
    ','-joined parts whose files exist (a single part otherwise, refused by `parse_device` if it names none)."""
    parts, devices, i = text.split(","), [], 0
    while i < len(parts):
        j = next((j for j in range(len(parts), i + 1, -1) if _names_files(flag, ",".join(parts[i:j]))), i + 1)
        devices.append(",".join(parts[i:j]))
        i = j
    return devices


def parse_devices(value, flag: str = "--accelerator") -> tuple[DeviceSpec, ...]:
    """Comma-joined devices (or a list); each named once."""
    parts = value if isinstance(value, (list, tuple)) else _split_devices(flag, str(value))
    specs = [parse_device(str(p), flag) for p in parts]
    seen: dict[tuple, str] = {}
    for part, spec in zip(parts, specs):
        key = (spec.kind, tuple(p.resolve() for p in spec.paths) or spec.name)
        if key in seen:
            raise UsageError(f"{flag}: a device is given twice in {value!r} ({seen[key]!r} and {str(part).strip()!r} "
                             "are the same one); accepted: each device once")
        seen[key] = str(part).strip()
    return tuple(named_apart(specs, (lambda s, i: plain_name(f"{s.name}-{s.paths[0].resolve().parent.name}", s.name),
                                     lambda s, i: f"{s.name}-{i + 1}"), lambda s: bool(s.paths)))


__all__ = ["KINDS", "DeviceSpec", "parse_device", "parse_devices"]
