"""The emulator's function lifecycle through real boto3: cold/warm, updates, versions, aliases, logs."""

from __future__ import annotations

import json
import math
import os

import pytest

from lambdabench import logs
from lambdabench.emulator import Emulator

HELLO = """
    import os
    print("init says hello")
    def handler(event, context):
        print("handling", event)
        return {"echo": event, "memory": context.memory_limit_in_mb, "version": context.function_version,
                "request_id": context.aws_request_id, "remaining_ok": context.get_remaining_time_in_millis() > 0,
                "tag": "v1"}
"""

ENVIRONMENT = """
    import os, tempfile
    def handler(event, context):
        with open(os.path.join(tempfile.gettempdir(), "probe"), "w") as f:
            f.write("x")
        return {"env": dict(os.environ), "tmp": tempfile.gettempdir(), "cwd": os.getcwd()}
"""


@pytest.fixture(scope="module", params=["awslambdaric", "builtin"])
def emulator(request):
    from lambdabench.emulator.sandbox_process import awslambdaric_available

    if request.param == "awslambdaric" and not awslambdaric_available():
        pytest.skip("awslambdaric cannot be imported on this platform; the built-in client is tested instead")
    with Emulator(runtime_client=request.param, keep_alive_s=60) as emu:
        yield emu


@pytest.fixture(scope="module")
def api(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)


def _invoke(client, name, payload=None, **kwargs):
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode(), LogType="Tail", **kwargs)
    body = json.loads(response["Payload"].read() or b"null")
    text = logs.decode_log_result(response["LogResult"])
    return response, body, text, logs.parse_report(text)


def test_cold_then_warm_then_update_makes_cold_again(api, emulator_helpers):
    client, _ = api
    created = emulator_helpers.create(client, "life", HELLO, memory=256, timeout=5)
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert client.get_function(FunctionName="life")["Configuration"]["State"] == "Active"

    response, body, text, cold = _invoke(client, "life", {"n": 1})
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["echo"] == {"n": 1} and body["memory"] == "256" and body["version"] == "$LATEST"
    assert body["remaining_ok"] is True
    assert cold.request_id == body["request_id"] == response["ResponseMetadata"]["RequestId"]
    assert cold.init_duration_ms is not None and cold.init_duration_ms > 0
    assert cold.memory_size_mb == 256 and cold.status == "success"
    assert cold.billed_duration_ms == math.ceil(round(cold.duration_ms + cold.init_duration_ms, 2))
    assert 0 < cold.max_memory_used_mb <= 256
    lines = text.splitlines()
    assert lines[0].startswith("INIT_START Runtime Version: python:3.12")
    assert "init says hello" in lines
    start = lines.index(logs.format_start(cold.request_id))
    assert lines[start + 1] == "handling {'n': 1}"
    assert lines[-2] == logs.format_end(cold.request_id) and lines[-1] == logs.format_report(cold)

    _, _, text, warm = _invoke(client, "life", {"n": 2})
    assert warm.init_duration_ms is None
    assert warm.billed_duration_ms == max(1, math.ceil(warm.duration_ms))
    assert not text.startswith("INIT_START")

    updated = client.update_function_configuration(FunctionName="life", MemorySize=512)
    assert updated["LastUpdateStatus"] == "InProgress"
    client.get_waiter("function_updated_v2").wait(FunctionName="life", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    config = client.get_function_configuration(FunctionName="life")
    assert config["LastUpdateStatus"] == "Successful" and config["MemorySize"] == 512
    assert config["RevisionId"] != created["RevisionId"]
    _, body, _, after = _invoke(client, "life")
    assert after.init_duration_ms is not None and after.memory_size_mb == 512 and body["memory"] == "512"


def test_report_in_cloudwatch_logs_matches_the_tail(api, emulator_helpers):
    client, logs_client = api
    emulator_helpers.create(client, "logged", HELLO)
    _, _, _, report = _invoke(client, "logged", {"x": 1})
    events = logs_client.filter_log_events(logGroupName="/aws/lambda/logged",
                                           filterPattern=f'"{report.request_id}"')["events"]
    stored = [logs.parse_report(e["message"]) for e in events if e["message"].startswith("REPORT")]
    assert stored == [report]
    streams = logs_client.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
    assert len(streams) == 1
    assert streams[0]["logStreamName"].split("]")[0].endswith("[$LATEST") and len(
        streams[0]["logStreamName"].split("]")[1]) == 32


def test_versions_aliases_and_code_updates(api, emulator_helpers):
    client, _ = api
    emulator_helpers.create(client, "versioned", HELLO)
    v1 = client.publish_version(FunctionName="versioned", Description="first")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(":versioned:1")
    assert client.publish_version(FunctionName="versioned")["Version"] == "1"  # nothing changed
    alias = client.create_alias(FunctionName="versioned", Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(":versioned:live")

    new_code = emulator_helpers.zip_of({"app.py": HELLO.replace('"v1"', '"v2"')})
    updated = client.update_function_code(FunctionName="versioned", ZipFile=new_code, Publish=True)
    assert updated["Version"] == "2" and updated["CodeSha256"] != v1["CodeSha256"]
    client.get_waiter("function_updated_v2").wait(FunctionName="versioned")

    response, body, _, _ = _invoke(client, "versioned", Qualifier="live")
    assert response["ExecutedVersion"] == "1" and body["tag"] == "v1" and body["version"] == "1"
    response, body, _, _ = _invoke(client, "versioned")
    assert response["ExecutedVersion"] == "$LATEST" and body["tag"] == "v2"

    client.update_alias(FunctionName="versioned", Name="live", FunctionVersion="2")
    response, body, _, _ = _invoke(client, "versioned", Qualifier="live")
    assert response["ExecutedVersion"] == "2" and body["tag"] == "v2"

    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName="versioned")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    assert [a["Name"] for a in client.list_aliases(FunctionName="versioned")["Aliases"]] == ["live"]
    client.delete_function(FunctionName="versioned", Qualifier="1")
    versions = [v["Version"] for v in client.list_versions_by_function(FunctionName="versioned")["Versions"]]
    assert versions == ["$LATEST", "2"]
    client.delete_alias(FunctionName="versioned", Name="live")
    client.delete_function(FunctionName="versioned")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="versioned")
    assert "versioned" not in [f["FunctionName"] for f in client.list_functions()["Functions"]]


def test_handler_sees_lambda_environment_and_never_host_secrets(api, emulator_helpers, monkeypatch):
    client, _ = api
    # The emulator runs in this process: a secret set here must not reach the handler.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret-do-not-leak")
    monkeypatch.setenv("LAMBDABENCH_HOST_ONLY", "1")
    emulator_helpers.create(client, "envcheck", ENVIRONMENT, memory=384,
                            Environment={"Variables": {"MY_SETTING": "42"}})
    _, body, _, _ = _invoke(client, "envcheck")
    env = body["env"]
    assert "AWS_SECRET_ACCESS_KEY" not in env and "LAMBDABENCH_HOST_ONLY" not in env
    assert "host-secret-do-not-leak" not in json.dumps(env)
    assert env["MY_SETTING"] == "42"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "envcheck"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "384"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/envcheck"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler" and env["TZ"] == ":UTC"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["LAMBDA_TASK_ROOT"] == body["cwd"] == env["PYTHONPATH"].split(os.pathsep)[0]
    assert body["tmp"] == env["TMPDIR"] and os.path.basename(body["tmp"]) == "tmp"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].startswith(tuple("0123456789"))


def test_json_log_format_writes_platform_records(api, emulator_helpers):
    client, logs_client = api
    emulator_helpers.create(client, "jsonfmt", HELLO, LoggingConfig={"LogFormat": "JSON"})
    config = client.get_function_configuration(FunctionName="jsonfmt")
    assert config["LoggingConfig"]["LogFormat"] == "JSON"
    _, _, text, report = _invoke(client, "jsonfmt")
    records = [json.loads(line) for line in text.splitlines() if line.startswith('{"time"')]
    kinds = [r["type"] for r in records]
    assert kinds == ["platform.initStart", "platform.start", "platform.runtimeDone", "platform.report"]
    assert report.init_duration_ms is not None and report.request_id == records[1]["record"]["requestId"]
    assert records[-1]["record"]["metrics"]["billedDurationMs"] == report.billed_duration_ms
    assert not any(line.startswith(("START", "END", "REPORT")) for line in text.splitlines())


def test_dry_run_and_event_invocations(api, emulator_helpers):
    client, logs_client = api
    emulator_helpers.create(client, "asyncfn", HELLO)
    dry = client.invoke(FunctionName="asyncfn", InvocationType="DryRun")
    assert dry["StatusCode"] == 204
    event = client.invoke(FunctionName="asyncfn", InvocationType="Event", Payload=b'{"async": true}')
    assert event["StatusCode"] == 202
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the event runs in the background; its REPORT shows up in the logs
        events = logs_client.filter_log_events(logGroupName="/aws/lambda/asyncfn", filterPattern="REPORT")["events"] \
            if "/aws/lambda/asyncfn" in [g["logGroupName"] for g in logs_client.describe_log_groups()["logGroups"]] \
            else []
        if events:
            break
        time.sleep(0.05)
    assert len(events) == 1
    assert logs.parse_report(events[0]["message"]).request_id == event["ResponseMetadata"]["RequestId"]


