"""The Logs JSON 1.1 layer without sockets: routing by X-Amz-Target, error shapes, parameter checks."""

from __future__ import annotations

import json

from lambdabench.emulator.logs_api import handle
from lambdabench.emulator.logstore import LogStore

NOW_MS = 1_800_000_000_000
HOUR_MS = 3600 * 1000


def call(store: LogStore, operation: str, params: dict | bytes) -> tuple[int, dict]:
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    status, headers, payload = handle(store, f"Logs_20140328.{operation}", body)
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-RequestId"]
    return status, json.loads(payload)


def store() -> LogStore:
    return LogStore(clock_ms=lambda: NOW_MS)


def test_unknown_operation_answers_an_error_naming_it():
    status, body = call(store(), "PutRetentionPolicy", {})
    assert status == 400
    assert body["__type"] == "UnknownOperationException"
    assert "'PutRetentionPolicy'" in body["message"] and "FilterLogEvents" in body["message"]


def test_body_that_is_not_a_json_object_is_a_serialization_error():
    assert call(store(), "DescribeLogGroups", b"not json")[1]["__type"] == "SerializationException"
    assert call(store(), "DescribeLogGroups", b"[1]")[1]["__type"] == "SerializationException"


def test_empty_body_is_an_empty_request():
    status, headers, payload = handle(store(), "Logs_20140328.DescribeLogGroups", b"")
    assert (status, json.loads(payload)) == (200, {"logGroups": []})


def test_missing_group_is_resource_not_found_with_aws_message():
    status, body = call(store(), "GetLogEvents", {"logGroupName": "/aws/lambda/x", "logStreamName": "s"})
    assert (status, body) == (400, {"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."})


def test_log_group_identifier_accepts_an_arn_and_excludes_the_name():
    s = store()
    s.put_log_events("/aws/lambda/f", "s", [(NOW_MS, "hello")])
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"
    status, body = call(s, "FilterLogEvents", {"logGroupIdentifier": arn})
    assert status == 200 and [e["message"] for e in body["events"]] == ["hello"]
    status, body = call(s, "FilterLogEvents", {"logGroupIdentifier": arn, "logGroupName": "/aws/lambda/f"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = call(s, "FilterLogEvents", {})
    assert body["message"] == "Either logGroupName or logGroupIdentifier must be specified."


def test_bad_names_and_types_are_invalid_parameters():
    s = store()
    status, body = call(s, "CreateLogGroup", {"logGroupName": "has space"})
    assert status == 400 and "regular expression pattern" in body["message"]
    status, body = call(s, "CreateLogGroup", {})
    assert "Member must not be null" in body["message"]
    s.create_log_group("/g")
    status, body = call(s, "GetLogEvents", {"logGroupName": "/g", "logStreamName": "s", "limit": "10"})
    # A wrong JSON type fails in the deserializer, before validation, as AWS's JSON 1.1 services answer.
    assert (status, body["__type"]) == (400, "SerializationException")
    assert body["message"] == "Cannot read 'limit': expected an integer, got a string"
    status, body = call(s, "CreateLogStream", {"logGroupName": "/g", "logStreamName": "a:b"})
    assert body["__type"] == "InvalidParameterException"


def test_put_log_events_rejects_too_old_and_too_new_events_and_keeps_the_rest():
    s = store()
    s.create_log_group("/g")
    s.create_log_stream("/g", "s")
    events = [
        {"timestamp": NOW_MS - 15 * 24 * HOUR_MS, "message": "ancient"},
        {"timestamp": NOW_MS, "message": "now"},
        {"timestamp": NOW_MS + 3 * HOUR_MS, "message": "future"},
    ]
    status, body = call(s, "PutLogEvents", {"logGroupName": "/g", "logStreamName": "s", "logEvents": events})
    assert status == 200
    assert body["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    assert [e["message"] for e in s.filter_log_events("/g")["events"]] == ["now"]


def test_put_log_events_batch_rules():
    s = store()
    s.create_log_group("/g")
    s.create_log_stream("/g", "s")
    base = {"logGroupName": "/g", "logStreamName": "s"}
    status, body = call(s, "PutLogEvents", {**base, "logEvents": [{"timestamp": NOW_MS, "message": ""}]})
    assert body["__type"] == "InvalidParameterException" and "length greater than or equal to 1" in body["message"]
    status, body = call(s, "PutLogEvents", {**base, "logEvents": []})
    assert body["__type"] == "InvalidParameterException"
    span = [{"timestamp": NOW_MS - 25 * HOUR_MS, "message": "a"}, {"timestamp": NOW_MS, "message": "b"}]
    status, body = call(s, "PutLogEvents", {**base, "logEvents": span})
    assert "cannot span more than 24 hours" in body["message"]
    status, body = call(s, "PutLogEvents", {"logGroupName": "/none", "logStreamName": "s", "logEvents": [{"timestamp": NOW_MS, "message": "x"}]})
    assert body == {"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."}


def test_describe_log_groups_pattern_is_a_substring_search():
    s = store()
    for name in ("/aws/lambda/alpha", "/aws/lambda/beta", "/other/alphabet"):
        s.create_log_group(name)
    status, body = call(s, "DescribeLogGroups", {"logGroupNamePattern": "alpha"})
    assert [g["logGroupName"] for g in body["logGroups"]] == ["/aws/lambda/alpha", "/other/alphabet"]
    status, body = call(s, "DescribeLogGroups", {"logGroupNamePattern": "alpha", "logGroupNamePrefix": "/aws"})
    assert body["__type"] == "InvalidParameterException"


def test_describe_log_groups_by_identifiers_and_class():
    s = store()
    for name in ("/aws/lambda/alpha", "/aws/lambda/beta"):
        s.create_log_group(name)
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/beta"
    status, body = call(s, "DescribeLogGroups", {"logGroupIdentifiers": [arn, "/aws/lambda/none"]})
    assert [g["logGroupName"] for g in body["logGroups"]] == ["/aws/lambda/beta"]
    status, body = call(s, "DescribeLogGroups", {"logGroupClass": "INFREQUENT_ACCESS"})
    assert body["logGroups"] == []
    status, body = call(s, "DescribeLogGroups", {"logGroupClass": "STANDARD"})
    assert len(body["logGroups"]) == 2
