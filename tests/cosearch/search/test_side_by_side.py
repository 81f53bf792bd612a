"""Pieces of work side by side (`cosearch.search.side_by_side`): results in order, the first piece here and the others
in forked processes, and a piece whose process fails run again here."""
import os

import pytest

from cosearch.search import side_by_side
from cosearch.search.side_by_side import can_fork, run_in_lanes, run_side_by_side

HERE = os.getpid()


def _pid_and(value):
    return lambda: (os.getpid(), value)


def test_results_come_back_in_order_from_their_own_processes():
    results = run_side_by_side([_pid_and(i) for i in range(4)])
    assert [v for _, v in results] == [0, 1, 2, 3]
    pids = [p for p, _ in results]
    assert pids[0] == HERE
    if can_fork():
        assert HERE not in pids[1:] and len(set(pids)) == 4


@pytest.mark.skipif(not can_fork(), reason="pieces run here, one after another, where fork is not offered")
def test_a_piece_whose_process_fails_runs_again_here():
    def raises_away():
        if os.getpid() != HERE:
            raise RuntimeError("only in a forked process")
        return "ran here"

    def dies_away():
        if os.getpid() != HERE:
            os._exit(3)
        return "ran here too"

    def unpicklable():
        return lambda: os.getpid()      # a result that cannot be sent back

    results = run_side_by_side([_pid_and("first"), raises_away, dies_away, unpicklable, _pid_and("last")])
    assert results[0] == (HERE, "first") and results[1:3] == ["ran here", "ran here too"]
    assert results[3]() == HERE and results[4][1] == "last" and results[4][0] != HERE


def test_without_fork_the_pieces_run_here_one_after_another(monkeypatch):
    monkeypatch.setattr(side_by_side, "can_fork", lambda: False)
    order = []

    def piece(i):
        def run():
            order.append(i)
            return os.getpid()
        return run

    assert run_side_by_side([piece(i) for i in range(3)]) == [HERE] * 3 and order == [0, 1, 2]
    assert run_side_by_side([]) == []


@pytest.mark.skipif(not can_fork(), reason="no forked processes where fork is not offered")
def test_an_interrupt_here_ends_the_forked_processes(tmp_path):
    """Ctrl-C in the command's process (its piece raising KeyboardInterrupt) ends the pieces running elsewhere
    rather than waiting for them."""
    import time

    pid_file = tmp_path / "pid"

    def slow():
        written = tmp_path / "pid.part"       # renamed into place: the file exists only with its pid in it
        written.write_text(str(os.getpid()))
        os.replace(written, pid_file)
        time.sleep(60)
        (tmp_path / "finished").write_text("too late")
        return "too late"

    def interrupted():
        while not pid_file.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_side_by_side([interrupted, slow])
    assert not (tmp_path / "finished").exists()     # ended mid-sleep, not waited for
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_pieces_in_lanes_come_back_in_order_and_each_lane_shares_its_state():
    """`run_in_lanes`: piece i in lane i mod lanes; a lane's pieces run one after another in one process and see what
    the lane's earlier pieces left (here a list each piece appends to), not the other lanes'."""
    seen: list[int] = []

    def piece(i):
        def run():
            seen.append(i)
            return os.getpid(), list(seen)
        return run

    results = run_in_lanes([piece(i) for i in range(5)], 2)
    assert [history[-1] for _, history in results] == [0, 1, 2, 3, 4]
    pids = [p for p, _ in results]
    assert pids[0] == pids[2] == pids[4] == HERE
    if can_fork():
        assert [history for _, history in results] == [[0], [1], [0, 2], [1, 3], [0, 2, 4]]
        assert pids[1] == pids[3] != HERE
    else:            # the lanes one after another here: the second lane sees the first's
        assert [history for _, history in results] == [[0], [0, 2, 4, 1], [0, 2], [0, 2, 4, 1, 3], [0, 2, 4]]
    seen.clear()
    assert run_in_lanes([piece(7)], 4) == [(HERE, [7])]   # one piece: one lane, here
