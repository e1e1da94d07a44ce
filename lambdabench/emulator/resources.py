"""CPU and memory limits of emulator sandboxes (Lambda's resource model on this host).

INTERFACE (the sandbox code calls exactly this; mechanisms behind it may change):

    manager = ResourceManager(cpu_limit="auto")       # auto | cgroup | duty-cycle | none
    manager.info()            -> dict (cpu_mechanism, memory_mechanism, host_cores, cpu_period_ms, ...)
    res = manager.sandbox(sandbox_id, memory_mb)      # one per sandbox process
    subprocess.Popen(..., **res.popen_kwargs())       # extra Popen kwargs (may be empty)
    res.attach(pid)           # right after spawn, before the runtime starts INIT work that matters
    res.start_cpu_limit()     # when the runtime first asks for an event (INIT runs unthrottled); idempotent
    res.peak_rss_mb()         # peak RSS of the sandbox so far, MB (None if unknown)
    res.oom_killed()          # after the process died: was it the memory limit?
    res.release()             # after the process has exited: remove cgroups, stop throttles; idempotent
    manager.close()           # on emulator shutdown: release everything it created

This first version implements the `none` mechanism only (no limits, peak RSS from /proc VmHWM);
the resource-model issue adds cgroup v1/v2 and the duty-cycle fallback behind the same interface.
"""

from __future__ import annotations

import os
from typing import Any


def _read_vmhwm_mb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024  # kB -> MB
    except (OSError, ValueError):
        return None
    return None


class SandboxResources:
    def __init__(self, sandbox_id: str, memory_mb: int):
        self.sandbox_id = sandbox_id
        self.memory_mb = memory_mb
        self.pid: int | None = None
        self._peak_mb: int | None = None

    def popen_kwargs(self) -> dict[str, Any]:
        return {}

    def attach(self, pid: int) -> None:
        self.pid = pid

    def start_cpu_limit(self) -> None:
        pass

    def peak_rss_mb(self) -> int | None:
        if self.pid is not None:
            current = _read_vmhwm_mb(self.pid)
            if current is not None:
                self._peak_mb = max(self._peak_mb or 0, current)
        if self._peak_mb is None:
            return None
        return min(self._peak_mb, self.memory_mb)

    def oom_killed(self) -> bool:
        return False

    def release(self) -> None:
        pass


class ResourceManager:
    def __init__(self, cpu_limit: str = "auto"):
        self.cpu_limit = cpu_limit
        self._sandboxes: list[SandboxResources] = []

    def info(self) -> dict[str, Any]:
        return {
            "cpu_mechanism": "none",
            "memory_mechanism": "none",
            "host_cores": os.cpu_count() or 1,
            "cpu_period_ms": 20,
        }

    def sandbox(self, sandbox_id: str, memory_mb: int) -> SandboxResources:
        resources = SandboxResources(sandbox_id, memory_mb)
        self._sandboxes.append(resources)
        return resources

    def close(self) -> None:
        for resources in self._sandboxes:
            resources.release()
        self._sandboxes.clear()
