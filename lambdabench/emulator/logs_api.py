"""CloudWatch Logs JSON 1.1 API of the emulator: one function per operation, parse and serialise only.

The HTTP server calls `handle(store, target, body)` for every request whose `X-Amz-Target` header starts
with `Logs_20140328.` (content type `application/x-amz-json-1.1`) and sends back the
`(status, headers, body)` it returns. State and semantics live in `LogStore`.

Operations: CreateLogGroup, CreateLogStream, DeleteLogGroup, DescribeLogGroups, DescribeLogStreams,
PutLogEvents, GetLogEvents, FilterLogEvents. Errors are shaped for JSON 1.1 —
`{"__type": "<Code>", "message": "..."}` with status 400 — so botocore raises the modelled exception
(ResourceNotFoundException, ResourceAlreadyExistsException, InvalidParameterException). An operation
this emulator does not implement answers UnknownOperationException naming it; a body that is not a
JSON object answers SerializationException.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from lambdabench.emulator import validation
from lambdabench.emulator.logstore import InvalidParameter, LogsError, LogStore, ResourceNotFound

TARGET_PREFIX = "Logs_20140328."
CONTENT_TYPE = "application/x-amz-json-1.1"

# Limits of PutLogEvents (CloudWatch Logs API reference, PutLogEvents).
PUT_BATCH_MAX_BYTES = 1_048_576
PUT_BATCH_MAX_EVENTS = 10_000
PUT_EVENT_MAX_BYTES = 1_048_576
PUT_BATCH_MAX_SPAN_MS = 24 * 3600 * 1000
PUT_TOO_NEW_MS = 2 * 3600 * 1000
PUT_TOO_OLD_MS = 14 * 24 * 3600 * 1000

# Name patterns from the botocore model (LogGroupName, LogStreamName).
_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
_STREAM_NAME = re.compile(r"^[^:*]{1,512}$")
_GROUP_ARN = re.compile(r"^arn:aws[a-z\-]*:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$")

Params = dict[str, Any]


def _error(code: str, message: str, status: int = 400) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, _headers(), body


def _headers() -> dict[str, str]:
    # No Content-Length: the transport sets it from the body it writes.
    return {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": str(uuid.uuid4())}


def handle(store: LogStore, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Answer one Logs JSON 1.1 request. `target` is the X-Amz-Target header value."""
    operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else target
    func = _OPERATIONS.get(operation)
    if func is None:
        return _error(
            "UnknownOperationException",
            f"The CloudWatch Logs operation {operation!r} is not implemented by the lambdabench emulator "
            f"(implemented: {', '.join(sorted(_OPERATIONS))})",
        )
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return _error("SerializationException", "Start of structure or map found where not expected: the body is not JSON")
    if not isinstance(params, dict):
        return _error("SerializationException", "The request body must be a JSON object")
    problem = _check_input(operation, params)
    if problem is not None:
        return _error(*problem)
    try:
        result = func(store, params)
    except LogsError as exc:
        return _error(exc.code, exc.message, exc.status)
    out = json.dumps(result, separators=(",", ":")).encode()
    return 200, _headers(), out


def _check_input(operation: str, params: Params) -> tuple[str, str] | None:
    """The (code, message) of the first problem with the body against the operation's input shape in
    botocore's model: a wrong JSON type is SerializationException, constraint violations (required,
    length, range, enum, pattern) InvalidParameterException worded the Smithy way; None when it passes."""
    model = validation.operation_model("logs", operation)
    if model is None or model.input_shape is None:
        return None
    try:
        typed = validation.from_json(params, model.input_shape, "")
    except validation.SerializationError as exc:
        return "SerializationException", str(exc)
    errors = validation.check(model.input_shape, typed, full_match=False)
    return ("InvalidParameterException", validation.message(errors)) if errors else None


# ----- parameter helpers -------------------------------------------------------------------------
def _required(params: Params, name: str) -> Any:
    if params.get(name) is None:
        raise InvalidParameter(
            f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        )
    return params[name]


