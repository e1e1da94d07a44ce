"""Resource-based policies: AddPermission / GetPolicy / RemovePermission.

One policy per function, version or alias (AWS keeps them apart: a permission added with a
Qualifier applies to that qualifier only). GetPolicy answers the policy document as a JSON *string*
(`{"Version":"2012-10-17","Id":"default","Statement":[...]}`) and its RevisionId; AddPermission answers
the new statement as a JSON string. Each change makes a new RevisionId, and a request carrying
another one is refused with 412 PreconditionFailedException (the shape's documentation sends callers
to GetPolicy for the latest one). Statements are written as Lambda writes them: `Principal` as
{"Service": ...} for a service, {"AWS": "arn:aws:iam::<account>:root"} for an account id, "*" as is;
SourceArn/SourceAccount/PrincipalOrgID/FunctionUrlAuthType/EventSourceToken as `Condition` entries.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

from lambdabench.emulator import errors as E

Response = tuple[int, dict[str, str], bytes]
_SID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,100}$")
_STALE = ("The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve "
          "the latest Revision Id")


class PolicyStore:
    """Statements and RevisionId of each policy of one region, by (function name, qualifier or None)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statements: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self._revisions: dict[tuple[str, str | None], str] = {}

    def _check_revision(self, key: tuple[str, str | None], revision_id: str | None) -> None:
        if revision_id and revision_id != self._revisions.get(key):
            raise E.PreconditionFailed(_STALE)

    def add(self, key: tuple[str, str | None], statement: dict[str, Any], revision_id: str | None) -> None:
        with self._lock:
            self._check_revision(key, revision_id)
            statements = self._statements.setdefault(key, [])
            if any(s["Sid"] == statement["Sid"] for s in statements):
                raise E.ResourceConflict("The statement id (" + statement["Sid"] + ") provided already exists. "
                                         "Please provide a new statement id, or remove the existing statement.")
            statements.append(statement)
            self._revisions[key] = str(uuid.uuid4())

    def remove(self, key: tuple[str, str | None], sid: str, revision_id: str | None) -> None:
        with self._lock:
            statements = self._statements.get(key) or []
            if not any(s["Sid"] == sid for s in statements):
                raise E.ResourceNotFound(f"Statement {sid} is not found in resource policy.")
            self._check_revision(key, revision_id)
            self._statements[key] = [s for s in statements if s["Sid"] != sid]
            self._revisions[key] = str(uuid.uuid4())
            if not self._statements[key]:
                del self._statements[key]

    def get(self, key: tuple[str, str | None]) -> tuple[list[dict[str, Any]], str] | None:
        with self._lock:
            statements = self._statements.get(key)
            return (list(statements), self._revisions[key]) if statements else None

    def forget(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self._statements if k[0] == name]:
                del self._statements[key]
            for key in [k for k in self._revisions if k[0] == name]:
                del self._revisions[key]


def _principal(principal: str, account_id: str) -> Any:
    if principal == "*":
        return "*"
    if re.fullmatch(r"\d{12}", principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def _statement(params: dict[str, Any], resource_arn: str, account_id: str) -> dict[str, Any]:
    sid, action, principal = params.get("StatementId"), params.get("Action"), params.get("Principal")
    for member, value in (("statementId", sid), ("action", action), ("principal", principal)):
        if not value:
            raise E.validation_error(member, value, "Member must not be null")
    if not _SID_RE.match(sid):
        raise E.validation_error("statementId", sid, "Member must satisfy regular expression pattern: "
                                 "([a-zA-Z0-9-_]+)")
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": _principal(principal, account_id),
                                 "Action": action if ":" in action or action == "*" else f"lambda:{action}",
                                 "Resource": resource_arn}
    condition: dict[str, dict[str, str]] = {}
    if params.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("EventSourceToken"):
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = params["EventSourceToken"]
    if params.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params["FunctionUrlAuthType"]
    if params.get("InvokedViaFunctionUrl"):
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    if condition:
        statement["Condition"] = condition
    return statement


def _key(backend, function_name: str, qualifier: str | None) -> tuple[str, str | None]:
    """The policy a request addresses; $LATEST's is the unqualified function's."""
    name, qualifier = backend.locate(function_name, qualifier)
    return name, None if qualifier == "$LATEST" else qualifier


def _json(status: int, doc: Any) -> Response:
    return status, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}, \
        json.dumps(doc).encode("utf-8")


# ----- operations -------------------------------------------------------------------------------
def add_permission(req, backend) -> Response:
    params = req.json()
    name, qualifier = _key(backend, req.params["name"], req.query.get("Qualifier"))
    statement = _statement(params, backend.arn(name, qualifier), backend.account_id)
    backend.stores.policies.add((name, qualifier), statement, params.get("RevisionId"))
    return _json(201, {"Statement": json.dumps(statement, separators=(",", ":"))})


def get_policy(req, backend) -> Response:
    name, qualifier = _key(backend, req.params["name"], req.query.get("Qualifier"))
    found = backend.stores.policies.get((name, qualifier))
    if found is None:
        raise E.ResourceNotFound("The resource you requested does not exist.")
    statements, revision_id = found
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
    return _json(200, {"Policy": json.dumps(policy, separators=(",", ":")), "RevisionId": revision_id})


def remove_permission(req, backend) -> Response:
    name, qualifier = _key(backend, req.params["name"], req.query.get("Qualifier"))
    backend.stores.policies.remove((name, qualifier), req.params["sid"], req.query.get("RevisionId"))
    return 204, {"x-amzn-RequestId": str(uuid.uuid4())}, b""


ROUTES = [
    ("POST", r"/2015-03-31/functions/(?P<name>[^/]+)/policy", add_permission),
    ("GET", r"/2015-03-31/functions/(?P<name>[^/]+)/policy", get_policy),
    ("DELETE", r"/2015-03-31/functions/(?P<name>[^/]+)/policy/(?P<sid>[^/]+)", remove_permission),
]
