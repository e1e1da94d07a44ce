"""Function URL configs: Create / Get / Update / Delete / ListFunctionUrlConfigs, as state only.

One config per function and qualifier (none/$LATEST or an alias; botocore's FunctionUrlQualifier
pattern refuses a version number). The URL has Lambda's form
`https://<32 characters>.lambda-url.<region>.on.aws/`; nothing listens there. Configs go with their
function when it is deleted. Missing config: 404 ResourceNotFoundException "The resource you requested
does not exist."; a second Create: 409 ResourceConflictException.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from lambdabench.emulator import errors as E

Response = tuple[int, dict[str, str], bytes]
_NOT_FOUND = "The resource you requested does not exist."
_QUALIFIER_RE = re.compile(r"^((?!^\d+$)^[0-9a-zA-Z-_]+$)$")
_AUTH_TYPES = ("NONE", "AWS_IAM")
_INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
_URL_ID_ALPHABET = string.ascii_lowercase + string.digits


def _now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}Z"


class UrlConfigStore:
    """URL configs of one region, by (function name, qualifier or None)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: dict[tuple[str, str | None], dict[str, Any]] = {}

    def create(self, key: tuple[str, str | None], config: dict[str, Any]) -> None:
        with self._lock:
            if key in self._configs:
                raise E.ResourceConflict(f"Failed to create function url config for [functionArn = "
                                         f"{config['FunctionArn']}]. Error message:  FunctionUrlConfig exists for "
                                         "this Lambda function")
            self._configs[key] = config

    def get(self, key: tuple[str, str | None]) -> dict[str, Any]:
        with self._lock:
            config = self._configs.get(key)
            if config is None:
                raise E.ResourceNotFound(_NOT_FOUND)
            return dict(config)

    def update(self, key: tuple[str, str | None], changes: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            config = self._configs.get(key)
            if config is None:
                raise E.ResourceNotFound(_NOT_FOUND)
            config.update(changes)
            return dict(config)

    def delete(self, key: tuple[str, str | None]) -> None:
        with self._lock:
            if self._configs.pop(key, None) is None:
                raise E.ResourceNotFound(_NOT_FOUND)

    def of_function(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for (n, _), c in self._configs.items() if n == name]

    def forget(self, name: str) -> None:
        with self._lock:
            for key in [k for k in self._configs if k[0] == name]:
                del self._configs[key]


def _json(status: int, doc: Any) -> Response:
    return status, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}, \
        json.dumps(doc).encode("utf-8")


def _key(req, backend) -> tuple[str, str | None]:
    qualifier = req.query.get("Qualifier")
    if qualifier is not None and qualifier != "$LATEST" and not _QUALIFIER_RE.match(qualifier):
        raise E.validation_error("qualifier", qualifier,
                                 "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
    name, qualifier = backend.locate(req.params["name"], qualifier)
    if qualifier is not None and qualifier.isdigit():
        raise E.InvalidParameterValue("Function URLs can be configured on an alias or $LATEST only, not on a "
                                      "published version.")
    return name, None if qualifier == "$LATEST" else qualifier


def _check(params: dict[str, Any], creating: bool) -> None:
    auth_type = params.get("AuthType")
    if auth_type is None and creating:
        raise E.validation_error("authType", None, "Member must not be null")
    if auth_type is not None and auth_type not in _AUTH_TYPES:
        raise E.validation_error("authType", auth_type, "Member must satisfy enum value set: [AWS_IAM, NONE]")
    mode = params.get("InvokeMode")
    if mode is not None and mode not in _INVOKE_MODES:
        raise E.validation_error("invokeMode", mode, "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")


def _public(config: dict[str, Any], with_modified: bool = True) -> dict[str, Any]:
    return {k: v for k, v in config.items() if with_modified or k != "LastModifiedTime"}


# ----- operations -------------------------------------------------------------------------------
def create_function_url_config(req, backend) -> Response:
    params = req.json()
    _check(params, creating=True)
    name, qualifier = _key(req, backend)
    created = _now()
    url_id = "".join(secrets.choice(_URL_ID_ALPHABET) for _ in range(32))
    config: dict[str, Any] = {
        "FunctionUrl": f"https://{url_id}.lambda-url.{backend.region}.on.aws/",
        "FunctionArn": backend.arn(name, qualifier),
        "AuthType": params["AuthType"],
        "CreationTime": created,
        "LastModifiedTime": created,
        "InvokeMode": params.get("InvokeMode") or "BUFFERED",
    }
    if params.get("Cors") is not None:
        config["Cors"] = params["Cors"]
    backend.stores.urls.create((name, qualifier), config)
    return _json(201, _public(config, with_modified=False))


def get_function_url_config(req, backend) -> Response:
    return _json(200, backend.stores.urls.get(_key(req, backend)))


def update_function_url_config(req, backend) -> Response:
    params = req.json()
    _check(params, creating=False)
    changes = {k: params[k] for k in ("AuthType", "Cors", "InvokeMode") if params.get(k) is not None}
    changes["LastModifiedTime"] = _now()
    return _json(200, backend.stores.urls.update(_key(req, backend), changes))


def delete_function_url_config(req, backend) -> Response:
    backend.stores.urls.delete(_key(req, backend))
    return 204, {"x-amzn-RequestId": str(uuid.uuid4())}, b""


def list_function_url_configs(req, backend) -> Response:
    name, _ = backend.locate(req.params["name"])
    configs = sorted(backend.stores.urls.of_function(name), key=lambda c: c["FunctionArn"])
    start = int(req.query["Marker"]) if req.query.get("Marker", "").isdigit() else 0
    size = req.int_query("MaxItems") or 50
    doc: dict[str, Any] = {"FunctionUrlConfigs": configs[start:start + size]}
    if start + size < len(configs):
        doc["NextMarker"] = str(start + size)
    return _json(200, doc)


ROUTES = [
    ("POST", r"/2021-10-31/functions/(?P<name>[^/]+)/url", create_function_url_config),
    ("GET", r"/2021-10-31/functions/(?P<name>[^/]+)/url", get_function_url_config),
    ("PUT", r"/2021-10-31/functions/(?P<name>[^/]+)/url", update_function_url_config),
    ("DELETE", r"/2021-10-31/functions/(?P<name>[^/]+)/url", delete_function_url_config),
    ("GET", r"/2021-10-31/functions/(?P<name>[^/]+)/urls", list_function_url_configs),
]
