"""The progress display: nothing before the first update (no '0/?'), and a live line through the final phase."""
import io
import time
from types import SimpleNamespace

from rich.console import Console

from cosearch import ProgressDisplay
from cosearch.report.display import progress_line
from cosearch.search import Progress
from cosearch.report.display import _Elapsed
import cosearch.report.display as display_module


def test_progress_lines():
    first = progress_line(Progress(0, 64, 0, None, 3.0, None))
    assert first.startswith("trial 0/64  elapsed 0:03") and "?" not in first and "remaining" not in first
    later = progress_line(Progress(5, 64, 2, 3.1e-6, 61.0, 120.0))
    assert "trial 5/64" in later and "remaining ~2:00" in later and "3.1e-06 J*s" in later
    assert "(2 designs rejected over" in later and "(1 design rejected over" in progress_line(
        Progress(5, 64, 1, 3.1e-6, 61.0, 120.0))
    final = progress_line(Progress(64, 64, 2, 3.1e-6, 200.0, 0.0, phase="final mapping and presets"))
    assert final.startswith("final mapping and presets  elapsed 3:20") and "remaining" not in final


def test_terminal_display_starts_at_the_first_update_and_ticks_in_the_final_phase(monkeypatch):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200)
    with ProgressDisplay(console) as display:
        time.sleep(0.2)
        assert "/?" not in buffer.getvalue() and "trial" not in buffer.getvalue()  # starting: nothing shown
        display.update(Progress(0, 8, 0, None, 1.0, None))
        display.update(Progress(8, 8, 0, 1e-5, 9.0, 0.0, phase="final mapping and presets"))
        search, final = display._bar.tasks
        assert final.total is None and final.fields["count"] == "final mapping and presets"
        assert str(_Elapsed().render(search)) == "elapsed 0:09"  # the search's line stops at its end
    text = buffer.getvalue()
    assert "0/?" not in text and "final mapping and presets" in text
    column = _Elapsed()
    running = SimpleNamespace(fields={"run_start": 875.0})
    monkeypatch.setattr(display_module, "time", SimpleNamespace(time=lambda: 1000.0))
    assert str(column.render(running)) == "elapsed 2:05"  # computed at each refresh, not at the last update
    monkeypatch.setattr(display_module, "time", SimpleNamespace(time=lambda: 1001.0))
    assert str(column.render(running)) == "elapsed 2:06"


def test_log_display_prints_one_line_per_trial_and_one_for_the_final_phase():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with ProgressDisplay(console) as display:
        for p in (Progress(0, 2, 0, None, 1, None), Progress(0, 2, 0, None, 2, None), Progress(1, 2, 0, 1e-5, 5, 5),
                  Progress(2, 2, 0, 1e-5, 9, 0), Progress(2, 2, 0, 1e-5, 9, 0, phase="final mapping and presets")):
            display.update(p)
    lines = buffer.getvalue().strip().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["trial 0/2", "trial 1/2", "trial 2/2",
                                                       "final mapping and presets"]
