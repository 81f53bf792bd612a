"""docs/python_api.md: its code blocks run, in order, in one namespace (each holds what it shows with asserts)."""
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python_api.md"


def blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), re.M | re.S)


def test_the_page_has_its_examples():
    assert len(blocks()) >= 5


@pytest.mark.slow
def test_every_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, code in enumerate(blocks()):
        exec(compile(code, f"{PAGE.name} block {i + 1}", "exec"), namespace)
    assert (tmp_path / "conv.mapping.yaml").read_text().startswith("mapping:")
