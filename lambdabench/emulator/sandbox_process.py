"""How a sandbox's runtime process comes to be: its environment and its start, behind `Launcher`, one
per runtime kind. A sandbox does the rest (Runtime API, output, lifecycle) the same for every kind.

`PythonLauncher` runs the official runtime interface client (`python -m awslambdaric <handler>`, same
interpreter as the emulator) or, where that cannot be imported, the built-in `bootstrap.py`. It forks
the process from a prepared interpreter (`forkserver.py`; the pool keeps one spare, in its cgroups,
from `prepare`) or, with sandbox_start "spawn" and where a fork cannot serve, starts it from nothing.

The environment is built from scratch: Lambda's variables plus the function's own, never the host's
(no AWS credentials, no HOME, no host PATH entries beyond the interpreter's folder). The only host
variables passed on are `HOST_ENV_ALLOWLIST`, taken from the host environment the emulator was given:
non-secret tuning knobs some native libraries need.

Every runtime starts with Lambda's signal dispositions (all default), whatever the emulator inherited:
the Python launcher resets its own, `spawn` resets those of what it starts (`with_default_signals`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lambdabench.emulator.forkserver import (ForkedProcess, ForkServer, ForkServerUnavailable,
                                              needs_fresh_interpreter, runtime_client_preload)

# Host variables a sandbox may inherit: interpreter/BLAS tuning knobs only, never secrets. OpenBLAS
# mis-detects some virtual CPUs without OPENBLAS_CORETYPE and crashes at import of numpy.
HOST_ENV_ALLOWLIST = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# How a sandbox process comes to be: forked from a prepared interpreter (forkserver.py) or started from
# nothing; "auto" forks where the platform can.
SANDBOX_START_CHOICES = ("auto", "fork", "spawn")
BOOTSTRAP_SOURCE = Path(__file__).with_name("bootstrap.py")

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


def interpreter_environment(home: Path, host_environment: Mapping[str, str]) -> dict[str, str]:
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
        if name in host_environment:
            env[name] = host_environment[name]
    return env


def awslambdaric_available() -> bool:
    """True when this interpreter can run the official client (package and its native module)."""
    return (importlib.util.find_spec("awslambdaric") is not None
            and importlib.util.find_spec("runtime_client") is not None)


def lambda_variables(spec: Any, *, log_stream: str, api_address: str, runtime_dir: Path,
                     tmp_dir: Path) -> dict[str, str]:
    """Lambda's reserved variables for one sandbox of `spec` (a SandboxSpec), every runtime alike."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": spec.code_dir,
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        # Lambda starts the runtime from a shell script (its bootstrap), which exports PWD.
        "PWD": spec.code_dir,
        "TMPDIR": str(tmp_dir),
    }


def function_environment(spec: Any, *, log_stream: str, api_address: str, runtime_dir: Path, tmp_dir: Path,
                         host_environment: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a runtime that is not Python's (Node.js, a custom bootstrap): the same
    credential-free base and Lambda variables, the log format, then the function's own variables."""
    env = interpreter_environment(tmp_dir, host_environment)
    del env["PYTHONPATH"]  # the host's site-packages are the Python runtime's affair only
    env.update(lambda_variables(spec, log_stream=log_stream, api_address=api_address,
                                runtime_dir=runtime_dir, tmp_dir=tmp_dir))
    if spec.log_format == "JSON":
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level or "INFO"
    env.update(spec.environment)
    return env


Process = subprocess.Popen | ForkedProcess


@dataclass(frozen=True)
class Started:
    """A runtime process and when its INIT began (perf_counter s, epoch ms)."""

    process: Process
    init_start_perf: float
    init_start_wall_ms: int


@dataclass(frozen=True)
class Clock:
    """The clocks a sandbox reads: `perf` (s, monotonic: durations, deadlines, idle time) and `wall_ms`
    (epoch ms: log event timestamps, Lambda-Runtime-Deadline-Ms)."""

    perf: Callable[[], float]
    wall_ms: Callable[[], int]


SYSTEM_CLOCK = Clock(perf=time.perf_counter, wall_ms=lambda: int(time.time() * 1000))


class Launcher(Protocol):
    """How one runtime kind's process starts. Implementations differ in that only."""

    sandbox_start: str                    # "fork" or "spawn": how its processes start when all works
    failure: str | None                   # why processes start another way than `sandbox_start` says
    can_prepare: bool                     # whether `prepare` may give a process now

    def environment(self, spec: Any, *, log_stream: str, api_address: str, tmp_dir: Path) -> dict[str, str]:
        """The process's whole environment."""
        ...

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Process | None,
              clock: Clock) -> Started:
        """Start the runtime (INIT starts now), in `resources`' cgroups. `prepared`: a process from
        `prepare`, already in them. Raises OSError when no process can be started."""
        ...

    def takes_prepared(self, spec: Any) -> bool:
        """Can a process from `prepare` serve `spec`?"""
        ...

    def prepare(self) -> Process:
        """A process ahead of need, waiting until `start` gives it a sandbox. Raises OSError or
        RuntimeError when there is none to be had."""
        ...

    def close(self) -> None: ...


def kill_group(process: Process | None) -> None:
    """SIGKILL the process and what is left of its session (what the handler started)."""
    if isinstance(process, ForkedProcess):
        process.kill()  # also when it has not left the server's session yet
        return
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def discard(process: Process) -> None:
    """End a process that never became a sandbox (a prepared one, or one its cgroups refused)."""
    if process.stdin is not None:
        process.stdin.close()  # EOF at its gate: it exits
    process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if process.stdout is not None:
        process.stdout.close()


def _attach(resources: Any, process: Process) -> None:
    try:
        resources.attach(process.pid)
    except BaseException:
        discard(process)  # nobody else holds it yet
        raise


# Signals Python itself ignores and subprocess already restores in a child (restore_signals).
_RESTORED_BY_SUBPROCESS = frozenset(getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ")
                                    if hasattr(signal, name))


def ignored_signals() -> list[int]:
    """The signals this process ignores that a child would inherit ignored through exec (a background
    job of a non-interactive shell ignores SIGINT and SIGQUIT, nohup SIGHUP)."""
    ignored = []
    for number in sorted(signal.valid_signals()):
        if number in _RESTORED_BY_SUBPROCESS or number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            if signal.getsignal(number) == signal.SIG_IGN:
                ignored.append(number)
        except (OSError, ValueError):
            continue
    return ignored


def _default_dispositions(numbers: list[int]) -> Callable[[], None]:
    def reset() -> None:
        for number in numbers:
            signal.signal(number, signal.SIG_DFL)
    return reset


