"""The emulator's API errors, each with AWS's code, status and message, raised by real boto3."""

from __future__ import annotations

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

from lambdabench.emulator import Emulator, running
from lambdabench.errors import UsageError

SIMPLE = """
    def handler(event, context):
        return "ok"
"""


@pytest.fixture(scope="module")
def emulator():
    with Emulator(keep_alive_s=30, account_concurrency=8) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator, emulator_helpers):
    client, _ = emulator_helpers.clients(emulator.endpoint)
    emulator_helpers.create(client, "target", SIMPLE)
    return client


def _error(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_unknown_function_is_resource_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_function(FunctionName="nope")
    assert _error(excinfo) == ("ResourceNotFoundException", 404,
                               "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="target", Qualifier="7")


def test_creating_an_existing_function_is_a_conflict(client, emulator_helpers):
    with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
        emulator_helpers.create(client, "target", SIMPLE, wait=False)
    assert _error(excinfo) == ("ResourceConflictException", 409, "Function already exist: target")


def _model_max(shape: str) -> int:
    import botocore.session

    return botocore.session.get_session().get_service_model("lambda").shape_for(shape).metadata["max"]


def _smithy(field: str, value, constraint: str) -> str:
    return f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"


@pytest.mark.parametrize("kwargs,message", [
    # within the API model (botocore's Lambda model allows up to 32768 MB / 5400 s) but beyond a function's
    # limits: the service's own check, worded as real accounts see it at their memory cap
    ({"MemorySize": 10241}, "'MemorySize' value failed to satisfy constraint: "
                            "Member must have value less than or equal to 10240"
     if _model_max("MemorySize") > 10240 else _smithy("memorySize", 10241, "Member must have value less than or "
                                                                            "equal to 10240")),
    ({"Timeout": 901}, "'Timeout' value failed to satisfy constraint: Member must have value less than or equal to 900"
     if _model_max("Timeout") > 900 else _smithy("timeout", 901, "Member must have value less than or equal to 900")),
    # beyond the API model: the front end's model validation
    ({"MemorySize": 99999}, _smithy("memorySize", 99999, f"Member must have value less than or equal to "
                                                         f"{_model_max('MemorySize')}")),
    ({"Timeout": 99999}, _smithy("timeout", 99999, f"Member must have value less than or equal to "
                                                   f"{_model_max('Timeout')}")),
    ({"Handler": "app handler"}, _smithy("handler", "app handler",
                                         "Member must satisfy regular expression pattern: [^\\s]+")),
])
def test_out_of_range_configuration_uses_awss_validation_wording(client, emulator_helpers, kwargs, message):
    params = dict(FunctionName="invalid", Runtime="python3.12", Role=emulator_helpers.ROLE, Handler="app.handler",
                  Code={"ZipFile": emulator_helpers.zip_of({"app.py": SIMPLE})})
    params.update(kwargs)
    with pytest.raises(ClientError) as excinfo:
        client.create_function(**params)
    assert _error(excinfo) == ("ValidationException", 400, message)
    update = {k: v for k, v in kwargs.items() if k != "Handler"}
    if update:
        with pytest.raises(ClientError) as excinfo:
            client.update_function_configuration(FunctionName="target", **update)
        assert _error(excinfo)[0] == "ValidationException"


def test_semantic_errors_are_invalid_parameter_value(client, emulator_helpers):
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.create_function(FunctionName="node", Runtime="nodejs20.x", Role=emulator_helpers.ROLE,
                               Handler="index.handler", Code={"ZipFile": emulator_helpers.zip_of({"index.js": ""})})
    code, status, message = _error(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The runtime parameter of nodejs20.x is not supported")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.update_function_configuration(FunctionName="target",
                                             Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    assert _error(excinfo)[2].endswith("Reserved keys used in this request: AWS_REGION")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.update_function_code(FunctionName="target", ZipFile=b"not a zip")
    assert _error(excinfo)[2] == ("Could not unzip uploaded file. Please check your file, then try to upload "
                                  "again.")


@pytest.mark.parametrize("entry", ["../escape.py", "/etc/evil.py", "a/../../b.py"])
def test_zip_entries_escaping_the_package_are_refused(client, entry):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 1\n")
        archive.writestr(zipfile.ZipInfo(entry), "x = 1\n")
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.update_function_code(FunctionName="target", ZipFile=buffer.getvalue())
    assert f"the entry '{entry}' points outside the deployment package" in _error(excinfo)[2]


def test_symlink_pointing_out_of_the_package_is_refused(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("data")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "../../../../etc")
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.update_function_code(FunctionName="target", ZipFile=buffer.getvalue())


def test_payload_over_six_megabytes_is_request_entity_too_large(client):
    payload = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
    with pytest.raises(ClientError) as excinfo:
        client.invoke(FunctionName="target", Payload=payload)
    assert _error(excinfo) == ("RequestEntityTooLargeException", 413,
                               "Request must be smaller than 6291456 bytes for the InvokeFunction operation")


def test_invalid_json_payload_is_refused(client):
    with pytest.raises(client.exceptions.InvalidRequestContentException) as excinfo:
        client.invoke(FunctionName="target", Payload=b"{not json")
    assert _error(excinfo)[1] == 400


def test_update_while_in_progress_is_a_conflict_and_stale_revision_fails(emulator_helpers):
    with Emulator(settle_s=30) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "slow", SIMPLE, wait=False)
        assert client.get_function(FunctionName="slow")["Configuration"]["State"] == "Pending"
        with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
            client.update_function_configuration(FunctionName="slow", MemorySize=256)
        assert _error(excinfo) == ("ResourceConflictException", 409,
                                   "The operation cannot be performed at this time. An update is in progress for "
                                   "resource: arn:aws:lambda:us-east-1:123456789012:function:slow")
    with Emulator() as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        emulator_helpers.create(client, "rev", SIMPLE)
        with pytest.raises(client.exceptions.PreconditionFailedException) as excinfo:
            client.update_function_configuration(FunctionName="rev", MemorySize=256, RevisionId="stale")
        assert _error(excinfo)[1] == 412


def test_unimplemented_operation_is_named(client):
    with pytest.raises(ClientError) as excinfo:
        client.get_function_code_signing_config(FunctionName="target")
    code, status, message = _error(excinfo)
    assert (code, status) == ("NotImplementedException", 501)
    assert message == ("The Lambda operation GetFunctionCodeSigningConfig is not implemented by the lambdabench "
                       "emulator.")


def test_non_loopback_host_needs_allow_remote():
    with pytest.raises(UsageError) as excinfo:
        with running(host="0.0.0.0"):
            pass
    assert "non-loopback" in excinfo.value.message and "--allow-remote" in excinfo.value.hint


def test_info_endpoint_describes_the_emulator(emulator):
    import json
    import urllib.request

    info = json.loads(urllib.request.urlopen(emulator.endpoint + "/_lambdabench/info").read())
    assert info["account_concurrency"] == 8 and info["keep_alive_s"] == 30
    assert info["cpu_period_ms"] == 20 and info["host_cores"] >= 1
    assert {"emulator_version", "cpu_mechanism", "memory_mechanism", "warnings"} <= set(info)
