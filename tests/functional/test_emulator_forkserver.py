"""Sandboxes forked from the prepared interpreter look to a handler exactly like spawned ones.

Each check runs the same function on an emulator that forks sandboxes and on one that spawns them,
and compares what the handler sees (environment, sys.path, argv, cwd, flags, encodings, signal
dispositions, open descriptors, session) and how processes end (exit statuses, init failures).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time

import pytest

from lambdabench.emulator import Emulator
from lambdabench.emulator.forkserver import supported

pytestmark = pytest.mark.skipif(not supported(), reason="this platform cannot fork sandboxes")

PROBE = """
    import json, locale, os, signal, sys, tempfile, threading, time

    def _fds():
        kinds = {}
        for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue  # the listing's own descriptor, closed by now
            kinds[fd] = target.split(":")[0] if ":" in target else target
        return kinds

    def handler(event, context):
        return {
            "env": dict(os.environ), "path": sys.path, "argv": sys.argv, "cwd": os.getcwd(),
            "flags": list(sys.flags), "tz": list(time.tzname), "tmp": tempfile.gettempdir(),
            "encodings": [sys.stdout.encoding, sys.stderr.encoding, sys.getfilesystemencoding(),
                          locale.getpreferredencoding(False)],
            "signals": {name: str(signal.getsignal(getattr(signal, name)))
                        for name in ("SIGINT", "SIGCHLD", "SIGPIPE", "SIGTERM", "SIGHUP")},
            "session_leader": os.getsid(0) == os.getpid(),
            "stdin": os.readlink("/proc/self/fd/0"),
            "fds": _fds(),
            "lambdabench_modules": sorted(m for m in sys.modules if m.startswith("lambdabench")),
            "hash_randomization": sys.flags.hash_randomization,
            "main_thread": threading.current_thread() is threading.main_thread() or threading.main_thread().is_alive(),
        }
