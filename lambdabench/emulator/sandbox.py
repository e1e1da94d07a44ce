"""One execution environment: a runtime process, its Runtime API listener and its lifecycle, which
follows Lambda's. (How the process starts: sandbox_process.py; the Runtime API exchange:
sandbox_exchange.py; what it logs: sandbox_log.py; the pool that reuses sandboxes: sandbox_pool.py.)

- INIT: the process may run (its gate opens) → the runtime's first `GET /invocation/next`. That span
  is the Init Duration: runtime start plus handler import, and starting Python too when spawned.
  INIT runs without the CPU limit; the limit starts at that first request.
  INIT is limited to `INIT_TIMEOUT_S`; a runtime that posts /init/error or exits before asking for an
  event fails the invoke with its error type (Runtime.ImportModuleError, Runtime.HandlerNotFound,
  Runtime.ExitError...), an INIT_REPORT line, and the sandbox is discarded.
- INVOKE: the event goes out on the runtime's parked long poll and Duration runs from that write to
  the arrival of the runtime's response/error post. At the deadline the whole process group is killed:
  `Status: timeout`, Duration = the timeout, a `Task timed out after N.NN seconds` line. A process that
  dies mid-invoke is Runtime.ExitError, or Runtime.OutOfMemory when the resource manager says the
  memory limit killed it.
- Exactly one invocation at a time per sandbox; the pool hands a sandbox to one caller only.
- INIT failures report Duration = the failed INIT's length and no Init Duration (Lambda re-runs INIT
  inside the invoke phase and reports that; the emulator does not re-run it).

Logs: the runtime's stdout+stderr (one pipe) is read by a pump thread, which also notices the
process's exit; each invocation collects what the runtime wrote before it answered and writes, in
order, [INIT_START/INIT output,] START, output, [timeout line,] END, REPORT (or the JSON platform
records when LogFormat is JSON) to the log store in one batch: group `/aws/lambda/<name>`, one stream
per sandbox named like Lambda's `YYYY/MM/DD/[<version>]<32 hex>`.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdabench import limits
from lambdabench.emulator.runtime_api import RuntimeApiServer, http_response
from lambdabench.emulator.sandbox_exchange import RuntimeExchange
from lambdabench.emulator.sandbox_log import (Event, PlatformLog, RuntimeOutput, as_messages, billed_duration_ms,
                                              exit_error, hundredths, init_timeout_payload, timeout_payload)
from lambdabench.emulator.sandbox_process import SYSTEM_CLOCK, Clock, Launcher, Process, kill_group
from lambdabench.logs import Report

# Lambda's INIT phase limit for on-demand functions.
INIT_TIMEOUT_S = limits.INIT_TIMEOUT_S


@dataclass(frozen=True)
class SandboxSpec:
    """What a sandbox runs: a snapshot of one function version's configuration."""

    key: tuple                  # sandboxes are reusable only for an identical key
    function_name: str
    version: str                # "$LATEST" or "3"
    function_arn: str           # unqualified ARN
    region: str
    runtime: str
    handler: str
    code_dir: str
    memory_mb: int
    timeout_s: int
    environment: Mapping[str, str] = field(default_factory=dict)
    log_format: str = "Text"
    application_log_level: str | None = None
    log_group: str = ""
    ephemeral_storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB
    architecture: str = limits.DEFAULT_ARCHITECTURE


@dataclass(frozen=True)
class InvocationOutcome:
    request_id: str
    payload: bytes
    function_error: str | None       # "Unhandled" when the invocation failed, else None
    report: Report
    log_text: str                    # this invocation's log, for LogType=Tail
    cold: bool


@dataclass(frozen=True)
class _InitFailure:
    error_type: str
    payload: bytes
    elapsed_ms: float


