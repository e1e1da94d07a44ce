"""A moto server that enforces IAM the way AWS does for the calls a sweep makes (test helper, own process).

Run as `python moto_iam_server.py DECISIONS_FILE` with INITIAL_NO_AUTH_ACTION_COUNT set; prints
`PORT <n>` once listening and serves until stdin closes. moto is patched in this process only:

- moto 5.x signs a bodiless request (every Lambda GET) over its parsed-parameters dict instead of the
  empty body, so each answers SignatureDoesNotMatch: the signature is checked over the real body.
- moto checks every Lambda and CloudWatch Logs action against resource "*", so a policy scoped to one
  function ARN would be denied everything: the resource becomes the ARN AWS authorizes (the function's
  ARN from the path or CreateFunction's body; the log group's ARN from logsGroupName; "*" for the
  operations the Service Authorization Reference lists with no resource type).
- moto names the IAM action after the operation, `lambda:Invoke`; IAM's is `lambda:InvokeFunction`. And
  after the signing name, `tagging:GetResources`; IAM's is `tag:GetResources` (resource "*", as moto checks).
- moto routes no GetAccountSettings: the route is added, answering a fresh account's limits after the
  authorization check (resource "*"), so a policy without it is denied as AWS denies it.
- moto checks no dependent action. Lambda's documented ones are checked too, each on its own resource:
  GetFunction of a tagged function needs lambda:ListTags; CreateFunction needs iam:PassRole on the
  role (context iam:PassedToService = lambda.amazonaws.com), lambda:TagResource when it carries Tags,
  lambda:GetLayerVersion on each layer version, and the EC2 describes for a VPC configuration.

Each authorization decision is appended to DECISIONS_FILE as a JSON line {action, resource, allowed}, so
a test sees AccessDenied even where the sweep records it as data (a CloudWatch Logs poll).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from urllib.parse import unquote

from moto.awslambda import urls as lambda_urls
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.iam import access_control
from moto.logs.responses import LogsResponse
from moto.server import ThreadedMotoServer

DECISIONS = sys.argv[1]
_lock = threading.Lock()
# Operations the Service Authorization Reference lists with no resource type: only "*" grants them.
_NO_RESOURCE = {"ListFunctions", "ListEventSourceMappings", "GetAccountSettings", "CreateEventSourceMapping"}
# moto names the action after the signing name; IAM's prefix for the Resource Groups Tagging API is "tag".
_IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction", "tagging:GetResources": "tag:GetResources"}


def _function_arn(self, name: str) -> str:
    name = unquote(name)
    if name.startswith("arn:"):
        return ":".join(name.split(":")[:7])
    return f"arn:aws:lambda:{self.region}:{self.current_account}:function:{name.split(':')[0]}"


def _lambda_resource(self) -> str:
    operation = self._get_action()
    if operation in _NO_RESOURCE:
        return "*"
    if operation == "CreateFunction":
        return _function_arn(self, json.loads(self.body or "{}").get("FunctionName", ""))
    tags = re.search(r"/tags/(.+)$", self.path.split("?")[0])
    if tags:
        return unquote(tags.group(1))
    function = re.search(r"/functions/([^/?]+)", self.path)
    return _function_arn(self, function.group(1)) if function else "*"


def _logs_resource(self) -> str:
    body = json.loads(self.body or "{}")
    group = body.get("logGroupName") or body.get("logGroupIdentifier")
    if not group:
        return "*"
    return f"arn:aws:logs:{self.region}:{self.current_account}:log-group:{group}"


_original_request = access_control.IAMRequestBase._create_aws_request
_original_init = access_control.IAMRequestBase.__init__
_original_check = access_control.IAMRequestBase.check_action_permitted


def _create_aws_request(self):
    # A form-encoded POST's parameters are its body (moto keeps them parsed in _data): only a
    # GET/HEAD/DELETE without a body has an empty one.
    if self._body or self._method not in ("GET", "HEAD", "DELETE"):
        return _original_request(self)
    data, self._data = self._data, {}
    try:
        return _original_request(self)
    finally:
        self._data = data


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self._action = _IAM_ACTION.get(self._action, self._action)


def _log(action: str, resource: str, allowed: bool) -> None:
    with _lock, open(DECISIONS, "a", encoding="utf-8") as out:
        out.write(json.dumps({"action": action, "resource": resource, "allowed": allowed}) + "\n")


def _dependent_actions(self, resource: str) -> list[tuple[str, str, dict[str, str]]]:
    """(action, resource, condition context) Lambda also authorizes for this request."""
    if self._action == "lambda:GetFunction":
        name = resource.split(":")[6] if resource.count(":") >= 6 else ""
        try:
            tagged = bool(lambda_backends[self.account_id][self._region].get_function(name).tags)
        except Exception:  # no such function: GetFunction answers 404 itself
            tagged = False
        return [("lambda:ListTags", resource, {})] if tagged else []
    if self._action != "lambda:CreateFunction":
        return []
    body = json.loads(self._body or b"{}")
    actions = [("iam:PassRole", body.get("Role", ""), {"iam:PassedToService": "lambda.amazonaws.com"})]
    if body.get("Tags"):
        actions.append(("lambda:TagResource", resource, {}))
    actions += [("lambda:GetLayerVersion", arn, {}) for arn in body.get("Layers") or []]
    if (body.get("VpcConfig") or {}).get("SubnetIds"):
        actions += [(f"ec2:{name}", "*", {}) for name in ("DescribeSecurityGroups", "DescribeSubnets",
                                                           "DescribeVpcs")]
    return actions


def _permitted(self, action: str, resource: str, context: dict[str, str]) -> bool:
    permitted = False
    for policy in self._access_key.collect_policies():
        result = access_control.IAMPolicy(policy).is_action_permitted(action, resource, None, context)
        if result == access_control.PermissionResult.DENIED:
            return False
        permitted = permitted or result == access_control.PermissionResult.PERMITTED
    return permitted


def _check(self, resource: str) -> None:
    allowed = False
    try:
        _original_check(self, resource)
        allowed = True
    finally:
        _log(self._action, resource, allowed)
    for action, on, context in _dependent_actions(self, resource):
        allowed = _permitted(self, action, on, context)
        _log(action, on, allowed)
        if not allowed:
            self._action = action  # the error names the action that was missing
            self._raise_access_denied()


def _get_account_settings(self) -> str:
    """A new account's documented defaults (Lambda quotas page); usage is not tracked."""
    return json.dumps({
        "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                         "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000},
        "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(list(self.backend.list_functions()))},
    })


LambdaResponse.get_account_settings = _get_account_settings
lambda_urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = LambdaResponse.dispatch
LambdaResponse._determine_resource = _lambda_resource
LogsResponse._determine_resource = _logs_resource
access_control.IAMRequestBase._create_aws_request = _create_aws_request
access_control.IAMRequestBase.__init__ = _init
access_control.IAMRequestBase.check_action_permitted = _check

if __name__ == "__main__":
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(f"PORT {server.get_host_and_port()[1]}", flush=True)
    sys.stdin.read()
    server.stop()