"""

# Values that name this sandbox (its log stream, Runtime API port, own /tmp and HOME), not how it started.
PER_SANDBOX = ("AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "TMPDIR", "HOME", "_X_AMZN_TRACE_ID")


def _probe(start: str, emulator_helpers, *, runtime_client: str = "awslambdaric", environment=None) -> tuple[dict, Emulator]:
    with Emulator(keep_alive_s=60, sandbox_start=start, runtime_client=runtime_client) as emu:
        assert emu.info()["sandbox_start"] == start
        client, _ = emulator_helpers.clients(emu.endpoint)
        extra = {"Environment": {"Variables": environment}} if environment else {}
        emulator_helpers.create(client, "probe", PROBE, **extra)
        response = client.invoke(FunctionName="probe", Payload=b"{}")
        assert "FunctionError" not in response, response["Payload"].read()
        text = response["Payload"].read().decode().replace(str(emu._tmp), "<root>")
    # The code folder is named by the zip's hash, and the zip by the second it was built in.
    task = json.loads(text)["env"]["LAMBDA_TASK_ROOT"]
    seen = json.loads(text.replace(task, "<task>"))
    for name in PER_SANDBOX:
        assert seen["env"].pop(name)
    seen["tmp"] = os.path.basename(seen["tmp"])  # the sandbox's own folder, named by its id
    return seen, emu


@pytest.mark.parametrize("runtime_client", ["awslambdaric", "builtin"])
def test_a_forked_sandbox_sees_what_a_spawned_one_sees(emulator_helpers, runtime_client):
    from lambdabench.emulator.sandbox_process import awslambdaric_available

    if runtime_client == "awslambdaric" and not awslambdaric_available():
        pytest.skip("awslambdaric cannot be imported here")
    forked, _ = _probe("fork", emulator_helpers, runtime_client=runtime_client)
    spawned, _ = _probe("spawn", emulator_helpers, runtime_client=runtime_client)
    assert forked["env"] == spawned["env"]
    assert forked == spawned
    # and what both see is a Lambda sandbox: its own session, stdin from /dev/null, nothing of ours loaded
    assert forked["session_leader"] and forked["stdin"] == "/dev/null"
    assert forked["lambdabench_modules"] == []
    assert forked["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "probe" and forked["cwd"] == "<task>"
    assert forked["path"][:2] == ["", forked["env"]["LAMBDA_TASK_ROOT"]]
    assert forked["signals"]["SIGCHLD"] in ("0", "Handlers.SIG_DFL")  # the server's own handler is gone


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_sandbox_has_lambdas_signal_dispositions_whatever_the_emulator_ignores(emulator_helpers, start):
    # A background job of a non-interactive shell ignores SIGINT and SIGQUIT, nohup SIGHUP; exec passes
    # an ignored signal on, to the fork server and to every spawned sandbox. Lambda's runtime has none.
    ignored = (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in ignored}
    try:
        seen, _ = _probe(start, emulator_helpers, runtime_client="builtin")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    default, ignore = str(signal.SIG_DFL), str(signal.SIG_IGN)  # the probe's spelling: str() of each
    assert seen["signals"] == {"SIGINT": str(signal.default_int_handler), "SIGCHLD": default,
                               "SIGPIPE": ignore, "SIGTERM": default, "SIGHUP": default}


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_sandbox_takes_only_the_allowlisted_tuning_knobs_from_the_host_environment_it_is_given(
        emulator_helpers, start):
    host = {"OPENBLAS_CORETYPE": "Haswell", "AWS_SECRET_ACCESS_KEY": "not-for-handlers", "HOME": "/root",
            "PATH": "/opt/host/bin"}
    with Emulator(keep_alive_s=60, sandbox_start=start, runtime_client="builtin", host_environment=host) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "knobs", "import os\ndef handler(e, c):\n    return dict(os.environ)\n")
        env = json.loads(client.invoke(FunctionName="knobs", Payload=b"{}")["Payload"].read())
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert "AWS_SECRET_ACCESS_KEY" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["HOME"] != "/root" and "/opt/host/bin" not in env["PATH"]


def test_interpreter_startup_variables_get_a_freshly_started_interpreter(emulator_helpers):
    # PYTHONHASHSEED works only when Python starts: a fork could not honour it, so such a function
    # is spawned even when the emulator forks.
    seen, _ = _probe("fork", emulator_helpers, environment={"PYTHONHASHSEED": "0"})
    assert seen["hash_randomization"] == 0
    assert seen["env"]["PYTHONHASHSEED"] == "0"


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_a_functions_pythonpath_comes_after_the_task_root_and_keeps_the_runtime_working(emulator_helpers, start):
    seen, _ = _probe(start, emulator_helpers, environment={"PYTHONPATH": "/opt/python:/opt/extra"})
    assert seen["path"][:4] == ["", "<task>", "/opt/python", "/opt/extra"]


ENDINGS = """
    import os, sys
    def handler(event, context):
        how = event["how"]
        print("ending by", how)
        if how == "os_exit":
            os._exit(3)
        if how == "sys_exit":
            sys.exit(4)
        if how == "exit_message":
            sys.exit("bye")
        if how == "signal":
            os.kill(os.getpid(), 15)
        return "still here"