class Sandbox:
    """One execution environment. Not thread-safe for invokes: the pool gives it to one caller at a time."""

    def __init__(self, spec: SandboxSpec, *, root_dir: Path, resources: Any, log_store: Any, launcher: Launcher,
                 clock: Clock = SYSTEM_CLOCK, prepared: Process | None = None):
        self.spec = spec
        self.sandbox_id = uuid.uuid4().hex
        self._clock = clock
        when = datetime.fromtimestamp(clock.wall_ms() / 1000, tz=timezone.utc)
        self.log_stream = f"{when:%Y/%m/%d}/[{spec.version}]{self.sandbox_id}"
        self._root = root_dir / self.sandbox_id
        self._resources = resources
        self._store = log_store
        self._launcher = launcher
        self._platform = PlatformLog(runtime=spec.runtime, function_name=spec.function_name,
                                     version=spec.version, log_format=spec.log_format)
        # `prepared`: a process started and attached to `resources` ahead of need, waiting at its gate;
        # ours to end from now on, even if this sandbox never starts.
        self.proc: Process | None = prepared
        self.retired = False
        self.last_used = clock.perf()
        self.invocations = 0
        self._exchange = RuntimeExchange(perf=clock.perf, on_first_request=resources.start_cpu_limit)
        self._t_spawn = 0.0
        self._wall_spawn_ms = 0
        self._life_lock = threading.Lock()
        self._output: RuntimeOutput | None = None
        self._api: RuntimeApiServer | None = None
        self._pump: threading.Thread | None = None

    # ----- process ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the runtime process (INIT starts now). Raises OSError if it cannot be started."""
        # Serialised with kill(): a shutdown racing a cold start must never leave a process behind.
        with self._life_lock:
            if self._exchange.closing:
                raise RuntimeError("the emulator is shutting down")
            self._start()

    def _start(self) -> None:
        tmp_dir = self._root / "tmp"
        tmp_dir.mkdir(parents=True)
        self._api = RuntimeApiServer(self._exchange, name=f"rapi-{self.sandbox_id[:8]}")
        self._api.start()
        env = self._launcher.environment(self.spec, log_stream=self.log_stream, api_address=self._api.address,
                                         tmp_dir=tmp_dir)
        prepared, self.proc = self.proc, None
        try:
            started = self._launcher.start(self.spec, env, self._resources, prepared, self._clock)
        except BaseException:
            self.proc = prepared  # a prepared process the launcher did not take is still ours to end
            raise
        self.proc = started.process
        self._t_spawn, self._wall_spawn_ms = started.init_start_perf, started.init_start_wall_ms
        out_fd = self.proc.stdout.fileno()
        os.set_blocking(out_fd, False)
        self._output = RuntimeOutput(out_fd, self._clock.wall_ms)
        self._pump = threading.Thread(target=self._pump_loop, name=f"sandbox-{self.sandbox_id[:8]}", daemon=True)
        self._pump.start()

    def _pump_loop(self) -> None:
        """Read the runtime's output as it comes and notice the process's exit (pidfd, no polling)."""
        proc, output = self.proc, self._output
        poller = select.poll()
        poller.register(output.fd, select.POLLIN | select.POLLHUP)
        pidfd = -1
        try:
            pidfd = os.pidfd_open(proc.pid)
            poller.register(pidfd, select.POLLIN)
        except (AttributeError, OSError):
            pidfd = -1
        try:
            while True:
                if pidfd < 0 and output.eof:
                    proc.wait()  # no pidfd (old kernel/macOS): output EOF is the exit signal
                    break
                for fd, _ in poller.poll():
                    if fd == output.fd:
                        output.read_available()
                        if output.eof:
                            poller.unregister(output.fd)
                    elif fd == pidfd:
                        proc.wait()
                if proc.poll() is not None:
                    break
        finally:
            if pidfd >= 0:
                os.close(pidfd)
        # Children the handler left behind share the session: end them with their parent.
        kill_group(proc)
        output.read_available()
        self._exchange.process_exited(proc.returncode)

    def kill(self) -> None:
        """End the process (and its children), stop the Runtime API, release resources. Idempotent."""
        self._exchange.close()
        with self._life_lock:
            self._kill()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_group(self.proc)
        if self._pump is not None and self._pump is not threading.current_thread():
            self._pump.join(timeout=10)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
        if self._api is not None:
            self._api.close()
        self._resources.release()
        shutil.rmtree(self._root, ignore_errors=True)
        self._exchange.release_wake_pipe()

    @property
    def alive(self) -> bool:
        return self.proc is not None and not self._exchange.exited and not self._exchange.closing

    def _take_output(self) -> list[Event]:
        return self._output.take() if self._output is not None else []

    # ----- invoke ----------------------------------------------------------------------------
    def invoke(self, request_id: str, payload: bytes, *, invoked_arn: str,
               client_context: str | None = None) -> InvocationOutcome:
        """Run one invocation to its end (response, error, timeout or death) and log it."""
        spec = self.spec
        cold = self.invocations == 0
        self.invocations += 1
        events: list[Event] = []
        init_ms: float | None = None

        if cold:
            events.extend(self._platform.init_start(self._wall_spawn_ms))
            failure = self._wait_ready()
            init_ms = (self._exchange.t_ready - self._t_spawn) * 1000 if failure is None else None
            events.extend(self._take_output())
            if failure is not None:
                return self._init_failed(request_id, failure, events)

        start_wall = self._clock.wall_ms()
        events.append(self._platform.start(request_id, start_wall))
        deadline_epoch_ms = start_wall + spec.timeout_s * 1000
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_epoch_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invoked_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{start_wall // 1000:08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            "Content-Type": "application/json",
        }
        if client_context:
            headers["Lambda-Runtime-Client-Context"] = client_context
        answer = self._exchange.exchange(request_id, http_response(200, payload, headers), spec.timeout_s)

        max_memory = self._resources.peak_rss_mb()
        status, error_type, function_error, timed_out = "success", None, None, False
        reported_type = None
        if answer.result is not None:
            kind, out_payload, reported_type = answer.result
            duration_ms = (answer.t_end - answer.t_start) * 1000
            if kind == "error":
                function_error = "Unhandled"
                if self._resources.is_oom_error(reported_type, out_payload):
                    # RLIMIT_AS fallback: the limit shows as MemoryError; Lambda calls it OutOfMemory
                    # and replaces the environment.
                    status, error_type = "error", "Runtime.OutOfMemory"
                    max_memory = spec.memory_mb
                    self.retired = True
        elif answer.exited:
            duration_ms = (answer.t_end - answer.t_start) * 1000
            returncode = self._exchange.returncode
            oom = self._resources.oom_killed(returncode)
            error_type, out_payload = exit_error(request_id, returncode, oom)
            status, function_error = "error", "Unhandled"
            if oom:
                max_memory = spec.memory_mb
        else:
            timed_out = True
            self.retired = True  # the pump may not have seen the death yet: never hand it out again
            kill_group(self.proc)
            duration_ms = spec.timeout_s * 1000.0
            status, function_error = "timeout", "Unhandled"
            out_payload = timeout_payload(request_id, spec.timeout_s)

        events.extend(self._take_output())
        if max_memory is not None:
            max_memory = min(max_memory, spec.memory_mb)
        duration_ms = hundredths(duration_ms) / 100
        if init_ms is not None:
            init_ms = hundredths(init_ms) / 100
        report = Report(
            request_id=request_id, duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, init_ms),
            memory_size_mb=spec.memory_mb, max_memory_used_mb=max_memory,
            init_duration_ms=init_ms, status=status, error_type=error_type,
        )
        end_wall = self._clock.wall_ms()
        if timed_out:
            events.extend(self._platform.timed_out(request_id, spec.timeout_s, end_wall))
        events.extend(self._platform.end(request_id, report, end_wall, function_error, reported_type))
        return self._finish(request_id, out_payload, function_error, report, events, cold)

    def _wait_ready(self) -> _InitFailure | None:
        """Wait for INIT to end. None when the runtime asked for an event; else the failed INIT."""
        end = self._exchange.wait_init(self._t_spawn + INIT_TIMEOUT_S)
        if end.kind == "ready":
            return None
        elapsed_ms = (end.t - self._t_spawn) * 1000
        if end.kind == "error":
            return _InitFailure(end.error_type, end.body, elapsed_ms)
        if end.kind == "exited":
            returncode = self._exchange.returncode
            error_type, payload = exit_error("", returncode, self._resources.oom_killed(returncode))
            return _InitFailure(error_type, payload, elapsed_ms)
        kill_group(self.proc)
        return _InitFailure("Sandbox.Timedout", init_timeout_payload(INIT_TIMEOUT_S), INIT_TIMEOUT_S * 1000.0)

    def _init_failed(self, request_id: str, failure: _InitFailure, events: list[Event]) -> InvocationOutcome:
        """INIT failed: Lambda logs INIT_REPORT with the error, then the invoke as an error with that
        type; the sandbox is discarded. Duration is the failed INIT's (no Init Duration field)."""
        self.retired = True
        kill_group(self.proc)
        spec = self.spec
        duration_ms = hundredths(failure.elapsed_ms) / 100
        status = "timeout" if failure.error_type == "Sandbox.Timedout" else "error"
        error_type = failure.error_type if status == "error" else None
        now = self._clock.wall_ms()
        events.append(self._platform.init_report(duration_ms, status, error_type, now))
        events.append(self._platform.start(request_id, now))
        peak = self._resources.peak_rss_mb()
        report = Report(
            request_id=request_id, duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, None), memory_size_mb=spec.memory_mb,
            max_memory_used_mb=min(peak, spec.memory_mb) if peak is not None else None,
            status=status, error_type=error_type,
        )
        events.extend(self._platform.end(request_id, report, now, "Unhandled", None))
        return self._finish(request_id, failure.payload, "Unhandled", report, events, True)

    def _finish(self, request_id: str, payload: bytes, function_error: str | None, report: Report,
                events: list[Event], cold: bool) -> InvocationOutcome:
        events = as_messages(events)
        self._store.put_log_events(self.spec.log_group, self.log_stream, events)
        self.last_used = self._clock.perf()
        return InvocationOutcome(request_id=request_id, payload=payload, function_error=function_error,
                                 report=report, log_text="".join(msg for _, msg in events), cold=cold)
