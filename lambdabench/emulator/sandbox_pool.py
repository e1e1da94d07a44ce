"""All sandboxes of the emulator: hands out idle ones (warm) or new ones (cold), retires them on
configuration changes, reaps idle ones after `keep_alive_s`, keeps one process prepared ahead of need
where its launcher can make one, and ends them all on close."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from lambdabench import limits
from lambdabench.emulator.forkserver import ForkServerUnavailable
from lambdabench.emulator.forkserver import supported as forking_supported
from lambdabench.emulator.launchers import other_launcher, runtime_kind
from lambdabench.emulator.sandbox import Sandbox, SandboxSpec
from lambdabench.emulator.sandbox_process import (BOOTSTRAP_SOURCE, SANDBOX_START_CHOICES, SYSTEM_CLOCK, Clock,
                                                  Launcher, Process, PythonLauncher, awslambdaric_available,
                                                  discard)


class SandboxPool:
    """Thread-safe. `host_environment`: the emulator's host variables, of which sandboxes get only the
    allowlisted tuning knobs (sandbox_process.HOST_ENV_ALLOWLIST)."""

    def __init__(self, *, root_dir: Path, resources: Any, log_store_for: Any, keep_alive_s: float,
                 runtime_client: str = "auto", sandbox_start: str = "auto",
                 host_environment: Mapping[str, str] | None = None, clock: Clock = SYSTEM_CLOCK):
        if runtime_client == "auto":
            runtime_client = "awslambdaric" if awslambdaric_available() else "builtin"
        if runtime_client not in ("awslambdaric", "builtin"):
            raise ValueError(f"runtime_client must be auto, awslambdaric or builtin, not {runtime_client!r}")
        if sandbox_start not in SANDBOX_START_CHOICES:
            raise ValueError(f"sandbox_start must be one of {SANDBOX_START_CHOICES}, not {sandbox_start!r}")
        if sandbox_start == "fork" and not forking_supported():
            raise ValueError("sandbox_start 'fork' runs on Linux only")
        self.runtime_client = runtime_client
        self._root = root_dir
        self._clock = clock
        runtime_dir = root_dir / "runtime"
        runtime_dir.mkdir(parents=True, exist_ok=True)
        # The built-in client runs as a script from its own folder, so nothing of lambdabench lands on
        # the handler's sys.path.
        shutil.copyfile(BOOTSTRAP_SOURCE, runtime_dir / "bootstrap.py")
        self.sandbox_start = "fork" if sandbox_start == "fork" or (
            sandbox_start == "auto" and forking_supported()) else "spawn"
        self._launcher: Launcher = PythonLauncher(
            runtime_client=runtime_client, runtime_dir=runtime_dir, sandbox_start=self.sandbox_start,
            work_dir=root_dir / "forkserver", host_environment=host_environment or {})
        # The other runtime kinds' launchers, made when a function of theirs first starts.
        self._runtime_dir = runtime_dir
        self._host_environment = dict(host_environment or {})
        self._other_launchers: dict[str, Launcher] = {}
        # One process started and put in its cgroups ahead of need, so a cold start does not wait for
        # the cgroup move (an RCU grace period, ~10 ms); resized to the sandbox that takes it.
        self._spare: tuple[Process, Any] | None = None
        self._spare_memory_mb = limits.MEMORY_MIN_MB
        self._preparing: threading.Thread | None = None
        self._resources = resources
        self._log_store_for = log_store_for  # region -> LogStore
        self.keep_alive_s = keep_alive_s
        self._lock = threading.Condition()
        self._idle: dict[tuple, list[Sandbox]] = {}
        self._busy: set[Sandbox] = set()
        # region -> key -> is it still its function's current configuration? (set by each backend)
        self._key_checks: dict[str, Callable[[tuple], bool]] = {}
        self._closed = False
        self._reaper = threading.Thread(target=self._reap_loop, name="sandbox-reaper", daemon=True)
        self._reaper.start()
        self._replenish_spare()

    def set_key_check(self, region: str, is_current: Callable[[tuple], bool]) -> None:
        """How the backend of `region` tells whether a sandbox key is still its function's current
        (name, version, revision). Called without the pool's lock held (the backend takes its own)."""
        self._key_checks[region] = is_current

    def _launcher_for(self, spec: SandboxSpec) -> Launcher:
        """The launcher of `spec`'s runtime kind (Python's, Node.js's or a custom runtime's)."""
        return self._launcher_of(runtime_kind(spec.runtime))

    def _launcher_of(self, kind: str) -> Launcher:
        if kind == "python":
            return self._launcher
        with self._lock:
            launcher = self._other_launchers.get(kind)
            if launcher is None:
                launcher = self._other_launchers[kind] = other_launcher(
                    kind, runtime_dir=self._runtime_dir, host_environment=self._host_environment)
            return launcher

    def _stale(self, sandbox: Sandbox) -> bool:
        check = self._key_checks.get(sandbox.spec.region)
        return check is not None and not check(sandbox.spec.key)

    def checkout(self, spec: SandboxSpec) -> Sandbox:
        """An idle sandbox for `spec` (warm), else a new started one (cold). The caller owns it until
        `checkin`. Raises OSError when a process cannot be started."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the emulator is shutting down")
            idle = self._idle.get(spec.key)
            while idle:
                sandbox = idle.pop()
                if sandbox.alive:
                    self._busy.add(sandbox)
                    return sandbox
                self._discard_later(sandbox)
        # A cold start: cgroup setup and the start happen outside the lock, so a burst starts in parallel.
        spare = self._take_spare(spec)
        process, resources = spare if spare is not None else (
            None, self._resources.sandbox(uuid.uuid4().hex[:12], spec.memory_mb))
        sandbox = Sandbox(spec, root_dir=self._root, resources=resources, log_store=self._log_store_for(spec.region),
                          launcher=self._launcher_for(spec), clock=self._clock, prepared=process)
        with self._lock:
            if self._closed:
                sandbox.kill()
                raise RuntimeError("the emulator is shutting down")
            self._busy.add(sandbox)
        # A configuration change between resolving `spec` and the add above found no sandbox to retire:
        # this one may serve its invocation but must not become idle under an outdated key.
        if self._stale(sandbox):
            sandbox.retired = True
        try:
            sandbox.start()
        except BaseException:
            with self._lock:
                self._busy.discard(sandbox)
            sandbox.kill()
            raise
        return sandbox

    def checkin(self, sandbox: Sandbox) -> None:
        # Checked while still busy: a retire() from now on marks it retired, so no change slips between.
        stale = self._stale(sandbox)
        with self._lock:
            self._busy.discard(sandbox)
            keep = sandbox.alive and not sandbox.retired and not stale and not self._closed
            if keep:
                sandbox.last_used = self._clock.perf()
                self._idle.setdefault(sandbox.spec.key, []).append(sandbox)
                self._lock.notify_all()
        if not keep:
            sandbox.kill()
        self._replenish_spare()  # after the invocation, so preparing it does not compete with one

    # ----- the spare process ---------------------------------------------------------------------
    def _take_spare(self, spec: SandboxSpec) -> tuple[Process, Any] | None:
        """The prepared process and its resources, resized for `spec`; None when there is none or it
        cannot serve `spec` (a function that needs a freshly started interpreter)."""
        if not self._launcher_for(spec).takes_prepared(spec):
            return None
        with self._lock:
            spare, self._spare = self._spare, None
            self._spare_memory_mb = spec.memory_mb  # the next spare is prepared for this size
        if spare is None:
            return None
        process, resources = spare
        try:
            if process.poll() is not None:
                raise ProcessLookupError(process.pid)
            resources.resize(spec.memory_mb)
        except OSError:
            self._discard_spare(spare)
            return None
        return spare

    def _replenish_spare(self) -> None:
        # Called after every invocation: the common case (a spare ready) returns without the lock.
        if self._spare is not None or not self._launcher.can_prepare:
            return
        with self._lock:
            if self._closed or self._spare is not None or self._preparing is not None:
                return
            self._preparing = threading.Thread(target=self._prepare_spare, args=(self._spare_memory_mb,),
                                               name="sandbox-spare", daemon=True)
            self._preparing.start()

    def _prepare_spare(self, memory_mb: int) -> None:
        spare, ready = None, False
        try:
            resources = self._resources.sandbox(uuid.uuid4().hex[:12], memory_mb)
            try:
                spare = (self._launcher.prepare(), resources)
            except (ForkServerUnavailable, OSError):
                resources.release()
                return
            resources.attach(spare[0].pid)
            ready = True
        except (OSError, RuntimeError):
            pass  # no spare this time: the next cold start forks its own
        finally:
            with self._lock:
                self._preparing = None
                if ready and not self._closed and self._spare is None:
                    self._spare, spare = spare, None
            if spare is not None:
                self._discard_spare(spare)

    @staticmethod
    def _discard_spare(spare: tuple[Process, Any]) -> None:
        process, resources = spare
        discard(process)
        resources.release()

    def retire(self, function_name: str, keep_keys: frozenset = frozenset()) -> None:
        """Configuration or code changed (or the function is gone): idle sandboxes of the function
        whose key is not in `keep_keys` end now, busy ones after their current invocation."""
        doomed = []
        with self._lock:
            for key in list(self._idle):
                if key[0] == function_name and key not in keep_keys:
                    doomed.extend(self._idle.pop(key))
            for sandbox in self._busy:
                if sandbox.spec.key[0] == function_name and sandbox.spec.key not in keep_keys:
                    sandbox.retired = True
        for sandbox in doomed:
            sandbox.kill()

    def _discard_later(self, sandbox: Sandbox) -> None:
        threading.Thread(target=sandbox.kill, daemon=True).start()

    def _reap_loop(self) -> None:
        with self._lock:
            while not self._closed:
                now = self._clock.perf()
                doomed = []
                next_expiry = None
                for key, sandboxes in list(self._idle.items()):
                    keep = []
                    for sandbox in sandboxes:
                        expiry = sandbox.last_used + self.keep_alive_s
                        if expiry <= now or not sandbox.alive:
                            doomed.append(sandbox)
                        else:
                            keep.append(sandbox)
                            next_expiry = expiry if next_expiry is None else min(next_expiry, expiry)
                    if keep:
                        self._idle[key] = keep
                    else:
                        del self._idle[key]
                if doomed:
                    self._lock.release()
                    try:
                        for sandbox in doomed:
                            sandbox.kill()
                    finally:
                        self._lock.acquire()
                    continue
                # Sleep until the next idle sandbox expires, or until a checkin/close wakes us.
                self._lock.wait(None if next_expiry is None else max(0.0, next_expiry - now) + 0.001)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def forking_failure(self) -> str | None:
        """Why sandboxes are spawned although the pool was set to fork them (the server failed)."""
        return self._launcher.failure

    def runtime_problem(self, runtime: str) -> str | None:
        """Why functions of `runtime` cannot run on this machine (e.g. no `node`), None when they can."""
        return getattr(self._launcher_of(runtime_kind(runtime)), "problem", None)

    def runtime_notes(self) -> tuple[dict[str, str], list[str]]:
        """({runtime kind: what runs it}, warnings) of the launchers made so far beside Python's."""
        with self._lock:
            launchers = dict(self._other_launchers)
        described = {kind: launcher.description() for kind, launcher in launchers.items()
                     if getattr(launcher, "description", None) is not None}
        warnings = [w for launcher in launchers.values() for w in getattr(launcher, "warnings", [])]
        return {k: v for k, v in described.items() if v}, warnings

    def pids(self) -> list[int]:
        with self._lock:
            sandboxes = [s for group in self._idle.values() for s in group] + list(self._busy)
        return [s.proc.pid for s in sandboxes if s.proc is not None and s.alive]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"idle": sum(len(v) for v in self._idle.values()), "busy": len(self._busy)}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sandboxes = [s for group in self._idle.values() for s in group] + list(self._busy)
            self._idle.clear()
            self._lock.notify_all()
        for sandbox in sandboxes:
            sandbox.kill()
        with self._lock:
            spare, self._spare, preparing = self._spare, None, self._preparing
        if preparing is not None:
            preparing.join(timeout=30)  # it discards what it made: the pool is closed
        if spare is not None:
            self._discard_spare(spare)
        self._launcher.close()
        for launcher in self._other_launchers.values():
            launcher.close()
        self._reaper.join(timeout=5)
