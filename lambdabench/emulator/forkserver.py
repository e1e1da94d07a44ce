"""Sandbox processes forked from a prepared interpreter instead of started from nothing.

A cold start spent most of its time starting Python and importing the runtime client's dependencies
(json, logging, decimal, simplejson...), the same work for every sandbox: ~40 ms here, more than AWS's
own emulator (aws-lambda-rie) needs for a whole cold invoke. `ForkServer` starts one interpreter
(`forkserver_process.py`, a script: nothing of lambdabench reaches a handler's sys.path) that imports
those modules once, then forks children that wait at a gate. The pool puts a child in its cgroups
(ahead of need: it keeps one spare) and a sandbox opens the gate with what it runs; the child then
sets itself up as a fresh interpreter would. INIT's clock starts when the gate opens, so Init Duration
is what a sandbox does after the interpreter is up: its setup, the runtime client's import and start,
the handler's import.

What a fork cannot give is started from nothing as before (`sandbox_process.PythonLauncher` falls back
to a spawn): a function whose environment sets variables the interpreter reads only at startup
(PYTHON*, LANG, LC_*), or a host where the server cannot run (not Linux, or the server died).

`ForkedProcess` looks like the `subprocess.Popen` it replaces (pid, stdin = the gate, stdout, poll,
wait, returncode); exit statuses come from the server, which reaps its children.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

_SCRIPT = Path(__file__).with_name("forkserver_process.py")
# A fork takes milliseconds; the first also starts the server (tens of ms). Beyond this it is stuck.
_REPLY_TIMEOUT_S = 30.0
_CLOSED = "the fork server is closed"
# Read by the interpreter only while it starts: a function that sets one needs a fresh interpreter.
_STARTUP_VARIABLE_PREFIXES = ("PYTHON", "LC_")
_STARTUP_VARIABLES = ("LANG",)
_APPLIED_BY_THE_CHILD = ("PYTHONPATH",)  # a forked child builds sys.path from it as Python would


class ForkServerUnavailable(RuntimeError):
    """The fork server cannot run or has died; the caller starts the sandbox from nothing."""


def supported() -> bool:
    """Linux only: the server needs fork(), AF_UNIX SOCK_SEQPACKET and SCM_RIGHTS (macOS lacks the
    second, and forking a prepared interpreter is only tested here)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds")


def needs_fresh_interpreter(function_environment: Mapping[str, str]) -> bool:
    """True when the function's own variables change how an interpreter starts (PYTHONHASHSEED,
    PYTHONUTF8, LANG...): those take effect only in a freshly started one."""
    return any((name.startswith(_STARTUP_VARIABLE_PREFIXES) or name in _STARTUP_VARIABLES)
               and name not in _APPLIED_BY_THE_CHILD for name in function_environment)


def module_level_imports(entry: Path, *, package: str | None = None, exclude: Iterable[str] = ()) -> list[str]:
    """The modules importing `entry` loads from outside its package: its top-level imports (not those
    inside functions) and, following them, those of every module of `package` it imports (the
    package's folder is entry's), minus any name under an excluded package."""
    excluded = (package, *exclude) if package else tuple(exclude)
    folder = entry.parent
    names: dict[str, None] = {}
    seen: set[Path] = set()

    def inside(name: str) -> Path | None:
        base = folder / name.replace(".", "/")
        for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
            if path.is_file():
                return path
        return None

    def visit_file(path: Path) -> None:
        if path in seen:
            return
        seen.add(path)
        try:
            visit(ast.parse(path.read_text(encoding="utf-8")))
        except (OSError, SyntaxError, ValueError):
            pass

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # runs when called, not when imported
            if isinstance(child, ast.Import):
                found = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level or (package and (child.module or "").split(".")[0] == package):
                    own = (child.module or "").removeprefix(package or "").lstrip(".") if not child.level \
                        else (child.module or "")
                    # `from .x import y`: module x, and y too when it is a module of x
                    names_from = [alias.name for alias in child.names]
                    targets = [own, *(f"{own}.{n}" for n in names_from)] if own else names_from
                    for target in targets:
                        path = inside(target)
                        if path is not None:
                            visit_file(path)
                    continue
                found = [child.module] if child.module else []
            else:
                visit(child)
                continue
            for name in found:
                if name != "__future__" and not any(name == e or name.startswith(e + ".") for e in excluded):
                    names.setdefault(name, None)

    if package and (folder / "__init__.py").is_file():
        visit_file(folder / "__init__.py")  # runs before any module of the package
    visit_file(entry)
    return list(names)


