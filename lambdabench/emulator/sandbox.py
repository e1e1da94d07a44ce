"""Execution environments: one sandbox = one runtime process, and the pool that reuses them.

A `Sandbox` runs the official runtime interface client (`python -m awslambdaric <handler>`, same
interpreter as the emulator) or, where that cannot be imported, the built-in `bootstrap.py`, against
its own Runtime API listener (`runtime_api.py`). Its process is forked from a prepared interpreter
(`forkserver.py`; the pool keeps one spare in its cgroups) or, with sandbox_start "spawn" and where a
fork cannot serve, started from nothing. Its lifecycle follows Lambda's:

- INIT: the process may run (its gate opens) → the runtime's first `GET /invocation/next`. That span
  is the Init Duration: runtime start plus handler import, and starting Python too when spawned.
  INIT runs without the CPU limit; the limit starts at that first request.
  INIT is limited to `INIT_TIMEOUT_S`; a runtime that posts /init/error or exits before asking for an
  event fails the invoke with its error type (Runtime.ImportModuleError, Runtime.HandlerNotFound,
  Runtime.ExitError...), an INIT_REPORT line, and the sandbox is discarded.
- INVOKE: the invoking thread writes the event on the runtime's parked long poll and reads the answer
  from the same connection itself (see runtime_api.py); Duration runs from that write to the arrival of
  the runtime's response/error post. At the deadline the whole process group is killed: `Status: timeout`,
  Duration = the timeout, a `Task timed out after N.NN seconds` line. A process that dies mid-invoke is
  Runtime.ExitError, or Runtime.OutOfMemory when the resource manager says the memory limit killed it.
- Exactly one invocation at a time per sandbox; the pool hands a sandbox to one caller only.
- INIT failures report Duration = the failed INIT's length and no Init Duration (Lambda re-runs INIT
  inside the invoke phase and reports that; the emulator does not re-run it).
- The payload of a timeout is Lambda's current `{"errorType": "Sandbox.Timedout", "errorMessage":
  "RequestId: <id> Error: Task timed out after N.NN seconds"}`; of a dead runtime
  `{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: <id> Error: Runtime exited with error:
  exit status N | signal: killed"}`.

Logs: the runtime's stdout+stderr (one pipe) is read by a pump thread; each invocation collects what
the runtime wrote before it answered (writes precede the response post, so a non-blocking drain at the
end finds them all) and writes, in order, [INIT_START/INIT output,] START, output, [timeout line,] END,
REPORT (or the JSON platform records when LogFormat is JSON) to the log store in one batch: group
`/aws/lambda/<name>`, one stream per sandbox named like Lambda's `YYYY/MM/DD/[<version>]<32 hex>`.

The environment is built from scratch: Lambda's variables plus the function's own, never the host's
(no AWS credentials, no HOME, no host PATH entries beyond the interpreter's folder). The only host
variables passed on are `HOST_ENV_ALLOWLIST`: non-secret tuning knobs some native libraries need.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from lambdabench import limits, logs
from lambdabench.emulator.forkserver import (ForkedProcess, ForkServer, ForkServerUnavailable,
                                              needs_fresh_interpreter, runtime_client_preload)
from lambdabench.emulator.forkserver import supported as forking_supported
from lambdabench.emulator.runtime_api import (ACCEPTED, INVALID_REQUEST_ID, BadRequest, answer,
                                               http_response)
from lambdabench.logs import Report

# Host variables a sandbox may inherit: interpreter/BLAS tuning knobs only, never secrets. OpenBLAS
# mis-detects some virtual CPUs without OPENBLAS_CORETYPE and crashes at import of numpy.
HOST_ENV_ALLOWLIST = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# Lambda's INIT phase limit for on-demand functions.
INIT_TIMEOUT_S = limits.INIT_TIMEOUT_S
LOG_TAIL_BYTES = limits.LOG_RESULT_TAIL_BYTES
# How a sandbox process comes to be: forked from a prepared interpreter (forkserver.py) or started from
# nothing; "auto" forks where the platform can.
SANDBOX_START_CHOICES = ("auto", "fork", "spawn")

_BOOTSTRAP_SOURCE = Path(__file__).with_name("bootstrap.py")

# The sandbox interpreter starts with -S: processing the host's site-packages .pth files (editable
# installs, distutils hacks) costs 10-20% of a cold start here and is nothing Lambda does for a
# function. The launcher restores what `site` gives every program (exit/quit/help/copyright builtins)
# and runs the runtime client as `python -m awslambdaric <handler>` or `python bootstrap.py <handler>`
# would. The packages folder comes in through PYTHONPATH instead.
# It also gives the runtime the signal dispositions Lambda's does (all default, so Python's SIGINT
# handler), whatever the emulator inherited: a background job of a non-interactive shell ignores SIGINT
# and SIGQUIT, nohup SIGHUP, and exec passes an ignored signal on. (`_signal`: `signal` imports enum.)
_LAUNCHER = (
    "import _signal, runpy, site, sys\n"
    "for _n in ('SIGHUP', 'SIGQUIT', 'SIGTERM'): _signal.signal(getattr(_signal, _n), _signal.SIG_DFL)\n"
    "_signal.signal(_signal.SIGINT, _signal.default_int_handler)\n"
    "site.setquit(); site.setcopyright(); site.sethelper()\n"
    "target = sys.argv[1]; sys.argv = [target] + sys.argv[2:]\n"
    "if target.endswith('.py'):\n"
    "    runpy.run_path(target, run_name='__main__')\n"
    "else:\n"
    "    runpy.run_module(target, run_name='__main__', alter_sys=True)\n"
)
_SITE_PACKAGES = tuple(dict.fromkeys(
    path for path in (sysconfig.get_paths().get("purelib"), sysconfig.get_paths().get("platlib")) if path))


def interpreter_environment(home: Path) -> dict[str, str]:
    """The variables every sandbox interpreter starts with, before its function's own: also what the
    fork server starts with, so a forked sandbox starts as a spawned one would."""
    env = {
        "PYTHONPATH": os.pathsep.join(_SITE_PACKAGES),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        # Keep the host's AWS credentials out of the handler: with no HOME, boto3 falls back to the
        # password database's home (e.g. /root) and reads ~/.aws/credentials; on EC2 it would ask
        # the instance metadata service. The sandbox gets its own HOME and no credential sources.
        "HOME": str(home),
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Output must reach the pipe before the runtime posts its response (log ordering).
        "PYTHONUNBUFFERED": "1",
    }
    for name in HOST_ENV_ALLOWLIST:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def awslambdaric_available() -> bool:
    """True when this interpreter can run the official client (package and its native module)."""
    return (importlib.util.find_spec("awslambdaric") is not None
            and importlib.util.find_spec("runtime_client") is not None)


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
    ephemeral_storage_mb: int = 512
    architecture: str = "x86_64"


@dataclass(frozen=True)
class InvocationOutcome:
    request_id: str
    payload: bytes
    function_error: str | None       # "Unhandled" when the invocation failed, else None
    report: Report
    log_text: str                    # this invocation's log, for LogType=Tail
    cold: bool


def _now_ms() -> int:
    return int(time.time() * 1000)


def _hundredths(ms: float) -> int:
    return int(round(ms * 100))


def billed_duration_ms(duration_ms: float, init_duration_ms: float | None) -> int:
    """Today's rule: ceil(Duration + Init Duration) on a cold start, ceil(Duration) warm; at least 1 ms.
    Computed on the two-decimal values the REPORT line shows, in integer hundredths (no float error)."""
    total = _hundredths(duration_ms) + (_hundredths(init_duration_ms) if init_duration_ms is not None else 0)
    return max(1, -(-total // 100))


def log_tail(text: str) -> str:
    """base64 of the last 4 KB of an invocation's log (Invoke's X-Amz-Log-Result)."""
    data = text.encode("utf-8")[-LOG_TAIL_BYTES:]
    return base64.b64encode(data).decode("ascii")


def _runtime_version(runtime: str) -> tuple[str, str]:
    """INIT_START's runtime version and ARN. Real ones name an AWS build; ours say they are emulated."""
    name = runtime.replace("python", "python:", 1) if runtime.startswith("python") else runtime
    digest = hashlib.sha256(f"lambdabench-emulator:{runtime}".encode()).hexdigest()
    return f"{name}.lambdabench", f"arn:aws:lambda:us-east-1::runtime:{digest}"


