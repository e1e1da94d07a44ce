"""Requests checked against botocore's input shape before an operation runs, answered as AWS does.

Raw HTTP where boto3 would refuse to send the request itself (wrong JSON types, bodies that are not JSON);
real boto3 where it sends it (a value its client-side checks let through), so the error is the one an SDK
user sees.
"""

from __future__ import annotations

import email.utils
import http.client
import json

import pytest
from botocore.exceptions import ClientError

from lambdabench.emulator import Emulator

HANDLER = """
def handler(event, context):
    return "ok"
"""


@pytest.fixture(scope="module")
def emulator(emulator_helpers):
    with Emulator(cpu_limit="none", keep_alive_s=30) as emu:
        client, logs = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "fn", HANDLER)
        yield emu, client, logs


def raw(emu, method: str, target: str, body: bytes = b"", headers: dict | None = None):
    host, port = emu.endpoint.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_a_string_where_the_model_wants_an_integer_is_a_serialization_exception(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "PUT", "/2015-03-31/functions/fn/configuration", b'{"MemorySize": "256"}')
    assert (status, headers["x-amzn-ErrorType"]) == (400, "SerializationException")
    assert body == {"Type": "User", "message": "Cannot read 'MemorySize': expected an integer, got a string"}


def test_a_scalar_where_the_model_wants_a_structure_names_the_nested_member(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "PUT", "/2015-03-31/functions/fn/configuration",
                                b'{"Environment": {"Variables": ["A"]}}')
    assert (status, headers["x-amzn-ErrorType"]) == (400, "SerializationException")
    assert body["message"] == "Cannot read 'Environment.Variables': expected a map (JSON object), got an array"


def test_a_body_that_is_not_json_is_a_serialization_exception(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "POST", "/2015-03-31/functions/fn/versions", b"{not json")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "SerializationException")
    assert body["message"] == "Could not parse request body into json: the body is not valid JSON"


def test_a_one_letter_environment_variable_name_fails_the_models_pattern_without_echoing_it(emulator):
    _, client, _ = emulator
    with pytest.raises(ClientError) as excinfo:
        client.update_function_configuration(FunctionName="fn", Environment={"Variables": {"X": "1"}})
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException"
    # The variable names are `sensitive` in the model, so AWS leaves the value out of the message.
    assert error["Message"] == ("1 validation error detected: Value at 'environment.variables' failed to "
                                "satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                                "regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")


def test_every_violation_of_one_request_is_listed(emulator):
    emu, _, _ = emulator
    status, _, body = raw(emu, "GET", "/2015-03-31/functions/fn/aliases?MaxItems=0&FunctionVersion=" + "9" * 1025)
    assert status == 400
    assert body["message"] == (
        "2 validation errors detected: Value '" + "9" * 256 + "...' at 'functionVersion' failed to satisfy "
        "constraint: Member must have length between 1 and 1024; Value '0' at 'maxItems' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1")


def test_a_query_value_that_is_not_a_number_names_the_member(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "GET", "/2015-03-31/functions?MaxItems=ten")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert body["message"] == ("1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy "
                               "constraint: Member must be an integer")


def test_a_path_no_lambda_operation_has_is_404_unknown_operation(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "GET", "/2015-03-31/nothing/here")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")
    assert body["message"].startswith("No Lambda operation matches GET /2015-03-31/nothing/here ")


def test_error_answers_carry_a_request_id_and_a_date_as_aws_does(emulator):
    emu, client, logs = emulator
    for status, headers, _ in (raw(emu, "GET", "/nothing"), raw(emu, "GET", "/2015-03-31/functions/nope"),
                               raw(emu, "POST", "/", b"[]", {"X-Amz-Target": "Logs_20140328.CreateLogGroup"})):
        assert status in (400, 404)
        assert len(headers["x-amzn-RequestId"]) == 36
        assert email.utils.parsedate_to_datetime(headers["Date"]).tzname() == "UTC"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_function(FunctionName="nope")
    assert len(excinfo.value.response["ResponseMetadata"]["RequestId"]) == 36
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as excinfo:
        logs.get_log_events(logGroupName="/none", logStreamName="s")
    assert len(excinfo.value.response["ResponseMetadata"]["RequestId"]) == 36


def test_logs_constraint_violations_are_invalid_parameter_exceptions_in_smithy_words(emulator):
    emu, _, _ = emulator
    status, headers, body = raw(emu, "POST", "/", json.dumps({"logGroupName": "/g", "limit": 0}).encode(),
                                {"X-Amz-Target": "Logs_20140328.DescribeLogStreams",
                                 "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and body["__type"] == "InvalidParameterException"
    assert body["message"] == ("1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
                               "Member must have value greater than or equal to 1")


def test_a_valid_invoke_still_passes_validation(emulator):
    _, client, _ = emulator
    response = client.invoke(FunctionName="fn", Payload=b"{}", LogType="Tail")
    assert response["StatusCode"] == 200 and response["Payload"].read() == b'"ok"'