"""


def _endings(start: str, emulator_helpers) -> dict:
    with Emulator(keep_alive_s=60, sandbox_start=start) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "endings", ENDINGS)
        emulator_helpers.create(client, "broken", "import not_a_module_anywhere\ndef handler(e, c):\n    return 1\n")
        seen = {}
        for how in ("os_exit", "sys_exit", "exit_message", "signal"):
            response = client.invoke(FunctionName="endings", Payload=json.dumps({"how": how}).encode())
            body = json.loads(response["Payload"].read())
            seen[how] = (response.get("FunctionError"), body["errorType"],
                         body["errorMessage"].split("Error: ", 1)[1])
        response = client.invoke(FunctionName="broken", Payload=b"{}")
        body = json.loads(response["Payload"].read())
        seen["init"] = (response.get("FunctionError"), body["errorType"], body["errorMessage"])
    return seen


def test_processes_end_the_same_way_forked_or_spawned(emulator_helpers):
    forked = _endings("fork", emulator_helpers)
    assert forked == _endings("spawn", emulator_helpers)
    assert forked["os_exit"] == ("Unhandled", "Runtime.ExitError", "Runtime exited with error: exit status 3")
    assert forked["sys_exit"] == ("Unhandled", "Runtime.ExitError", "Runtime exited with error: exit status 4")
    assert forked["exit_message"] == ("Unhandled", "Runtime.ExitError", "Runtime exited with error: exit status 1")
    assert forked["signal"] == ("Unhandled", "Runtime.ExitError", "Runtime exited with error: signal: terminated")
    assert forked["init"][1] == "Runtime.ImportModuleError"


def test_a_dead_fork_server_ends_its_sandboxes_and_later_ones_are_spawned(emulator_helpers):
    with Emulator(keep_alive_s=60, sandbox_start="fork") as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "f", "import os\ndef handler(e, c):\n    return os.getpid()\n")
        first = json.loads(client.invoke(FunctionName="f", Payload=b"{}")["Payload"].read())
        server = emu.pool._launcher._forkserver._server
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (emulator_helpers.process_alive(first) or first in emu.sandbox_pids()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not emulator_helpers.process_alive(first)  # orphans are not left running
        assert first not in emu.sandbox_pids()  # and the pool knows
        response = client.invoke(FunctionName="f", Payload=b"{}", LogType="Tail")
        assert "FunctionError" not in response
        second = json.loads(response["Payload"].read())
        assert second != first and emulator_helpers.process_alive(second)
        assert "Init Duration" in base64.b64decode(response["LogResult"]).decode()
        assert any("spawned, not forked" in warning for warning in emu.info()["warnings"])
    assert not emulator_helpers.process_alive(second)


def test_stopping_ends_the_fork_server_and_every_forked_sandbox(emulator_helpers):
    emu = Emulator(keep_alive_s=60, sandbox_start="fork")
    emu.start()
    try:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "f", "import os\ndef handler(e, c):\n    return os.getpid()\n")
        sandbox = json.loads(client.invoke(FunctionName="f", Payload=b"{}")["Payload"].read())
        server = emu.pool._launcher._forkserver._server.pid
        assert emulator_helpers.process_alive(server) and emulator_helpers.process_alive(sandbox)
    finally:
        emu.stop()
    assert not emulator_helpers.process_alive(server)
    assert not emulator_helpers.process_alive(sandbox)


def _spare_pid(emu, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spare = emu.pool._spare
        if spare is not None:
            return spare[0].pid
        time.sleep(0.01)
    raise AssertionError("no spare process was prepared")


def test_the_spare_process_takes_the_size_of_the_sandbox_that_takes_it(emulator_helpers):
    with Emulator(keep_alive_s=60, sandbox_start="fork") as emu:
        if emu.info()["memory_mechanism"] == "none":
            pytest.skip("no memory limit on this host")
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "grow", """
            import os
            def handler(event, context):
                block = bytearray(event["mb"] * 1024 * 1024)
                return os.getpid()
        """, memory=512, timeout=60)  # the test is about memory: a loaded host's slow page faults must not time it out
        spare = _spare_pid(emu)  # prepared for the smallest size before any function existed
        response = client.invoke(FunctionName="grow", Payload=json.dumps({"mb": 300}).encode())
        assert "FunctionError" not in response, response["Payload"].read()
        # 300 MB fit: the spare's 128 MB limit became 512 MB
        assert json.loads(response["Payload"].read()) == spare
        emulator_helpers.create(client, "small", """
            def handler(event, context):
                return len(bytearray(event["mb"] * 1024 * 1024))
        """, memory=128, timeout=60)  # at 0.07 vCPU, touching 128 MB takes 0.8 s here and more on a slower host
        response = client.invoke(FunctionName="small", Payload=json.dumps({"mb": 300}).encode(), LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
        assert json.loads(response["Payload"].read())["errorType"] == "Runtime.OutOfMemory"
        last_spare = _spare_pid(emu)
    assert not emulator_helpers.process_alive(last_spare)  # stopping ends the spare too