@functools.cache
def _env_default_signal() -> str | None:
    """coreutils `env` when it has --default-signal (8.31 and later), else None."""
    env = shutil.which("env")
    if env is None:
        return None
    try:
        done = subprocess.run([env, "--default-signal=INT", "true"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return env if done.returncode == 0 else None


def with_default_signals(argv: list[str], kwargs: dict[str, Any]) -> list[str]:
    """`argv` (and Popen `kwargs`) so that the process it execs has every signal at its default
    disposition. A signal the emulator ignores stays ignored across exec, and no shell (the gate) can
    reset one it was started with. Nothing to do unless one is ignored; then coreutils' `env
    --default-signal` runs first (about 1 ms), else the child resets them between fork and exec
    (preexec_fn: signal() calls only, but it costs the fast spawn path, 5 ms for a large emulator)."""
    ignored = ignored_signals()
    if not ignored:
        return argv
    env = _env_default_signal()
    if env is not None:
        return [env, "--default-signal=" + ",".join(str(number) for number in ignored), *argv]
    kwargs["preexec_fn"] = _default_dispositions(ignored)
    return argv


def spawn(argv: list[str], *, cwd: str, env: Mapping[str, str], resources: Any, clock: Clock) -> Started:
    """Start `argv` from nothing in `resources`' cgroups, output on one pipe, in a session of its own
    (every runtime kind that spawns starts this way), every signal at its default disposition as
    Lambda's runtimes start. Raises OSError when it cannot be started."""
    # A gated launcher waits until attach() has put it in its cgroups: that move costs a v1
    # cgroup an RCU grace period (10-20 ms), host-side setup outside INIT (see gated_command).
    argv, gated = resources.gated_command(argv)
    kwargs: dict[str, Any] = {"start_new_session": True}
    argv = with_default_signals(argv, kwargs)  # outside the gate: host-side setup, not INIT
    kwargs.update(resources.popen_kwargs())
    if not gated:
        t_perf, t_wall = clock.perf(), clock.wall_ms()
    process = subprocess.Popen(
        argv, cwd=cwd, env=dict(env),
        stdin=subprocess.PIPE if gated else subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, close_fds=True, **kwargs,
    )
    _attach(resources, process)
    if gated:
        # INIT starts when the runtime is exec'd: the gate opens once the launcher is in place.
        t_perf, t_wall = clock.perf(), clock.wall_ms()
        try:
            os.write(process.stdin.fileno(), b"\n")
        except OSError:
            pass  # the launcher is already gone; the sandbox sees its exit (Runtime.ExitError)
        process.stdin.close()
    return Started(process, t_perf, t_wall)


class SpawnedLauncher:
    """What a launcher whose processes are always spawned shares: no prepared process, no fork server,
    the function's environment as every runtime gets it. Subclasses say how to start (`start`)."""

    sandbox_start = "spawn"
    failure = None
    can_prepare = False
    spawn_reason = "these sandboxes are spawned"  # why `prepare` never gives a process

    def __init__(self, *, runtime_dir: Path, host_environment: Mapping[str, str]):
        self._runtime_dir = runtime_dir
        self._host_environment = dict(host_environment)

    def environment(self, spec: Any, *, log_stream: str, api_address: str, tmp_dir: Path) -> dict[str, str]:
        return function_environment(spec, log_stream=log_stream, api_address=api_address,
                                    runtime_dir=self._runtime_dir, tmp_dir=tmp_dir,
                                    host_environment=self._host_environment)

    def takes_prepared(self, spec: Any) -> bool:
        return False

    def prepare(self) -> Process:
        raise ForkServerUnavailable(self.spawn_reason)

    def close(self) -> None:
        pass


class PythonLauncher:
    """The Python runtimes: a runtime client (awslambdaric or the built-in bootstrap) forked from the
    fork server or spawned."""

    def __init__(self, *, runtime_client: str, runtime_dir: Path, sandbox_start: str, work_dir: Path,
                 host_environment: Mapping[str, str]):
        self.runtime_client = runtime_client
        self._runtime_dir = runtime_dir
        self._host_environment = dict(host_environment)
        self.sandbox_start = sandbox_start
        self._target = "awslambdaric" if runtime_client == "awslambdaric" else str(runtime_dir / "bootstrap.py")
        self._forkserver: ForkServer | None = None
        if sandbox_start == "fork":
            self._forkserver = ForkServer(
                work_dir=work_dir, environment=interpreter_environment(runtime_dir, self._host_environment),
                preload=runtime_client_preload(runtime_client, runtime_dir / "bootstrap.py"))

    @property
    def failure(self) -> str | None:
        return self._forkserver.failure if self._forkserver is not None else None

    @property
    def can_prepare(self) -> bool:
        return self._forkserver is not None and self._forkserver.failure is None

    def environment(self, spec: Any, *, log_stream: str, api_address: str, tmp_dir: Path) -> dict[str, str]:
        env = interpreter_environment(tmp_dir, self._host_environment)
        env.update(lambda_variables(spec, log_stream=log_stream, api_address=api_address,
                                    runtime_dir=self._runtime_dir, tmp_dir=tmp_dir))
        # Task root first (as on Lambda), then the interpreter's own packages (the runtime client,
        # and boto3 as Lambda's runtime provides it); see _LAUNCHER for why not via `site`.
        env["PYTHONPATH"] = os.pathsep.join([spec.code_dir, *_SITE_PACKAGES])
        if spec.log_format == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level or "INFO"
        env.update(spec.environment)
        if spec.environment.get("PYTHONPATH"):
            # Not reserved on Lambda (layers use it); its runtime still finds the task root first and
            # its own packages after the function's entries.
            env["PYTHONPATH"] = os.pathsep.join([spec.code_dir, spec.environment["PYTHONPATH"], *_SITE_PACKAGES])
        return env

    def takes_prepared(self, spec: Any) -> bool:
        return self._forkserver is not None and not needs_fresh_interpreter(spec.environment)

    def prepare(self) -> Process:
        if self._forkserver is None:
            raise ForkServerUnavailable("this launcher spawns its processes")
        return self._forkserver.fork()

    def start(self, spec: Any, env: Mapping[str, str], resources: Any, prepared: Process | None,
              clock: Clock) -> Started:
        process = prepared
        if process is None and self.takes_prepared(spec):
            try:
                process = self.prepare()
            except ForkServerUnavailable:
                pass  # start it from nothing instead
            else:
                _attach(resources, process)
        if isinstance(process, ForkedProcess):
            # INIT starts when the gate opens: the process is in place, the sandbox's setup and the
            # runtime client's start are INIT's.
            started = Started(process, clock.perf(), clock.wall_ms())
            try:
                process.release(self._target, [spec.handler], env=env, cwd=spec.code_dir)
            except OSError:
                pass  # the process is already gone; the sandbox sees its exit (Runtime.ExitError)
            return started
        return self._spawn(spec, env, resources, clock)

    def _spawn(self, spec: Any, env: Mapping[str, str], resources: Any, clock: Clock) -> Started:
        """Start the runtime from nothing: a fresh interpreter runs the launcher."""
        return spawn([sys.executable, "-S", "-c", _LAUNCHER, self._target, spec.handler], cwd=spec.code_dir,
                     env=env, resources=resources, clock=clock)

    def close(self) -> None:
        if self._forkserver is not None:
            self._forkserver.close()
