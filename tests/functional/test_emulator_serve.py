"""`lambdabench serve`: prints the endpoint, serves boto3, shuts down cleanly on SIGTERM/Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest


def _serve(*args):
    return subprocess.Popen([sys.executable, "-m", "lambdabench", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_endpoint_serves_and_stops_cleanly(emulator_helpers, stop_signal, default_sigint):
    proc = _serve("--port", "0", "--keep-alive-s", "60", "--account-concurrency", "3")
    try:
        endpoint = proc.stdout.readline().strip()
        assert endpoint.startswith("http://127.0.0.1:")
        client, _ = emulator_helpers.clients(endpoint)
        emulator_helpers.create(client, "served", "import os\ndef handler(e, c):\n    return os.getpid()\n")
        sandbox_pid = json.loads(client.invoke(FunctionName="served")["Payload"].read())
        assert emulator_helpers.process_alive(sandbox_pid)
        assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 3
    finally:
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "cpu:" in err and "stopping: ending every sandbox" in err
    deadline = time.monotonic() + 5
    while emulator_helpers.process_alive(sandbox_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not emulator_helpers.process_alive(sandbox_pid)


def test_serve_refuses_a_public_host_without_allow_remote():
    proc = _serve("--host", "0.0.0.0", "--port", "0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == ""
    assert "non-loopback host '0.0.0.0'" in err and "--allow-remote" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("start", ["spawn", "fork"])
def test_serve_starts_sandboxes_as_asked(start):
    import urllib.request

    proc = _serve("--port", "0", "--sandbox-start", start)
    try:
        endpoint = proc.stdout.readline().strip()
        with urllib.request.urlopen(f"{endpoint}/_lambdabench/info", timeout=30) as response:
            assert json.load(response)["sandbox_start"] == start
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"({start})" in err
