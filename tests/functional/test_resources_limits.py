"""Real limits on real child processes: CPU quota, memory limit and OOM, peak RSS, cgroup cleanup.

Each child waits for "go" on stdin before its work, so the measured part runs after
start_cpu_limit() (INIT is unthrottled), and reports from inside (CPU time and wall time of the work),
then waits for "exit" so peak RSS can be read while it is alive. Speed checks compare ratios with
wide margins (the machine is shared); exact values are asserted wherever the kernel gives them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdabench.emulator import resources as rs
from lambdabench.errors import UsageError

CHILD = r"""
import json, sys, time
cgroups = open("/proc/self/cgroup").read()
sys.stdout.write(json.dumps({"ready": True, "cgroup": cgroups}) + "\n"); sys.stdout.flush()
blocks = []
for line in sys.stdin:
    if line.strip() == "exit":
        break
    cmd = json.loads(line)
    out = {}
    try:
        if cmd.get("cpu_s"):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            x = 0
            while time.process_time() - cpu0 < cmd["cpu_s"]:
                for i in range(2000):
                    x += i * i
            out["cpu_s"] = time.process_time() - cpu0
            out["wall_s"] = time.perf_counter() - wall0
        if cmd.get("alloc_mb"):
            blocks.append(bytes(1) * (cmd["alloc_mb"] * 1024 * 1024))  # repetition writes every page
            out["allocated"] = len(blocks[-1])
    except MemoryError as error:
        out["error"] = type(error).__name__
    sys.stdout.write(json.dumps(out) + "\n"); sys.stdout.flush()
