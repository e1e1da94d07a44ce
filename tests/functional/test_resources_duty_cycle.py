"""The duty-cycle throttle's CFS accounting, step by step, with a set CPU clock and a real process.

The process (a sleeping child) really is stopped and continued; its CPU time is what the test says,
so quota, debt and period refresh are checked exactly.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdabench.emulator import resources as rs

MS = 1_000_000  # ns


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def _wait_state(pid: int, stopped: bool) -> bool:
    """True once the process is (or is no longer) stopped.

    A process acts on SIGSTOP/SIGCONT when it next runs, so allow it a moment (not a timing test:
    the answer is which state it reaches).
    """
    for _ in range(500):
        if (_state(pid) in ("T", "t")) == stopped:
            return True
        time.sleep(0.002)
    return False


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def _throttle_at(cpu: dict):
    return rs.DutyCycleThrottle(20, read_cpu_ns=lambda pid: cpu.get("ns"))


def test_quota_exhausted_stops_until_the_next_period_and_overshoot_is_a_debt(sleeper):
    cpu = {"ns": 0}
    throttle = _throttle_at(cpu)
    entry = rs._Throttled(sleeper.pid, 0.5, 0.020, 0)  # 10 ms of CPU per 20 ms period
    entry.last_t = 10.001  # period [10.000, 10.020)
    try:
        cpu["ns"] = 5 * MS
        assert throttle._step(entry, 10.006) is True
        assert entry.used_ns == 5 * MS and not entry.stopped
        assert entry.due == pytest.approx(10.011)  # 5 ms of quota left at full speed

        cpu["ns"] = 12 * MS  # 2 ms past the quota before the throttle looked
        throttle._step(entry, 10.013)
        assert entry.stopped and _wait_state(sleeper.pid, stopped=True)
        assert entry.due == pytest.approx(10.020)

        throttle._step(entry, 10.0205)  # next period: quota 10 ms minus the 2 ms debt
        assert entry.used_ns == pytest.approx(2 * MS)
        assert not entry.stopped and _wait_state(sleeper.pid, stopped=False)
    finally:
        entry.close()


def test_unused_quota_is_not_banked_by_an_idle_process(sleeper):
    cpu = {"ns": 0}
    throttle = _throttle_at(cpu)
    entry = rs._Throttled(sleeper.pid, 0.5, 0.020, 0)
    entry.last_t = 10.001
    try:
        throttle._step(entry, 10.501)  # half a second idle
        assert entry.used_ns == 0
        assert entry.due == pytest.approx(10.520)  # idle: next look on the period grid
        cpu["ns"] = 11 * MS  # then a burst: only this period's 10 ms are there for it
        throttle._step(entry, 10.5125)
        assert entry.stopped
    finally:
        entry.close()


def test_cpu_used_across_a_boundary_is_split_between_the_periods(sleeper):
    cpu = {"ns": 0}
    throttle = _throttle_at(cpu)
    entry = rs._Throttled(sleeper.pid, 1.0, 0.020, 0)  # one CPU: a single thread never stops
    entry.last_t = 10.001
    try:
        cpu["ns"] = 14 * MS
        throttle._step(entry, 10.015)
        cpu["ns"] = 34 * MS  # ran flat out across the boundary at 10.020
        throttle._step(entry, 10.035)
        # 5 ms of the 20 belonged to the old period (which then had 19 of 20 ms used).
        assert entry.used_ns == pytest.approx(15 * MS)
        assert not entry.stopped
    finally:
        entry.close()


def test_a_gone_process_is_dropped(sleeper):
    cpu = {"ns": None}
    throttle = _throttle_at(cpu)
    entry = rs._Throttled(sleeper.pid, 0.5, 0.020, 0)
    try:
        assert throttle._step(entry, 10.006) is False
    finally:
        entry.close()


def test_close_continues_a_stopped_process(sleeper):
    cpu = {"ns": 0}
    throttle = _throttle_at(cpu)
    entry = rs._Throttled(sleeper.pid, 0.1, 0.020, 0)
    entry.last_t = 10.001
    cpu["ns"] = 5 * MS
    throttle._step(entry, 10.006)
    assert _wait_state(sleeper.pid, stopped=True)
    entry.close()
    assert _wait_state(sleeper.pid, stopped=False)