def runtime_client_preload(runtime_client: str, bootstrap: Path) -> list[str]:
    """The modules a runtime client imports before it runs, for the server to import once.

    Never the client's own package, nor awslambdaric's native `runtime_client`: that module fixes the
    Runtime API address from the environment when it is loaded."""
    if runtime_client == "awslambdaric":
        spec = importlib.util.find_spec("awslambdaric")
        if spec is None or not spec.submodule_search_locations:
            return []
        entry = Path(next(iter(spec.submodule_search_locations))) / "__main__.py"
        return module_level_imports(entry, package="awslambdaric", exclude=("runtime_client",))
    return module_level_imports(bootstrap)


class ForkedProcess:
    """A sandbox process forked by the server: the parts of `subprocess.Popen` a Sandbox uses, and
    `release` to open its gate."""

    def __init__(self, pid: int, gate_w: int, output_r: int):
        self.pid = pid
        self.stdin = os.fdopen(gate_w, "wb", buffering=0)   # the gate
        self.stdout = os.fdopen(output_r, "rb", buffering=0)
        self.returncode: int | None = None
        self._done = threading.Event()
        self._pidfd_lock = threading.Lock()  # kill() must not use a pidfd _exited() closes meanwhile
        try:  # the server reaps it, so its pid may be reused after its exit: signal it through this
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self._pidfd = -1

    def kill(self) -> None:
        """SIGKILL it (through its pidfd: never another process that has its pid since) and what is
        left of its session (what the handler started)."""
        with self._pidfd_lock:
            if self.returncode is None:
                try:
                    if self._pidfd >= 0:
                        signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                    else:
                        os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass  # already gone
        try:
            os.killpg(self.pid, signal.SIGKILL)  # fails harmlessly when the session is empty
        except OSError:
            pass

    def release(self, target: str, args: list[str], *, env: Mapping[str, str], cwd: str) -> None:
        """Open the gate: the child becomes the sandbox interpreter and runs `target` (a module, or a
        .py path) with `args`. Raises OSError when the child is gone."""
        config = json.dumps({"target": target, "args": list(args), "env": dict(env), "cwd": cwd}).encode()
        try:
            view = memoryview(config)
            while view:
                view = view[os.write(self.stdin.fileno(), view):]
        finally:
            self.stdin.close()

    def _exited(self, returncode: int) -> None:
        with self._pidfd_lock:
            if self.returncode is None:
                self.returncode = returncode
            pidfd, self._pidfd = self._pidfd, -1
            if pidfd >= 0:
                os.close(pidfd)
        self._done.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(f"sandbox process {self.pid}", timeout)
        return self.returncode  # type: ignore[return-value]


