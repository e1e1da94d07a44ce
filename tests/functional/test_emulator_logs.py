"""CloudWatch Logs of the emulator through real boto3 `logs` clients: REPORT lookup by request id, JSON
patterns on JSON-format functions, pagination, one stream per sandbox, and AWS-shaped errors."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdabench.emulator import running
from lambdabench.logs import parse_report

CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}
NO_RETRIES = Config(retries={"total_max_attempts": 1}, read_timeout=60)
STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")

HANDLER = """
import time

def handler(event, context):
    time.sleep(event.get("sleep_s", 0))
    print("handled", event.get("i"))
    return {"i": event.get("i")}
"""


def zip_of(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def endpoint():
    with running(cpu_limit="none", account_concurrency=16) as url:
        yield url


@pytest.fixture(scope="module")
def lam(endpoint):
    return boto3.client("lambda", endpoint_url=endpoint, config=NO_RETRIES, **CREDENTIALS)


@pytest.fixture(scope="module")
def logs(endpoint):
    return boto3.client("logs", endpoint_url=endpoint, config=NO_RETRIES, **CREDENTIALS)


def create(lam, name: str, log_format: str = "Text") -> None:
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::123456789012:role/test",
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
        MemorySize=256,
        Timeout=10,
        LoggingConfig={"LogFormat": log_format},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def invoke(lam, name: str, event: dict) -> str:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"i": event.get("i")}
    return response["ResponseMetadata"]["RequestId"]


def filter_all(logs, **kwargs) -> list[dict]:
    events: list[dict] = []
    for page in logs.get_paginator("filter_log_events").paginate(**kwargs):
        events.extend(page["events"])
    return events


def test_filter_log_events_finds_the_report_of_one_request_id(lam, logs):
    create(lam, "logs-text")
    ids = [invoke(lam, "logs-text", {"i": i}) for i in range(3)]
    wanted = ids[1]
    found = filter_all(logs, logGroupName="/aws/lambda/logs-text", filterPattern=f'"REPORT RequestId: {wanted}"')
    assert len(found) == 1
    report = parse_report(found[0]["message"])
    assert report is not None and report.request_id == wanted
    assert report.memory_size_mb == 256
    assert report.init_duration_ms is None  # the second invoke was warm
    assert STREAM_NAME.match(found[0]["logStreamName"])
    assert set(found[0]) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert len(found[0]["eventId"]) == 56
    # The handler's own print shows up in the same stream, between START and END.
    printed = filter_all(logs, logGroupName="/aws/lambda/logs-text", filterPattern='"handled 1"')
    assert [e["logStreamName"] for e in printed] == [found[0]["logStreamName"]]


def test_json_pattern_selects_platform_reports_of_a_json_format_function(lam, logs):
    create(lam, "logs-json", log_format="JSON")
    first = invoke(lam, "logs-json", {"i": 1})
    second = invoke(lam, "logs-json", {"i": 2})
    group = "/aws/lambda/logs-json"
    reports = filter_all(logs, logGroupName=group, filterPattern='{ $.type = "platform.report" }')
    parsed = [parse_report(e["message"]) for e in reports]
    assert [r.request_id for r in parsed] == [first, second]
    assert parsed[0].init_duration_ms is not None and parsed[1].init_duration_ms is None
    one = filter_all(logs, logGroupName=group, filterPattern=f'{{ $.type = "platform.report" && $.record.requestId = "{second}" }}')
    assert [parse_report(e["message"]).request_id for e in one] == [second]
    cold_only = filter_all(logs, logGroupName=group, filterPattern="{ $.record.metrics.initDurationMs > 0 }")
    assert [parse_report(e["message"]).request_id for e in cold_only] == [first]
    assert filter_all(logs, logGroupName=group, filterPattern='"REPORT RequestId"') == []  # no text lines


def test_pagination_with_small_limits_returns_every_event_once(lam, logs):
    create(lam, "logs-pages")
    ids = [invoke(lam, "logs-pages", {"i": i}) for i in range(5)]
    group = "/aws/lambda/logs-pages"
    pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName=group, filterPattern="REPORT", PaginationConfig={"PageSize": 2}))
    assert [len(p["events"]) for p in pages] == [2, 2, 1]
    assert [parse_report(e["message"]).request_id for p in pages for e in p["events"]] == ids

    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    name = stream["logStreamName"]
    everything = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)["events"]
    walked: list[dict] = []
    result = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True, limit=1)
    while result["events"]:
        walked.extend(result["events"])
        token = result["nextForwardToken"]
        result = logs.get_log_events(logGroupName=group, logStreamName=name, nextToken=token, limit=1)
    assert result["nextForwardToken"] == token  # the end: AWS returns the token it was given
    assert walked == everything
    starts = [e["message"] for e in everything if e["message"].startswith("START RequestId:")]
    assert len(starts) == 5 and len(everything) >= 15  # START, handler output, END, REPORT per invoke


def test_describe_log_streams_shows_one_stream_per_sandbox(lam, logs):
    create(lam, "logs-burst")
    barrier = threading.Barrier(3)
    ids: list[str] = []

    def burst(i: int) -> None:
        barrier.wait()
        ids.append(invoke(lam, "logs-burst", {"i": i, "sleep_s": 0.5}))

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    group = "/aws/lambda/logs-burst"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 3  # three overlapping invokes on an idle function: three cold sandboxes
    assert all(STREAM_NAME.match(s["logStreamName"]) for s in streams)
    for s in streams:
        events = logs.get_log_events(logGroupName=group, logStreamName=s["logStreamName"], startFromHead=True)["events"]
        reports = [parse_report(e["message"]) for e in events if e["message"].startswith("REPORT")]
        assert len(reports) == 1 and reports[0].init_duration_ms is not None
        assert s["firstEventTimestamp"] <= s["lastEventTimestamp"]
    found = {parse_report(e["message"]).request_id for e in filter_all(logs, logGroupName=group, filterPattern="REPORT")}
    assert found == set(ids)
    newest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True, limit=2)
    assert len(newest["logStreams"]) == 2 and "nextToken" in newest


def test_describe_log_groups_lists_function_groups_with_prefix(lam, logs):
    create(lam, "logs-groups")
    invoke(lam, "logs-groups", {"i": 0})
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/logs-groups")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/logs-groups"]
    assert groups[0]["arn"].endswith(":log-group:/aws/lambda/logs-groups:*")


def test_logs_api_write_operations_and_errors_are_aws_shaped(logs):
    logs.create_log_group(logGroupName="/custom/app")
    logs.create_log_stream(logGroupName="/custom/app", logStreamName="s1")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/custom/app",
        logStreamName="s1",
        logEvents=[{"timestamp": now, "message": "ERROR one"}, {"timestamp": now + 1, "message": "INFO two"}],
    )
    assert [e["message"] for e in filter_all(logs, logGroupName="/custom/app", filterPattern="ERROR")] == ["ERROR one"]

    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/custom/app")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing_stream:
        logs.put_log_events(logGroupName="/custom/app", logStreamName="nope", logEvents=[{"timestamp": now, "message": "x"}])
    assert missing_stream.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(logs.exceptions.InvalidParameterException) as unordered:
        logs.put_log_events(
            logGroupName="/custom/app",
            logStreamName="s1",
            logEvents=[{"timestamp": now + 5, "message": "b"}, {"timestamp": now, "message": "a"}],
        )
    assert "chronological order" in unordered.value.response["Error"]["Message"]
    with pytest.raises(logs.exceptions.InvalidParameterException) as bad_pattern:
        logs.filter_log_events(logGroupName="/custom/app", filterPattern='{ $.level = "x"')
    assert bad_pattern.value.response["Error"]["Message"] == "If a filter pattern starts with '{' it must end with '}'"
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName="/custom/app", logStreamNames=["s1"], logStreamNamePrefix="s")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing_group:
        logs.filter_log_events(logGroupName="/aws/lambda/does-not-exist")
    assert missing_group.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    logs.delete_log_group(logGroupName="/custom/app")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName="/custom/app")


def test_unimplemented_logs_operation_answers_an_error_naming_it(logs):
    with pytest.raises(ClientError) as err:
        logs.describe_destinations()
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "DescribeDestinations" in err.value.response["Error"]["Message"]
