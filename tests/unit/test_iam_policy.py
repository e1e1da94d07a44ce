"""The least-privilege policy generator: exact policies per mode and input, and its invariants."""

from __future__ import annotations

import itertools
from pathlib import Path

import botocore.session
import pytest

from lambdabench.sweep import iam

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
ROLE = "arn:aws:iam::123456789012:role/orders-exec"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = Path(__file__).resolve().parents[2]


def config(**extra) -> dict:
    return {"FunctionName": "orders", "FunctionArn": ARN, "Role": ROLE, **extra}


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_in_place_policy_reads_changes_and_invokes_the_function_only():
    assert iam.policy(config(), mode=iam.IN_PLACE) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadFunction", "Effect": "Allow", "Resource": ARN,
             "Action": ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
                        "lambda:ListAliases", "lambda:ListFunctionUrlConfigs", "lambda:GetPolicy"]},
            {"Sid": "LiveTrafficChecks", "Effect": "Allow", "Resource": "*",
             "Action": ["lambda:ListEventSourceMappings"]},
            {"Sid": "ChangeFunction", "Effect": "Allow", "Resource": ARN,
             "Action": ["lambda:UpdateFunctionConfiguration"]},
            {"Sid": "InvokeFunction", "Effect": "Allow", "Resource": ARN, "Action": ["lambda:InvokeFunction"]},
            {"Sid": "ReadLogs", "Effect": "Allow",
             "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders",
                          "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders:*"],
             "Action": ["logs:FilterLogEvents"]},
        ],
    }


def test_in_place_architecture_sweep_adds_update_function_code():
    change = statements(iam.policy(config(), mode=iam.IN_PLACE, sweeps_architectures=True))["ChangeFunction"]
    assert change["Action"] == ["lambda:UpdateFunctionConfiguration", "lambda:UpdateFunctionCode"]
    assert change["Resource"] == ARN


def test_copy_policy_writes_only_on_the_copy_prefix_and_passes_the_role_to_lambda_only():
    prefix = "arn:aws:lambda:eu-west-1:123456789012:function:orders-lb-*"
    assert iam.policy(config(), mode=iam.COPY) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadFunction", "Effect": "Allow", "Resource": ARN,
             "Action": ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
                        "lambda:ListAliases"]},
            {"Sid": "AccountSettings", "Effect": "Allow", "Resource": "*", "Action": ["lambda:GetAccountSettings"]},
            {"Sid": "ManageCopies", "Effect": "Allow", "Resource": prefix,
             "Action": ["lambda:CreateFunction", "lambda:TagResource", "lambda:GetFunction", "lambda:ListTags",
                        "lambda:UpdateFunctionConfiguration",
                        "lambda:InvokeFunction", "lambda:DeleteFunction"]},
            {"Sid": "PassRoleToCopies", "Effect": "Allow", "Resource": ROLE, "Action": ["iam:PassRole"],
             "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            {"Sid": "CopyLogs", "Effect": "Allow",
             "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-lb-*",
             "Action": ["logs:FilterLogEvents", "logs:DeleteLogGroup"]},
            # lambdabench cleanup finds leftover copies by tag (GetResources has no resource-level permission)
            {"Sid": "FindLeftoverCopies", "Effect": "Allow", "Resource": "*", "Action": ["tag:GetResources"]},
        ],
    }


def test_no_mode_lists_every_function_or_reads_other_functions_tags():
    for mode in iam.MODES:
        for statement in iam.policy(config(), mode=mode, tagged=True)["Statement"]:
            assert "lambda:ListFunctions" not in statement["Action"]
            if "lambda:ListTags" in statement["Action"]:
                assert statement["Resource"] in (ARN, "arn:aws:lambda:eu-west-1:123456789012:function:orders-lb-*")
    assert "FindLeftoverCopies" not in statements(iam.policy(config(), mode=iam.IN_PLACE))  # no copies in place


def test_copy_architecture_sweep_never_updates_code():
    assert iam.policy(config(), mode=iam.COPY, sweeps_architectures=True) == iam.policy(config(), mode=iam.COPY)


def test_customer_key_adds_decrypt_on_that_key_only():
    for mode in iam.MODES:
        decrypt = statements(iam.policy(config(KMSKeyArn=KEY), mode=mode))["DecryptEnvironment"]
        assert decrypt == {"Sid": "DecryptEnvironment", "Effect": "Allow", "Resource": KEY,
                           "Action": ["kms:Decrypt"]}
        assert "DecryptEnvironment" not in statements(iam.policy(config(KMSKeyArn=""), mode=mode))


def test_tagged_function_needs_list_tags_for_get_function():
    read = statements(iam.policy(config(), mode=iam.IN_PLACE, tagged=True))["ReadFunction"]
    assert read["Action"][:2] == ["lambda:GetFunction", "lambda:ListTags"]
    assert "lambda:ListTags" not in statements(iam.policy(config(), mode=iam.IN_PLACE))["ReadFunction"]["Action"]


