"""The results schema: the grid point, the invocation record, the format version and its migration.

Everything that reads or writes an invocation record goes through `InvocationRecord`: the sweep
builds one per invocation, `results.py` writes it with `to_json` (the key order below is the file's
key order) and reads it with `from_json`, which normalises the types once (numbers finite or None,
flags bool, tri-state flags bool or None), so the analysis and the reports never re-check a value.

`in_statistics` is THE rule for which samples enter a statistic of their scenario.

Status words are the records' own (`STATUSES`); a REPORT line's status ("success", "timeout",
"error" ...) is mapped onto them in `record_status`, once, at the boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Iterable

from lambdabench import limits

# 1: the first format. 2: invocation records end with `host_limited`. 3: then `search_phase` and
# `search_step` (which step of an adaptive search took the sample; None in grid sweeps). Files of
# every version in READABLE_VERSIONS are read through `migrate`.
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
# search_phase values: the adaptive search's own warm samples, and the scenarios run at its finalists.
SEARCH_PHASES = ("search", "finalist")

STATUSES = ("ok", "error", "timeout", "throttled", "oom")
DEFAULT_ARCHITECTURE = limits.DEFAULT_ARCHITECTURE


@dataclass(frozen=True, order=True)
class ConfigPoint:
    """One point of the sweep grid: what a configuration change sets, and what records group by."""

    memory_mb: int
    timeout_s: int
    architecture: str = DEFAULT_ARCHITECTURE

    @property
    def label(self) -> str:
        return f"{self.memory_mb} MB / {self.timeout_s} s / {self.architecture}"

    @property
    def config_id(self) -> str:
        """The point as it starts every invocation id, e.g. "m128-t10-x86_64"."""
        return f"m{self.memory_mb}-t{self.timeout_s}-{self.architecture}"

    def to_dict(self) -> dict[str, Any]:
        return {"memory_mb": self.memory_mb, "timeout_s": self.timeout_s, "architecture": self.architecture}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ConfigPoint":
        """KeyError/TypeError/ValueError on a dict that does not name a point."""
        return cls(int(d["memory_mb"]), int(d["timeout_s"]), str(d.get("architecture") or DEFAULT_ARCHITECTURE))


@dataclass(frozen=True)
class InvocationRecord:
    """One measured invocation. Field order is the key order of its line in results.jsonl."""

    invocation_id: str  # stable id of the planned invocation; --resume skips ids already present
    memory_mb: int
    timeout_s: int
    architecture: str
    scenario: str  # cold | warm | burst
    wave: int | None  # burst wave number (0-based); None for cold and warm
    request_id: str | None
    status: str  # one of STATUSES
    cold: bool | None  # the REPORT had Init Duration (None without a REPORT, e.g. throttled)
    warmup: bool  # a warm-up invoke: recorded, never in statistics
    state_mismatch: bool  # cold/warm state differs from what the scenario wanted
    duration_ms: float | None
    billed_duration_ms: float | None
    init_duration_ms: float | None
    max_memory_used_mb: float | None
    client_ms: float | None  # client round trip of the Invoke call
    cost_usd: float | None  # from Billed Duration, request fee included; None without a REPORT
    error_type: str | None
    started_at: str | None  # ISO-8601 UTC with microseconds, when the Invoke call was sent
    function_error: str | None = None
    payload_label: str | None = None
    payload_index: int | None = None
    report_source: str | None = None  # tail | logs | missing | logs_denied (no permission to read logs)
    memory_size_mb: int | None = None  # as the REPORT line said
    restore_duration_ms: float | None = None
    expect_cold: bool | None = None
    seq: int | None = None  # write order within the sweep
    # Ran in a burst wave that asked the local host for more vCPUs than it has (`host_limited`): the
    # host, not Lambda, shaped its duration (format 2; derived from the header for format 1).
    host_limited: bool = False
    # Adaptive sweeps (format 3): "search" for a sample the search took (`search_step` indexes the
    # `search_step` events, which say why), "finalist" for the scenarios run at its finalists.
    search_phase: str | None = None
    search_step: int | None = None

    @property
    def config(self) -> ConfigPoint:
        return ConfigPoint(self.memory_mb, self.timeout_s, self.architecture)

    @property
    def wave_id(self) -> str:
        """The invocation's burst wave: its id without the index within the wave."""
        return self.invocation_id.rsplit("/", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The record as its results.jsonl line holds it (without the line's "type")."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "InvocationRecord":
        """A record from its JSON object; values of the wrong type become None (numbers) or False (flags).

        KeyError/TypeError/ValueError when the grid point itself is unreadable.
        """
        values: dict[str, Any] = {}
        for name, kind in _FIELD_KINDS.items():
            values[name] = _NORMALISE[kind](d.get(name))
        values["memory_mb"] = int(d["memory_mb"])
        values["timeout_s"] = int(d["timeout_s"])
        values["architecture"] = str(d.get("architecture") or DEFAULT_ARCHITECTURE)
        values["invocation_id"] = str(d.get("invocation_id") or "")
        values["scenario"] = str(d.get("scenario"))
        values["status"] = str(d.get("status"))
        return cls(**values)


def in_statistics(record: InvocationRecord) -> bool:
    """THE rule for which samples enter the statistics of their scenario.

    Warm-ups, samples whose cold/warm state was not what the scenario asked for, and samples of a
    burst wave the local host could not give Lambda's CPU share are left out (and counted).
    """
    return not (record.warmup or record.state_mismatch or record.host_limited)


def record_status(report_status: str | None, *, function_error: str | None, throttled: bool,
                  error_type: str | None) -> str:
    """The record's status word from what the invoke and its REPORT said ("success" becomes "ok")."""
    if throttled:
        return "throttled"
    if report_status == "timeout":
        return "timeout"
    if error_type == "Runtime.OutOfMemory":
        return "oom"
    if function_error or error_type or report_status not in ("success", None):
        return "error"
    return "ok"


def wave_demand_vcpus(concurrency: int, memory_mb: float, threads: int = 1) -> float:
    """vCPUs a burst wave asks for: each environment gets min(1, memory/1769) vCPU per busy thread."""
    return concurrency * min(1.0, limits.vcpus_for_memory(memory_mb)) * max(1, threads)


def host_cores(header: dict[str, Any]) -> int | None:
    """Cores of the host that ran the function (None on aws: each environment has Lambda's own share)."""
    if header.get("target") != "local":
        return None
    cores = (header.get("emulator") or {}).get("host_cores")
    if isinstance(cores, bool) or not isinstance(cores, (int, float)) or cores <= 0:
        return None
    return int(cores)


def host_limited(header: dict[str, Any], *, scenario: str, concurrency: int, memory_mb: float,
                 threads: int = 1) -> bool:
    """Did this burst wave ask the host for more vCPUs than it has cores? Never on the aws target.

    `threads`: the function's busy threads as far as known (nothing records them yet, so 1).
    """
    cores = host_cores(header)
    if scenario != "burst" or cores is None:
        return False
    return wave_demand_vcpus(concurrency, memory_mb, threads) > cores


def largest_fitting_concurrency(cores: int, memory_mb: float, threads: int = 1) -> int:
    """The largest burst concurrency at this memory size whose wave the host can run at Lambda's share."""
    return max(1, int(cores // (min(1.0, limits.vcpus_for_memory(memory_mb)) * max(1, threads))))


def migrate(version: int, header: dict[str, Any], rows: list[dict[str, Any]]) -> list[InvocationRecord]:
    """Records of a file of format `version` (one of READABLE_VERSIONS), as this version writes them.

    1 -> 2: `host_limited` is derived from the header and the size of each burst wave as recorded
    (a wave's invocations are released together). A throttled invoke never ran: never host-limited.
    2 -> 3: nothing to derive: files before 3 come from grid sweeps (`search_phase` None).
    """
    records = [InvocationRecord.from_json(r) for r in rows]
    if version >= 2:
        return records
    waves: dict[str, int] = {}
    for r in records:
        if r.scenario == "burst":
            waves[r.wave_id] = waves.get(r.wave_id, 0) + 1
    return [
        replace(r, host_limited=True)
        if r.scenario == "burst" and r.status != "throttled"
        and host_limited(header, scenario=r.scenario, concurrency=waves[r.wave_id], memory_mb=r.memory_mb)
        else r
        for r in records
    ]


def _number(value: Any) -> float | None:
    # ints stay ints (a file round-trips byte for byte); bools are not numbers; NaN/inf are unknown.
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _flag(value: Any) -> bool:
    return bool(value) if value is not None else False


def _maybe_flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_NORMALISE = {"number": _number, "integer": _integer, "flag": _flag, "maybe_flag": _maybe_flag, "text": _text}
_INTEGERS = {"memory_mb", "timeout_s", "wave", "payload_index", "memory_size_mb", "seq", "search_step"}
_FLAGS = {"warmup", "state_mismatch", "host_limited"}
_MAYBE_FLAGS = {"cold", "expect_cold"}
_NUMBERS = {"duration_ms", "billed_duration_ms", "init_duration_ms", "max_memory_used_mb", "client_ms", "cost_usd",
            "restore_duration_ms"}


def _kind(name: str) -> str:
    if name in _INTEGERS:
        return "integer"
    if name in _FLAGS:
        return "flag"
    if name in _MAYBE_FLAGS:
        return "maybe_flag"
    if name in _NUMBERS:
        return "number"
    return "text"


_FIELD_KINDS = {f.name: _kind(f.name) for f in fields(InvocationRecord)}
FIELDS: tuple[str, ...] = tuple(_FIELD_KINDS)


def records_by_config(records: Iterable[InvocationRecord]) -> dict[ConfigPoint, list[InvocationRecord]]:
    grouped: dict[ConfigPoint, list[InvocationRecord]] = {}
    for r in records:
        grouped.setdefault(r.config, []).append(r)
    return grouped