class Sandbox:
    """One execution environment. Not thread-safe for invokes: the pool gives it to one caller at a time."""

    def __init__(self, spec: SandboxSpec, *, root_dir: Path, resources: Any, log_store: Any,
                 runtime_client: str, runtime_dir: Path, forkserver: ForkServer | None = None,
                 prepared: ForkedProcess | None = None):
        self.spec = spec
        self.sandbox_id = uuid.uuid4().hex
        self.log_stream = f"{datetime.now(timezone.utc):%Y/%m/%d}/[{spec.version}]{self.sandbox_id}"
        self._root = root_dir / self.sandbox_id
        self._resources = resources
        self._store = log_store
        self._runtime_client = runtime_client
        self._runtime_dir = runtime_dir
        self._forkserver = forkserver
        # `prepared`: a process forked and attached to `resources` ahead of need, waiting at its gate;
        # ours to end from now on, even if this sandbox never starts.
        self.proc: subprocess.Popen | ForkedProcess | None = prepared
        self.retired = False
        self.last_used = time.monotonic()
        self.invocations = 0

        self._cond = threading.Condition()
        self._ready = False
        self._t_spawn = 0.0
        self._t_ready = 0.0
        self._parked = None          # the runtime connection waiting for an event (GET /next read)
        self._lent = None            # that connection while invokers use it (its thread sleeps)
        self._idle_conn = None       # the lent connection between invocations (GET /next not yet read)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._inflight: str | None = None
        self._result: tuple[str, bytes, str | None] | None = None
        self._t_result = 0.0
        self._init_error: tuple[bytes, str] | None = None
        self._t_init_error = 0.0
        self._exited = False
        self._t_exit = 0.0
        self._returncode: int | None = None
        self._closing = False

        self._out_lock = threading.Lock()
        self._life_lock = threading.Lock()
        self._out_fd = -1
        self._out_eof = False
        self._partial = b""
        self._lines: list[tuple[int, str]] = []
        self._api = None
        self._pump: threading.Thread | None = None

    # ----- process ---------------------------------------------------------------------------
    def _environment(self, api_address: str, tmp_dir: Path) -> dict[str, str]:
        spec = self.spec
        env = interpreter_environment(home=tmp_dir)
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_RUNTIME_API": api_address,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": spec.code_dir,
            "LAMBDA_RUNTIME_DIR": str(self._runtime_dir),
            # Lambda starts the runtime from a shell script (its bootstrap), which exports PWD.
            "PWD": spec.code_dir,
            # Task root first (as on Lambda), then the interpreter's own packages (the runtime client,
            # and boto3 as Lambda's runtime provides it); see _LAUNCHER for why not via `site`.
            "PYTHONPATH": os.pathsep.join([spec.code_dir, *_SITE_PACKAGES]),
            "TMPDIR": str(tmp_dir),
        })
        if spec.log_format == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level or "INFO"
        env.update(spec.environment)
        if spec.environment.get("PYTHONPATH"):
            # Not reserved on Lambda (layers use it); its runtime still finds the task root first and
            # its own packages after the function's entries.
            env["PYTHONPATH"] = os.pathsep.join([spec.code_dir, spec.environment["PYTHONPATH"], *_SITE_PACKAGES])
        return env

    def start(self) -> None:
        """Spawn the runtime process (INIT starts now). Raises OSError if it cannot be spawned."""
        # Serialised with kill(): a shutdown racing a cold start must never leave a process behind.
        with self._life_lock:
            if self._closing:
                raise RuntimeError("the emulator is shutting down")
            self._start()

    def _start(self) -> None:
        from lambdabench.emulator.runtime_api import RuntimeApiServer

        tmp_dir = self._root / "tmp"
        tmp_dir.mkdir(parents=True)
        self._api = RuntimeApiServer(self, name=f"rapi-{self.sandbox_id[:8]}")
        self._api.start()
        target = "awslambdaric" if self._runtime_client == "awslambdaric" else str(self._runtime_dir / "bootstrap.py")
        env = self._environment(self._api.address, tmp_dir)
        if self.proc is not None:
            pass  # prepared: forked and put in its cgroups ahead of need
        elif self._forkserver is not None and not needs_fresh_interpreter(self.spec.environment):
            try:
                self.proc = self._forkserver.fork()
            except ForkServerUnavailable:
                pass  # start it from nothing instead
            else:
                self._resources.attach(self.proc.pid)
        if isinstance(self.proc, ForkedProcess):
            # INIT starts when the gate opens: the process is in place, the sandbox's setup and the
            # runtime client's start are INIT's.
            self._t_spawn = time.perf_counter()
            self._wall_spawn_ms = _now_ms()
            try:
                self.proc.release(target, [self.spec.handler], env=env, cwd=self.spec.code_dir)
            except OSError:
                pass  # the process is already gone; the pump sees its exit (Runtime.ExitError)
        else:
            self._spawn(target, env)
        self._out_fd = self.proc.stdout.fileno()
        os.set_blocking(self._out_fd, False)
        self._pump = threading.Thread(target=self._pump_loop, name=f"sandbox-{self.sandbox_id[:8]}", daemon=True)
        self._pump.start()

    def _spawn(self, target: str, env: dict[str, str]) -> None:
        """Start the runtime from nothing: a fresh interpreter runs the launcher."""
        argv = [sys.executable, "-S", "-c", _LAUNCHER, target, self.spec.handler]
        # A gated launcher waits until attach() has put it in its cgroups: that move costs a v1
        # cgroup an RCU grace period (10-20 ms), host-side setup outside INIT (see gated_command).
        argv, gated = self._resources.gated_command(argv)
        kwargs: dict[str, Any] = {"start_new_session": True}
        kwargs.update(self._resources.popen_kwargs())
        if not gated:
            self._t_spawn = time.perf_counter()
            self._wall_spawn_ms = _now_ms()
        self.proc = subprocess.Popen(
            argv, cwd=self.spec.code_dir, env=env,
            stdin=subprocess.PIPE if gated else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, close_fds=True, **kwargs,
        )
        self._resources.attach(self.proc.pid)
        if gated:
            # INIT starts when the runtime is exec'd: the gate opens once the launcher is in place.
            self._t_spawn = time.perf_counter()
            self._wall_spawn_ms = _now_ms()
            try:
                os.write(self.proc.stdin.fileno(), b"\n")
            except OSError:
                pass  # the launcher is already gone; the pump sees its exit (Runtime.ExitError)
            self.proc.stdin.close()

    def _pump_loop(self) -> None:
        """Read the runtime's output as it comes and notice the process's exit (pidfd, no polling)."""
        proc = self.proc
        poller = select.poll()
        poller.register(self._out_fd, select.POLLIN | select.POLLHUP)
        pidfd = -1
        try:
            pidfd = os.pidfd_open(proc.pid)
            poller.register(pidfd, select.POLLIN)
        except (AttributeError, OSError):
            pidfd = -1
        try:
            while True:
                if pidfd < 0 and self._out_eof:
                    proc.wait()  # no pidfd (old kernel/macOS): output EOF is the exit signal
                    break
                for fd, _ in poller.poll():
                    if fd == self._out_fd:
                        with self._out_lock:
                            self._read_available()
                        if self._out_eof:
                            poller.unregister(self._out_fd)
                    elif fd == pidfd:
                        proc.wait()
                if proc.poll() is not None:
                    break
        finally:
            if pidfd >= 0:
                os.close(pidfd)
        # Children the handler left behind share the session: end them with their parent.
        self._kill_group()
        with self._out_lock:
            self._read_available()
        with self._cond:
            self._exited = True
            self._t_exit = time.perf_counter()
            self._returncode = proc.returncode
            self._cond.notify_all()
        self._wake()

    def _read_available(self) -> None:
        """Non-blocking read of whatever the pipe holds; complete lines become log events."""
        if self._out_eof:
            return
        chunks = []
        while True:
            try:
                data = os.read(self._out_fd, 65536)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                data = b""
            if not data:
                self._out_eof = True
                break
            chunks.append(data)
        if not chunks:
            return
        data = self._partial + b"".join(chunks)
        lines = data.split(b"\n")
        self._partial = lines.pop()
        now = _now_ms()
        for line in lines:
            self._lines.append((now, line.decode("utf-8", "replace")))

    def _take_output(self) -> list[tuple[int, str]]:
        with self._out_lock:
            self._read_available()
            lines, self._lines = self._lines, []
            if self._partial:
                lines.append((_now_ms(), self._partial.decode("utf-8", "replace")))
                self._partial = b""
        return lines

    def _kill_group(self) -> None:
        if isinstance(self.proc, ForkedProcess):
            self.proc.kill()  # also when it has not left the server's session yet
            return
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def kill(self) -> None:
        """End the process (and its children), stop the Runtime API, release resources. Idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        with self._life_lock:
            self._kill()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._kill_group()
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
        fds, (self._wake_r, self._wake_w) = (self._wake_r, self._wake_w), (-1, -1)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    @property
    def alive(self) -> bool:
        return self.proc is not None and not self._exited and not self._closing

    # ----- RuntimeHandler (called on the Runtime API connection thread) ------------------------
    def park(self, conn) -> bool:
        """The runtime asked for an event on `conn`: hand the connection to the next invoker and wait
        until it comes back (True) or the sandbox closes (False)."""
        t = time.perf_counter()
        if not self._ready:
            # INIT is over: from now on the quota applies (set before any event can be handed over).
            self._resources.start_cpu_limit()
        with self._cond:
            if not self._ready:
                self._ready = True
                self._t_ready = t
            self._parked = conn
            self._cond.notify_all()
            while (self._parked is conn or self._lent is conn) and not self._closing:
                self._cond.wait()
            if self._parked is conn:
                self._parked = None
            return not self._closing

    def invocation_response(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        return self._set_result(request_id, ("response", body, None))

    def invocation_error(self, request_id: str, body: bytes, headers: dict[str, str]) -> int:
        error_type = headers.get("lambda-runtime-function-error-type")
        return self._set_result(request_id, ("error", body, error_type))

    def _set_result(self, request_id: str, result: tuple[str, bytes, str | None], wake: bool = True,
                    t: float | None = None) -> int:
        t = time.perf_counter() if t is None else t
        with self._cond:
            if request_id != self._inflight or self._result is not None:
                return 400
            self._result = result
            self._t_result = t
            self._cond.notify_all()
        if wake:  # posted on another connection: the invoker polls the lent one and the wake pipe
            self._wake()
        return 202

    def init_error(self, body: bytes, headers: dict[str, str]) -> int:
        t = time.perf_counter()
        with self._cond:
            if self._ready or self._init_error is not None:
                return 403
            error_type = headers.get("lambda-runtime-function-error-type") or "Runtime.Unknown"
            self._init_error = (body, error_type)
            self._t_init_error = t
            self._cond.notify_all()
        return 202

    # ----- invoke ----------------------------------------------------------------------------
    def invoke(self, request_id: str, payload: bytes, *, invoked_arn: str,
               client_context: str | None = None) -> InvocationOutcome:
        """Run one invocation to its end (response, error, timeout or death) and log it."""
        spec = self.spec
        cold = self.invocations == 0
        self.invocations += 1
        events: list[tuple[int, str]] = []
        json_logs = spec.log_format == "JSON"
        init_ms: float | None = None

        if cold:
            events.extend(self._init_start_events())
            failure = self._wait_ready()
            init_ms = (self._t_ready - self._t_spawn) * 1000 if failure is None else None
            events.extend(self._take_output())
            if failure is not None:
                return self._init_failed(request_id, failure, events)

        start_wall = _now_ms()
        events.append((start_wall, self._start_line(request_id, start_wall)))
        deadline_epoch_ms = start_wall + spec.timeout_s * 1000
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_epoch_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invoked_arn,
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            "Content-Type": "application/json",
        }
        if client_context:
            headers["Lambda-Runtime-Client-Context"] = client_context
        event = http_response(200, payload, headers)
        result, exited, t_start, t_end = self._exchange(request_id, event, spec.timeout_s)

        max_memory = self._resources.peak_rss_mb()
        status, error_type, function_error, timed_out = "success", None, None, False
        if result is not None:
            kind, body, reported_type = result
            duration_ms = (t_end - t_start) * 1000
            out_payload = body
            if kind == "error":
                function_error = "Unhandled"
                if self._resources.is_oom_error(reported_type, body):
                    # RLIMIT_AS fallback: the limit shows as MemoryError; Lambda calls it OutOfMemory
                    # and replaces the environment.
                    status, error_type = "error", "Runtime.OutOfMemory"
                    max_memory = spec.memory_mb
                    self.retired = True
        elif exited:
            duration_ms = (t_end - t_start) * 1000
            oom = self._resources.oom_killed(self._returncode)
            error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
            status, function_error = "error", "Unhandled"
            if oom:
                max_memory = spec.memory_mb
            out_payload = json.dumps({
                "errorType": error_type,
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {self._exit_text()}",
            }).encode()
        else:
            timed_out = True
            self.retired = True  # the pump may not have seen the death yet: never hand it out again
            self._kill_group()
            duration_ms = spec.timeout_s * 1000.0
            status, function_error = "timeout", "Unhandled"
            out_payload = json.dumps({
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {spec.timeout_s:.2f} seconds",
            }).encode()

        events.extend(self._take_output())
        if max_memory is not None:
            max_memory = min(max_memory, spec.memory_mb)
        duration_ms = _hundredths(duration_ms) / 100
        if init_ms is not None:
            init_ms = _hundredths(init_ms) / 100
        report = Report(
            request_id=request_id, duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, init_ms),
            memory_size_mb=spec.memory_mb, max_memory_used_mb=max_memory,
            init_duration_ms=init_ms, status=status, error_type=error_type,
        )
        end_wall = _now_ms()
        if timed_out and not json_logs:
            events.append((end_wall, logs.format_timeout(request_id, float(spec.timeout_s),
                                                         datetime.now(timezone.utc))))
        events.extend(self._end_events(request_id, report, end_wall, function_error, result))
        return self._finish(request_id, out_payload, function_error, report, events, cold)

    def _exchange(self, request_id: str, event: bytes, timeout_s: float):
        """Hand the event to the runtime and wait for its answer, its death or the deadline.

        Returns (result, exited, t_start, t_end). The event is written on the parked connection by
        this thread and the answer read from it by this thread: no thread hand-off on the path that
        Duration measures. Answers posted on another connection, and the process's death, arrive
        through the wake pipe."""
        deadline = time.perf_counter() + timeout_s
        conn = self._ready_connection(request_id, deadline)
        result = None
        t_start = time.perf_counter()
        deadline = t_start + timeout_s
        connection_alive = conn is not None
        if conn is not None:
            try:
                conn.send(event)
            except OSError:
                connection_alive = False
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        if connection_alive:
            poller.register(conn.fileno(), select.POLLIN)
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            if connection_alive and conn.has_buffered_data():
                ready = [(conn.fileno(), select.POLLIN)]
            else:
                ready = poller.poll(remaining * 1000)
            # Duration ends when the runtime's answer arrives (as Lambda's Runtime API measures it),
            # not after this thread has parsed it.
            t_arrival = time.perf_counter()
            for fd, _ in ready:
                if fd == self._wake_r:
                    try:
                        while os.read(self._wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                try:
                    request = conn.read_request(timeout=max(remaining, 0.001))
                except TimeoutError:
                    request = None
                    break
                except (OSError, BadRequest):
                    request = None
                if request is None:  # EOF: the runtime is gone; the pump reports how it ended
                    connection_alive = False
                    poller.unregister(conn.fileno())
                    continue
                reply = self._answer_on_lent(conn, request, request_id, t_arrival)
                if reply is not None:
                    try:
                        conn.send(reply)
                    except OSError:
                        connection_alive = False
                        poller.unregister(conn.fileno())
            with self._cond:
                if self._result is not None or self._exited:
                    break
                if not connection_alive and not self._exited:
                    # The socket closed before the pump saw the exit: wait for it (bounded).
                    self._cond.wait(min(1.0, max(deadline - time.perf_counter(), 0.0)))
                    if self._exited or self._result is not None:
                        break
        with self._cond:
            result = self._result
            exited = self._exited and result is None
            t_end = self._t_result if result is not None else (self._t_exit if exited else time.perf_counter())
            self._inflight = None
            if result is not None and connection_alive:
                # Keep the connection (still lent: its thread stays asleep): the runtime's next
                # GET /next is read by the next invoker, which finds it already waiting in the socket.
                self._idle_conn = conn
        return result, exited, t_start, t_end

    def _ready_connection(self, request_id: str, deadline: float):
        """A connection on which the runtime is waiting for an event (its GET /next consumed), or None
        when the runtime is gone or never asks in time."""
        while True:
            with self._cond:
                self._result = None
                self._inflight = request_id
                while self._parked is None and self._idle_conn is None and not self._exited and not self._closing:
                    remaining = deadline - time.perf_counter()
                    if remaining <= 0:
                        return None
                    self._cond.wait(remaining)
                if self._parked is not None:  # a (new) connection parked by its thread: GET /next consumed
                    conn, self._parked = self._parked, None
                    if self._idle_conn is not None and self._idle_conn is not conn:
                        self._idle_conn = None
                    self._lent = conn
                    return conn
                conn, self._idle_conn = self._idle_conn, None
                if conn is None:
                    return None
            # The runtime's GET /next after the previous invocation is normally already buffered.
            while True:
                try:
                    request = conn.read_request(timeout=max(deadline - time.perf_counter(), 0.001))
                except (OSError, BadRequest):  # includes TimeoutError: never asked for another event
                    request = None
                if request is None:
                    break  # this connection is finished; wait for another one, or for the exit
                if request.route == "invocation/next" and request.method == "GET":
                    return conn
                try:
                    conn.send(answer(self, request))
                except OSError:
                    break
            with self._cond:
                if self._lent is conn:
                    self._lent = None
                    self._cond.notify_all()  # its thread ends the connection
                if time.perf_counter() >= deadline:
                    return None

    def _answer_on_lent(self, conn, request, request_id: str, t_arrival: float) -> bytes | None:
        """Reply to a request read on the lent connection during an invocation."""
        route = request.route
        if request.method == "POST" and route == f"invocation/{request_id}/response":
            status = self._set_result(request_id, ("response", request.body, None), wake=False, t=t_arrival)
            return ACCEPTED if status == 202 else INVALID_REQUEST_ID
        if request.method == "POST" and route == f"invocation/{request_id}/error":
            error_type = request.headers.get("lambda-runtime-function-error-type")
            status = self._set_result(request_id, ("error", request.body, error_type), wake=False, t=t_arrival)
            return ACCEPTED if status == 202 else INVALID_REQUEST_ID
        if route == "invocation/next":
            # Asking for another event without answering this one: Lambda's runtime API refuses it.
            return http_response(400, b'{"errorMessage":"Invalid request: an invocation is in progress",'
                                      b'"errorType":"InvalidStateTransition"}')
        return answer(self, request)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # pipe full (a wake is pending anyway) or closed (sandbox gone)

    def _exit_text(self) -> str:
        """As Lambda's Go runtime host words a process's end: "exit status 3", "signal: killed",
        "signal: terminated", "signal: segmentation fault"."""
        rc = self._returncode
        if rc is not None and rc < 0:
            try:
                name = (signal.strsignal(-rc) or "").lower()
            except ValueError:
                name = ""
            return f"signal: {name or f'signal {-rc}'}"
        return f"exit status {rc}"

    def _wait_ready(self) -> tuple[str, bytes, float] | None:
        """Wait for INIT to end. None when the runtime asked for an event; else (error type, payload,
        elapsed ms) of the failed INIT."""
        with self._cond:
            limit = self._t_spawn + INIT_TIMEOUT_S
            while not self._ready and self._init_error is None and not self._exited:
                remaining = limit - time.perf_counter()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._ready:
                return None
            if self._init_error is not None:
                body, error_type = self._init_error
                return error_type, body, (self._t_init_error - self._t_spawn) * 1000
            exited = self._exited
            t_exit = self._t_exit
        if exited:
            oom = self._resources.oom_killed(self._returncode)
            error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
            body = json.dumps({"errorType": error_type,
                               "errorMessage": f"RequestId:  Error: Runtime exited with error: {self._exit_text()}"})
            return error_type, body.encode(), (t_exit - self._t_spawn) * 1000
        self._kill_group()
        body = json.dumps({"errorType": "Sandbox.Timedout",
                           "errorMessage": f"INIT phase timed out after {INIT_TIMEOUT_S:.2f} seconds"})
        return "Sandbox.Timedout", body.encode(), INIT_TIMEOUT_S * 1000.0

    def _init_start_events(self) -> list[tuple[int, str]]:
        version, arn = _runtime_version(self.spec.runtime)
        when = self._wall_spawn_ms
        if self.spec.log_format == "JSON":
            record = {"initializationType": "on-demand", "phase": "init", "runtimeVersion": version,
                      "runtimeVersionArn": arn, "functionName": self.spec.function_name,
                      "functionVersion": self.spec.version}
            return [(when, logs.format_platform_record("platform.initStart", _dt(when), record))]
        return [(when, logs.format_init_start(version, arn))]

    def _start_line(self, request_id: str, when_ms: int) -> str:
        if self.spec.log_format == "JSON":
            return logs.format_platform_start(request_id, self.spec.version, _dt(when_ms))
        return logs.format_start(request_id, self.spec.version)

    def _end_events(self, request_id: str, report: Report, when_ms: int, function_error: str | None,
                    result) -> list[tuple[int, str]]:
        if self.spec.log_format == "JSON":
            done: dict[str, Any] = {"requestId": request_id,
                                    "status": "error" if function_error and report.status == "success"
                                    else report.status,
                                    "metrics": {"durationMs": report.duration_ms}}
            if report.error_type:
                done["errorType"] = report.error_type
            elif function_error and result is not None and result[2]:
                done["errorType"] = result[2]
            return [(when_ms, logs.format_platform_record("platform.runtimeDone", _dt(when_ms), done)),
                    (when_ms, logs.format_platform_report(report, _dt(when_ms)))]
        return [(when_ms, logs.format_end(request_id)), (when_ms, logs.format_report(report))]

    def _init_failed(self, request_id: str, failure: tuple[str, bytes, float],
                     events: list[tuple[int, str]]) -> InvocationOutcome:
        """INIT failed: Lambda logs INIT_REPORT with the error, then the invoke as an error with that
        type; the sandbox is discarded. Duration is the failed INIT's (no Init Duration field)."""
        error_type, body, elapsed_ms = failure
        self.retired = True
        self._kill_group()
        spec = self.spec
        duration_ms = _hundredths(elapsed_ms) / 100
        status = "timeout" if error_type == "Sandbox.Timedout" else "error"
        now = _now_ms()
        if spec.log_format == "JSON":
            record = {"initializationType": "on-demand", "phase": "init", "status": status,
                      "metrics": {"durationMs": duration_ms}}
            if status == "error":
                record["errorType"] = error_type
            events.append((now, logs.format_platform_record("platform.initReport", _dt(now), record)))
        else:
            events.append((now, logs.format_init_report(duration_ms, "init", status,
                                                        error_type if status == "error" else None)))
        events.append((now, self._start_line(request_id, now)))
        peak = self._resources.peak_rss_mb()
        report = Report(
            request_id=request_id, duration_ms=duration_ms,
            billed_duration_ms=billed_duration_ms(duration_ms, None), memory_size_mb=spec.memory_mb,
            max_memory_used_mb=min(peak, spec.memory_mb) if peak is not None else None,
            status=status, error_type=error_type if status == "error" else None,
        )
        events.extend(self._end_events(request_id, report, now, "Unhandled", None))
        return self._finish(request_id, body, "Unhandled", report, events, True)

    def _finish(self, request_id: str, payload: bytes, function_error: str | None, report: Report,
                events: list[tuple[int, str]], cold: bool) -> InvocationOutcome:
        # Lambda ends every CloudWatch message from the platform and the runtime with a newline.
        events = [(ts, msg if msg.endswith("\n") else msg + "\n") for ts, msg in events]
        self._store.put_log_events(self.spec.log_group, self.log_stream, events)
        self.last_used = time.monotonic()
        return InvocationOutcome(request_id=request_id, payload=payload, function_error=function_error,
                                 report=report, log_text="".join(msg for _, msg in events), cold=cold)


