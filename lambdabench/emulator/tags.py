"""Function tags: CreateFunction's `Tags`, TagResource / UntagResource / ListTags, GetFunction's `Tags`.

Tags belong to the unqualified function (Lambda tags functions, not versions or aliases) and go with
it when it is deleted. Limits from AWS docs "Tagging Lambda functions": at most 50 tags per resource,
keys 1-128 characters, values 0-256, keys starting with `aws:` are reserved.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from lambdabench.emulator import errors as E

MAX_TAGS = 50
KEY_MAX_CHARS = 128
VALUE_MAX_CHARS = 256

Response = tuple[int, dict[str, str], bytes]


class TagStore:
    """Tags of each function of one region, by function name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[str, dict[str, str]] = {}

    @staticmethod
    def check(tags: Any) -> dict[str, str]:
        if not isinstance(tags, dict):
            raise E.validation_error("tags", tags, "Member must be a map of strings")
        for key, value in tags.items():
            if not 1 <= len(key) <= KEY_MAX_CHARS:
                raise E.validation_error("tags", key, f"Map keys must satisfy constraint: [Member must have length "
                                         f"less than or equal to {KEY_MAX_CHARS}, Member must have length greater "
                                         "than or equal to 1]")
            if not isinstance(value, str) or len(value) > VALUE_MAX_CHARS:
                raise E.validation_error("tags", value, "Map value must satisfy constraint: [Member must have length "
                                         f"less than or equal to {VALUE_MAX_CHARS}]")
            if key.lower().startswith("aws:"):
                raise E.InvalidParameterValue("Tag keys starting with 'aws:' are reserved for AWS use.")
        return dict(tags)

    def add(self, name: str, tags: dict[str, str]) -> None:
        tags = self.check(tags)
        with self._lock:
            merged = {**self._tags.get(name, {}), **tags}
            if len(merged) > MAX_TAGS:
                raise E.InvalidParameterValue(f"Number of tags exceeds resource tag limit. A resource can have at "
                                              f"most {MAX_TAGS} tags.")
            self._tags[name] = merged

    def remove(self, name: str, keys: list[str]) -> None:
        with self._lock:
            current = self._tags.get(name, {})
            for key in keys:
                current.pop(key, None)

    def get(self, name: str) -> dict[str, str]:
        with self._lock:
            return dict(self._tags.get(name, {}))

    def forget(self, name: str) -> None:
        with self._lock:
            self._tags.pop(name, None)


# ----- operations -------------------------------------------------------------------------------
def _function_of(req, backend) -> str:
    """The tagged function's name; Lambda takes a full function ARN here, unqualified."""
    resource = req.params["arn"]
    name, qualifier = backend.locate(resource)
    if not resource.startswith("arn:"):
        raise E.validation_error("resource", resource, "Member must satisfy regular expression pattern: "
                                 "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:"
                                 "function:[a-zA-Z0-9-_]+")
    if qualifier is not None:
        raise E.InvalidParameterValue("Tags are not supported on function versions or aliases: tag the "
                                      f"unqualified function ARN {backend.arn(name)}.")
    return name


def tag_resource(req, backend) -> Response:
    backend.stores.tags.add(_function_of(req, backend), req.json().get("Tags") or {})
    return 204, {"x-amzn-RequestId": str(uuid.uuid4())}, b""


def untag_resource(req, backend) -> Response:
    keys = req.query_list("tagKeys")
    backend.stores.tags.remove(_function_of(req, backend), keys)
    return 204, {"x-amzn-RequestId": str(uuid.uuid4())}, b""


def list_tags(req, backend) -> Response:
    doc = {"Tags": backend.stores.tags.get(_function_of(req, backend))}
    return 200, {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}, json.dumps(doc).encode()


ROUTES = [
    ("POST", r"/2017-03-31/tags/(?P<arn>[^/]+)", tag_resource),
    ("DELETE", r"/2017-03-31/tags/(?P<arn>[^/]+)", untag_resource),
    ("GET", r"/2017-03-31/tags/(?P<arn>[^/]+)", list_tags),
]
