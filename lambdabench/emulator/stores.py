"""State attached to a region's functions that `Backend` does not own, and the emulator-wide knobs.

`Backend` keeps functions, versions, aliases and concurrency; everything else a function carries lives
in one small store per family (tags, resource policies, URL configs, event source mappings, the
Managed Instances capacity provider config, the code's KMS key), each beside the operations that use it. The backend
calls `validate_create` / `on_create` / `on_delete` / `decorate` at the few points where they meet.

`Lifecycle` is shared by every region of one emulator: how long a new function stays Pending
(`pending_s`; tests may change it between calls) and the functions a test forced Inactive.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

from lambdabench.emulator.code_keys import CodeKeyStore
from lambdabench.emulator.code_url import CodeLinks
from lambdabench.emulator.event_sources import EventSourceStore
from lambdabench.emulator.function_urls import UrlConfigStore
from lambdabench.emulator.policies import PolicyStore
from lambdabench.emulator.tags import TagStore


class Lifecycle:
    """Function State knobs of one emulator: the Pending delay and forced Inactive functions."""

    def __init__(self, pending_s: float = 0.0):
        self.pending_s = pending_s
        self._lock = threading.Lock()
        self._inactive: set[tuple[str, str]] = set()
        self._woken: set[tuple[str, str]] = set()  # Pending from a wake, not a create: "Restoring"

    def make_inactive(self, region: str, name: str) -> None:
        """As if Lambda had reclaimed an idle function: reads say Inactive until an invoke wakes it."""
        with self._lock:
            self._inactive.add((region, name))
            self._woken.discard((region, name))

    def is_inactive(self, region: str, name: str) -> bool:
        with self._lock:
            return (region, name) in self._inactive

    def wake(self, region: str, name: str) -> None:
        with self._lock:
            if (region, name) in self._inactive:
                self._woken.add((region, name))
            self._inactive.discard((region, name))

    def was_woken(self, region: str, name: str) -> bool:
        with self._lock:
            return (region, name) in self._woken

    def forget(self, region: str, name: str) -> None:
        with self._lock:
            self._inactive.discard((region, name))
            self._woken.discard((region, name))


class CapacityStore:
    """CapacityProviderConfig (Lambda Managed Instances) of each function, by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: dict[str, dict[str, Any]] = {}

    def set(self, name: str, config: dict[str, Any]) -> None:
        with self._lock:
            self._configs[name] = config

    def get(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._configs.get(name)

    def forget(self, name: str) -> None:
        with self._lock:
            self._configs.pop(name, None)


@dataclass(frozen=True)
class Stores:
    """Everything a region's functions carry beside their configuration."""

    region: str = "us-east-1"
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    code_links: CodeLinks | None = None
    tags: TagStore = field(default_factory=TagStore)
    policies: PolicyStore = field(default_factory=PolicyStore)
    urls: UrlConfigStore = field(default_factory=UrlConfigStore)
    event_sources: EventSourceStore = field(default_factory=EventSourceStore)
    capacity: CapacityStore = field(default_factory=CapacityStore)
    code_keys: CodeKeyStore = field(default_factory=CodeKeyStore)

    def validate_create(self, params: dict[str, Any]) -> None:
        """Refuse a CreateFunction before anything is created."""
        if params.get("Tags") is not None:
            self.tags.check(params["Tags"])
        self.code_keys.check((params.get("Code") or {}).get("SourceKMSKeyArn"))

    def on_create(self, name: str, params: dict[str, Any]) -> None:
        if params.get("Tags"):
            self.tags.add(name, params["Tags"])
        if params.get("CapacityProviderConfig"):
            self.capacity.set(name, params["CapacityProviderConfig"])
        self.code_keys.set(name, (params.get("Code") or {}).get("SourceKMSKeyArn"))

    def validate_code_update(self, params: dict[str, Any]) -> None:
        """Refuse an UpdateFunctionCode before the code is replaced."""
        self.code_keys.check(params.get("SourceKMSKeyArn"))

    def on_code_update(self, name: str, params: dict[str, Any]) -> None:
        """New code for $LATEST: encrypted with the key given now, or with an AWS owned key."""
        self.code_keys.set(name, params.get("SourceKMSKeyArn"))

    def code_fields(self, name: str) -> dict[str, Any]:
        """What GetFunction's `Code` carries from these stores, beside the Location."""
        return self.code_keys.code_fields(name)

    def on_update(self, name: str, params: dict[str, Any]) -> None:
        if params.get("CapacityProviderConfig"):
            self.capacity.set(name, params["CapacityProviderConfig"])

    def on_delete(self, name: str) -> None:
        """A deleted function takes its tags, policies, URL configs and capacity config along (its event
        source mappings stay, as on Lambda)."""
        for store in (self.tags, self.policies, self.urls, self.capacity, self.code_keys):
            store.forget(name)
        self.lifecycle.forget(self.region, name)

    def is_inactive(self, name: str) -> bool:
        return self.lifecycle.is_inactive(self.region, name)

    def wake(self, name: str) -> float:
        """Start restoring an Inactive function; answers how long it stays Pending."""
        self.lifecycle.wake(self.region, name)
        return self.lifecycle.pending_s

    def pending_reason(self, name: str) -> dict[str, str]:
        """StateReason and StateReasonCode of a Pending function: being created, or being restored after
        it was Inactive (StateReasonCode Restoring, as Lambda reports a woken function)."""
        if self.lifecycle.was_woken(self.region, name):
            return {"StateReason": "The function is being restored.", "StateReasonCode": "Restoring"}
        return {"StateReason": "The function is being created.", "StateReasonCode": "Creating"}

    def decorate(self, name: str, doc: dict[str, Any]) -> None:
        """Add what GetFunctionConfiguration reports from these stores."""
        capacity = self.capacity.get(name)
        if capacity is not None:
            doc["CapacityProviderConfig"] = capacity

    def code_location(self, sha256_b64: str, fallback: str) -> str:
        if self.code_links is None or not self.code_links.endpoint:
            return fallback  # a backend without a server (unit tests): nothing can serve a URL
        return self.code_links.url(self.region, base64.b64decode(sha256_b64).hex())
