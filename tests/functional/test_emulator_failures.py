"""How invocations fail in the emulator: timeouts, handler exceptions, INIT failures, process death."""

from __future__ import annotations

import json
import os

import pytest

from lambdabench import logs
from lambdabench.emulator import Emulator

FAILING = """
    import os, time
    def handler(event, context):
        action = event.get("action")
        if action == "raise":
            raise ValueError("bad input: " + str(event.get("n")))
        if action == "sleep":
            time.sleep(event["s"])
        if action == "exit":
            os._exit(3)
        if action == "kill":
            os.kill(os.getpid(), 9)
        return {"pid": os.getpid()}
"""


@pytest.fixture(scope="module", params=["awslambdaric", "builtin"])
def api(request, emulator_helpers):
    from lambdabench.emulator.sandbox_process import awslambdaric_available

    if request.param == "awslambdaric" and not awslambdaric_available():
        pytest.skip("awslambdaric cannot be imported on this platform; the built-in client is tested instead")
    with Emulator(runtime_client=request.param, keep_alive_s=60) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "failing", FAILING, timeout=1)
        yield client


def _invoke(client, payload, name="failing"):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode(), LogType="Tail")
    text = logs.decode_log_result(response["LogResult"])
    return response, json.loads(response["Payload"].read()), text, logs.parse_report(text)


def test_handler_exception_is_unhandled_with_lambdas_payload_and_keeps_the_sandbox(api):
    _, ok, _, _ = _invoke(api, {})
    response, body, text, report = _invoke(api, {"action": "raise", "n": 7})
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "bad input: 7" and body["errorType"] == "ValueError"
    assert body["requestId"] == report.request_id
    assert any('line 6, in handler' in frame for frame in body["stackTrace"])
    assert report.status == "success" and report.init_duration_ms is None  # same warm sandbox
    assert "[ERROR] ValueError: bad input: 7\rTraceback (most recent call last):" in text
    _, again, _, _ = _invoke(api, {})
    assert again["pid"] == ok["pid"]


def test_timeout_kills_the_sandbox_and_reports_the_timeout(api):
    _, before, _, _ = _invoke(api, {})
    response, body, text, report = _invoke(api, {"action": "sleep", "s": 30})
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {report.request_id} Error: Task timed out after 1.00 seconds"}
    assert report.status == "timeout" and report.duration_ms == 1000.0 and report.billed_duration_ms == 1000
    timeout_lines = [line for line in text.splitlines() if "Task timed out" in line]
    assert len(timeout_lines) == 1
    assert timeout_lines[0].endswith(f" {report.request_id} Task timed out after 1.00 seconds")
    _, after, after_text, cold = _invoke(api, {})
    assert "pid" in after, (after, after_text)
    assert after["pid"] != before["pid"] and cold.init_duration_ms is not None


@pytest.mark.parametrize("action,exit_text", [("exit", "exit status 3"), ("kill", "signal: killed")])
def test_process_death_is_runtime_exit_error(api, action, exit_text):
    response, body, _, report = _invoke(api, {"action": action})
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {report.request_id} Error: Runtime exited with error: {exit_text}"}
    assert report.status == "error" and report.error_type == "Runtime.ExitError"
    _, _, _, next_report = _invoke(api, {})
    assert next_report.init_duration_ms is not None  # a new sandbox replaced the dead one


@pytest.mark.parametrize("source,handler,error_type,message", [
    ("x = 1\n", "missing.handler", "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
    ("x = 1\n", "app.nothere", "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'app'"),
    ("def handler(:\n", "app.handler", "Runtime.UserCodeSyntaxError", None),
])
def test_init_failure_answers_the_runtime_error_and_logs_init_report(api, emulator_helpers, source, handler,
                                                                     error_type, message):
    name = "init-" + error_type.split(".")[1].lower()
    emulator_helpers.create(api, name, source, handler=handler)
    response, body, text, report = _invoke(api, {}, name=name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == error_type
    if message is not None:
        assert body["errorMessage"] == message
    init_reports = [logs.parse_record(line) for line in text.splitlines() if line.startswith("INIT_REPORT")]
    assert len(init_reports) == 1 and init_reports[0].kind == "INIT_REPORT"
    assert f"Phase: init\tStatus: error\tError Type: {error_type}" in text
    assert report.status == "error" and report.error_type == error_type and report.init_duration_ms is None
    assert report.billed_duration_ms == max(1, -(-int(round(report.duration_ms * 100)) // 100))


def test_answer_posted_on_another_connection_ends_the_invocation(api, emulator_helpers):
    emulator_helpers.create(api, "sideways", """
        import http.client, os, time
        def handler(event, context):
            conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
            conn.request("POST", f"/2018-06-01/runtime/invocation/{context.aws_request_id}/response",
                         body=b'{"via": "side door"}')
            status = conn.getresponse().status
            time.sleep(5)  # the invocation is already over for the caller
            return {"via": "return", "status": status}
    """, timeout=10)
    response, body, _, report = _invoke(api, {}, name="sideways")
    assert body == {"via": "side door"} and "FunctionError" not in response
    assert report.status == "success" and report.duration_ms < 5000


def test_response_over_six_megabytes_is_function_response_size_too_large(api, emulator_helpers):
    emulator_helpers.create(api, "bigreply", """
        def handler(event, context):
            return "x" * event["n"]
    """)
    response, body, _, report = _invoke(api, {"n": 6 * 1024 * 1024 + 99}, name="bigreply")  # + 2 quotes
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                    "errorType": "Function.ResponseSizeTooLarge"}
    response, body, _, _ = _invoke(api, {"n": 6 * 1024 * 1024 + 98}, name="bigreply")  # exactly the limit
    assert "FunctionError" not in response and len(body) == 6 * 1024 * 1024 + 98


ENV_REPORTER = """
    import os
    def handler(event, context):
        names = ("HOME", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED", "TMPDIR")
        return {"expanded_home": os.path.expanduser("~"), **{n: os.environ.get(n) for n in names}}
"""


def test_sandbox_cannot_reach_the_hosts_aws_credentials(emulator_helpers):
    with Emulator(runtime_client="builtin", keep_alive_s=60) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "envreport", ENV_REPORTER)
        _, body, _, _ = _invoke(client, {}, name="envreport")
    host_home = os.path.expanduser("~")
    assert body["HOME"] == body["TMPDIR"] and body["expanded_home"] == body["TMPDIR"]
    assert body["expanded_home"] != host_home and body["expanded_home"] != "/root"
    assert body["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert body["AWS_CONFIG_FILE"] == "/dev/null"
    assert body["AWS_EC2_METADATA_DISABLED"] == "true"
