"""Resource model arithmetic and discovery: quota per memory size, cgroup mount parsing, choices."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdabench.emulator import resources as rs
from lambdabench.errors import UsageError

# Real lines from a host with cgroup v1 cpu/memory and a hugetlb-only cgroup2 mount.
MOUNTINFO = """\
25 30 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
27 25 0:24 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
28 25 0:25 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
29 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
33 25 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
34 25 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
40 30 0:40 / /proc rw,nosuid - proc proc rw
"""

SELF_CGROUP = """\
9:name=systemd:/
4:memory:/process_api/2ca4
3:cpuset:/
1:cpu:/
0::/
"""


def test_cpu_quota_is_20_ms_times_memory_over_1769():
    assert rs.cpu_quota_us(1769) == 20_000
    assert rs.cpu_quota_us(128) == 1_447  # 20000 * 128 / 1769 = 1447.2
    assert rs.cpu_quota_us(1024) == 11_577
    assert rs.cpu_quota_us(3538) == 40_000  # two CPUs
    assert rs.cpu_quota_us(10240) == 115_772


def test_cpu_quota_never_below_the_kernel_minimum_of_1_ms():
    assert rs.cpu_quota_us(128, period_us=10_000) == 1_000  # 10,000 x 128/1769 = 724 us


def test_mountinfo_lists_v1_controllers_and_the_v2_mount():
    mounts = rs.parse_mountinfo(MOUNTINFO)
    by_point = {str(m.mountpoint): m for m in mounts}
    assert sorted(by_point) == [
        "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset",
        "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified",
    ]
    assert by_point["/sys/fs/cgroup/cpu"].controllers == frozenset({"cpu"})
    assert by_point["/sys/fs/cgroup/cpu"].version == 1
    assert by_point["/sys/fs/cgroup/systemd"].controllers == frozenset()
    assert by_point["/sys/fs/cgroup/unified"].version == 2


def test_comounted_v1_controllers_are_split_by_comma():
    line = "26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    (mount,) = rs.parse_mountinfo(line)
    assert mount.controllers == frozenset({"cpu", "cpuacct"})


def test_proc_cgroup_maps_each_controller_to_its_path():
    paths = rs.parse_proc_cgroup(SELF_CGROUP)
    assert paths["memory"] == "/process_api/2ca4"
    assert paths["cpu"] == "/"
    assert paths[""] == "/"
    assert paths["name=systemd"] == "/"


def test_own_cgroup_dir_strips_a_container_mount_root(tmp_path):
    (tmp_path / "job").mkdir()
    mount = rs.CgroupMount(1, tmp_path, "/docker/abc", frozenset({"memory"}))
    assert rs.own_cgroup_dir(mount, {"memory": "/docker/abc/job"}, "memory") == tmp_path / "job"


def test_own_cgroup_dir_falls_back_to_the_mount_when_the_path_is_not_visible(tmp_path):
    mount = rs.CgroupMount(1, tmp_path, "/", frozenset({"memory"}))
    assert rs.own_cgroup_dir(mount, {"memory": "/elsewhere"}, "memory") == tmp_path


def test_unknown_cpu_limit_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError) as caught:
        rs.ResourceManager(cpu_limit="fast")
    assert caught.value.message == "Unknown CPU limit 'fast'."
    assert caught.value.hint == "Use one of: auto, cgroup, duty-cycle, none."


def test_unknown_memory_limit_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError) as caught:
        rs.ResourceManager(cpu_limit="none", memory_limit="swap")
    assert caught.value.message == "Unknown memory limit 'swap'."
    assert caught.value.hint == "Use one of: auto, cgroup, rlimit, none."


def test_forcing_cgroup_where_none_is_mounted_is_a_usage_error():
    with pytest.raises(UsageError) as caught:
        rs.ResourceManager(cpu_limit="cgroup", memory_limit="none", _mountinfo="", _self_cgroup="")
    assert "No writable cgroup with the cpu controller" in caught.value.message
    assert "--cpu-limit duty-cycle" in caught.value.hint


def test_auto_without_cgroups_picks_duty_cycle_and_rlimit():
    manager = rs.ResourceManager(cpu_limit="auto", memory_limit="auto", _mountinfo="", _self_cgroup="")
    try:
        info = manager.info()
        assert info["cpu_mechanism"] == "duty-cycle"
        assert info["memory_mechanism"] == "rlimit-as"
        assert info["cpu_period_ms"] == 20
        assert info["host_cores"] >= 1
        assert info["max_distinct_memory_mb"] == info["host_cores"] * 1769
        assert info["warnings"] == []
    finally:
        manager.close()


def test_none_leaves_the_command_unchanged():
    with rs.ResourceManager(cpu_limit="none", memory_limit="none") as manager:
        sandbox = manager.sandbox("abc", 512)
        assert manager.info()["cpu_mechanism"] == "none"
        assert manager.info()["memory_mechanism"] == "none"
        assert sandbox.command(["python", "-V"]) == ["python", "-V"]
        assert sandbox.popen_kwargs() == {}
        assert sandbox.oom_killed() is False
        assert sandbox.is_oom_error("MemoryError") is False
        sandbox.release()


def test_rlimit_wrapper_sets_ulimit_in_kib_then_execs_the_command():
    with rs.ResourceManager(cpu_limit="none", memory_limit="rlimit") as manager:
        sandbox = manager.sandbox("abc", 128)
        argv = sandbox.command([sys.executable, "-V"])
        assert argv[3:] == ["lambdabench-sandbox", "0", str(128 * 1024), sys.executable, "-V"]
        assert "ulimit -v" in argv[2]
        assert sandbox.is_oom_error("MemoryError") is True
        assert sandbox.is_oom_error("ValueError") is False
        # awslambdaric sends no error-type header with invocation errors: the body says it.
        assert sandbox.is_oom_error(None, b'{"errorType": "MemoryError", "errorMessage": ""}') is True
        assert sandbox.is_oom_error(None, b'{"errorType": "KeyError"}') is False
        assert sandbox.is_oom_error(None, b"not json") is False
        assert sandbox.is_oom_error(None, b"[1]") is False


def test_sizes_beyond_the_host_cores_warn_once():
    with rs.ResourceManager(cpu_limit="duty-cycle", memory_limit="none") as manager:
        cores = manager.info()["host_cores"]
        manager.sandbox("small", 128).release()
        assert manager.info()["warnings"] == []
        big = rs.MB_PER_VCPU * cores + 1
        manager.sandbox("big", big).release()
        manager.sandbox("bigger", 10240).release()
        (warning,) = manager.info()["warnings"]
        assert warning.startswith(f"Memory sizes above {rs.MB_PER_VCPU * cores} MB get more than this host's {cores} CPUs")
        assert "cannot be told apart here" in warning


def test_no_core_warning_when_cpu_is_not_limited():
    with rs.ResourceManager(cpu_limit="none", memory_limit="none") as manager:
        manager.sandbox("big", 10240).release()
        assert manager.info()["warnings"] == []


def test_discovery_prefers_the_v1_hierarchy_that_carries_the_controller():
    cpu, memory = rs._discover(True, True, MOUNTINFO, SELF_CGROUP)
    assert cpu is not None and memory is not None
    assert cpu.mount.mountpoint == Path("/sys/fs/cgroup/cpu")
    assert memory.mount.mountpoint == Path("/sys/fs/cgroup/memory")
    assert cpu.controllers == ("cpu",)
    assert memory.controllers == ("memory",)


def test_gated_command_is_unwrapped_when_there_is_nothing_to_join():
    with rs.ResourceManager(cpu_limit="none", memory_limit="none") as manager:
        sandbox = manager.sandbox("abc", 512)
        assert sandbox.gated_command(["python", "-V"]) == (["python", "-V"], False)
        sandbox.release()


def test_gated_launcher_execs_only_after_its_gate_line_with_the_limit_applied(tmp_path):
    import subprocess

    marker = tmp_path / "ran"
    child = ("import resource, sys, pathlib; "
             f"pathlib.Path({str(marker)!r}).write_text(str(resource.getrlimit(resource.RLIMIT_AS)[0]) "
             "+ ' ' + repr(sys.stdin.read()))")
    with rs.ResourceManager(cpu_limit="none", memory_limit="rlimit") as manager:
        sandbox = manager.sandbox("abc", 256)
        argv, gated = sandbox.gated_command([sys.executable, "-S", "-c", child])
        assert gated is True
        assert argv[3:5] == ["lambdabench-sandbox", str(256 * 1024)]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE)
        try:
            sandbox.attach(proc.pid)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=0.3)  # still waiting at its gate: the runtime has not started
            assert not marker.exists()
            proc.stdin.write(b"\n")
            proc.stdin.close()
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # RLIMIT_AS in bytes, and stdin is /dev/null once the runtime runs (not the gate pipe).
        assert marker.read_text() == f"{256 * 1024 * 1024} ''"
        sandbox.release()
