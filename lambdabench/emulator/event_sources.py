"""Event source mappings: Create / List / Get / Delete, as state only (nothing is polled or invoked).

Enough for a tool to find the triggers that send a function live traffic. Shapes from botocore's
`EventSourceMappingConfiguration`: Create answers 202 with State "Creating", a later read answers
"Enabled" (or "Disabled" when created with Enabled=false), Delete answers 202 with State "Deleting"
and the mapping is gone for the next read. BatchSize defaults per source as AWS documents it
(CreateEventSourceMapping, BatchSize): 10 for SQS, 100 for the streams, Kafka and MQ sources.
The mapping names its function by ARN, qualified when it was created with a version or alias.
Mappings are kept when their function is deleted, as Lambda keeps them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from lambdabench.emulator import errors as E

Response = tuple[int, dict[str, str], bytes]
_NOT_FOUND = "The resource you requested does not exist."
_PAGE_DEFAULT = 100


def _default_batch_size(source_arn: str) -> int:
    return 10 if source_arn.startswith("arn:aws:sqs:") else 100


class EventSourceStore:
    """Mappings of one region, by UUID, in creation order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mappings: dict[str, dict[str, Any]] = {}

    def add(self, mapping: dict[str, Any]) -> None:
        with self._lock:
            self._mappings[mapping["UUID"]] = mapping

    def get(self, mapping_id: str) -> dict[str, Any]:
        with self._lock:
            mapping = self._mappings.get(mapping_id)
            if mapping is None:
                raise E.ResourceNotFound(_NOT_FOUND)
            return dict(mapping)

    def pop(self, mapping_id: str) -> dict[str, Any]:
        with self._lock:
            mapping = self._mappings.pop(mapping_id, None)
            if mapping is None:
                raise E.ResourceNotFound(_NOT_FOUND)
            return mapping

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._mappings.values()]


def _json(status: int, doc: Any) -> Response:
    return status, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}, \
        json.dumps(doc).encode("utf-8")


def _settled(mapping: dict[str, Any]) -> dict[str, Any]:
    """How a read after creation sees it: the mapping has finished creating."""
    doc = {k: v for k, v in mapping.items() if not k.startswith("_")}
    doc["State"] = "Enabled" if mapping["_enabled"] else "Disabled"
    return doc


# ----- operations -------------------------------------------------------------------------------
def create_event_source_mapping(req, backend) -> Response:
    params = req.json()
    if not params.get("FunctionName"):
        raise E.validation_error("functionName", None, "Member must not be null")
    name, qualifier = backend.locate(params["FunctionName"])
    source_arn = params.get("EventSourceArn") or ""
    mapping_id = str(uuid.uuid4())
    mapping: dict[str, Any] = {
        "UUID": mapping_id,
        "BatchSize": params.get("BatchSize") or _default_batch_size(source_arn),
        "MaximumBatchingWindowInSeconds": params.get("MaximumBatchingWindowInSeconds", 0),
        "FunctionArn": backend.arn(name, qualifier),
        "LastModified": time.time(),
        "State": "Creating",
        "StateTransitionReason": "USER_INITIATED",
        "EventSourceMappingArn": f"arn:aws:lambda:{backend.region}:{backend.account_id}:event-source-mapping:"
                                 f"{mapping_id}",
        "_enabled": params.get("Enabled", True),
    }
    if source_arn:
        mapping["EventSourceArn"] = source_arn
    for key in ("StartingPosition", "FilterCriteria", "ParallelizationFactor", "MaximumRetryAttempts",
                "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "FunctionResponseTypes",
                "DestinationConfig", "Topics", "Queues", "ScalingConfig", "SourceAccessConfigurations",
                "SelfManagedEventSource", "TumblingWindowInSeconds", "KMSKeyArn"):
        if params.get(key) is not None:
            mapping[key] = params[key]
    backend.stores.event_sources.add(mapping)
    return _json(202, {k: v for k, v in mapping.items() if not k.startswith("_")})


def get_event_source_mapping(req, backend) -> Response:
    return _json(200, _settled(backend.stores.event_sources.get(req.params["uuid"])))


def delete_event_source_mapping(req, backend) -> Response:
    doc = _settled(backend.stores.event_sources.pop(req.params["uuid"]))
    doc["State"] = "Deleting"
    return _json(202, doc)


def list_event_source_mappings(req, backend) -> Response:
    mappings = backend.stores.event_sources.all()
    source_arn = req.query.get("EventSourceArn")
    if source_arn:
        mappings = [m for m in mappings if m.get("EventSourceArn") == source_arn]
    function_name = req.query.get("FunctionName")
    if function_name:
        # An unqualified name matches the function's mappings on every qualifier; a qualified one its own.
        name, qualifier = backend.split_name(function_name)
        wanted = backend.arn(name, qualifier)
        mappings = [m for m in mappings
                    if m["FunctionArn"] == wanted or (qualifier is None and m["FunctionArn"].startswith(wanted + ":"))]
    start = 0
    marker = req.query.get("Marker")
    if marker:
        if not marker.isdigit():
            raise E.InvalidParameterValue(f"Invalid marker: {marker}")
        start = int(marker)
    size = req.int_query("MaxItems") or _PAGE_DEFAULT
    page = mappings[start:start + size]
    doc: dict[str, Any] = {"EventSourceMappings": [_settled(m) for m in page]}
    if start + size < len(mappings):
        doc["NextMarker"] = str(start + size)
    return _json(200, doc)


ROUTES = [
    ("POST", r"/2015-03-31/event-source-mappings", create_event_source_mapping),
    ("GET", r"/2015-03-31/event-source-mappings", list_event_source_mappings),
    ("GET", r"/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)", get_event_source_mapping),
    ("DELETE", r"/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)", delete_event_source_mapping),
]
