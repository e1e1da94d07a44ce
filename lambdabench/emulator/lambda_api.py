"""The Lambda REST-JSON API: one function per operation that only parses and serialises (moto-style).

`route(method, path)` finds the operation for a request; each operation takes a `Request` and the
region's `Backend` and returns `(status, headers, body)`. Shapes follow botocore's service model
(lambda/2015-03-31): JSON bodies with blobs base64-encoded (Code.ZipFile, UpdateFunctionCode's
ZipFile), Invoke's raw payload with `X-Amz-Invocation-Type`, `X-Amz-Log-Type`, `X-Amz-Client-Context`
headers and the `Qualifier` query, and its response headers `X-Amz-Function-Error`, `X-Amz-Log-Result`,
`X-Amz-Executed-Version`. A request that matches a Lambda operation this emulator does not implement
answers an error naming that operation (looked up in botocore's model).

Other families (tags, resource policies, event source mappings, function URL configs) keep their
operations and state in modules of their own; their routes join this table.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from lambdabench import limits
from lambdabench.emulator import errors as E
from lambdabench.emulator import event_sources, function_urls, policies, tags

Response = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]         # lower-case names
    body: bytes
    params: dict[str, str]          # path parameters (unquoted)
    query_string: str = ""          # raw, for list members sent as repeated keys (UntagResource's tagKeys)

    def query_list(self, name: str) -> list[str]:
        return [value for key, value in parse_qsl(self.query_string) if key == name]

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            doc = json.loads(self.body)
        except ValueError:
            raise E.InvalidParameterValue("Could not parse request body into json: the body is not valid "
                                          "JSON.") from None
        if not isinstance(doc, dict):
            raise E.InvalidParameterValue("Could not parse request body into json: expected an object.")
        return doc

    def int_query(self, name: str) -> int | None:
        value = self.query.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise E.validation_error(name[0].lower() + name[1:], value, "Member must be an integer") from None


def _json(status: int, doc: Any, request_id: str | None = None) -> Response:
    return status, {"Content-Type": "application/json", "x-amzn-RequestId": request_id or str(uuid.uuid4())}, \
        json.dumps(doc).encode("utf-8")


def _empty(status: int) -> Response:
    return status, {"x-amzn-RequestId": str(uuid.uuid4())}, b""


def _blob(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise E.InvalidParameterValue(f"{field} must be base64-encoded bytes.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise E.InvalidParameterValue(f"Could not decode {field}: it is not valid base64.") from None


# ----- operations -------------------------------------------------------------------------------
def create_function(req: Request, backend) -> Response:
    params = req.json()
    code = params.get("Code")
    if isinstance(code, dict) and "ZipFile" in code:
        code = dict(code, ZipFile=_blob(code["ZipFile"], "Code.ZipFile"))
        params["Code"] = code
    return _json(201, backend.create_function(params))


def get_function(req: Request, backend) -> Response:
    return _json(200, backend.get_function(req.params["name"], req.query.get("Qualifier")))


def get_function_configuration(req: Request, backend) -> Response:
    return _json(200, backend.get_function_configuration(req.params["name"], req.query.get("Qualifier")))


def update_function_configuration(req: Request, backend) -> Response:
    return _json(200, backend.update_function_configuration(req.params["name"], req.json()))


def update_function_code(req: Request, backend) -> Response:
    params = req.json()
    if "ZipFile" in params:
        params["ZipFile"] = _blob(params["ZipFile"], "ZipFile")
    return _json(200, backend.update_function_code(req.params["name"], params))


def publish_version(req: Request, backend) -> Response:
    return _json(201, backend.publish_version(req.params["name"], req.json()))


def list_versions_by_function(req: Request, backend) -> Response:
    return _json(200, backend.list_versions(req.params["name"], req.query.get("Marker"), req.int_query("MaxItems")))


def list_functions(req: Request, backend) -> Response:
    return _json(200, backend.list_functions(req.query.get("Marker"), req.int_query("MaxItems"),
                                             req.query.get("FunctionVersion")))


def delete_function(req: Request, backend) -> Response:
    backend.delete_function(req.params["name"], req.query.get("Qualifier"))
    return _empty(204)


def create_alias(req: Request, backend) -> Response:
    return _json(201, backend.create_alias(req.params["name"], req.json()))


def get_alias(req: Request, backend) -> Response:
    return _json(200, backend.get_alias(req.params["name"], req.params["alias"]))


def update_alias(req: Request, backend) -> Response:
    return _json(200, backend.update_alias(req.params["name"], req.params["alias"], req.json()))


def delete_alias(req: Request, backend) -> Response:
    backend.delete_alias(req.params["name"], req.params["alias"])
    return _empty(204)


def list_aliases(req: Request, backend) -> Response:
    return _json(200, backend.list_aliases(req.params["name"], req.query.get("FunctionVersion"),
                                           req.query.get("Marker"), req.int_query("MaxItems")))


def put_function_concurrency(req: Request, backend) -> Response:
    params = req.json()
    return _json(200, backend.put_function_concurrency(req.params["name"], params.get("ReservedConcurrentExecutions")))


def get_function_concurrency(req: Request, backend) -> Response:
    return _json(200, backend.get_function_concurrency(req.params["name"]))


def delete_function_concurrency(req: Request, backend) -> Response:
    backend.delete_function_concurrency(req.params["name"])
    return _empty(204)


def get_account_settings(req: Request, backend) -> Response:
    return _json(200, backend.get_account_settings())


_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


def invoke(req: Request, backend) -> Response:
    invocation_type = req.headers.get("x-amz-invocation-type", "RequestResponse")
    if invocation_type not in _INVOCATION_TYPES:
        raise E.validation_error("invocationType", invocation_type,
                                 "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
    log_type = req.headers.get("x-amz-log-type", "None")
    if log_type not in ("None", "Tail"):
        raise E.validation_error("logType", log_type, "Member must satisfy enum value set: [Tail, None]")
    name, qualifier = req.params["name"], req.query.get("Qualifier")
    payload = req.body
    if len(payload) > limits.PAYLOAD_SYNC_MAX_BYTES:
        raise E.RequestTooLarge(f"Request must be smaller than {limits.PAYLOAD_SYNC_MAX_BYTES} bytes for the "
                                "InvokeFunction operation")
    if not payload.strip():
        payload = b"{}"  # Lambda hands an invoke without a payload to the handler as an empty object
    else:
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise E.InvalidRequestContent("Could not parse request body into json: Could not parse payload into "
                                          f"json: {exc}") from None
    if invocation_type == "DryRun":
        version = backend.prepare_invoke(name, qualifier)[2]
        return 204, {"X-Amz-Executed-Version": version, "x-amzn-RequestId": str(uuid.uuid4())}, b""
    if invocation_type == "Event":
        version, request_id = backend.invoke_event(name, qualifier, payload)
        return 202, {"X-Amz-Executed-Version": version, "x-amzn-RequestId": request_id}, b""
    result = backend.invoke(name, qualifier, payload, log_tail=log_type == "Tail",
                            client_context=_client_context(req.headers.get("x-amz-client-context")))
    headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": result.executed_version,
               "x-amzn-RequestId": result.outcome.request_id}
    if result.function_error:
        headers["X-Amz-Function-Error"] = result.function_error
    if result.log_result is not None:
        headers["X-Amz-Log-Result"] = result.log_result
    return result.status_code, headers, result.payload


def _client_context(value: str | None) -> str | None:
    """X-Amz-Client-Context is base64 of a JSON object; the runtime gets the JSON itself."""
    if not value:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
        json.loads(decoded)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise E.InvalidParameterValue("Client context must be a valid Base64-encoded JSON object.") from None
    return decoded


# ----- routing ----------------------------------------------------------------------------------
_FN = r"(?P<name>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern, Callable[[Request, Any], Response]]] = [
    (method, re.compile(f"^{pattern}$"), func) for method, pattern, func in [
        *tags.ROUTES, *policies.ROUTES, *event_sources.ROUTES, *function_urls.ROUTES,
        ("POST", r"/2015-03-31/functions", create_function),
        ("GET", r"/2015-03-31/functions", list_functions),
        ("GET", rf"/2015-03-31/functions/{_FN}", get_function),
        ("DELETE", rf"/2015-03-31/functions/{_FN}", delete_function),
        ("GET", rf"/2015-03-31/functions/{_FN}/configuration", get_function_configuration),
        ("PUT", rf"/2015-03-31/functions/{_FN}/configuration", update_function_configuration),
        ("PUT", rf"/2015-03-31/functions/{_FN}/code", update_function_code),
        ("POST", rf"/2015-03-31/functions/{_FN}/versions", publish_version),
        ("GET", rf"/2015-03-31/functions/{_FN}/versions", list_versions_by_function),
        ("POST", rf"/2015-03-31/functions/{_FN}/aliases", create_alias),
        ("GET", rf"/2015-03-31/functions/{_FN}/aliases", list_aliases),
        ("GET", rf"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", get_alias),
        ("PUT", rf"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", update_alias),
        ("DELETE", rf"/2015-03-31/functions/{_FN}/aliases/(?P<alias>[^/]+)", delete_alias),
        ("POST", rf"/2015-03-31/functions/{_FN}/invocations", invoke),
        ("PUT", rf"/2017-10-31/functions/{_FN}/concurrency", put_function_concurrency),
        ("GET", rf"/2019-09-30/functions/{_FN}/concurrency", get_function_concurrency),
        ("DELETE", rf"/2017-10-31/functions/{_FN}/concurrency", delete_function_concurrency),
        ("GET", r"/2016-08-19/account-settings", get_account_settings),
    ]
]


def route(method: str, path: str) -> tuple[Callable[[Request, Any], Response], dict[str, str]]:
    """The operation for a request and its path parameters; raises UnknownOperation otherwise."""
    clean = path.rstrip("/") or "/"
    for route_method, pattern, func in _ROUTES:
        if route_method == method:
            match = pattern.match(clean)
            if match:
                return func, {k: unquote(v) for k, v in match.groupdict().items()}
    name = _model_operation(method, clean)
    if name:
        raise E.UnknownOperation(f"The Lambda operation {name} is not implemented by the lambdabench emulator.")
    raise E.UnknownOperation(f"No Lambda operation matches {method} {path} (the lambdabench emulator "
                             "implements the function, version, alias, concurrency, invoke, tag, policy, "
                             "event source mapping and function URL operations).")


_MODEL_ROUTES: list[tuple[str, re.Pattern, str]] | None = None


def _model_operation(method: str, path: str) -> str | None:
    """Name the Lambda operation botocore would have sent this request for (not implemented here)."""
    global _MODEL_ROUTES
    if _MODEL_ROUTES is None:
        routes = []
        try:
            import botocore.session
            model = botocore.session.get_session().get_service_model("lambda")
            for op_name in model.operation_names:
                http = model.operation_model(op_name).http
                uri = http["requestUri"].split("?", 1)[0].rstrip("/")
                regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(uri))
                routes.append((http["method"], re.compile(f"^{regex}$"), op_name))
        except Exception:  # botocore missing or its model unreadable: fall back to the generic message
            routes = []
        _MODEL_ROUTES = routes
    for route_method, pattern, name in _MODEL_ROUTES:
        if route_method == method and pattern.match(path):
            return name
    return None
