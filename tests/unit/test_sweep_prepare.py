"""prepare() against a hand-built Lambda control client: what it reads from the function configuration
(KMS environment errors, custom log group, image digest) before anything is changed."""

from __future__ import annotations

import copy

import pytest

from lambdabench.errors import UsageError
from lambdabench.sweep.clients import Clients, TargetInfo
from lambdabench.sweep.driver import prepare
from lambdabench.sweep.plan import ConfigPoint, Plan
from lambdabench.sweep.snapshot import FunctionConfig, environment_error


class FakeControl:
    """Answers the read-only calls prepare makes; records every call so a test can see nothing changed."""

    def __init__(self, configuration: dict, code: dict | None = None):
        self.configuration = configuration
        self.code = code or {"RepositoryType": "S3", "Location": "https://example.invalid/code.zip"}
        self.calls: list[str] = []

    def get_function(self, **kwargs):
        self.calls.append("get_function")
        return {"Configuration": copy.deepcopy(self.configuration), "Code": dict(self.code)}

    def get_function_configuration(self, **kwargs):
        self.calls.append("get_function_configuration")
        return copy.deepcopy(self.configuration)

    def list_versions_by_function(self, **kwargs):
        self.calls.append("list_versions_by_function")
        return {"Versions": [{"Version": "$LATEST"}]}

    def list_aliases(self, **kwargs):
        self.calls.append("list_aliases")
        return {"Aliases": []}


def _clients(control: FakeControl) -> Clients:
    return Clients(target=TargetInfo(kind="aws", region="us-east-1"), control=control, invoke=None, logs=None)


PLAN = Plan(configs=(ConfigPoint(128, 3, "x86_64"),), actions=(), scenarios=(), order="grouped", seed=0)
BASE = {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "MemorySize": 128, "Timeout": 3, "Architectures": ["x86_64"], "PackageType": "Zip",
        "EphemeralStorage": {"Size": 512}}
KMS_ERROR = {"Error": {"ErrorCode": "AccessDeniedException",
                       "Message": "Lambda was unable to decrypt the environment variables because KMS access was denied."}}


def test_unreadable_kms_environment_stops_prepare_before_any_change():
    control = FakeControl({**BASE, "Environment": KMS_ERROR})
    with pytest.raises(UsageError) as info:
        prepare(_clients(control), "f", PLAN)
    assert info.value.message == (
        "cannot read the function's environment variables: AccessDeniedException Lambda was unable to "
        "decrypt the environment variables because KMS access was denied.")
    assert info.value.hint == "grant kms:Decrypt on the function's key to this identity, then retry"
    assert all(call.startswith(("get_", "list_")) for call in control.calls)


def test_environment_error_is_none_when_variables_are_readable():
    assert environment_error({**BASE, "Environment": {"Variables": {"A": "1"}}}) is None
    assert environment_error(BASE) is None
    assert FunctionConfig.from_api({**BASE, "Environment": {"Variables": {"A": "1"}}}).env == {"A": "1"}


def test_json_logs_at_warn_stop_prepare_because_reports_would_be_dropped():
    control = FakeControl({**BASE, "LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "WARN"}})
    with pytest.raises(UsageError) as info:
        prepare(_clients(control), "f", PLAN)
    assert info.value.message == "'f' logs system records at WARN, which drops Lambda's REPORT records"
    assert all(call.startswith(("get_", "list_")) for call in control.calls)


def test_json_logs_at_info_are_accepted():
    control = FakeControl({**BASE, "LoggingConfig": {"LogFormat": "JSON", "SystemLogLevel": "INFO"}})
    assert prepare(_clients(control), "f", PLAN).log_format == "JSON"


def test_prepared_log_group_follows_a_custom_logging_config():
    control = FakeControl({**BASE, "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/custom/group"}})
    prepared = prepare(_clients(control), "f", PLAN)
    assert prepared.log_group == "/custom/group" and prepared.log_format == "JSON"


def test_prepared_log_group_defaults_to_aws_lambda_name():
    prepared = prepare(_clients(FakeControl(BASE)), BASE["FunctionArn"], PLAN)
    assert prepared.log_group == "/aws/lambda/f" and prepared.log_format == "Text"


def test_image_snapshot_keeps_the_resolved_digest_not_the_tag():
    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    control = FakeControl({**BASE, "PackageType": "Image"},
                          code={"RepositoryType": "ECR", "ImageUri": f"{repo}:latest",
                                "ResolvedImageUri": f"{repo}@sha256:{'a' * 64}"})
    prepared = prepare(_clients(control), "f", PLAN)
    assert prepared.snapshot.image_uri == f"{repo}@sha256:{'a' * 64}"


def test_image_snapshot_falls_back_to_the_image_uri_without_a_digest():
    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    control = FakeControl({**BASE, "PackageType": "Image"}, code={"RepositoryType": "ECR", "ImageUri": f"{repo}:v1"})
    assert prepare(_clients(control), "f", PLAN).snapshot.image_uri == f"{repo}:v1"