def _opt_int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(f"1 validation error detected: Value '{value}' at '{name}' must be an integer")
    if name in ("startTime", "endTime") and value < 0:
        raise InvalidParameter(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    return value


def _opt_bool(params: Params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidParameter(f"1 validation error detected: Value '{value}' at '{name}' must be a boolean")
    return value


def _opt_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidParameter(f"1 validation error detected: Value '{value}' at '{name}' must be a string")
    return value


def _check_name(value: Any, field: str, pattern: re.Pattern[str], shown: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidParameter(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {shown}"
        )
    return value


def _group_name(params: Params) -> str:
    """logGroupName or logGroupIdentifier (a name or an ARN), exactly one of them."""
    name = params.get("logGroupName")
    ident = params.get("logGroupIdentifier")
    if name is not None and ident is not None:
        raise InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name is None and ident is None:
        raise InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.")
    if ident is not None:
        if not isinstance(ident, str):
            raise InvalidParameter(f"1 validation error detected: Value '{ident}' at 'logGroupIdentifier' must be a string")
        m = _GROUP_ARN.match(ident)
        name = m.group(1) if m else ident
    return _check_name(name, "logGroupName", _GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+")


def _stream_name(value: Any, field: str = "logStreamName") -> str:
    return _check_name(value, field, _STREAM_NAME, "[^:*]*")


# ----- operations --------------------------------------------------------------------------------
def create_log_group(store: LogStore, params: Params) -> dict[str, Any]:
    name = _check_name(_required(params, "logGroupName"), "logGroupName", _GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+")
    store.create_log_group(name)
    return {}


def create_log_stream(store: LogStore, params: Params) -> dict[str, Any]:
    group = _check_name(_required(params, "logGroupName"), "logGroupName", _GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+")
    store.create_log_stream(group, _stream_name(_required(params, "logStreamName")))
    return {}


def delete_log_group(store: LogStore, params: Params) -> dict[str, Any]:
    store.delete_log_group(_check_name(_required(params, "logGroupName"), "logGroupName", _GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+"))
    return {}


def describe_log_groups(store: LogStore, params: Params) -> dict[str, Any]:
    prefix = _opt_str(params, "logGroupNamePrefix")
    if prefix is not None and params.get("logGroupNamePattern") is not None:
        raise InvalidParameter("logGroupNamePrefix and logGroupNamePattern are mutually exclusive parameters.")
    result = store.describe_log_groups(prefix=prefix, limit=_opt_int(params, "limit"), next_token=_opt_str(params, "nextToken"))
    pattern = _opt_str(params, "logGroupNamePattern")
    if pattern:
        # A case-sensitive substring search (API reference); applied to the page, as AWS's docs allow
        # pages that are only partly full.
        result["logGroups"] = [g for g in result["logGroups"] if pattern in g["logGroupName"]]
    identifiers = params.get("logGroupIdentifiers")
    if identifiers is not None:
        if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers):
            raise InvalidParameter("1 validation error detected: Value at 'logGroupIdentifiers' must be a list of strings")
        wanted = {m.group(1) if (m := _GROUP_ARN.match(i)) else i for i in identifiers}
        result["logGroups"] = [g for g in result["logGroups"] if g["logGroupName"] in wanted]
    group_class = _opt_str(params, "logGroupClass")
    if group_class is not None and group_class != "STANDARD":
        result["logGroups"] = []  # every group this emulator keeps is of the STANDARD class
    return result


def describe_log_streams(store: LogStore, params: Params) -> dict[str, Any]:
    prefix = params.get("logStreamNamePrefix")
    if prefix is not None:
        prefix = _stream_name(prefix, "logStreamNamePrefix")
    return store.describe_log_streams(
        _group_name(params),
        prefix=prefix,
        order_by=_opt_str(params, "orderBy") or "LogStreamName",
        descending=_opt_bool(params, "descending", False),
        limit=_opt_int(params, "limit"),
        next_token=_opt_str(params, "nextToken"),
    )


def put_log_events(store: LogStore, params: Params) -> dict[str, Any]:
    group = _check_name(_required(params, "logGroupName"), "logGroupName", _GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+")
    stream = _stream_name(_required(params, "logStreamName"))
    events = _required(params, "logEvents")
    if not isinstance(events, list) or not 1 <= len(events) <= PUT_BATCH_MAX_EVENTS:
        raise InvalidParameter(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: "
            f"Member must have length between 1 and {PUT_BATCH_MAX_EVENTS}"
        )
    parsed: list[tuple[int, str]] = []
    total = 0
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise InvalidParameter(f"logEvents[{i}] must be an object with timestamp and message")
        timestamp, message = event.get("timestamp"), event.get("message")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
            raise InvalidParameter(f"1 validation error detected: Value '{timestamp}' at 'logEvents.{i + 1}.member.timestamp' must be a non-negative integer")
        if not isinstance(message, str) or not message:
            raise InvalidParameter(
                f"1 validation error detected: Value '{message}' at 'logEvents.{i + 1}.member.message' "
                "failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        size = len(message.encode("utf-8"))
        if size > PUT_EVENT_MAX_BYTES:
            raise InvalidParameter(f"Log event too large: {size} bytes exceeds the maximum of {PUT_EVENT_MAX_BYTES} bytes")
        total += size + 26
        parsed.append((timestamp, message))
    if total > PUT_BATCH_MAX_BYTES:
        raise InvalidParameter(f"Upload too large: {total} bytes exceeds the maximum allowed of {PUT_BATCH_MAX_BYTES} bytes")
    if any(parsed[i][0] > parsed[i + 1][0] for i in range(len(parsed) - 1)):
        raise InvalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
    if not store.has_group(group):
        raise ResourceNotFound("The specified log group does not exist.")
    # Events over 2 hours ahead or 14 days behind are rejected one by one while the rest are stored
    # (PutLogEvents docs); the batch is sorted, so they sit at its two ends.
    now = store.now_ms()
    too_old_end = sum(1 for t, _ in parsed if t < now - PUT_TOO_OLD_MS)
    too_new_start = next((i for i, (t, _) in enumerate(parsed) if t > now + PUT_TOO_NEW_MS), len(parsed))
    accepted = parsed[too_old_end:too_new_start]
    if accepted and accepted[-1][0] - accepted[0][0] > PUT_BATCH_MAX_SPAN_MS:
        raise InvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    store.put_log_events(group, stream, accepted, create_missing=False)
    result: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
    rejected: dict[str, int] = {}
    if too_old_end:
        rejected["tooOldLogEventEndIndex"] = too_old_end
    if too_new_start < len(parsed):
        rejected["tooNewLogEventStartIndex"] = too_new_start
    if rejected:
        result["rejectedLogEventsInfo"] = rejected
    return result


def get_log_events(store: LogStore, params: Params) -> dict[str, Any]:
    return store.get_log_events(
        _group_name(params),
        _stream_name(_required(params, "logStreamName")),
        start_time=_opt_int(params, "startTime"),
        end_time=_opt_int(params, "endTime"),
        start_from_head=_opt_bool(params, "startFromHead", False),
        limit=_opt_int(params, "limit"),
        next_token=_opt_str(params, "nextToken"),
    )


def filter_log_events(store: LogStore, params: Params) -> dict[str, Any]:
    names = params.get("logStreamNames")
    if names is not None:
        if not isinstance(names, list) or not 1 <= len(names) <= 100:
            raise InvalidParameter(
                "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: "
                "Member must have length between 1 and 100"
            )
        names = [_stream_name(n, "logStreamNames") for n in names]
    prefix = params.get("logStreamNamePrefix")
    if prefix is not None:
        prefix = _stream_name(prefix, "logStreamNamePrefix")
    pattern = _opt_str(params, "filterPattern")
    if pattern is not None and len(pattern) > 1024:
        raise InvalidParameter(
            "1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: "
            "Member must have length less than or equal to 1024"
        )
    return store.filter_log_events(
        _group_name(params),
        stream_names=names,
        stream_prefix=prefix,
        start_time=_opt_int(params, "startTime"),
        end_time=_opt_int(params, "endTime"),
        filter_pattern=pattern,
        limit=_opt_int(params, "limit"),
        next_token=_opt_str(params, "nextToken"),
        start_from_head=_opt_bool(params, "startFromHead", True),
    )


_OPERATIONS: dict[str, Callable[[LogStore, Params], dict[str, Any]]] = {
    "CreateLogGroup": create_log_group,
    "CreateLogStream": create_log_stream,
    "DeleteLogGroup": delete_log_group,
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "PutLogEvents": put_log_events,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
}