def test_copy_of_a_function_with_layers_may_get_exactly_those_layer_versions():
    layers = ["arn:aws:lambda:eu-west-1:123456789012:layer:deps:7",
              "arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:38"]
    configuration = config(Layers=[{"Arn": arn, "CodeSize": 1} for arn in layers])
    assert statements(iam.policy(configuration, mode=iam.COPY))["UseLayers"] == {
        "Sid": "UseLayers", "Effect": "Allow", "Resource": layers, "Action": ["lambda:GetLayerVersion"]}
    one = statements(iam.policy(config(Layers=[{"Arn": layers[0]}]), mode=iam.COPY))["UseLayers"]
    assert one["Resource"] == layers[0]
    assert "UseLayers" not in statements(iam.policy(configuration, mode=iam.IN_PLACE))  # nothing is created


def test_copy_of_a_vpc_function_may_describe_its_network_and_nothing_else():
    vpc = {"SubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"],
           "VpcId": "vpc-0123456789abcdef0"}
    assert statements(iam.policy(config(VpcConfig=vpc), mode=iam.COPY))["VerifyCopyNetwork"] == {
        "Sid": "VerifyCopyNetwork", "Effect": "Allow", "Resource": "*",
        "Action": ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]}
    # Lambda reports a function outside any VPC with empty lists
    empty = {"SubnetIds": [], "SecurityGroupIds": [], "VpcId": ""}
    assert "VerifyCopyNetwork" not in statements(iam.policy(config(VpcConfig=empty), mode=iam.COPY))
    assert "VerifyCopyNetwork" not in statements(iam.policy(config(VpcConfig=vpc), mode=iam.IN_PLACE))


def test_custom_log_group_is_the_one_granted():
    document = iam.policy(config(LoggingConfig={"LogFormat": "JSON", "LogGroup": "/shared/app-logs"}),
                          mode=iam.IN_PLACE)
    assert statements(document)["ReadLogs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/app-logs",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/shared/app-logs:*",
    ]


@pytest.mark.parametrize("length", [1, 48, 49, 52, 53, 64])
def test_copies_pattern_matches_every_copy_name_the_sweep_makes_and_not_the_original(length):
    import fnmatch

    from lambdabench.sweep.isolation import copy_name

    name = ("orders-" * 10)[:length]
    pattern = iam.copies_pattern(name)
    for architecture in ("x86_64", "arm64"):
        copy = copy_name(name, "0123abcd", architecture, "x86_64")
        assert len(copy) <= 64 and fnmatch.fnmatchcase(copy, pattern)
    assert not fnmatch.fnmatchcase(name, pattern)
    assert not fnmatch.fnmatchcase(name + "-other", pattern)
    assert pattern == (f"{name}-lb-*" if length <= 48 else f"{name[:48]}*-lb-*")


def test_partition_region_and_account_come_from_the_function_arn():
    arn = "arn:aws-cn:lambda:cn-north-1:210987654321:function:orders"
    document = iam.policy({"FunctionArn": arn, "Role": "arn:aws-cn:iam::210987654321:role/r"}, mode=iam.COPY)
    assert statements(document)["ManageCopies"]["Resource"] == (
        "arn:aws-cn:lambda:cn-north-1:210987654321:function:orders-lb-*")
    assert statements(document)["CopyLogs"]["Resource"] == (
        "arn:aws-cn:logs:cn-north-1:210987654321:log-group:/aws/lambda/orders-lb-*")


@pytest.mark.parametrize("arn", ["", "orders", ARN + ":live", ARN + ":3",
                                 "arn:aws:lambda:eu-west-1:1234:function:orders"])
def test_anything_but_an_unqualified_function_arn_is_refused(arn):
    with pytest.raises(ValueError, match="is not an unqualified function ARN"):
        iam.policy({"FunctionArn": arn, "Role": ROLE}, mode=iam.IN_PLACE)


def test_unknown_mode_and_copy_without_role_are_refused():
    with pytest.raises(ValueError, match="unknown mode 'inplace': use one of copy, in-place"):
        iam.policy(config(), mode="inplace")
    with pytest.raises(ValueError, match="names no Role"):
        iam.policy({"FunctionArn": ARN}, mode=iam.COPY)
    assert iam.policy({"FunctionArn": ARN}, mode=iam.IN_PLACE)["Statement"]  # in-place passes no role


WRITES = {"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionConfiguration",
          "lambda:UpdateFunctionCode", "lambda:TagResource", "lambda:InvokeFunction", "logs:DeleteLogGroup",
          "iam:PassRole"}


