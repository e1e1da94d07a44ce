"""Custom runtimes (provided.al2023 / provided.al2) in the emulator, through real boto3: the code's own
bootstrap serves events from the Runtime API; a bootstrap Lambda cannot execute fails INIT with
Runtime.InvalidEntrypoint."""

from __future__ import annotations

import io
import re
import json
import shutil
import signal
import sys
import zipfile

import pytest

from lambdabench.emulator import Emulator, sandbox_process
from lambdabench.logs import decode_log_result, iter_reports

CURL_BOOTSTRAP = r"""#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init in ${LAMBDA_TASK_ROOT} handler=${_HANDLER}"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  echo "got $EVENT"
  curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "{\"echo\": $EVENT, \"fn\": \"${AWS_LAMBDA_FUNCTION_NAME}\"}"
done
"""

PYTHON_BOOTSTRAP = f"""#!{sys.executable} -S
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
creds = [k for k in os.environ if k.startswith("AWS_") and ("KEY" in k or "TOKEN" in k)]
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    print("event", event["n"], flush=True)
    if event.get("fail"):
        body = json.dumps({{"errorType": "CustomError", "errorMessage": "asked to fail"}}).encode()
        req = urllib.request.Request(api + "/invocation/" + rid + "/error", data=body, method="POST",
                                     headers={{"Lambda-Runtime-Function-Error-Type": "CustomError"}})
    else:
        body = json.dumps({{"n": event["n"] * 2, "handler": os.environ["_HANDLER"],
                           "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "creds": creds,
                           "cwd": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"]}}).encode()
        req = urllib.request.Request(api + "/invocation/" + rid + "/response", data=body, method="POST")
    urllib.request.urlopen(req).read()
"""


