"""Least privilege for a sweep: which AWS API calls each isolation mode makes, and the IAM policy for them.

`API_CALLS` is the one table of what a sweep calls on AWS. It is read off the sweep code (the module
and function named in each row's `made_by`) and feeds both `policy()` (what `lambdabench iam-policy`
prints) and the README's permissions table (`markdown_table()`; a test keeps the README equal to it).
tests/functional/test_iam_policy_moto.py sweeps (both modes) as a user holding only this policy against
an IAM-enforcing moto: a call the sweep makes without a row here is an AccessDenied there, and a row
whose call the sweep no longer makes is a granted action never used. (moto cannot show KMS, EC2 or
layer checks, nor the operations it does not route; those rows rest on AWS's documentation.)
The table covers a copy sweep's leftovers too: `lambdabench restore` (and `--resume`) finds a killed
sweep's copies by the names its run id gives them (GetFunction on the copies) and `lambdabench
cleanup` by tag (tag:GetResources), so neither needs ListFunctions or ListTags on anyone's functions.

Pure: inputs are the function's configuration (GetFunctionConfiguration / GetFunction's
`Configuration`), the mode and what the scenario sweeps; the output is a policy dict. Resource ARNs
follow the Service Authorization Reference: Lambda function actions take the function ARN,
ListEventSourceMappings and GetAccountSettings support no resource ("*"), CloudWatch Logs actions take
the log group ARN, iam:PassRole the role ARN, kms:Decrypt the key ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from lambdabench.arns import NAME_MAX_CHARS, parse_function
from lambdabench.sweep.isolation import COPY, IN_PLACE, copy_name, new_run_id

MODES = (COPY, IN_PLACE)

# A copy of function <name> is named <name>-lb-<run id>[-arm|-x86] (isolation.copy_name): the policy's
# create/update/invoke/delete rights are granted on that name prefix only, never on other functions.
COPY_INFIX = "-lb-"
# The longest suffix copy_name adds; a name that leaves less than 64 characters for it is cut.
_LONGEST_SUFFIX = len(copy_name("", "0" * len(new_run_id()), "arm64", "x86_64"))


def copies_pattern(name: str) -> str:
    """The IAM wildcard pattern that matches every copy name of function `name` and nothing shorter."""
    if len(name) + _LONGEST_SUFFIX <= NAME_MAX_CHARS:
        return f"{name}{COPY_INFIX}*"
    # copy_name cuts a long name to fit its suffix: the cut depends on the suffix, so match from the
    # shortest cut on.
    return f"{name[:NAME_MAX_CHARS - _LONGEST_SUFFIX]}*{COPY_INFIX}*"

# Where a row's resource is: the user's function, the sweep's copies, their log groups, ...
FUNCTION = "function"
COPIES = "copies"
ACCOUNT = "account"  # no resource-level permission: "*"
LOG_GROUP = "log group"
COPY_LOG_GROUPS = "copies' log groups"
ROLE = "role"
KMS_KEY = "KMS key"
LAYERS = "layer versions"
HOOK_FUNCTIONS = "hook functions"

# When a row applies, beyond its modes.
ALWAYS = "always"
ARCHITECTURES = "the scenario sweeps architectures"
CUSTOMER_KEY = "the environment uses a customer managed key"
TAGGED = "the function has tags"
USES_LAYERS = "the function uses layers"
IN_VPC = "the function is attached to a VPC"
HOOKS = "the scenario has Lambda [hooks]"


@dataclass(frozen=True)
class ApiCall:
    """One AWS API call a sweep makes (or one IAM action a call depends on)."""

    operation: str  # the API operation as botocore names it, e.g. "GetFunction"
    action: str  # the IAM action that authorises it, e.g. "lambda:GetFunction"
    statement: str  # the policy statement (Sid) it is granted in; one resource per statement
    on: str  # FUNCTION | COPIES | ACCOUNT | LOG_GROUP | COPY_LOG_GROUPS | ROLE | KMS_KEY
    modes: tuple[str, ...]
    why: str
    made_by: str  # where in lambdabench the call is made
    when: str = ALWAYS


_BOTH = (COPY, IN_PLACE)

API_CALLS: tuple[ApiCall, ...] = (
    # Reading the user's function: both modes, nothing but reads.
    ApiCall("GetFunction", "lambda:GetFunction", "ReadFunction", FUNCTION, _BOTH,
            "read the function (configuration, code location, image)", "snapshot.take_snapshot"),
    ApiCall("GetFunction", "lambda:ListTags", "ReadFunction", FUNCTION, _BOTH,
            "GetFunction of a tagged function also needs lambda:ListTags", "snapshot.take_snapshot",
            when=TAGGED),
    ApiCall("GetFunctionConfiguration", "lambda:GetFunctionConfiguration", "ReadFunction", FUNCTION, _BOTH,
            "read the configuration and check it against the plan", "driver.prepare"),
    ApiCall("ListVersionsByFunction", "lambda:ListVersionsByFunction", "ReadFunction", FUNCTION, _BOTH,
            "record the versions, to show none was added", "snapshot.take_snapshot"),
    ApiCall("ListAliases", "lambda:ListAliases", "ReadFunction", FUNCTION, _BOTH,
            "record the aliases, to show none was added (in place: find aliases on $LATEST)",
            "snapshot.take_snapshot, isolation.live_traffic"),
    # In-place: the live-traffic evidence shown before asking (issue 11 item 1).
    ApiCall("ListFunctionUrlConfigs", "lambda:ListFunctionUrlConfigs", "ReadFunction", FUNCTION, (IN_PLACE,),
            "live-traffic check: function URLs", "isolation.live_traffic"),
    ApiCall("GetPolicy", "lambda:GetPolicy", "ReadFunction", FUNCTION, (IN_PLACE,),
            "live-traffic check: principals the resource policy lets invoke", "isolation.live_traffic"),
    ApiCall("ListEventSourceMappings", "lambda:ListEventSourceMappings", "LiveTrafficChecks", ACCOUNT,
            (IN_PLACE,), "live-traffic check: event source mappings (no resource-level permission)",
            "isolation.live_traffic"),
    # In-place: changing, invoking and restoring the user's function.
    ApiCall("UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "ChangeFunction", FUNCTION,
            (IN_PLACE,), "set memory, timeout and the nonce; restore them", "snapshot.update_configuration"),
    ApiCall("UpdateFunctionCode", "lambda:UpdateFunctionCode", "ChangeFunction", FUNCTION, (IN_PLACE,),
            "switch the architecture (redeploys the same code); restore it", "snapshot.update_architecture",
            when=ARCHITECTURES),
    ApiCall("Invoke", "lambda:InvokeFunction", "InvokeFunction", FUNCTION, (IN_PLACE,),
            "the measured invocations (and, with --wake-inactive, the one that wakes an Inactive function)",
            "driver.Driver.invoke, isolation.wake"),
    ApiCall("FilterLogEvents", "logs:FilterLogEvents", "ReadLogs", LOG_GROUP, (IN_PLACE,),
            "REPORT lines the LogResult tail did not carry", "driver.Driver.report_from_logs"),
    # Copy: a disposable copy per architecture, created, swept and deleted (issue 11 item 1).
    ApiCall("GetAccountSettings", "lambda:GetAccountSettings", "AccountSettings", ACCOUNT, (COPY,),
            "warn when a burst exceeds the unreserved concurrency (no resource-level permission; "
            "denied, the warning is left out)", "isolation.unreserved_concurrency"),
    ApiCall("CreateFunction", "lambda:CreateFunction", "ManageCopies", COPIES, (COPY,),
            "create the copy", "isolation.CopySet.function_for"),
    ApiCall("CreateFunction", "lambda:TagResource", "ManageCopies", COPIES, (COPY,),
            "CreateFunction with Tags (lambdabench:sweep, lambdabench:source) needs lambda:TagResource",
            "isolation.CopySet.function_for"),
    ApiCall("CreateFunction", "iam:PassRole", "PassRoleToCopies", ROLE, (COPY,),
            "the copy runs with the function's own role (only to lambda.amazonaws.com)",
            "isolation.CopySet.function_for"),
    # Lambda checks these on the caller when a function is created with layers / in a VPC.
    ApiCall("CreateFunction", "lambda:GetLayerVersion", "UseLayers", LAYERS, (COPY,),
            "the copy uses the function's layers (only these versions)", "isolation.CopySet.function_for",
            when=USES_LAYERS),
    ApiCall("CreateFunction", "ec2:DescribeSecurityGroups", "VerifyCopyNetwork", ACCOUNT, (COPY,),
            "Lambda verifies the copy's security groups (EC2 Describe* support no resource-level permission)",
            "isolation.CopySet.function_for", when=IN_VPC),
    ApiCall("CreateFunction", "ec2:DescribeSubnets", "VerifyCopyNetwork", ACCOUNT, (COPY,),
            "Lambda verifies the copy's subnets", "isolation.CopySet.function_for", when=IN_VPC),
    ApiCall("CreateFunction", "ec2:DescribeVpcs", "VerifyCopyNetwork", ACCOUNT, (COPY,),
            "Lambda verifies the copy's VPC", "isolation.CopySet.function_for", when=IN_VPC),
    ApiCall("GetFunction", "lambda:GetFunction", "ManageCopies", COPIES, (COPY,),
            "wait until the copy is Active and each update is done; restore and --resume find a killed "
            "sweep's copies by name and check their tag",
            "isolation.CopySet.function_for, snapshot.wait_updated, isolation.recorded_copies"),
    ApiCall("GetFunction", "lambda:ListTags", "ManageCopies", COPIES, (COPY,),
            "GetFunction of a tagged function (every copy is) also needs lambda:ListTags",
            "snapshot.wait_updated, isolation.recorded_copies"),
    ApiCall("UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "ManageCopies", COPIES,
            (COPY,), "set the copy's memory, timeout and nonce", "snapshot.update_configuration"),
    ApiCall("Invoke", "lambda:InvokeFunction", "ManageCopies", COPIES, (COPY,),
            "the measured invocations", "driver.Driver.invoke"),
    ApiCall("DeleteFunction", "lambda:DeleteFunction", "ManageCopies", COPIES, (COPY,),
            "delete the copy at the end, on an error, on Ctrl-C/SIGTERM", "isolation.delete_function_and_logs"),
    ApiCall("FilterLogEvents", "logs:FilterLogEvents", "CopyLogs", COPY_LOG_GROUPS, (COPY,),
            "REPORT lines the LogResult tail did not carry", "driver.Driver.report_from_logs"),
    ApiCall("DeleteLogGroup", "logs:DeleteLogGroup", "CopyLogs", COPY_LOG_GROUPS, (COPY,),
            "delete the copy's log group with it", "isolation.delete_function_and_logs"),
    # Both: the scenario's [hooks] that name Lambda functions, invoked in the sweep's account and region.
    ApiCall("Invoke", "lambda:InvokeFunction", "InvokeHooks", HOOK_FUNCTIONS, _BOTH,
            "run the setup/teardown hook functions (only those named in [hooks])", "hooks.HookRunner.run",
            when=HOOKS),
    # `lambdabench cleanup`: every copy a sweep left, found by tag (no resource-level permission; the
    # deletes are ManageCopies' and CopyLogs' rows, so only this function's copies can go).
    ApiCall("GetResources", "tag:GetResources", "FindLeftoverCopies", ACCOUNT, (COPY,),
            "`lambdabench cleanup`: find the functions tagged lambdabench:sweep (no resource-level permission)",
            "isolation.sweep_copies"),
    # Both: a customer managed key on the environment.
    ApiCall("GetFunctionConfiguration", "kms:Decrypt", "DecryptEnvironment", KMS_KEY, _BOTH,
            "Lambda returns the environment (which the sweep keeps) only to a caller that may decrypt it",
            "driver.prepare", when=CUSTOMER_KEY),
)

_ARN = re.compile(r"^arn:(?P<partition>[^:]+):lambda:(?P<region>[^:]+):(?P<account>\d{12}):function:"
                  r"(?P<name>[^:]+)$")


def applies(call: ApiCall, *, mode: str, sweeps_architectures: bool, customer_key: bool, tagged: bool,
            uses_layers: bool = False, in_vpc: bool = False, hooks: bool = False) -> bool:
    if mode not in call.modes:
        return False
    return {
        ALWAYS: True,
        ARCHITECTURES: sweeps_architectures,
        CUSTOMER_KEY: customer_key,
        TAGGED: tagged,
        USES_LAYERS: uses_layers,
        IN_VPC: in_vpc,
        HOOKS: hooks,
    }[call.when]


def policy(configuration: Mapping[str, Any], *, mode: str, sweeps_architectures: bool = False,
           tagged: bool = False, hook_functions: Sequence[str] = ()) -> dict[str, Any]:
    """The IAM policy a sweep of this function in `mode` needs, and nothing more.

    `configuration` is the function's configuration as Lambda returns it: FunctionArn (unqualified;
    it gives partition, region and account), Role, KMSKeyArn, LoggingConfig.LogGroup, Layers and
    VpcConfig.SubnetIds are read.
    `tagged`: the function has tags (GetFunction then also needs lambda:ListTags).
    `hook_functions`: the Lambda functions [hooks] names (names are in the function's account and region).
    Raises ValueError for a mode or configuration it cannot build a policy for.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    arn = configuration.get("FunctionArn") or ""
    match = _ARN.match(arn)
    if match is None:
        raise ValueError(f"FunctionArn {arn!r} is not an unqualified function ARN")
    partition, region, account, name = match["partition"], match["region"], match["account"], match["name"]
    key = configuration.get("KMSKeyArn") or ""
    role = configuration.get("Role") or ""
    if mode == COPY and not role:
        raise ValueError("the configuration names no Role, which a copy must be created with")
    log_group = (configuration.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    logs_prefix = f"arn:{partition}:logs:{region}:{account}:log-group:"
    resources = {
        FUNCTION: [arn],
        COPIES: [f"arn:{partition}:lambda:{region}:{account}:function:{copies_pattern(name)}"],
        ACCOUNT: ["*"],
        # The log-group ARN, and with ":*" the same group as the older log-stream-level actions see it.
        LOG_GROUP: [f"{logs_prefix}{log_group}", f"{logs_prefix}{log_group}:*"],
        COPY_LOG_GROUPS: [f"{logs_prefix}/aws/lambda/{copies_pattern(name)}"],
        ROLE: [role],
        KMS_KEY: [key],
        LAYERS: [layer["Arn"] for layer in configuration.get("Layers") or []],
        HOOK_FUNCTIONS: _hook_arns(hook_functions, partition=partition, region=region, account=account),
    }
    in_vpc = bool((configuration.get("VpcConfig") or {}).get("SubnetIds"))
    conditions = {"PassRoleToCopies": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}
    statements: dict[str, dict[str, Any]] = {}
    for call in API_CALLS:
        if not applies(call, mode=mode, sweeps_architectures=sweeps_architectures, customer_key=bool(key),
                       tagged=tagged, uses_layers=bool(resources[LAYERS]), in_vpc=in_vpc,
                       hooks=bool(resources[HOOK_FUNCTIONS])):
            continue
        statement = statements.setdefault(call.statement, {
            "Sid": call.statement, "Effect": "Allow", "Action": [], "Resource": resources[call.on]})
        if call.action not in statement["Action"]:
            statement["Action"].append(call.action)
        if call.statement in conditions:
            statement["Condition"] = conditions[call.statement]
    for statement in statements.values():
        statement["Resource"] = statement["Resource"][0] if len(statement["Resource"]) == 1 else statement["Resource"]
    return {"Version": "2012-10-17", "Statement": list(statements.values())}


def _hook_arns(functions: Sequence[str], *, partition: str, region: str, account: str) -> list[str]:
    """The ARN each hook function is invoked by (a qualifier kept: IAM checks the qualified ARN)."""
    arns: list[str] = []
    for text in functions:
        ref = parse_function(text)
        if ref is None:
            raise ValueError(f"hook function {text!r} is neither a function name nor an ARN")
        arn = (f"arn:{ref.partition or partition}:lambda:{ref.region or region}:{ref.account or account}:"
               f"function:{ref.name}" + (f":{ref.qualifier}" if ref.qualifier else ""))
        if arn not in arns:
            arns.append(arn)
    return arns


def markdown_table() -> str:
    """The README's table: every call, the IAM action, in which mode, on what, when, and why."""
    lines = ["| API call | IAM action | copy | in-place | on | when | why |", "|---|---|---|---|---|---|---|"]
    for call in API_CALLS:
        lines.append(
            f"| {call.operation} | `{call.action}` | {'yes' if COPY in call.modes else ''} | "
            f"{'yes' if IN_PLACE in call.modes else ''} | {call.on} | "
            f"{'' if call.when == ALWAYS else call.when} | {call.why} |"
        )
    return "\n".join(lines) + "\n"