class ForkServer:
    """One fork server process, started on first use; thread-safe."""

    def __init__(self, *, work_dir: Path, environment: Mapping[str, str], preload: list[str]):
        self._work_dir = work_dir
        self._environment = dict(environment)
        self._preload = list(preload)
        self._lock = threading.Lock()           # start/stop and sends
        self._state = threading.Condition()     # replies and the process table
        self._ids = itertools.count(1)
        self._replies: dict[int, dict] = {}
        self._processes: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._server: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._failed: str | None = None

    @property
    def failure(self) -> str | None:
        """Why sandboxes are no longer forked (None while the server works or was closed normally)."""
        failed = self._failed
        return None if failed in (None, _CLOSED) else failed

    # ----- server lifecycle ------------------------------------------------------------------------
    def _ensure_started(self) -> socket.socket:
        if self._failed is not None:
            raise ForkServerUnavailable(self._failed)
        if self._control is not None:
            return self._control
        if not supported():
            self._failed = "this platform cannot fork a prepared interpreter"
            raise ForkServerUnavailable(self._failed)
        self._work_dir.mkdir(parents=True, exist_ok=True)
        script = self._work_dir / _SCRIPT.name
        shutil.copyfile(_SCRIPT, script)
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except OSError as error:
            self._failed = f"the fork server needs AF_UNIX SOCK_SEQPACKET sockets: {error}"
            raise ForkServerUnavailable(self._failed) from error
        log_path = self._work_dir / "forkserver.log"
        try:
            with open(log_path, "wb") as log:
                self._server = subprocess.Popen(
                    [sys.executable, "-S", str(script), str(theirs.fileno()), ",".join(self._preload)],
                    cwd=self._work_dir, env=self._environment, stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=log, pass_fds=[theirs.fileno()],
                    start_new_session=True)
        except OSError as error:
            ours.close()
            self._failed = f"the fork server could not start: {error}"
            raise ForkServerUnavailable(self._failed) from error
        finally:
            theirs.close()
        self._control = ours
        self._reader = threading.Thread(target=self._read_loop, name="forkserver-reader", daemon=True)
        self._reader.start()
        return ours

    def close(self) -> None:
        """End the server; it kills any child still running. Idempotent."""
        with self._lock:
            control, self._control = self._control, None
            self._failed = self._failed or _CLOSED
        if control is not None:
            try:
                # Wakes the reader's recv (a bare close would not) and shows the server its EOF.
                control.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            control.close()
        server, self._server = self._server, None
        if server is not None:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)

    # ----- messages from the server ------------------------------------------------------------------
    def _read_loop(self) -> None:
        control = self._control
        while True:
            try:
                data = control.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            with self._state:
                if "exit" in message:
                    process = self._processes.pop(message["exit"], None)
                    if process is not None:
                        process._exited(message["returncode"])
                    else:  # exited before fork() registered it
                        self._early_exits[message["exit"]] = message["returncode"]
                else:
                    self._replies[message["id"]] = message
                    self._state.notify_all()
        self._server_gone()

    def _server_gone(self) -> None:
        """The server ended (closed, or died): its children are orphans nobody will report on. End
        them; they count as killed."""
        with self._state:
            if self._failed is None:
                self._failed = "the fork server exited" + self._log_tail()
            orphans, self._processes = self._processes, {}
            self._state.notify_all()
        for process in orphans.values():
            process.kill()
            process._exited(-signal.SIGKILL)

    def _log_tail(self) -> str:
        try:
            text = (self._work_dir / "forkserver.log").read_text(errors="replace").strip()
        except OSError:
            return ""
        return f": {text[-500:]}" if text else ""

    # ----- forking ---------------------------------------------------------------------------------
    def fork(self) -> ForkedProcess:
        """A new child stopped at its gate, where it waits for `ForkedProcess.release` (or exits when
        the gate is closed unused). Raises ForkServerUnavailable, or OSError when fork() failed."""
        output_r, output_w = os.pipe()
        gate_r, gate_w = os.pipe()
        handed = False
        try:
            with self._lock:
                control = self._ensure_started()
                request_id = next(self._ids)
                try:
                    socket.send_fds(control, [json.dumps({"id": request_id}).encode()], [output_w, gate_r])
                except OSError as error:
                    raise ForkServerUnavailable(f"the fork server is gone: {error}") from error
            deadline = time.monotonic() + _REPLY_TIMEOUT_S
            with self._state:
                while request_id not in self._replies and self._failed is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._state.wait(remaining)
                reply = self._replies.pop(request_id, None)
                if reply is None and self._failed is None:
                    self._failed = f"the fork server did not answer within {_REPLY_TIMEOUT_S:g} s"
                    hung = self._server
                else:
                    hung = None
            if hung is not None:
                hung.kill()  # its reader then sees EOF and ends what it forked
            if reply is None:
                raise ForkServerUnavailable(self._failed or "the fork server exited")
            with self._state:
                if "error" in reply:
                    raise OSError(f"the fork server could not fork: {reply['error']}")
                process = ForkedProcess(reply["pid"], gate_w, output_r)
                handed = True
                early = self._early_exits.pop(process.pid, None)
                if early is not None:
                    process._exited(early)
                else:
                    self._processes[process.pid] = process
            return process
        finally:
            os.close(output_w)
            os.close(gate_r)
            if not handed:
                os.close(output_r)
                os.close(gate_w)