"""


class Child:
    """A child process under a SandboxResources, driven line by line."""

    def __init__(self, manager: rs.ResourceManager, memory_mb: int, attach: bool = True):
        self.res = manager.sandbox(f"test-{memory_mb}", memory_mb)
        argv = self.res.command([sys.executable, "-c", CHILD])
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
            **self.res.popen_kwargs(),
        )
        if attach:
            self.res.attach(self.proc.pid)
        else:
            self.res.pid = self.proc.pid
        self.hello = json.loads(self.proc.stdout.readline())

    def run(self, **cmd) -> dict:
        self.res.start_cpu_limit()
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {}

    def finish(self) -> int:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("exit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        code = self.proc.wait(timeout=30)
        self.proc.stdin.close()
        self.proc.stdout.close()
        return code


def _manager_or_skip(cpu_limit: str, memory_limit: str) -> rs.ResourceManager:
    try:
        return rs.ResourceManager(cpu_limit=cpu_limit, memory_limit=memory_limit)
    except UsageError as error:
        pytest.skip(f"{cpu_limit}/{memory_limit} limits unavailable here: {error.message}")


@pytest.fixture
def cgroups():
    manager = _manager_or_skip("cgroup", "cgroup")
    yield manager
    manager.close()


def _slowdown(manager: rs.ResourceManager, memory_mb: int, cpu_s: float, runs: int = 3,
              pick=min) -> float:
    """Wall time per CPU second of a CPU-bound loop under this size's limit.

    By default the least of `runs` runs: other load on a shared machine only ever slows a run down.
    """
    child = Child(manager, memory_mb)
    ratios = []
    try:
        for _ in range(runs):
            result = child.run(cpu_s=cpu_s)
            ratios.append(result["wall_s"] / result["cpu_s"])
    finally:
        child.finish()
        child.res.release()
    return pick(ratios)


def test_cpu_bound_child_is_at_least_4x_slower_at_128_mb_than_at_1024_mb(cgroups):
    slow = _slowdown(cgroups, 128, 0.03)
    fast = _slowdown(cgroups, 1024, 0.03)
    # Model: 1024/128 = 8x. Half of it leaves room for a busy shared machine.
    assert slow / fast >= 4, (slow, fast)
    # At 128 MB the child gets 1.447 ms per 20 ms: about 13.8 s of wall per CPU second.
    assert 10 <= slow <= 25, slow


def test_init_runs_unthrottled_until_start_cpu_limit(cgroups):
    child = Child(cgroups, 128)
    group = child.res._cpu_group
    try:
        assert (group / "cpu.cfs_period_us").read_text().strip() == "20000"
        assert (group / "cpu.cfs_quota_us").read_text().strip() == "-1"
        child.res.start_cpu_limit()
        assert (group / "cpu.cfs_quota_us").read_text().strip() == "1447"
        child.res.start_cpu_limit()  # idempotent
        assert (group / "cpu.cfs_quota_us").read_text().strip() == "1447"
    finally:
        child.finish()
        child.res.release()


def test_child_is_in_its_cgroups_from_its_first_instruction(cgroups):
    child = Child(cgroups, 256, attach=False)  # command() alone must place it
    try:
        cpu_rel = str(child.res._cpu_group.relative_to(cgroups._cpu_h.mount.mountpoint))
        memory_rel = str(child.res._memory_group.relative_to(cgroups._memory_h.mount.mountpoint))
        lines = child.hello["cgroup"].splitlines()
        assert any(line.endswith(f":cpu:/{cpu_rel}") for line in lines), lines
        assert any(line.endswith(f":memory:/{memory_rel}") for line in lines), lines
        assert rs._procs(child.res._cpu_group) == [child.proc.pid]
    finally:
        child.finish()
        child.res.release()


def test_memory_limit_is_the_memory_size_without_swap(cgroups):
    child = Child(cgroups, 128)
    group = child.res._memory_group
    try:
        assert int((group / "memory.limit_in_bytes").read_text()) == 128 * 1024 * 1024
        if (group / "memory.memsw.limit_in_bytes").exists():
            assert int((group / "memory.memsw.limit_in_bytes").read_text()) == 128 * 1024 * 1024
    finally:
        child.finish()
        child.res.release()


def test_200_mb_allocation_at_128_mb_is_oom_killed(cgroups):
    child = Child(cgroups, 128)
    result = child.run(alloc_mb=200)
    code = child.finish()
    assert result == {}  # killed before it could answer
    assert code == -signal.SIGKILL
    assert child.res.oom_killed(code) is True
    assert child.res.peak_rss_mb() == 128  # an OOM-killed sandbox used all of its memory
    child.res.release()
    assert child.res.oom_killed(code) is True  # remembered after its cgroup is gone


def test_200_mb_allocation_at_512_mb_succeeds_and_reports_its_peak(cgroups):
    child = Child(cgroups, 512)
    result = child.run(alloc_mb=200)
    peak = child.res.peak_rss_mb()
    code = child.finish()
    child.res.release()
    assert result == {"allocated": 200 * 1024 * 1024}
    assert code == 0
    assert child.res.oom_killed(code) is False
    assert 200 <= peak <= 240, peak


def test_peak_rss_of_a_100_mb_allocation_is_between_100_and_130_mb(cgroups):
    child = Child(cgroups, 1024)
    before = child.res.peak_rss_mb()
    child.run(alloc_mb=100)
    peak = child.res.peak_rss_mb()
    child.finish()
    child.res.release()
    assert before is not None and before < 40, before
    assert 100 <= peak <= 130, peak
    assert child.res.peak_rss_mb() == peak  # still known after the process is gone


def test_cgroups_are_removed_on_release_and_close():
    manager = _manager_or_skip("cgroup", "cgroup")
    cpu_parent, memory_parent = manager._cpu_h.parent, manager._memory_h.parent
    child = Child(manager, 256)
    groups = [child.res._cpu_group, child.res._memory_group]
    assert all(group.is_dir() for group in groups)
    child.finish()
    child.res.release()
    assert not any(group.exists() for group in groups)
    child.res.release()  # idempotent
    Child(manager, 128).finish()  # never released by its owner: close() must handle it
    assert cpu_parent.is_dir() and memory_parent.is_dir()
    manager.close()
    assert not cpu_parent.exists() and not memory_parent.exists()


def test_cgroups_are_removed_after_the_child_is_sigkilled():
    manager = _manager_or_skip("cgroup", "cgroup")
    child = Child(manager, 256)
    groups = [child.res._cpu_group, child.res._memory_group]
    os.kill(child.proc.pid, signal.SIGKILL)
    code = child.finish()
    assert code == -signal.SIGKILL
    assert child.res.oom_killed(code) is False  # a kill from outside is not an OOM
    child.res.release()
    assert not any(group.exists() for group in groups)
    manager.close()


def test_close_kills_a_stray_process_left_in_a_sandbox_group():
    manager = _manager_or_skip("cgroup", "cgroup")
    parent = manager._cpu_h.parent
    child = Child(manager, 128)
    manager.close()  # the sandbox owner forgot to end it: the group cannot go while it runs
    assert child.proc.wait(timeout=10) == -signal.SIGKILL
    child.proc.stdin.close()
    child.proc.stdout.close()
    assert not parent.exists()


def test_stale_parent_of_a_dead_emulator_is_removed_at_start():
    first = _manager_or_skip("cgroup", "cgroup")
    base = first._cpu_h.base
    first.close()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = base / f"lambdabench-{dead.pid}-1"
    stale.mkdir()
    (stale / "sb-1").mkdir()
    live = base / f"lambdabench-{os.getpid()}-999999"  # owner alive: must be kept
    live.mkdir()
    try:
        manager = rs.ResourceManager(cpu_limit="cgroup", memory_limit="none")
        manager.close()
        assert not stale.exists()
        assert live.exists()
    finally:
        for group in (stale / "sb-1", stale, live):
            if group.exists():
                os.rmdir(group)


def test_duty_cycle_slows_a_child_roughly_by_its_share():
    manager = _manager_or_skip("duty-cycle", "none")
    try:
        assert manager.info()["cpu_mechanism"] == "duty-cycle"
        # A late wake-up of the throttle thread on a busy host can only speed a throttled run up:
        # take the middle 128 MB run rather than the fastest.
        slow = _slowdown(manager, 128, 0.03, pick=lambda runs: sorted(runs)[1])
        fast = _slowdown(manager, 1024, 0.03)
    finally:
        manager.close()
    assert slow / fast >= 4, (slow, fast)
    assert 9 <= slow <= 25, slow  # model 13.8


def test_duty_cycle_leaves_no_process_stopped_after_close():
    manager = _manager_or_skip("duty-cycle", "none")
    child = Child(manager, 128)
    child.res.start_cpu_limit()
    child.proc.stdin.write(json.dumps({"cpu_s": 0.5}) + "\n")  # long enough to be stopped at close
    child.proc.stdin.flush()
    manager.close()
    for _ in range(500):  # it acts on SIGCONT when it next runs: allow it a moment
        state = Path(f"/proc/{child.proc.pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state not in ("T", "t"):
            break
        time.sleep(0.002)
    assert state not in ("T", "t")
    child.proc.kill()
    child.finish()


def test_rlimit_turns_an_oversized_allocation_into_memory_error():
    manager = _manager_or_skip("none", "rlimit")
    try:
        small = Child(manager, 128)
        result = small.run(alloc_mb=200)
        assert small.finish() == 0
        assert result == {"error": "MemoryError"}
        assert small.res.is_oom_error(result["error"]) is True
        big = Child(manager, 512)
        assert big.run(alloc_mb=200) == {"allocated": 200 * 1024 * 1024}
        assert big.finish() == 0
    finally:
        manager.close()


CRASHING_EMULATOR = r"""
import subprocess, sys, time
from lambdabench.emulator.resources import ResourceManager
manager = ResourceManager(cpu_limit="cgroup", memory_limit="cgroup")
res = manager.sandbox("orphan", 128)
proc = subprocess.Popen(res.command([sys.executable, "-c", "import time; time.sleep(120)"]))
res.attach(proc.pid)
print(manager._cpu_h.parent, manager._memory_h.parent, proc.pid, flush=True)
time.sleep(120)
"""


def test_groups_of_a_crashed_emulator_are_removed_by_the_next_one():
    _manager_or_skip("cgroup", "cgroup").close()
    emulator = subprocess.Popen([sys.executable, "-c", CRASHING_EMULATOR], stdout=subprocess.PIPE, text=True)
    cpu_parent, memory_parent, orphan = emulator.stdout.readline().split()
    emulator.kill()  # a crash: close() never runs
    emulator.wait()
    emulator.stdout.close()
    assert Path(cpu_parent).is_dir() and Path(memory_parent).is_dir()
    assert Path(f"/proc/{orphan}").exists()
    rs.ResourceManager(cpu_limit="cgroup", memory_limit="cgroup").close()
    assert not Path(cpu_parent).exists() and not Path(memory_parent).exists()
    # The orphaned sandbox was killed with its group (it may linger as a zombie of init briefly).
    for _ in range(200):
        stat = Path(f"/proc/{orphan}/stat")
        if not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] in ("Z", "X"):
            break
        time.sleep(0.01)
    else:
        raise AssertionError(f"orphan sandbox {orphan} still running")
