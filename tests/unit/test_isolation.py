"""Function references, copy names and the copy's CreateFunction request (pure functions)."""

from __future__ import annotations

import pytest

from lambdabench.arns import FunctionRef, derived_name, parse_function
from lambdabench.sweep.isolation import SOURCE_TAG, SWEEP_TAG, copy_name, copy_request, environment_bytes

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


@pytest.mark.parametrize("text, expected", [
    ("orders", FunctionRef("orders", "orders")),
    ("orders:live", FunctionRef("orders:live", "orders", qualifier="live")),
    ("orders:$LATEST", FunctionRef("orders:$LATEST", "orders", qualifier="$LATEST")),
    ("123456789012:function:orders", FunctionRef("123456789012:function:orders", "orders", account="123456789012")),
    (ARN, FunctionRef(ARN, "orders", region="eu-west-1", account="123456789012", partition="aws")),
    (ARN + ":7", FunctionRef(ARN + ":7", "orders", region="eu-west-1", account="123456789012", partition="aws",
                             qualifier="7")),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
     FunctionRef("arn:aws-cn:lambda:cn-north-1:123456789012:function:f", "f", region="cn-north-1",
                 account="123456789012", partition="aws-cn")),
])
def test_function_references_split_into_their_parts(text, expected):
    assert parse_function(text) == expected


@pytest.mark.parametrize("text", ["", "has space", "x" * 65, "arn:aws:lambda:eu-west-1:12345:function:f",
                                  "arn:aws:s3:::bucket"])
def test_what_is_not_a_function_reference_is_none(text):
    assert parse_function(text) is None


def test_the_unqualified_form_keeps_an_arn_an_arn():
    assert parse_function(ARN + ":live").unqualified == ARN
    assert parse_function("orders:3").unqualified == "orders"


def test_copy_names_fit_64_characters_and_differ_per_architecture():
    long = "n" * 64
    assert copy_name("orders", "ab12cd34", "x86_64", "x86_64") == "orders-lb-ab12cd34"
    assert copy_name("orders", "ab12cd34", "arm64", "x86_64") == "orders-lb-ab12cd34-arm"
    assert copy_name(long, "ab12cd34", "arm64", "x86_64") == "n" * 48 + "-lb-ab12cd34-arm"
    assert len(copy_name(long, "ab12cd34", "arm64", "x86_64")) == 64
    assert derived_name("abc", "-x") == "abc-x"


def test_environment_is_measured_as_lambda_does_compact_json_in_utf8_bytes():
    assert environment_bytes({"A": "1"}) == len('{"A":"1"}')
    # non-ASCII as its \\u escape, the same measure the emulator applies to refuse over 4 KB
    assert environment_bytes({"A": "é"}) == len('{"A":"\\u00e9"}') == 14


CONFIG = {
    "FunctionName": "orders", "FunctionArn": ARN, "Runtime": "python3.12", "Handler": "app.handler",
    "Role": "arn:aws:iam::123456789012:role/r", "MemorySize": 1024, "Timeout": 30, "PackageType": "Zip",
    "Architectures": ["arm64"], "EphemeralStorage": {"Size": 2048},
    "Layers": [{"Arn": "arn:aws:lambda:eu-west-1:123456789012:layer:deps:3", "CodeSize": 10}],
    "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1",
                  "Ipv6AllowedForDualStack": True},
    "FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-1",
                           "LocalMountPath": "/mnt/data"}],
    "TracingConfig": {"Mode": "Active"}, "KMSKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
    "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO",
                      "LogGroup": "/custom/orders"},
    "RevisionId": "r1", "State": "Active",
}


def test_the_copy_request_carries_everything_that_decides_performance_and_the_tags():
    request = copy_request(CONFIG, {"ZipFile": b"zip"}, name="orders-lb-1", architecture="arm64", run_id="1",
                           environment={"K": "v", "LAMBDABENCH_NONCE": "n"}, image_config=None)
    assert request == {
        "FunctionName": "orders-lb-1", "Role": "arn:aws:iam::123456789012:role/r", "Code": {"ZipFile": b"zip"},
        "PackageType": "Zip", "MemorySize": 1024, "Timeout": 30, "Architectures": ["arm64"],
        "Environment": {"Variables": {"K": "v", "LAMBDABENCH_NONCE": "n"}}, "EphemeralStorage": {"Size": 2048},
        "Tags": {SWEEP_TAG: "1", SOURCE_TAG: ARN}, "Description": "lambdabench sweep 1 copy of orders",
        "Runtime": "python3.12", "Handler": "app.handler",
        "Layers": ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:3"],
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "Ipv6AllowedForDualStack": True},
        "FileSystemConfigs": [{"Arn": "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-1",
                               "LocalMountPath": "/mnt/data"}],
        "TracingConfig": {"Mode": "Active"}, "KMSKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
        # its own log group (no LogGroup): the copy's logs never mix with the original's
        "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO"},
    }


def test_an_image_copy_runs_the_digest_with_the_image_config_and_no_runtime():
    config = {**CONFIG, "PackageType": "Image", "Layers": []}
    request = copy_request(config, {"ImageUri": "repo@sha256:abc"}, name="c", architecture="arm64", run_id="1",
                           environment={}, image_config={"Command": ["app.handler"]})
    assert request["Code"] == {"ImageUri": "repo@sha256:abc"} and request["ImageConfig"] == {"Command": ["app.handler"]}
    assert "Runtime" not in request and "Handler" not in request and "Layers" not in request


def test_a_zip_too_big_to_upload_again_is_refused_in_copy_mode_only():
    from lambdabench.errors import UsageError
    from lambdabench.sweep.isolation import preflight

    big = {**CONFIG, "CodeSize": 50 * 1024 * 1024 + 1, "Environment": {"Variables": {"K": "v"}}}
    with pytest.raises(UsageError) as err:
        preflight(big, isolation="copy", architectures={"arm64"}, nonce_variable="LAMBDABENCH_NONCE")
    assert err.value.message == ("orders's deployment package is 52.4 MB, over the 50 MB that CreateFunction "
                                 "accepts directly, so the copy cannot be created")
    assert "--in-place" in err.value.hint
    preflight(big, isolation="in-place", architectures={"arm64"}, nonce_variable="LAMBDABENCH_NONCE")


def test_the_region_of_a_full_arn_is_used_when_none_is_given(tmp_path):
    from lambdabench.scenario import load_scenario
    from lambdabench.sweep.run import SweepOptions, _region

    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\n[function]\nname = "{ARN}"\n[target]\nkind = "aws"\n[sweep]\nmemory_mb = [128]\n'
                    'timeout_s = [3]\n[[scenario]]\nkind = "cold"\ninvocations = 1\n')
    scenario = load_scenario(path)
    assert _region(scenario, SweepOptions()) == "eu-west-1"
    assert _region(scenario, SweepOptions(region="eu-west-1")) == "eu-west-1"


# -- waking an Inactive function (in place, --wake-inactive) -------------------------------------------

class _States:
    """Clients whose Invoke fails as Lambda's does for an Inactive function and whose reads walk `states`."""

    def __init__(self, states: list[str], invoke_code: str = "ResourceConflictException"):
        import botocore.exceptions

        self.states, self.reads, self.invokes = list(states), 0, 0
        self.invoke_error = botocore.exceptions.ClientError(
            {"Error": {"Code": invoke_code, "Message": "The function is currently in the following state: Inactive"}},
            "Invoke")

    def get_function_configuration(self, FunctionName):  # noqa: N803 (boto3's parameter name)
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return {"FunctionName": FunctionName, "State": state, "RevisionId": f"rev-{self.reads}",
                **({"StateReasonCode": "SubnetOutOfIPAddresses"} if state == "Inactive" and self.reads > 1 else {})}

    def invoke(self, **kwargs):
        self.invokes += 1
        raise self.invoke_error


def _wake(states: _States, **kw):
    from types import SimpleNamespace

    from lambdabench.sweep.isolation import wake

    clients = SimpleNamespace(control=states, invoke=states)
    return wake(clients, "orders", b"{}", sleep=lambda s: None, delay_s=1.0, **kw)


def test_wake_invokes_once_and_waits_through_pending_until_active():
    states = _States(["Pending", "Pending", "Active"])
    assert _wake(states)["RevisionId"] == "rev-3"
    assert (states.invokes, states.reads) == (1, 3)


def test_a_vpc_function_not_ready_is_woken_the_same_way():
    states = _States(["Active"], invoke_code="ResourceNotReadyException")
    assert _wake(states)["State"] == "Active"


def test_a_function_lambda_cannot_restore_is_a_run_error_naming_the_reason():
    from lambdabench.errors import RunError

    with pytest.raises(RunError) as raised:
        _wake(_States(["Pending", "Inactive"]))
    assert raised.value.message == "Lambda could not wake orders: it is Inactive again (SubnetOutOfIPAddresses)"
    assert "nothing was changed" in raised.value.hint


def test_a_function_still_not_active_after_the_wait_is_a_run_error():
    from lambdabench.errors import RunError

    clock = iter(range(0, 1000, 100))
    with pytest.raises(RunError, match="orders was still Pending 300 s after the wake-up invoke"):
        _wake(_States(["Pending"]), clock=lambda: next(clock))


def test_any_other_invoke_error_is_not_taken_for_the_wake():
    from lambdabench.errors import LambdabenchError

    with pytest.raises(LambdabenchError):
        _wake(_States(["Active"], invoke_code="AccessDeniedException"))
