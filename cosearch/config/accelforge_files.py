"""`accelforge:FILE.yaml[+NAME=VALUE...]`: an AccelForge file named on the command line (`--accelerator`,
`--network`), with the Jinja2 variables its template takes (`+N_EINSUMS=2+M=64`; each VALUE read as a YAML
scalar: a number, true/false, or text)."""
from __future__ import annotations

from pathlib import Path

import yaml

from .folders import check_path
from .validate import UsageError

PREFIX = "accelforge:"
FORM = "accelforge:FILE.yaml[+NAME=VALUE...] (the file's Jinja2 variables after it)"


def parse_accelforge(flag: str, text: str) -> tuple[Path, dict]:
    """(the file, its Jinja2 variables) of `accelforge:FILE.yaml+NAME=VALUE...`; a UsageError names `flag`."""
    file_text, *assignments = text[len(PREFIX):].split("+")
    path = check_path(flag, file_text.strip(), "an AccelForge YAML file")
    if not path.is_file():
        raise UsageError(f"{flag}: no AccelForge file at {path}; accepted: {FORM}")
    variables = {}
    for part in assignments:
        name, eq, value = part.partition("=")
        if not eq or not name.strip().isidentifier():
            raise UsageError(f"{flag}: {part!r} is not NAME=VALUE; accepted: {FORM}")
        try:
            variables[name.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            variables[name.strip()] = value
    return path, variables


def variables_text(variables: dict) -> str:
    """The `+NAME=VALUE...` tail that gives `variables` again."""
    return "".join(f"+{k}={v}" for k, v in variables.items())


__all__ = ["PREFIX", "FORM", "parse_accelforge", "variables_text"]
