"""CPU and memory limits of emulator sandboxes (Lambda's resource model on this host).

INTERFACE (the sandbox code calls exactly this; mechanisms behind it may change):

    manager = ResourceManager(cpu_limit="auto", memory_limit="auto")
                              # cpu: auto | cgroup | duty-cycle | none; memory: auto | cgroup | rlimit | none
    manager.info()            -> dict (cpu_mechanism, memory_mechanism, host_cores, cpu_period_ms,
                                       max_distinct_memory_mb, warnings)
    res = manager.sandbox(sandbox_id, memory_mb)      # one per sandbox process
    argv = res.command(argv)  # optional but preferred: wraps argv so the process joins its limits before exec
    argv, gated = res.gated_command(argv)  # alternative: a launcher that waits on stdin for a line,
                              # so attach() runs before it execs argv (the sandbox uses this one)
    subprocess.Popen(argv, ..., **res.popen_kwargs())  # extra Popen kwargs (may be empty)
    res.attach(pid)           # right after spawn (idempotent when command() already placed the process)
    res.start_cpu_limit()     # when the runtime first asks for an event (INIT runs unthrottled); idempotent
    res.peak_rss_mb()         # peak RSS of the sandbox so far, MB (None if unknown), never above memory_mb
    res.oom_killed(returncode=None)  # after the process died: was it the memory limit?
    res.is_oom_error(error_type, body)  # a handler error meaning "out of memory" (RLIMIT_AS fallback)
    res.release()             # after the process has exited: remove cgroups, stop throttles; idempotent
    manager.close()           # on emulator shutdown: release everything it created

CPU (Lambda: 1,769 MB = one vCPU; a CFS bandwidth quota with a 20 ms period):
- "cgroup-v1" / "cgroup-v2": each sandbox gets its own cgroup with period 20 ms and quota
  20 ms x memory/1769 (more than one CPU above 1,769 MB). The quota is "max" while INIT runs and is
  written by start_cpu_limit().
- "duty-cycle" (no writable cgroup: not root, macOS): one throttle thread for all sandboxes does
  CFS bandwidth control from outside: per 20 ms period a process may use its quota of CPU time, then
  it is SIGSTOPped until the next period (SIGCONT); overshoot is a debt paid from later periods,
  unused quota is not banked. CPU time is read as the process's CPU clock (ns) where the OS gives it,
  else /proc/<pid>/stat utime+stime. Only the sandbox's own process is throttled, not processes a
  handler spawns (those share the process group, but their CPU time is not on its clock).
- "none": no throttle.

Memory (limit = the function's memory size):
- "cgroup-v1": memory.limit_in_bytes (+ memory.memsw.limit_in_bytes: no swap). Over the limit the
  kernel OOM-kills the process (SIGKILL). Detected by memory.oom_control's oom_kill counter (older
  kernels without it: under_oom, or memory.failcnt > 0 together with death by SIGKILL).
- "cgroup-v2": memory.max (+ memory.swap.max 0, memory.oom.group 1). Detected by memory.events oom_kill.
- "rlimit-as": RLIMIT_AS = memory size (set by the command() wrapper, else prlimit at attach). An
  allocation over it raises MemoryError in the handler instead of a kill, so oom_killed() stays False and
  the sandbox code asks is_oom_error(error_type, body) to report that error as Runtime.OutOfMemory.
  RLIMIT_AS counts address space, not RSS, so it is looser than Lambda's limit (documented imprecision).
- "none": no limit.

Joining the cgroup before the runtime starts: command() prefixes argv with a one-line /bin/sh
launcher that writes its own pid into each cgroup.procs file (and sets `ulimit -v` on the rlimit path),
then execs the real command in the same process. So no instruction of the runtime ever runs outside its
limits, and no Python code runs between fork and exec (preexec_fn is unsafe in a threaded server). sh
costs about a millisecond (spawning /bin/true: 0.8 ms direct, 1.9 ms through the launcher, this host),
which lands in Init Duration as Lambda's own sandbox setup does. attach(pid)
repeats the placement (a no-op then) so a caller that does not use command() still gets limits, a few
ms late.

Peak RSS (Max Memory Used): the largest sum of VmHWM over the sandbox's processes (its cgroup's
processes, else the process and its descendants) seen so far; never RUSAGE_CHILDREN (a maximum over all
children ever) nor memory.max_usage_in_bytes (counts page cache). An OOM-killed sandbox used its whole
memory size. Capped at memory_mb.

Cgroups: all of one manager live under one parent `lambdabench-<pid>-<n>` created inside the cgroup the
emulator itself is in (so any limit placed on the emulator still covers its sandboxes). Each sandbox's
group is removed by release(), stray processes in it killed first; close() removes the parent. At
start a manager removes stale `lambdabench-<pid>-*` parents whose owner pid is dead.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdabench.errors import UsageError
from lambdabench.limits import CPU_PERIOD_MS, MB_PER_VCPU, vcpus_for_memory  # Lambda's CPU model, with sources

# The kernel refuses a CFS quota below 1 ms (kernel/sched/core.c: min_cfs_quota_period); a host
# fact, not a Lambda limit, so it lives here.
MIN_CFS_QUOTA_US = 1000

CPU_LIMIT_CHOICES = ("auto", "cgroup", "duty-cycle", "none")
MEMORY_LIMIT_CHOICES = ("auto", "cgroup", "rlimit", "none")

_PARENT_PREFIX = "lambdabench-"
_PARENT_RE = re.compile(r"^lambdabench-(\d+)-(\d+)$")
_manager_counter = itertools.count(1)
_MIB = 1024 * 1024


def cpu_quota_us(memory_mb: int, period_us: int = CPU_PERIOD_MS * 1000) -> int:
    """CFS quota per period for this memory size, in microseconds (at least the kernel's 1 ms)."""
    return max(MIN_CFS_QUOTA_US, round(period_us * vcpus_for_memory(memory_mb)))


def host_cores() -> int:
    """CPUs this process may run on (affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------------------------
# Discovering cgroup hierarchies


@dataclass(frozen=True)
class CgroupMount:
    """One mounted cgroup hierarchy: where it is and which controllers it carries."""

    version: int  # 1 or 2
    mountpoint: Path
    root: str  # the mount's root inside the hierarchy (a container may see a sub-tree)
    controllers: frozenset[str]


def parse_mountinfo(text: str) -> list[CgroupMount]:
    """cgroup mounts listed in /proc/self/mountinfo (v1 controllers from super options)."""
    mounts: list[CgroupMount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, super_opts = tail[0], tail[2]
        mountpoint = Path(fields[4].replace("\\040", " "))
        if fstype == "cgroup":
            names = frozenset(opt for opt in super_opts.split(",") if "=" not in opt) - {"rw", "ro"}
            mounts.append(CgroupMount(1, mountpoint, fields[3], names))
        elif fstype == "cgroup2":
            try:
                names = frozenset((mountpoint / "cgroup.controllers").read_text().split())
            except OSError:
                names = frozenset()
            mounts.append(CgroupMount(2, mountpoint, fields[3], names))
    return mounts


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """/proc/self/cgroup → {controller: path}; the v2 entry is under the key "" ."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, names, path = parts
        if names == "":
            paths[""] = path
        for name in names.split(","):
            if name:
                paths[name] = path
    return paths


def own_cgroup_dir(mount: CgroupMount, own_paths: dict[str, str], controller: str) -> Path:
    """The directory of the cgroup this process is in, in `mount` (falls back to the mount's root)."""
    path = own_paths.get("" if mount.version == 2 else controller)
    if path is None:
        return mount.mountpoint
    if mount.root != "/" and path.startswith(mount.root):
        path = path[len(mount.root):]
    candidate = mount.mountpoint / path.lstrip("/")
    return candidate if candidate.is_dir() else mount.mountpoint


def _write(path: Path, value: str) -> None:
    # One write() per value: cgroup files take exactly one value per write call. (O_CREAT and O_TRUNC
    # are no-ops on cgroupfs, where the file exists; they let a plain directory stand in for tests.)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, value.encode("ascii"))
    finally:
        os.close(fd)


def _read_small(path: str | Path) -> bytes:
    """A small kernel file's bytes. Raw os.open/os.read: these are read on every invoke (peak RSS,
    OOM check), and Path.read_text's text layer costs several times the read itself."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _read_keyed(path: Path) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        text = _read_small(path).decode("ascii", "replace")
    except OSError:
        return values
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def _procs(group: Path) -> list[int]:
    try:
        return [int(pid) for pid in _read_small(group / "cgroup.procs").split()]
    except (OSError, ValueError):
        return []


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_group(group: Path, attempts: int = 50) -> bool:
    """rmdir a cgroup (children first), killing what still runs in it. True when gone."""
    if not group.exists():
        return True
    for child in [p for p in group.iterdir() if p.is_dir()]:
        _remove_group(child, attempts)
    for attempt in range(attempts):
        try:
            os.rmdir(group)
            return True
        except FileNotFoundError:
            return True
        except OSError as error:
            if error.errno != errno.EBUSY:
                return False
        # Still busy: stray processes (a handler's background child) or a task not yet fully
        # exited. Lambda would tear the environment down with them, so do the same.
        for pid in _procs(group):
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002 * (attempt + 1))
    return False


class _Hierarchy:
    """The part of one cgroup hierarchy this manager owns: its parent group and the sandbox groups."""

    def __init__(self, mount: CgroupMount, base: Path, controllers: tuple[str, ...]):
        self.mount = mount
        self.base = base
        self.controllers = controllers
        self.parent: Path | None = None

    @property
    def version(self) -> int:
        return self.mount.version

    def open(self, parent_name: str) -> None:
        """Create the parent group (and enable the controllers below it on v2). Raises OSError."""
        if self.version == 2:
            self.base = self._delegating_base()
        parent = self.base / parent_name
        parent.mkdir()
        self.parent = parent
        if self.version == 2:
            try:
                _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in self.controllers))
            except OSError:
                os.rmdir(parent)
                self.parent = None
                raise

    def _delegating_base(self) -> Path:
        """A v2 group where our controllers can be handed to children.

        v2 forbids enabling controllers for children of a group that holds processes (except the
        root), so the emulator's own group works only when it already delegates them; otherwise
        fall back to the root of the mount.
        """
        for base in dict.fromkeys([self.base, self.mount.mountpoint]):
            try:
                enabled = set((base / "cgroup.subtree_control").read_text().split())
                missing = [c for c in self.controllers if c not in enabled]
                if missing:
                    _write(base / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
                return base
            except OSError:
                continue
        raise PermissionError(errno.EACCES, "cannot enable cgroup v2 controllers", str(self.base))

    def create(self, name: str) -> Path:
        assert self.parent is not None
        group = self.parent / name
        group.mkdir()
        return group

    def close(self) -> None:
        if self.parent is not None:
            _remove_group(self.parent)
            self.parent = None

    def remove_stale(self) -> None:
        """Remove parents left by emulators that died without closing (their pid is gone)."""
        try:
            entries = list(self.base.iterdir())
        except OSError:
            return
        for entry in entries:
            match = _PARENT_RE.match(entry.name)
            if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
                _remove_group(entry)


def _discover(
    want_cpu: bool, want_memory: bool, mountinfo: str | None = None, self_cgroup: str | None = None
) -> tuple[_Hierarchy | None, _Hierarchy | None]:
    """Writable-looking hierarchies for cpu and memory (v1 preferred where the controller lives there)."""
    try:
        mountinfo = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
        self_cgroup = self_cgroup if self_cgroup is not None else Path("/proc/self/cgroup").read_text()
    except OSError:
        return None, None
    mounts = parse_mountinfo(mountinfo)
    own = parse_proc_cgroup(self_cgroup)

    def find(controller: str) -> CgroupMount | None:
        # A controller is bound to at most one hierarchy: v1 if a v1 mount carries it, else v2.
        for mount in mounts:
            if mount.version == 1 and controller in mount.controllers:
                return mount
        for mount in mounts:
            if mount.version == 2 and controller in mount.controllers:
                return mount
        return None

    cpu_mount = find("cpu") if want_cpu else None
    memory_mount = find("memory") if want_memory else None
    cpu = memory = None
    if cpu_mount is not None and memory_mount is not None and cpu_mount == memory_mount:
        shared = _Hierarchy(cpu_mount, own_cgroup_dir(cpu_mount, own, "cpu"), ("cpu", "memory"))
        return shared, shared
    if cpu_mount is not None:
        cpu = _Hierarchy(cpu_mount, own_cgroup_dir(cpu_mount, own, "cpu"), ("cpu",))
    if memory_mount is not None:
        memory = _Hierarchy(memory_mount, own_cgroup_dir(memory_mount, own, "memory"), ("memory",))
    return cpu, memory


# ---------------------------------------------------------------------------------------------
# Reading a process


def _read_vmhwm_mb(pid: int) -> int | None:
    try:
        status = _read_small(f"/proc/{pid}/status")
        at = status.find(b"\nVmHWM:")
        if at < 0:
            return None  # a kernel thread, or a zombie whose memory is gone
        return int(status[at + 7:status.index(b"\n", at + 7)].split()[0]) // 1024  # kB -> MB
    except (OSError, ValueError):
        return None


def _descendants(pid: int) -> list[int]:
    """pid and every live descendant (via /proc/<pid>/task/<tid>/children)."""
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        try:
            tids = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as children:
                    found.extend(int(child) for child in children.read().split())
            except (OSError, ValueError):
                continue
    return found


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_ns(pid: int) -> int | None:
    """CPU time (user+system, all threads) a process has used, ns; None when it is gone.

    Linux names every process's CPU clock (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)), which has
    ns resolution; /proc/<pid>/stat's utime+stime only has the clock tick (10 ms) resolution.
    """
    clock_id = ((~pid) << 3) | 2
    try:
        return time.clock_gettime_ns(clock_id)
    except (OSError, OverflowError, AttributeError):
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // _CLK_TCK
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# Duty-cycle throttle (the fallback where no cgroup is writable)


class _Throttled:
    __slots__ = ("pid", "pidfd", "rate", "quota_ns", "used_ns", "last_cpu_ns", "last_t", "stopped", "due")

    def __init__(self, pid: int, rate: float, period_s: float, cpu_ns: int | None):
        self.pid = pid
        try:
            self.pidfd: int | None = os.pidfd_open(pid)  # signals can never hit a recycled pid
        except (AttributeError, OSError):
            self.pidfd = None
        self.rate = rate
        self.quota_ns = rate * period_s * 1e9
        self.used_ns = 0.0  # CPU used in the current period (plus any debt carried in)
        self.last_cpu_ns = cpu_ns or 0
        self.last_t = time.monotonic()
        self.stopped = False
        self.due = self.last_t

    def signal(self, signum: int) -> bool:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signum)
            else:
                os.kill(self.pid, signum)
            return True
        except OSError:
            return False

    def close(self) -> None:
        if self.stopped:
            self.signal(signal.SIGCONT)
            self.stopped = False
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class DutyCycleThrottle:
    """One thread that holds every throttled process to its CPU share with SIGSTOP/SIGCONT.

    CFS bandwidth control done from outside: time is cut into 20 ms periods (one grid for all
    processes); in each period a process may use quota = share x period of CPU time, read from its
    CPU clock. When it has used its quota it is stopped until the next period. CPU used beyond the
    quota before the thread noticed is a debt paid from the following periods (closed loop), while
    unused quota is never banked (an idle process gets no burst later), both as in CFS. A stopped
    process resumed a little late still gets its whole quota in the rest of the period, so this
    thread's wake-up latency on a busy host costs accuracy only near one CPU. A running process is
    looked at again when its remaining quota should be spent; an idle one once per period.
    """

    MIN_SLEEP_S = 0.0002
    MIN_SLICE_NS = 200_000  # less quota left than 0.2 ms of CPU is not worth a SIGCONT

    def __init__(self, period_ms: int = CPU_PERIOD_MS, read_cpu_ns=process_cpu_ns):
        self.period_s = period_ms / 1000
        self._read_cpu_ns = read_cpu_ns  # passed in so the accounting can be tested with set clocks
        self._entries: dict[int, _Throttled] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def add(self, pid: int, rate: float) -> None:
        with self._cond:
            if pid in self._entries or self._closing:
                return
            self._entries[pid] = _Throttled(pid, rate, self.period_s, self._read_cpu_ns(pid))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lambdabench-duty-cycle", daemon=True)
                self._thread.start()
            self._cond.notify()

    def remove(self, pid: int) -> None:
        with self._cond:
            entry = self._entries.pop(pid, None)
            if entry is not None:
                entry.close()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            for entry in self._entries.values():
                entry.close()
            self._entries.clear()
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        with self._cond:
            while not self._closing:
                now = time.monotonic()
                next_due = now + self.period_s
                for pid, entry in list(self._entries.items()):
                    if entry.due <= now:
                        if not self._step(entry, now):
                            self._entries.pop(pid, None)
                            entry.close()
                            continue
                    next_due = min(next_due, entry.due)
                self._cond.wait(max(self.MIN_SLEEP_S, next_due - time.monotonic()))
            self._thread = None

    def _step(self, entry: _Throttled, now: float) -> bool:
        """Account the CPU used since the last look, stop or resume the process, set its next look."""
        cpu_ns = self._read_cpu_ns(entry.pid)
        if cpu_ns is None:
            return False
        period = self.period_s
        period_end = (now // period + 1) * period
        used_now = cpu_ns - entry.last_cpu_ns
        elapsed = max(1e-9, now - entry.last_t)
        # Periods that began since the last look each refresh the quota (paying debt first). The
        # CPU used since the last look is split by time at the latest boundary: the part before it
        # belongs to the old periods.
        periods_begun = int(now // period - entry.last_t // period)
        if periods_begun > 0:
            boundary = now // period * period
            after = used_now * min(1.0, (now - boundary) / elapsed)
            entry.used_ns = max(0.0, entry.used_ns + used_now - after - periods_begun * entry.quota_ns) + after
        else:
            entry.used_ns += used_now
        entry.last_cpu_ns, entry.last_t = cpu_ns, now
        left_ns = entry.quota_ns - entry.used_ns
        # Stop on exhaustion only (stopping with quota left costs the rest of the period, which at
        # shares near one CPU is most of it); resume only with a slice worth a SIGCONT.
        if left_ns <= 0 or (entry.stopped and left_ns <= self.MIN_SLICE_NS):
            if not entry.stopped and not entry.signal(signal.SIGSTOP):
                return False
            entry.stopped = True
            entry.due = period_end  # the next period brings a new quota
            return True
        if entry.stopped:
            if not entry.signal(signal.SIGCONT):
                return False
            entry.stopped = False
            busy = max(1.0, entry.rate)  # it was runnable while stopped: assume it runs flat out
        else:
            busy = used_now / (elapsed * 1e9)
        if busy < 0.01:
            entry.due = period_end  # idle (waiting for an event): look once per period, on the grid
        else:
            entry.due = min(period_end, now + left_ns / max(busy, 0.05) / 1e9)
        return True


# ---------------------------------------------------------------------------------------------
# Per sandbox


class SandboxResources:
    """The limits of one sandbox process; see the module docstring for the call order."""

    def __init__(
        self,
        manager: ResourceManager,
        sandbox_id: str,
        memory_mb: int,
        cpu_group: Path | None = None,
        memory_group: Path | None = None,
    ):
        self.sandbox_id = sandbox_id
        self.memory_mb = memory_mb
        self.pid: int | None = None
        self._manager = manager
        self._cpu_group = cpu_group
        self._memory_group = memory_group
        self._peak_mb: int | None = None
        self._cpu_limited = False
        self._released = False
        self._oom = False
        # The runtime API thread (start_cpu_limit), the invoke thread (peak_rss_mb) and the
        # killer (release) may race; a released sandbox's group is gone and must not be written.
        self._lock = threading.Lock()

    @property
    def cpu_mechanism(self) -> str:
        return self._manager.cpu_mechanism

    @property
    def memory_mechanism(self) -> str:
        return self._manager.memory_mechanism

    def _groups(self) -> list[Path]:
        return list(dict.fromkeys(g for g in (self._cpu_group, self._memory_group) if g is not None))

    def command(self, argv: list[str]) -> list[str]:
        """argv, wrapped so the process enters its cgroups (and RLIMIT_AS) before exec."""
        procs = [str(group / "cgroup.procs") for group in self._groups()]
        limit_kb = self.memory_mb * 1024 if self.memory_mechanism == "rlimit-as" else None
        if not procs and limit_kb is None:
            return list(argv)
        shell = shutil.which("sh") or "/bin/sh"
        # $$ is this shell's pid; exec keeps it, so the runtime starts already inside its limits.
        script = (
            'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n-1)); done; '
            'if [ "$1" != - ]; then ulimit -v "$1" || exit 126; fi; shift; exec "$@"'
        )
        return [shell, "-c", script, "lambdabench-sandbox", str(len(procs)), *procs,
                str(limit_kb) if limit_kb is not None else "-", *argv]

    def gated_command(self, argv: list[str]) -> tuple[list[str], bool]:
        """(argv wrapped for a gated start, whether it waits for its gate).

        The wrapped process waits for one line on its stdin before it execs argv (stdin then
        /dev/null), with RLIMIT_AS applied first. The caller attach()es the waiting launcher to
        its cgroups, starts INIT's clock and only then writes the gate line (see Sandbox._start).
        Why: moving a task into a v1 cgroup waits for an RCU grace period (measured 10-20 ms on
        the benchmark host, most of the cold start's excess over a bare spawn); that is host-side
        preparation, like Lambda's own sandbox setup, and must not count as the runtime's INIT.
        When there is nothing to join, argv is returned as is and no gate is needed."""
        limit_kb = self.memory_mb * 1024 if self.memory_mechanism == "rlimit-as" else None
        if not self._groups() and limit_kb is None:
            return list(argv), False
        shell = shutil.which("sh") or "/bin/sh"
        script = ('read -r _ || exit 126; '
                  'if [ "$1" != - ]; then ulimit -v "$1" || exit 126; fi; shift; exec "$@" </dev/null')
        return [shell, "-c", script, "lambdabench-sandbox",
                str(limit_kb) if limit_kb is not None else "-", *argv], True

    def popen_kwargs(self) -> dict[str, Any]:
        return {}

    def attach(self, pid: int) -> None:
        """Put the process in its cgroups (a no-op when command() already did) and its rlimit."""
        self.pid = pid
        for group in self._groups():
            try:
                _write(group / "cgroup.procs", str(pid))
            except ProcessLookupError:
                return  # already gone; oom_killed()/release() still work
        if self.memory_mechanism == "rlimit-as":
            import resource

            limit = self.memory_mb * _MIB
            try:
                resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
            except (OSError, ValueError):
                pass  # already gone, or the command() wrapper set a lower one

    def resize(self, memory_mb: int) -> None:
        """A process prepared for one size is taken for another, before its INIT: new limits."""
        if memory_mb == self.memory_mb:
            return
        self._manager._warn_if_beyond_host(memory_mb)
        growing = memory_mb > self.memory_mb
        self.memory_mb = memory_mb
        if self._memory_group is not None:
            self._manager._configure_memory(self._memory_group, memory_mb, growing=growing)
        if self.memory_mechanism == "rlimit-as" and self.pid is not None:
            import resource

            limit = memory_mb * _MIB
            resource.prlimit(self.pid, resource.RLIMIT_AS, (limit, limit))

    def start_cpu_limit(self) -> None:
        """INIT is over: from now on the sandbox gets memory/1769 of a CPU per 20 ms period."""
        with self._lock:
            if self._cpu_limited or self._released:
                return
            self._cpu_limited = True
            mechanism = self.cpu_mechanism
            if mechanism == "cgroup-v1" and self._cpu_group is not None:
                _write(self._cpu_group / "cpu.cfs_quota_us", str(cpu_quota_us(self.memory_mb)))
            elif mechanism == "cgroup-v2" and self._cpu_group is not None:
                _write(self._cpu_group / "cpu.max", f"{cpu_quota_us(self.memory_mb)} {CPU_PERIOD_MS * 1000}")
            elif mechanism == "duty-cycle" and self.pid is not None:
                self._manager._throttle().add(self.pid, vcpus_for_memory(self.memory_mb))

    def _sandbox_pids(self) -> list[int]:
        group = self._memory_group or self._cpu_group
        if group is not None:
            pids = _procs(group)
            if pids:
                return pids
        return _descendants(self.pid) if self.pid is not None else []

    def peak_rss_mb(self) -> int | None:
        """Peak RSS of the sandbox so far, MB, capped at the memory size (None when never seen)."""
        if not self._released:
            total = 0
            seen = False
            for pid in self._sandbox_pids():
                hwm = _read_vmhwm_mb(pid)
                if hwm is not None:
                    total += hwm
                    seen = True
            if seen:
                self._peak_mb = max(self._peak_mb or 0, total)
            self.oom_killed()
        if self._oom:
            return self.memory_mb  # the kernel killed it at the limit: it used all of it
        if self._peak_mb is None:
            return None
        return min(self._peak_mb, self.memory_mb)

    def oom_killed(self, returncode: int | None = None) -> bool:
        """After the process died: was it the memory limit? (Remembered across release().)"""
        if not self._oom:
            self._oom = self._detect_oom(returncode)
        return self._oom

    def _detect_oom(self, returncode: int | None) -> bool:
        group = self._memory_group
        if group is None or self._released:
            return False  # rlimit-as: MemoryError in the handler, see is_oom_error()
        if self.memory_mechanism == "cgroup-v2":
            return _read_keyed(group / "memory.events").get("oom_kill", 0) > 0
        control = _read_keyed(group / "memory.oom_control")
        if "oom_kill" in control:  # Linux >= 4.13
            return control["oom_kill"] > 0
        try:
            failcnt = int((group / "memory.failcnt").read_text())
        except (OSError, ValueError):
            failcnt = 0
        return control.get("under_oom", 0) > 0 or (failcnt > 0 and returncode == -signal.SIGKILL)

    def is_oom_error(self, error_type: str | None, body: bytes | None = None) -> bool:
        """True when a handler error means the memory limit was hit (RLIMIT_AS: MemoryError).

        awslambdaric sends no Lambda-Runtime-Function-Error-Type header with invocation errors, so
        the error body's errorType is read when the header's type is missing.
        """
        if self.memory_mechanism != "rlimit-as":
            return False
        if error_type is None and body:
            try:
                parsed = json.loads(body)
            except ValueError:
                return False
            error_type = parsed.get("errorType") if isinstance(parsed, dict) else None
        return error_type in ("MemoryError", "Runtime.MemoryError")

    def release(self) -> None:
        """The process has exited: stop throttling it, remove its cgroups. Idempotent."""
        self.peak_rss_mb()
        self.oom_killed()
        with self._lock:
            if self._released:
                return
            self._released = True
        if self.pid is not None and self.cpu_mechanism == "duty-cycle":
            self._manager._throttle().remove(self.pid)
        for group in self._groups():
            _remove_group(group)
        self._manager._forget(self)


class ResourceManager:
    """Chooses the CPU and memory mechanisms once and hands out SandboxResources."""

    def __init__(
        self,
        cpu_limit: str = "auto",
        memory_limit: str = "auto",
        *,
        _mountinfo: str | None = None,
        _self_cgroup: str | None = None,
    ):
        if cpu_limit not in CPU_LIMIT_CHOICES:
            raise UsageError(
                f"Unknown CPU limit {cpu_limit!r}.",
                f"Use one of: {', '.join(CPU_LIMIT_CHOICES)}.",
            )
        if memory_limit not in MEMORY_LIMIT_CHOICES:
            raise UsageError(
                f"Unknown memory limit {memory_limit!r}.",
                f"Use one of: {', '.join(MEMORY_LIMIT_CHOICES)}.",
            )
        self.cpu_limit = cpu_limit
        self.memory_limit = memory_limit
        self.warnings: list[str] = []
        self._host_cores = host_cores()
        self._lock = threading.Lock()
        self._sandboxes: dict[int, SandboxResources] = {}
        self._names = itertools.count(1)
        self._duty: DutyCycleThrottle | None = None
        self._warned_cores = False
        self._closed = False
        parent_name = f"{_PARENT_PREFIX}{os.getpid()}-{next(_manager_counter)}"

        want_cpu = cpu_limit in ("auto", "cgroup")
        want_memory = memory_limit in ("auto", "cgroup")
        cpu_h, memory_h = _discover(want_cpu, want_memory, _mountinfo, _self_cgroup)
        self._hierarchies: list[_Hierarchy] = []
        self._cpu_h = self._open(cpu_h, parent_name)
        self._memory_h = self._open(memory_h, parent_name) if memory_h is not cpu_h else (
            self._cpu_h if self._cpu_h is not None else None
        )

        if self._cpu_h is not None:
            self.cpu_mechanism = f"cgroup-v{self._cpu_h.version}"
        elif cpu_limit == "cgroup":
            self.close()
            raise UsageError(
                "No writable cgroup with the cpu controller: the CPU limit 'cgroup' is unavailable here.",
                "Run as root on Linux with a writable cgroup, or use --cpu-limit duty-cycle (or auto).",
            )
        elif cpu_limit in ("auto", "duty-cycle") and _duty_cycle_possible():
            self.cpu_mechanism = "duty-cycle"
        elif cpu_limit == "duty-cycle":
            self.close()
            raise UsageError(
                "The duty-cycle CPU limit needs SIGSTOP/SIGCONT and per-process CPU times (/proc).",
                "Use --cpu-limit none on this system.",
            )
        else:
            self.cpu_mechanism = "none"

        if self._memory_h is not None:
            self.memory_mechanism = f"cgroup-v{self._memory_h.version}"
        elif memory_limit == "cgroup":
            self.close()
            raise UsageError(
                "No writable cgroup with the memory controller: the memory limit 'cgroup' is unavailable here.",
                "Run as root on Linux with a writable cgroup, or use the rlimit memory limit (or auto).",
            )
        elif memory_limit in ("auto", "rlimit"):
            self.memory_mechanism = "rlimit-as"
        else:
            self.memory_mechanism = "none"

    def _open(self, hierarchy: _Hierarchy | None, parent_name: str) -> _Hierarchy | None:
        if hierarchy is None:
            return None
        try:
            hierarchy.open(parent_name)
        except OSError:
            hierarchy.close()
            return None
        hierarchy.remove_stale()  # after open(): on v2 the base may have moved to the mount's root
        self._hierarchies.append(hierarchy)
        return hierarchy

    def _throttle(self) -> DutyCycleThrottle:
        with self._lock:
            if self._duty is None:
                self._duty = DutyCycleThrottle(CPU_PERIOD_MS)
            return self._duty

    def info(self) -> dict[str, Any]:
        return {
            "cpu_mechanism": self.cpu_mechanism,
            "memory_mechanism": self.memory_mechanism,
            "host_cores": self._host_cores,
            "cpu_period_ms": CPU_PERIOD_MS,
            # Above this size a function's CPU share exceeds the host's cores: CPU-bound durations
            # of larger sizes cannot be told apart here (the warning appears once one is used).
            "max_distinct_memory_mb": self._host_cores * MB_PER_VCPU if self.cpu_mechanism != "none" else None,
            "warnings": list(self.warnings),
        }

    def sandbox(self, sandbox_id: str, memory_mb: int) -> SandboxResources:
        """Limits for one new sandbox process of `memory_mb` (cgroups created now, quota "max")."""
        self._warn_if_beyond_host(memory_mb)
        name = f"sb-{next(self._names)}"
        cpu_group = memory_group = None
        created: list[Path] = []
        try:
            if self._cpu_h is not None:
                cpu_group = self._cpu_h.create(name)
                created.append(cpu_group)
                self._configure_cpu(cpu_group)
            if self._memory_h is not None:
                memory_group = cpu_group if self._memory_h is self._cpu_h else self._memory_h.create(name)
                if memory_group is not cpu_group:
                    created.append(memory_group)
                self._configure_memory(memory_group, memory_mb)
        except OSError as error:
            for group in created:
                _remove_group(group)
            raise RuntimeError(f"could not create the cgroup of sandbox {sandbox_id}: {error}") from error
        resources = SandboxResources(self, sandbox_id, memory_mb, cpu_group, memory_group)
        with self._lock:
            self._sandboxes[id(resources)] = resources
        return resources

    def _configure_cpu(self, group: Path) -> None:
        period_us = CPU_PERIOD_MS * 1000
        if self._cpu_h is not None and self._cpu_h.version == 1:
            _write(group / "cpu.cfs_period_us", str(period_us))
            _write(group / "cpu.cfs_quota_us", "-1")  # INIT unthrottled
        else:
            _write(group / "cpu.max", f"max {period_us}")

    def _configure_memory(self, group: Path, memory_mb: int, *, growing: bool = False) -> None:
        limit = str(memory_mb * _MIB)
        if self._memory_h is not None and self._memory_h.version == 1:
            # memory+swap may never be below memory alone: raise it first when growing, lower it last
            files = ["memory.limit_in_bytes"]
            if (group / "memory.memsw.limit_in_bytes").exists():
                files.append("memory.memsw.limit_in_bytes")  # Lambda has no swap
            for name in reversed(files) if growing else files:
                _write(group / name, limit)
            try:
                # Charges made before a late attach() move with the process (deprecated, best effort).
                _write(group / "memory.move_charge_at_immigrate", "3")
            except OSError:
                pass
        else:
            _write(group / "memory.max", limit)
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (group / name).exists():
                    _write(group / name, value)

    def _warn_if_beyond_host(self, memory_mb: int) -> None:
        if self.cpu_mechanism == "none" or self._warned_cores:
            return
        if vcpus_for_memory(memory_mb) > self._host_cores:
            self._warned_cores = True
            top_mb = self._host_cores * MB_PER_VCPU
            self.warnings.append(
                f"Memory sizes above {top_mb} MB get more than this host's {self._host_cores} CPUs "
                f"({memory_mb} MB = {vcpus_for_memory(memory_mb):.2f} vCPUs): their CPU-bound durations "
                "cannot be told apart here."
            )

    def _forget(self, resources: SandboxResources) -> None:
        with self._lock:
            self._sandboxes.pop(id(resources), None)

    def close(self) -> None:
        """Release every sandbox's limits and remove this manager's cgroups. Idempotent."""
        with self._lock:
            remaining = list(self._sandboxes.values())
        for resources in remaining:
            resources.release()
        if self._duty is not None:
            self._duty.close()
            self._duty = None
        for hierarchy in self._hierarchies:
            hierarchy.close()
        self._hierarchies.clear()
        self._closed = True

    def __enter__(self) -> ResourceManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _duty_cycle_possible() -> bool:
    return hasattr(signal, "SIGSTOP") and os.path.isdir("/proc/self")