def _dt(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)


class SandboxPool:
    """All sandboxes of the emulator: hands out idle ones (warm) or new ones (cold), retires them on
    configuration changes, reaps idle ones after `keep_alive_s`, and ends them all on close."""

    def __init__(self, *, root_dir: Path, resources: Any, log_store_for: Any, keep_alive_s: float,
                 runtime_client: str = "auto", sandbox_start: str = "auto"):
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
        self._runtime_dir = root_dir / "runtime"
        self._runtime_dir.mkdir(parents=True, exist_ok=True)
        # The built-in client runs as a script from its own folder, so nothing of lambdabench lands on
        # the handler's sys.path.
        shutil.copyfile(_BOOTSTRAP_SOURCE, self._runtime_dir / "bootstrap.py")
        self.sandbox_start = "fork" if sandbox_start == "fork" or (
            sandbox_start == "auto" and forking_supported()) else "spawn"
        self._forkserver: ForkServer | None = None
        if self.sandbox_start == "fork":
            self._forkserver = ForkServer(
                work_dir=root_dir / "forkserver", environment=interpreter_environment(home=self._runtime_dir),
                preload=runtime_client_preload(runtime_client, self._runtime_dir / "bootstrap.py"))
        # One process forked and put in its cgroups ahead of need, so a cold start does not wait for
        # the cgroup move (an RCU grace period, ~10 ms); resized to the sandbox that takes it.
        self._spare: tuple[ForkedProcess, Any] | None = None
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

    def _stale(self, sandbox: Sandbox) -> bool:
        check = self._key_checks.get(sandbox.spec.region)
        return check is not None and not check(sandbox.spec.key)

    def checkout(self, spec: SandboxSpec) -> Sandbox:
        """An idle sandbox for `spec` (warm), else a new started one (cold). The caller owns it until
        `checkin`. Raises OSError when a process cannot be spawned."""
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
        # A cold start: cgroup setup and the spawn happen outside the lock, so a burst starts in parallel.
        spare = self._take_spare(spec)
        process, resources = spare if spare is not None else (
            None, self._resources.sandbox(uuid.uuid4().hex[:12], spec.memory_mb))
        sandbox = Sandbox(spec, root_dir=self._root, resources=resources, log_store=self._log_store_for(spec.region),
                          runtime_client=self.runtime_client, runtime_dir=self._runtime_dir,
                          forkserver=self._forkserver, prepared=process)
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
                sandbox.last_used = time.monotonic()
                self._idle.setdefault(sandbox.spec.key, []).append(sandbox)
                self._lock.notify_all()
        if not keep:
            sandbox.kill()
        self._replenish_spare()  # after the invocation, so preparing it does not compete with one

    # ----- the spare process ---------------------------------------------------------------------
    def _take_spare(self, spec: SandboxSpec) -> tuple[ForkedProcess, Any] | None:
        """The prepared process and its resources, resized for `spec`; None when there is none or the
        function needs a freshly started interpreter."""
        if self._forkserver is None or needs_fresh_interpreter(spec.environment):
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
        if self._spare is not None or self._forkserver is None or self._forkserver.failure is not None:
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
                spare = (self._forkserver.fork(), resources)
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
    def _discard_spare(spare: tuple[ForkedProcess, Any]) -> None:
        process, resources = spare
        process.stdin.close()  # EOF at its gate: it exits
        process.kill()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        process.stdout.close()
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
                now = time.monotonic()
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
        return self._forkserver.failure if self._forkserver is not None else None

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
        if self._forkserver is not None:
            self._forkserver.close()
        self._reaper.join(timeout=5)