def test_shutdown_ends_every_sandbox_process(emulator_helpers):
    emu = Emulator(keep_alive_s=60)
    emu.start()
    try:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "bye", """
            import subprocess, sys
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
            def handler(event, context):
                return child.pid
        """)
        child_pid = json.loads(client.invoke(FunctionName="bye")["Payload"].read())
        pids = emu.sandbox_pids()
        assert len(pids) == 1 and emulator_helpers.process_alive(pids[0])
        assert emulator_helpers.process_alive(child_pid)
    finally:
        emu.stop()
    assert not emulator_helpers.process_alive(pids[0])
    assert not emulator_helpers.process_alive(child_pid)  # the handler's own child went with it
    assert emu.sandbox_pids() == []


def test_what_the_emulator_measures_is_what_its_logs_say(emulator, api, emulator_helpers):
    client, _ = api
    emulator_helpers.create(client, "measured", HELLO, memory=192)
    backend = emulator.backend("us-east-1")
    for expect_cold in (True, False):
        result = backend.invoke("measured", None, b'{"m": 1}', log_tail=True)
        measured = result.outcome.report
        assert result.outcome.cold is expect_cold
        assert (measured.init_duration_ms is not None) is expect_cold
        assert logs.parse_report(result.outcome.log_text) == measured
        assert logs.parse_report(logs.decode_log_result(result.log_result)) == measured
        assert measured.memory_size_mb == 192 and measured.max_memory_used_mb <= 192


def test_client_context_reaches_the_handler(api, emulator_helpers):
    import base64

    client, _ = api
    emulator_helpers.create(client, "ctx", """
        def handler(event, context):
            cc = context.client_context
            return {"custom": cc.custom, "env": cc.env, "title": cc.client.app_title,
                    "identity": context.identity.cognito_identity_id,
                    "arn": context.invoked_function_arn}
    """)
    client.publish_version(FunctionName="ctx")
    client.create_alias(FunctionName="ctx", Name="prod", FunctionVersion="1")
    context = {"custom": {"k": "v"}, "env": {"platform": "test"}, "client": {"app_title": "bench"}}
    response = client.invoke(FunctionName="ctx", Qualifier="prod",
                             ClientContext=base64.b64encode(json.dumps(context).encode()).decode())
    body = json.loads(response["Payload"].read())
    assert body == {"custom": {"k": "v"}, "env": {"platform": "test"}, "title": "bench", "identity": None,
                    "arn": "arn:aws:lambda:us-east-1:123456789012:function:ctx:prod"}
    assert response["ExecutedVersion"] == "1"


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_application_logging_follows_the_log_format(api, emulator_helpers, log_format):
    client, _ = api
    name = f"applog-{log_format.lower()}"
    emulator_helpers.create(client, name, """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        def handler(event, context):
            logger.info("processing %s", 42)
            return 1
    """, LoggingConfig={"LogFormat": log_format})
    _, _, text, report = _invoke(client, name)
    line = next(line for line in text.splitlines() if "processing 42" in line)
    if log_format == "JSON":
        record = json.loads(line)
        assert record["level"] == "INFO" and record["message"] == "processing 42"
        assert record["requestId"] == report.request_id and record["logger"] == "root"
    else:
        level, when, request_id, message = line.split("\t")
        assert (level, request_id, message) == ("[INFO]", report.request_id, "processing 42")
        assert when.endswith("Z") and len(when) == len("2026-01-01T00:00:00.000Z")


def test_sandbox_started_for_an_outdated_configuration_is_not_kept_idle(emulator_helpers):
    # An invoke resolved its configuration, then an update retired the function's sandboxes before the
    # invoke's cold sandbox was registered: that sandbox must end after its invocation, not stay idle.
    with Emulator(runtime_client="builtin", keep_alive_s=60) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "stale", "def handler(event, context):\n    return 1\n")
        backend = emu.backend("us-east-1")
        _, old_spec, _, _ = backend.prepare_invoke("stale", None)
        client.update_function_configuration(FunctionName="stale", MemorySize=256)
        sandbox = emu.pool.checkout(old_spec)
        pid = sandbox.proc.pid
        emu.pool.checkin(sandbox)
        assert not emulator_helpers.process_alive(pid)
        assert pid not in emu.pool.pids()
        _, current_spec, _, _ = backend.prepare_invoke("stale", None)
        fresh = emu.pool.checkout(current_spec)
        emu.pool.checkin(fresh)
        assert fresh.proc.pid in emu.pool.pids()  # the current configuration's sandbox is kept warm
