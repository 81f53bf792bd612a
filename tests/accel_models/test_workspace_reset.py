"""`reset_workspace` restores what `make_workspace` sets, byte for byte: the mapper reuses a workspace across searches
(`mappings.evolution`), and each search must start as it would on a new one."""
import numpy as np
import pytest

from accel_models.kernel.workspace import make_workspace, reset_workspace


def _build(monkeypatch, n_levels, children, garbage):
    """make_workspace.py_func with np.empty's bytes all `garbage`: what it leaves undefined shows as garbage."""
    def empty(shape, dtype=float, **kwargs):
        a = np.zeros(shape, dtype=dtype, **kwargs)
        a.view(np.uint8)[...] = garbage
        return a
    with monkeypatch.context() as m:
        m.setattr(np, "empty", empty)
        return make_workspace.py_func(n_levels, children)


def _bytes(ws):
    return [np.ascontiguousarray(field).view(np.uint8).ravel() for field in ws]


@pytest.mark.parametrize("n_levels, children", [(3, 1), (4, 168), (6, 1024)])
def test_a_reset_workspace_is_a_new_one(monkeypatch, n_levels, children):
    new, other = _bytes(_build(monkeypatch, n_levels, children, 0xA5)), _bytes(_build(monkeypatch, n_levels,
                                                                                     children, 0x5A))
    defined = [a == b for a, b in zip(new, other)]        # the bytes make_workspace sets
    assert any(d.any() for d in defined)
    used = make_workspace.py_func(n_levels, children)
    for field in used:                                    # every byte changed, as searches may leave them
        field.view(np.uint8)[...] = 0x3C
    reset_workspace(used)
    for name, got, want, mask in zip(used._fields, _bytes(used), new, defined):
        assert np.array_equal(got[mask], want[mask]), name
