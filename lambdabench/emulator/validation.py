"""Request validation against botocore's service model: the checks AWS's front end makes before an operation runs.

Owns two steps, both driven only by the operation's input shape, so every operation the emulator
routes gets them without code of its own:

- `rest_json_params(operation, uri_params, query, headers, body)` gathers a REST-JSON request's members
  from where the model puts them (path, query string, headers, JSON body) and converts them to the
  member's type. A body that is not a JSON object, or a value of the wrong JSON type (a string for an
  integer, a scalar for a structure), is `SerializationException`, as Lambda's deserializer answers;
  a query-string or header value that is not a number where the model wants one is a validation error.
- `check(shape, params)` walks the shape and returns every constraint violation (required members,
  length, range, enum, pattern) worded the Smithy way, as Lambda and CloudWatch Logs word them:
  "2 validation errors detected: Value 'x' at 'functionName' failed to satisfy constraint: ...; ...".
  The value of a `sensitive` member is left out of the message, as AWS does.

Unknown JSON members are ignored, as AWS's JSON deserializers ignore them. The few patterns Python's
`re` cannot compile (`\\p{L}`) are skipped.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

# Java's int and long, which Lambda's deserializer reads `integer` and `long` into.
_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_SHOWN_VALUE_CHARS = 256  # AWS echoes the value; a 6 MB value is cut so the error stays small


class SerializationError(Exception):
    """The request cannot be read into the input shape (what AWS answers SerializationException for)."""


@functools.cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@functools.cache
def operation_model(service: str, name: str) -> OperationModel | None:
    model = service_model(service)
    return model.operation_model(name) if name in model.operation_names else None


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:  # a Java-only construct such as \p{L}
        return None


def matches(pattern: str, value: str, *, full: bool = True) -> bool:
    """True when `value` matches the model pattern, as a whole or (`full=False`, Smithy's rule) anywhere
    in it; a pattern Python cannot compile matches anything."""
    compiled = _pattern(pattern)
    if compiled is None:
        return True
    return (compiled.fullmatch(value) if full else compiled.search(value)) is not None


# ----- gathering a REST-JSON request ------------------------------------------------------------
def rest_json_params(operation: OperationModel, uri_params: Mapping[str, str], query: Mapping[str, str],
                  headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The request's members by model name, typed. Raises SerializationError for a body that cannot be
    read into the shape and TextTypeError for a query-string or header value of the wrong type."""
    shape = operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    payload_member = shape.serialization.get("payload")
    body_doc: dict[str, Any] = {}
    if payload_member is None and body.strip():
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SerializationError("Could not parse request body into json: the body is not valid JSON") from None
        if not isinstance(doc, dict):
            raise SerializationError("Could not parse request body into json: the body must be a JSON object, "
                                     f"got {_json_type(doc)}")
        body_doc = doc
    lower_headers = {k.lower(): v for k, v in headers.items()}
    for name, member, location, wire in _members(shape):
        if location == "uri":
            if wire in uri_params:
                params[name] = uri_params[wire]
        elif location == "querystring":
            if wire in query:
                params[name] = _from_text(query[wire], member, name)
        elif location == "header":
            if wire in lower_headers:
                params[name] = _from_text(lower_headers[wire], member, name)
        elif location is None and name != payload_member and body_doc.get(name) is not None:
            # An explicit null reads as absent, as AWS's JSON deserializer reads it.
            params[name] = from_json(body_doc[name], member, name)
    if payload_member is not None and body:
        params[payload_member] = body
    return params


@functools.cache
def _members(shape: Shape) -> tuple[tuple[str, Shape, str | None, str], ...]:
    """(name, shape, location, name on the wire (lower case for headers)) of each member, once per shape:
    an invoke's validation runs on every request, so nothing is looked up twice."""
    out = []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        out.append((name, member, location, wire.lower() if location == "header" else wire))
    return tuple(out)


def _from_text(value: str, shape: Shape, name: str) -> Any:
    """A query-string or header value, typed as the model says (they arrive as text)."""
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise TextTypeError(name, value, "Member must be an integer") from None
    if kind == "boolean":
        if value not in ("true", "false"):
            raise TextTypeError(name, value, "Member must be a boolean (true or false)")
        return value == "true"
    if kind in ("float", "double"):
        try:
            return float(value)
        except ValueError:
            raise TextTypeError(name, value, "Member must be a number") from None
    if kind == "list":  # a repeated query parameter arrives once here (parse_qsl keeps the last)
        return [value]
    return value


class TextTypeError(Exception):
    """A query-string or header value of the wrong type: Lambda words it as a validation error."""

    def __init__(self, member: str, value: str, constraint: str):
        super().__init__(message([_violation(_camel(member), value, constraint, sensitive=False)]))


def from_json(value: Any, shape: Shape, path: str) -> Any:
    """Check a JSON value's type against the shape (recursively); SerializationError names the member."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong(path, "a structure (JSON object)", value)
        out = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                out[name] = from_json(value[name], member, f"{path}.{name}" if path else name)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong(path, "a list (JSON array)", value)
        return [from_json(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong(path, "a map (JSON object)", value)
        return {key: from_json(item, shape.value, f"{path}.{key}") for key, item in value.items()}
    if kind in ("string", "blob"):
        if not isinstance(value, str):
            raise _wrong(path, "a string", value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong(path, "a boolean", value)
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong(path, f"an {kind}", value)
        low, high = _RANGES[kind]
        if not low <= value <= high:
            raise SerializationError(f"Numeric value ({_shown(value)}) out of range of {kind} at '{path}'")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong(path, "a number", value)
        return value
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _wrong(path, "a timestamp (epoch seconds)", value)
        return value
    return value


def _wrong(path: str, expected: str, value: Any) -> SerializationError:
    return SerializationError(f"Cannot read '{path}': expected {expected}, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


# ----- constraints ----------------------------------------------------------------------------
def check(shape: Shape | None, params: Mapping[str, Any], *, full_match: bool = True) -> list[str]:
    """Every constraint violation of `params` against the input shape, in Smithy's words. `full_match`:
    patterns must match the whole value (Lambda's front end), else anywhere in it (Smithy's rule, which
    CloudWatch Logs follows: its ARN identifiers end in ':*', outside their pattern)."""
    errors: list[str] = []
    if shape is not None:
        _check_structure(shape, params, "", errors, full_match)
    return errors


def message(errors: list[str]) -> str:
    count = len(errors)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)


def _check_structure(shape: Shape, value: Mapping[str, Any], prefix: str, errors: list[str], full: bool) -> None:
    for name in shape.metadata.get("required", ()):
        if value.get(name) is None:
            errors.append(f"Value null at '{prefix}{_camel(name)}' failed to satisfy constraint: Member must not "
                          "be null")
    members = shape.members
    for name, item in value.items():
        if item is not None and name in members:
            _check_value(members[name], item, f"{prefix}{_camel(name)}", errors, full)


def _check_value(shape: Shape, value: Any, path: str, errors: list[str], full: bool) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        _check_structure(shape, value, path + ".", errors, full)
        return
    sensitive = bool(shape.metadata.get("sensitive"))
    errors.extend(_violation(path, value, c, sensitive=sensitive) for c in _constraints(shape, value, full))
    if kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(shape.member, item, f"{path}.{i + 1}.member", errors, full)
    if kind == "map" and isinstance(value, dict):
        # Lambda words bad keys once for the map: "Map keys must satisfy constraint: [<constraint>]".
        bad_keys: dict[str, list[str]] = {}
        for key in value:
            for constraint in _constraints(shape.key, key, full):
                bad_keys.setdefault(constraint, []).append(key)
        for constraint, keys in bad_keys.items():
            errors.append(_violation(path, "[" + ", ".join(keys) + "]",
                                     f"Map keys must satisfy constraint: [{constraint}]",
                                     sensitive=sensitive or bool(shape.key.metadata.get("sensitive"))))
        for key, item in value.items():
            _check_value(shape.value, item, f"{path}.{key}" if len(key) <= 64 else f"{path}.value", errors, full)


def _constraints(shape: Shape, value: Any, full: bool) -> list[str]:
    """The constraints of the shape itself (length, enum, pattern, range) that `value` fails."""
    kind, meta, failed = shape.type_name, shape.metadata, []
    if kind in ("string", "list", "map", "blob") and isinstance(value, (str, bytes, list, dict)):
        low, high = meta.get("min"), meta.get("max")
        size = len(value)
        if low is not None and high is not None and not low <= size <= high:
            failed.append(f"Member must have length between {low} and {high}")
        elif low is not None and size < low:
            failed.append(f"Member must have length greater than or equal to {low}")
        elif high is not None and size > high:
            failed.append(f"Member must have length less than or equal to {high}")
    if kind == "string" and isinstance(value, str):
        enum = meta.get("enum")
        if enum and value not in enum:
            failed.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        if pattern and not matches(pattern, value, full=full):
            failed.append(f"Member must satisfy regular expression pattern: {pattern}")
    if kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low:
            failed.append(f"Member must have value greater than or equal to {low}")
        elif high is not None and value > high:
            failed.append(f"Member must have value less than or equal to {high}")
    return failed


def _violation(path: str, value: Any, constraint: str, *, sensitive: bool) -> str:
    if sensitive:
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    return f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: {constraint}"


def _shown(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= _SHOWN_VALUE_CHARS else text[:_SHOWN_VALUE_CHARS] + "..."


@functools.cache
def _camel(name: str) -> str:
    """Smithy names members in messages lowerCamelCase ('memorySize', 'functionName')."""
    return name[:1].lower() + name[1:]
