"""constraints.txt, the versions last tested, pins every package pyproject.toml asks for at a version it allows,
so that `pip install torch==2.13.0 -e ".[test]" -c constraints.txt` (the README's reproducible install) resolves."""
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def test_constraints_pin_every_requirement_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["test"]]
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            pin = Requirement(line)
            (spec,) = pin.specifier
            assert spec.operator == "==", line
            pinned[canonicalize_name(pin.name)] = Version(spec.version)
    for requirement in required:
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"constraints.txt pins no version of {requirement.name}"
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
