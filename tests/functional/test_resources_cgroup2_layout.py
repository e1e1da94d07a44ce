"""The cgroup v2 file protocol, on a directory laid out like a cgroup2 mount.

This host binds cpu and memory to cgroup v1, so v2 cannot run for real here; these tests pin down
what the v2 path writes (controllers delegated, cpu.max, memory.max) and how it reads OOM kills.
"""

from __future__ import annotations

from pathlib import Path

from lambdabench.emulator import resources as rs


def _fake_v2(tmp_path: Path, own: str = "/") -> tuple[str, str]:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    mountinfo = f"34 25 0:31 / {tmp_path} rw,relatime - cgroup2 cgroup2 rw\n"
    return mountinfo, f"0::{own}\n"


def test_v2_sandbox_gets_cpu_max_and_memory_max(tmp_path):
    mountinfo, self_cgroup = _fake_v2(tmp_path)
    manager = rs.ResourceManager("cgroup", "cgroup", _mountinfo=mountinfo, _self_cgroup=self_cgroup)
    info = manager.info()
    assert (info["cpu_mechanism"], info["memory_mechanism"]) == ("cgroup-v2", "cgroup-v2")
    parent = manager._cpu_h.parent
    assert parent.parent == tmp_path and parent.name.startswith("lambdabench-")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (parent / "cgroup.subtree_control").read_text() == "+cpu +memory"

    sandbox = manager.sandbox("abc", 128)
    group = sandbox._cpu_group
    assert sandbox._memory_group == group  # one group carries both controllers on v2
    assert (group / "cpu.max").read_text() == "max 20000"  # INIT unthrottled
    assert (group / "memory.max").read_text() == str(128 * 1024 * 1024)
    sandbox.start_cpu_limit()
    assert (group / "cpu.max").read_text() == "1447 20000"

    argv = sandbox.command(["python", "-V"])
    assert argv[3:] == ["lambdabench-sandbox", "1", str(group / "cgroup.procs"), "-", "python", "-V"]


def test_v2_oom_kill_is_read_from_memory_events(tmp_path):
    mountinfo, self_cgroup = _fake_v2(tmp_path)
    manager = rs.ResourceManager("none", "cgroup", _mountinfo=mountinfo, _self_cgroup=self_cgroup)
    sandbox = manager.sandbox("abc", 256)
    events = sandbox._memory_group / "memory.events"
    events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert sandbox.oom_killed() is False
    events.write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    assert sandbox.oom_killed() is True
    assert sandbox.peak_rss_mb() == 256


def test_v2_uses_the_mount_root_when_its_own_group_cannot_delegate(tmp_path):
    mountinfo, self_cgroup = _fake_v2(tmp_path, own="/busy")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "cgroup.subtree_control").mkdir()  # writing it fails, as EBUSY would on a real v2 group
    manager = rs.ResourceManager("cgroup", "none", _mountinfo=mountinfo, _self_cgroup=self_cgroup)
    assert manager._cpu_h.parent.parent == tmp_path
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpu"
