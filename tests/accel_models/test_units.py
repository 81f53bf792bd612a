"""format_bytes: the one byte formatter of presets' tables and cosearch's design descriptions."""
import pytest

from accel_models import format_bytes


@pytest.mark.parametrize("args, kwargs, text", [
    ((512,), {}, "512 B"),
    ((108 * 1024,), {}, "108 KiB"),
    ((24 * 1024 * 1024,), {}, "24 MiB"),
    ((99635.2, 1, "KiB"), {}, "97.3 KiB"),
    ((10 * 1024, 1, "KiB"), {}, "10 KiB"),
    ((4 * 1024 * 1024, 1, "KiB"), {}, "4096 KiB"),
    ((19763.2, 1, "KiB"), {"compact": True}, "19.3K"),
    ((23,), {"compact": True}, "23"),
])
def test_format_bytes(args, kwargs, text):
    assert format_bytes(*args, **kwargs) == text


def test_unknown_largest_unit():
    with pytest.raises(ValueError):
        format_bytes(1.0, largest="GiB")