LAYER = [{"Arn": "arn:aws:lambda:eu-west-1:123456789012:layer:deps:7"}]
VPC = {"SubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}


@pytest.mark.parametrize("mode,arch,key,tagged,layers,vpc", list(itertools.product(
    iam.MODES, (False, True), ("", KEY), (False, True), ([], LAYER), ({}, VPC))))
def test_invariants_of_every_policy(mode, arch, key, tagged, layers, vpc):
    document = iam.policy(config(KMSKeyArn=key, Layers=layers, VpcConfig=vpc), mode=mode,
                          sweeps_architectures=arch, tagged=tagged)
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids))
    for s in document["Statement"]:
        assert s["Effect"] == "Allow" and s["Action"] and len(s["Action"]) == len(set(s["Action"]))
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        # "*" only where Lambda supports no resource-level permission, and never for a write
        if "*" in resources:
            assert s["Sid"] in ("LiveTrafficChecks", "AccountSettings", "VerifyCopyNetwork",
                                "FindLeftoverCopies") and resources == ["*"]
            assert all(a.split(":")[1].startswith(("List", "Get", "Describe")) for a in s["Action"])
        for action in s["Action"]:
            if action in WRITES and s["Sid"] != "PassRoleToCopies":
                expected = iam.policy(config(), mode=mode)
                assert resources[0] in (ARN, statements(expected).get("ManageCopies", {}).get("Resource"),
                                        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-lb-*")
    granted = {(a, r) for s in document["Statement"] for a in s["Action"]
               for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    function_writes = {a for a, r in granted if r == ARN and a in WRITES}
    if mode == iam.COPY:
        assert function_writes == set()  # the original is only read
        assert ("iam:PassRole", ROLE) in granted
    else:
        assert not {a for a, _ in granted} & {"lambda:CreateFunction", "lambda:DeleteFunction", "iam:PassRole",
                                               "logs:DeleteLogGroup", "lambda:TagResource"}
        assert function_writes == ({"lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction"}
                                   | ({"lambda:UpdateFunctionCode"} if arch else set()))
    assert any(a == "kms:Decrypt" for a, _ in granted) == bool(key)
    assert any(a == "lambda:GetLayerVersion" for a, _ in granted) == (bool(layers) and mode == iam.COPY)
    assert any(a.startswith("ec2:") for a, _ in granted) == (bool(vpc) and mode == iam.COPY)


def test_every_row_names_a_real_operation_and_each_statement_one_resource():
    session = botocore.session.get_session()
    operations = {service: set(session.get_service_model(service).operation_names)
                  for service in ("lambda", "logs", "resourcegroupstaggingapi")}
    on_of: dict[str, str] = {}
    for call in iam.API_CALLS:
        assert call.operation in set().union(*operations.values()), call
        service = call.action.split(":")[0]
        if service in operations:
            # the IAM action is the operation's name (Invoke's is lambda:InvokeFunction), or a dependent
            # action that is itself an operation of the service (lambda:ListTags for GetFunction)
            name = call.action.split(":")[1]
            assert name == call.operation or name in operations[service] or (
                call.operation, name) == ("Invoke", "InvokeFunction"), call
        assert on_of.setdefault(call.statement, call.on) == call.on, call
        assert set(call.modes) <= set(iam.MODES) and call.why and call.made_by


def test_readme_permissions_table_is_the_generated_one():
    assert iam.markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README.md's permissions table differs from lambdabench.sweep.iam.markdown_table(): paste its output "
        "over the table under 'Permissions'")


def test_access_denied_hint_points_to_the_iam_policy_command():
    import botocore.exceptions

    from lambdabench.errors import UsageError
    from lambdabench.sweep.clients import translate

    exc = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform lambda:GetFunction"}},
        "GetFunction")
    error = translate(exc, function="orders", action="reading the function")
    assert isinstance(error, UsageError)
    assert error.message == "access denied while reading the function: not authorized to perform lambda:GetFunction"
    assert error.hint == ("`lambdabench iam-policy SCENARIO` prints the policy the sweep needs "
                          "(add --in-place for an in-place sweep)")


def test_lambda_hooks_may_be_invoked_and_nothing_else_is_added():
    hooks = ["orders-seed", "orders-check:live", "arn:aws:lambda:eu-west-1:123456789012:function:shared-reset",
             "orders-seed"]
    for mode in iam.MODES:
        with_hooks = statements(iam.policy(config(), mode=mode, hook_functions=hooks))
        assert with_hooks.pop("InvokeHooks") == {
            "Sid": "InvokeHooks", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
            "Resource": ["arn:aws:lambda:eu-west-1:123456789012:function:orders-seed",
                         "arn:aws:lambda:eu-west-1:123456789012:function:orders-check:live",
                         "arn:aws:lambda:eu-west-1:123456789012:function:shared-reset"]}
        assert with_hooks == statements(iam.policy(config(), mode=mode))
    single = statements(iam.policy(config(), mode=iam.COPY, hook_functions=["orders-seed"]))["InvokeHooks"]
    assert single["Resource"] == "arn:aws:lambda:eu-west-1:123456789012:function:orders-seed"