def zip_with_modes(files: dict[str, tuple[str, int]]) -> bytes:
    """A deployment package from {path: (content, unix mode)}: the mode decides whether bootstrap runs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def emulator():
    # Host credentials in the emulator's environment must never reach the bootstrap.
    host = {"AWS_ACCESS_KEY_ID": "AKIAHOST", "AWS_SECRET_ACCESS_KEY": "host-secret", "AWS_SESSION_TOKEN": "t"}
    with Emulator(keep_alive_s=30, host_environment=host) as emu:
        yield emu


@pytest.fixture(scope="module")
def clients(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)


def _create(client, name: str, files: dict[str, tuple[str, int]], runtime: str = "provided.al2023",
            memory: int = 128) -> None:
    client.create_function(FunctionName=name, Runtime=runtime, Role="arn:aws:iam::123456789012:role/r",
                           Handler="function.handler", Code={"ZipFile": zip_with_modes(files)},
                           MemorySize=memory, Timeout=5)
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})


def _log(logs, name: str) -> str:
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    return "".join(e["message"] for e in events)


def test_python_bootstrap_serves_events_cold_then_warm_without_host_credentials(clients):
    client, logs = clients
    _create(client, "py-bootstrap", {"bootstrap": (PYTHON_BOOTSTRAP, 0o755)}, runtime="provided.al2")
    first = client.invoke(FunctionName="py-bootstrap", Payload=json.dumps({"n": 21}), LogType="Tail")
    second = client.invoke(FunctionName="py-bootstrap", Payload=json.dumps({"n": 5}), LogType="Tail")
    assert "FunctionError" not in first
    assert json.loads(first["Payload"].read()) == {"n": 42, "handler": "function.handler", "memory": "128",
                                                   "creds": [], "cwd": True}
    assert json.loads(second["Payload"].read())["n"] == 10
    cold = next(iter_reports(decode_log_result(first["LogResult"]).splitlines()))
    warm_tail = decode_log_result(second["LogResult"])
    assert cold.init_duration_ms is not None and cold.init_duration_ms > 0
    assert "event 5\n" in warm_tail and "Init Duration" not in warm_tail
    assert "INIT_START Runtime Version: provided.al2.lambdabench" in _log(logs, "py-bootstrap")


def test_bootstrap_error_post_is_the_invocation_error(clients):
    client, _ = clients
    _create(client, "py-bootstrap-err", {"bootstrap": (PYTHON_BOOTSTRAP, 0o755)})
    response = client.invoke(FunctionName="py-bootstrap-err", Payload=json.dumps({"n": 1, "fail": True}))
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {"errorType": "CustomError", "errorMessage": "asked to fail"}


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell bootstrap talks to the Runtime API with curl, "
                    "which is not installed (apt-get install curl)")
def test_shell_bootstrap_with_curl_serves_events(clients):
    client, logs = clients
    _create(client, "sh-bootstrap", {"bootstrap": (CURL_BOOTSTRAP, 0o755)})
    for n in (1, 2):
        response = client.invoke(FunctionName="sh-bootstrap", Payload=json.dumps({"k": n}))
        assert "FunctionError" not in response
        assert json.loads(response["Payload"].read()) == {"echo": {"k": n}, "fn": "sh-bootstrap"}
    log = _log(logs, "sh-bootstrap")
    assert "init in " in log and "handler=function.handler" in log and 'got {"k": 2}' in log


@pytest.mark.parametrize("files, message", [
    ({"function.sh": ("echo hi", 0o755)}, "Couldn't find valid bootstrap(s): [{root}/bootstrap /opt/bootstrap]"),
    ({"bootstrap": (CURL_BOOTSTRAP, 0o644)}, "fork/exec {root}/bootstrap: permission denied"),
], ids=["missing", "not-executable"])
def test_a_bootstrap_lambda_cannot_execute_is_invalid_entrypoint(clients, files, message):
    client, logs = clients
    name = "bad-" + ("missing" if "bootstrap" not in files else "mode")
    _create(client, name, files)
    response = client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "Runtime.InvalidEntrypoint"
    expected = re.escape("RequestId:  Error: " + message).replace(re.escape("{root}"), "(/[^ ]+)")
    match = re.fullmatch(expected, payload["errorMessage"])
    assert match is not None, payload["errorMessage"]
    assert all(root == match.group(1) for root in match.groups())
    log = _log(logs, name)
    assert "INIT_REPORT Init Duration:" in log and "Status: error\tError Type: Runtime.InvalidEntrypoint" in log
    assert "Error Type: Runtime.InvalidEntrypoint" in log.split("REPORT RequestId")[-1]


def test_provided_runtimes_are_accepted_and_others_refused(clients):
    client, _ = clients
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.create_function(FunctionName="java", Runtime="java21", Role="arn:aws:iam::123456789012:role/r",
                               Handler="a.b", Code={"ZipFile": zip_with_modes({"a": ("", 0o644)})})
    assert "provided.al2023" in excinfo.value.response["Error"]["Message"]


SIGNAL_BOOTSTRAP = f"""#!{sys.executable} -S
import json, os, signal, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
ignored = [n for n in ("SIGINT", "SIGQUIT", "SIGHUP", "SIGTERM", "SIGUSR1")
           if signal.getsignal(getattr(signal, n)) == signal.SIG_IGN]
with urllib.request.urlopen(api + "/invocation/next") as r:
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
req = urllib.request.Request(api + "/invocation/" + rid + "/response", data=json.dumps(ignored).encode(),
                             method="POST")
urllib.request.urlopen(req).read()
"""


@pytest.fixture
def signals_ignored_like_a_background_job():
    """The test process ignores what a background job of a non-interactive shell (SIGINT, SIGQUIT) and
    nohup (SIGHUP) ignore, plus SIGUSR1; restored afterwards."""
    names = ("SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1")
    saved = {name: signal.signal(getattr(signal, name), signal.SIG_IGN) for name in names}
    try:
        yield
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)


@pytest.mark.parametrize("reset_by", ["env", "preexec"])
def test_a_bootstrap_starts_with_default_signal_dispositions_whatever_the_emulator_ignores(
        clients, signals_ignored_like_a_background_job, monkeypatch, reset_by):
    # coreutils `env --default-signal` resets them where it exists; elsewhere the child does before exec
    if reset_by == "preexec":
        monkeypatch.setattr(sandbox_process, "_env_default_signal", lambda: None)
    elif sandbox_process._env_default_signal() is None:
        pytest.skip("this machine's env has no --default-signal (coreutils 8.31 or later)")
    client, _ = clients
    _create(client, f"signals-{reset_by}", {"bootstrap": (SIGNAL_BOOTSTRAP, 0o755)}, memory=256)
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # the emulator does ignore it now
    response = client.invoke(FunctionName=f"signals-{reset_by}", Payload=b"{}")
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == []
