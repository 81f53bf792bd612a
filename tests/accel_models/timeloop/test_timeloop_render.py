"""Jinja2 templates are rendered within bounds: a template that would run for ever or build a huge value is refused
with one ValueError naming the document and the bound it hit (the time limit, a size checked before the value is
built, the memory limit)."""
import pytest

from accel_models.timeloop import _render
from accel_models.timeloop._yaml import load


def _refused(tmp_path, text, monkeypatch=None):
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load(path, what="architecture")
    return str(info.value)


def test_nested_ranges_are_stopped_at_the_time_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(_render, "RENDER_TIME_LIMIT_S", 1.0)
    text = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\na: 1\n"
    message = _refused(tmp_path, text)
    assert "architecture" in message and "did not finish rendering within 1 s" in message
    assert "\n" not in message


def test_a_huge_string_is_refused_before_it_is_built(tmp_path):
    message = _refused(tmp_path, "a: {{ 'a' * 10**10 }}\n")
    assert "architecture" in message and "10,000,000,000 items" in message


def test_a_huge_integer_is_refused(tmp_path):
    message = _refused(tmp_path, "a: {{ 10 ** 1000000 }}\n")
    assert "bits ('**')" in message


@pytest.mark.slow
def test_memory_is_bounded(tmp_path):
    text = ("{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}"
            "a: {{ ns.x|length }}\n")
    message = _refused(tmp_path, text)
    assert "memory" in message


def test_an_ordinary_template_renders(tmp_path):
    path = tmp_path / "arch.yaml"
    path.write_text("{% for i in range(3) %}k{{ i }}: {{ i * n }}\n{% endfor %}")
    assert load(path, variables={"n": 2}, what="architecture") == {"k0": 0, "k1": 2, "k2": 4}
