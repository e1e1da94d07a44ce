"""Reserved and account concurrency, throttles with Lambda's Reason, bursts of cold sandboxes."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from lambdabench import logs
from lambdabench.emulator import Emulator

# Holds its invocation open until the test releases it: throttling is then deterministic, not a race.
GATED = """
    import os, time
    def handler(event, context):
        gate = os.environ["GATE_DIR"]
        open(os.path.join(gate, "started-" + context.aws_request_id), "w").close()
        while not os.path.exists(os.path.join(gate, "release")):
            time.sleep(0.005)
        return {"pid": os.getpid()}
"""


@pytest.fixture()
def emulator():
    with Emulator(keep_alive_s=60, account_concurrency=4) as emu:
        yield emu


def _wait_started(gate, count, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len([n for n in os.listdir(gate) if n.startswith("started-")]) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} invocations did not start")


def _throttle_reason(client, name):
    with pytest.raises(client.exceptions.TooManyRequestsException) as excinfo:
        client.invoke(FunctionName=name, Payload=b"{}")
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Type"] == "User" and response["Error"]["Code"] == "TooManyRequestsException"
    return response["Reason"], response["Error"]["Message"]


def test_reserved_concurrency_one_throttles_the_others(emulator, emulator_helpers, tmp_path):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "gated", GATED, timeout=60, Environment={"Variables": {"GATE_DIR": str(tmp_path)}})
    put = client.put_function_concurrency(FunctionName="gated", ReservedConcurrentExecutions=1)
    assert put["ReservedConcurrentExecutions"] == 1
    assert client.get_function_concurrency(FunctionName="gated")["ReservedConcurrentExecutions"] == 1
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.invoke, FunctionName="gated", Payload=b"{}")
        _wait_started(tmp_path, 1)
        reasons = [_throttle_reason(client, "gated") for _ in range(3)]
        (tmp_path / "release").touch()
        response = first.result(timeout=60)
    assert reasons == [("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.")] * 3
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    # The slot is free again once the invocation ended.
    assert client.invoke(FunctionName="gated", Payload=b"{}")["StatusCode"] == 200


def test_reserved_zero_throttles_everything(emulator, emulator_helpers):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "off", "def handler(e, c):\n    return 1\n")
    client.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    for _ in range(3):
        assert _throttle_reason(client, "off")[0] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    client.delete_function_concurrency(FunctionName="off")
    assert client.get_function_concurrency(FunctionName="off").get("ReservedConcurrentExecutions") is None
    assert client.invoke(FunctionName="off")["StatusCode"] == 200


def test_account_limit_throttles_and_burst_creates_one_cold_sandbox_each(emulator, emulator_helpers, tmp_path):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "burst", GATED, timeout=60, Environment={"Variables": {"GATE_DIR": str(tmp_path)}})
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(client.invoke, FunctionName="burst", Payload=b"{}", LogType="Tail") for _ in range(4)]
        _wait_started(tmp_path, 4)
        reason = _throttle_reason(client, "burst")[0]
        (tmp_path / "release").touch()
        responses = [f.result(timeout=60) for f in futures]
    assert reason == "ConcurrentInvocationLimitExceeded"
    reports = [logs.parse_report(logs.decode_log_result(r["LogResult"])) for r in responses]
    assert all(r.init_duration_ms is not None for r in reports)  # four concurrent → four cold starts
    pids = {json.loads(r["Payload"].read())["pid"] for r in responses}
    assert len(pids) == 4
    settings = client.get_account_settings()["AccountLimit"]
    assert settings["ConcurrentExecutions"] == 4 and settings["UnreservedConcurrentExecutions"] == 4


def test_reservation_must_leave_the_unreserved_minimum(emulator, emulator_helpers):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "greedy", "def handler(e, c):\n    return 1\n")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.put_function_concurrency(FunctionName="greedy", ReservedConcurrentExecutions=4)
    assert excinfo.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
        "below its minimum value of [1].")
    client.put_function_concurrency(FunctionName="greedy", ReservedConcurrentExecutions=3)
    settings = client.get_account_settings()["AccountLimit"]
    assert settings["UnreservedConcurrentExecutions"] == 1
    assert client.get_function(FunctionName="greedy")["Concurrency"] == {"ReservedConcurrentExecutions": 3}


def test_idle_sandboxes_are_reaped_after_keep_alive(emulator_helpers):
    with Emulator(keep_alive_s=0.3) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "reaped", "import os\ndef handler(e, c):\n    return os.getpid()\n")
        first = json.loads(client.invoke(FunctionName="reaped")["Payload"].read())
        deadline = time.monotonic() + 10
        while (emu.sandbox_pids() or emulator_helpers.process_alive(first)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.sandbox_pids() == [] and not emulator_helpers.process_alive(first)
        response = client.invoke(FunctionName="reaped", LogType="Tail")
        assert logs.parse_report(logs.decode_log_result(response["LogResult"])).init_duration_ms is not None
