"""Resource Groups Tagging API (JSON 1.1) of the emulator: GetResources over the region's Lambda functions.

`lambdabench cleanup` finds the sweep's leftover copies with `tag:GetResources` (TagFilters
lambdabench:sweep, ResourceTypeFilters lambda:function), the one call the generated IAM policy grants
for it. The server calls `handle(backend, target, body)` for every request whose `X-Amz-Target`
starts with `ResourceGroupsTaggingAPI_20170126.`. The emulator holds Lambda functions only, so a
resource type filter naming another service matches nothing. Semantics follow the API reference
(GetResources): a tag filter with Values matches any of them, without Values any value of the key;
filters are ANDed; only tagged resources are returned; ResourcesPerPage is 1-100 (default 50) and the
last page answers an empty PaginationToken. Errors are JSON 1.1 (`__type`, `Message`, status 400).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

TARGET_PREFIX = "ResourceGroupsTaggingAPI_20170126."
CONTENT_TYPE = "application/x-amz-json-1.1"
RESOURCES_PER_PAGE_DEFAULT = 50
RESOURCES_PER_PAGE_MAX = 100
TAG_FILTERS_MAX = 50
_LAMBDA_TYPES = {"lambda", "lambda:function"}

Response = tuple[int, dict[str, str], bytes]


class TaggingError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _reply(status: int, doc: dict[str, Any]) -> Response:
    return status, {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": str(uuid.uuid4())}, json.dumps(doc).encode()


def handle(backend: Any, target: str, body: bytes) -> Response:
    operation = target[len(TARGET_PREFIX):]
    try:
        if operation != "GetResources":
            raise TaggingError("UnknownOperationException",
                               f"The lambdabench emulator does not implement {operation} of the Resource Groups "
                               "Tagging API (only GetResources)")
        try:
            params = json.loads(body or b"{}")
        except ValueError as exc:
            raise TaggingError("SerializationException", f"the body is not JSON: {exc}") from exc
        if not isinstance(params, dict):
            raise TaggingError("SerializationException", "the body must be a JSON object")
        return _reply(200, get_resources(backend, params))
    except TaggingError as exc:
        return _reply(exc.status, {"__type": exc.code, "Message": exc.message})


def get_resources(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    filters = params.get("TagFilters") or []
    if not isinstance(filters, list) or len(filters) > TAG_FILTERS_MAX:
        raise TaggingError("InvalidParameterException",
                           f"TagFilters must be a list of at most {TAG_FILTERS_MAX} filters")
    types = params.get("ResourceTypeFilters") or []
    arns = set(params.get("ResourceARNList") or [])
    per_page = params.get("ResourcesPerPage", RESOURCES_PER_PAGE_DEFAULT)
    if not isinstance(per_page, int) or not 1 <= per_page <= RESOURCES_PER_PAGE_MAX:
        raise TaggingError("InvalidParameterException",
                           f"ResourcesPerPage must be between 1 and {RESOURCES_PER_PAGE_MAX}, not {per_page!r}")
    if types and not any(t in _LAMBDA_TYPES for t in types):
        return {"ResourceTagMappingList": [], "PaginationToken": ""}
    matches = []
    for arn, name in _functions(backend):
        tags = backend.stores.tags.get(name)
        if not tags or (arns and arn not in arns) or not all(_matches(f, tags) for f in filters):
            continue
        matches.append({"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]})
    start = _start(params.get("PaginationToken") or "", len(matches))
    page = matches[start:start + per_page]
    following = start + per_page
    return {"ResourceTagMappingList": page,
            "PaginationToken": str(following) if following < len(matches) else ""}


def _functions(backend: Any) -> list[tuple[str, str]]:
    """(unqualified ARN, name) of every function in the backend's region, through its ListFunctions."""
    found: list[tuple[str, str]] = []
    marker = None
    while True:
        page = backend.list_functions(marker, None, None)
        found += [(f["FunctionArn"], f["FunctionName"]) for f in page.get("Functions") or []]
        marker = page.get("NextMarker")
        if not marker:
            return found


def _matches(tag_filter: Any, tags: dict[str, str]) -> bool:
    if not isinstance(tag_filter, dict) or not isinstance(tag_filter.get("Key"), str):
        raise TaggingError("InvalidParameterException", "each TagFilter needs a Key")
    key = tag_filter["Key"]
    values = tag_filter.get("Values") or []
    return key in tags and (not values or tags[key] in values)


def _start(token: str, total: int) -> int:
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise TaggingError("PaginationTokenExpiredException",
                           "the PaginationToken is not one this endpoint gave out (or it has expired)")
    return int(token)
