"""How every compile step runs its work (`accel_models.jit.compile_run`): with the cyclic collector paused, below a
frame that reserves stack headroom (so that numba's recursive IR copies never run at the end of a chunk of CPython's
frame stack, whose allocation at every crossing made a compile's time depend on its caller's depth)."""
import gc
import sys

from accel_models import jit
from accel_models.jit import _steps


def _largest_stack_size_below_caller() -> int:
    sizes, frame = [], sys._getframe(2)
    while frame is not None:
        sizes.append(frame.f_code.co_stacksize)
        frame = frame.f_back
    return max(sizes)


def test_a_compile_run_pauses_the_collector_below_a_frame_with_stack_headroom():
    seen = {}

    def work():
        """the step's own work"""
        seen["collector"] = gc.isenabled()
        seen["stack_slots"] = _largest_stack_size_below_caller()
        return 42

    enabled = gc.isenabled()
    run = jit.compile_run(work)
    assert run() == 42
    assert run.__name__ == "work" and run.__doc__ == "the step's own work"
    assert seen["collector"] is False
    assert gc.isenabled() is enabled
    assert seen["stack_slots"] >= _steps._HEADROOM_SLOTS


def test_without_it_no_frame_reserves_that_headroom():
    assert _largest_stack_size_below_caller_direct() < _steps._HEADROOM_SLOTS


def _largest_stack_size_below_caller_direct() -> int:
    return _largest_stack_size_below_caller()
