"""The fork server: one interpreter that has imported what the runtime client needs, forked per sandbox.

Run as a script by `forkserver.py` (never imported by lambdabench): `python -S forkserver_process.py
<control fd> <preload,...>`, with the sandboxes' base environment and a socket (SOCK_SEQPACKET, one
JSON message per packet) to the emulator. It imports the listed modules once (the runtime client's
module-level dependencies, never the client itself: awslambdaric's native module reads
AWS_LAMBDA_RUNTIME_API when it is loaded), freezes them out of the garbage collector, and then waits.

    emulator -> server   {"id"} + fds [output pipe, gate pipe]
    server -> emulator   {"id", "pid"} | {"id", "error"}
                         {"exit": pid, "returncode": int}     (as subprocess reports it: -N = signal N)
    emulator -> child    on its gate pipe, then EOF: {"target", "args", "env", "cwd"}

A forked child starts its own session, takes stdin from /dev/null and stdout+stderr from the output
pipe, and waits at its gate: the emulator puts it in its cgroups first (and may keep it there as a
spare until a sandbox needs it). What the gate brings makes it the sandbox a freshly started `python
-S` would be before running the runtime client: the sandbox's cwd, environment (C-level too), time zone,
sys.path (PYTHONPATH first), argv and empty import caches. It then runs the target as `python -m
<target>` or `python <target>.py` would, and ends like the interpreter does: non-daemon threads
joined, atexit handlers run, exit status from SystemExit or 1 after an uncaught exception; EOF at the
gate with nothing written ends it with status 126. The server reaps its children and reports each
exit. When the emulator closes the socket, the server kills every child's session and exits.
"""

import gc
import importlib
import json
import os
import runpy
import select
import signal
import site
import socket
import sys
import time
import traceback

MAX_MESSAGE = 1 << 20
# What the interpreter added to its environment while starting (PEP 538's C locale coercion sets
# LC_CTYPE): a freshly started sandbox interpreter would add the same.
STARTUP_ADDITIONS = {name: os.environ[name] for name in ("LC_CTYPE",) if name in os.environ}


def _send(control, message):
    try:
        control.send(json.dumps(message).encode())
    except OSError:
        pass  # the emulator is gone; the next recv sees EOF


def _reap(control, children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(control, {"exit": pid, "returncode": os.waitstatus_to_exitcode(status)})


def _exit_code(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _become_sandbox(control, wake_fds, fds, base_path):
    """In the forked child: detach from the server, wait for the gate, set up, run the target."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Lambda's dispositions (all default), not what the server inherited: a spawned sandbox's launcher
    # sets the same. (SIGINT's handler was put back right after the fork.)
    for name in ("SIGHUP", "SIGQUIT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    control.close()
    for fd in wake_fds:
        os.close(fd)
    output_fd, gate_fd = fds
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)

    chunks = []
    while True:  # the gate: the sandbox's configuration, then EOF
        try:
            data = os.read(gate_fd, 65536)
        except InterruptedError:
            continue
        if not data:
            break
        chunks.append(data)
    os.close(gate_fd)
    if not chunks:
        os._exit(126)  # the emulator gave up on this process
    request = json.loads(b"".join(chunks))

    env = {**STARTUP_ADDITIONS, **request["env"]}
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    extra = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[:] = ["", *extra, *base_path]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None
    target = request["target"]
    sys.argv = [target, *request["args"]]

    code = 0
    try:
        if target.endswith(".py"):
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    _finalize()
    os._exit(code)


def _finalize():
    """What the interpreter does at exit before it stops: join non-daemon threads, run atexit."""
    import atexit
    import threading

    try:
        threading._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def serve(control, preload):
    site.setquit()
    site.setcopyright()
    site.sethelper()
    for name in preload:
        try:
            importlib.import_module(name)
        except BaseException:
            pass  # a dependency this interpreter lacks: the child imports (and fails) as it would
    base_path = [entry for entry in sys.path[1:]
                 if entry not in os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    gc.collect()
    gc.freeze()  # children then copy no pages just for the collector's bookkeeping

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the emulator ends us by closing the socket
    poller = select.poll()
    poller.register(control.fileno(), select.POLLIN)
    poller.register(wake_r, select.POLLIN)
    children = set()
    try:
        while True:
            for fd, _ in poller.poll():
                if fd == wake_r:
                    try:
                        while os.read(wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 4)
                if not data:
                    return children
                request = json.loads(data)
                try:
                    pid = os.fork()
                    if pid == 0:
                        try:
                            signal.signal(signal.SIGINT, signal.default_int_handler)
                            _become_sandbox(control, (wake_r, wake_w), fds, base_path)
                        except BaseException:
                            traceback.print_exc()
                        finally:
                            os._exit(127)
                    children.add(pid)
                    _send(control, {"id": request["id"], "pid": pid})
                except OSError as error:
                    _send(control, {"id": request["id"], "error": str(error)})
                finally:
                    for fd in fds:
                        os.close(fd)
            _reap(control, children)
    finally:
        for pid in list(children):
            # the child's session (what it started), and the child itself: it may not have left ours yet
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    preload = [name for name in sys.argv[2].split(",") if name] if len(sys.argv) > 2 else []
    children = serve(control, preload)
    for _ in children:
        try:
            os.wait()
        except ChildProcessError:
            break


if __name__ == "__main__":
    main()
