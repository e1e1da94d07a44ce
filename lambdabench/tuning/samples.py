"""What one measured invocation tells the tuner: the sample shape every source returns."""

from __future__ import annotations

from dataclasses import dataclass

# Statuses the tuner reads (the same names results.jsonl uses). Only ok samples enter the model;
# oom and timeout make a size (and every smaller one) infeasible; error makes that size infeasible.
OK = "ok"
OOM = "oom"
TIMEOUT = "timeout"
ERROR = "error"
STATUSES = (OK, ERROR, TIMEOUT, "throttled", OOM)


@dataclass(frozen=True)
class Sample:
    """One warm invocation at one memory size."""

    memory_mb: int
    duration_ms: float
    billed_duration_ms: int
    status: str = OK
    init_duration_ms: float | None = None
    max_memory_used_mb: int | None = None
    cold: bool | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK
