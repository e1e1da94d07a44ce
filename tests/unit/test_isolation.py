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
