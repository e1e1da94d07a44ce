"""The [recommend] settings an analysis runs with: the header's, then the caller's overrides, validated.

Its own module so the analysis and the warnings both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdabench.analysis import recommend as rec
from lambdabench.errors import UsageError

DEFAULT_RECOMMEND: dict[str, Any] = {
    "strategy": "balanced",
    "balanced_weight": rec.DEFAULT_BALANCED_WEIGHT,
    "p95_slo_ms": None,
    "cold_share": None,
    "percentile": 95.0,
    "monthly_invocations": None,
}


@dataclass(frozen=True)
class Settings:
    strategy: str
    balanced_weight: float
    p95_slo_ms: float | None
    cold_share: float | None
    percentile: float
    monthly_invocations: int | None = None  # price a month of this many invocations per configuration

    @property
    def ranking_percentile(self) -> float:
        """The latency percentile strategies rank by: p95 for an SLO on p95, else `percentile`."""
        return 95.0 if self.strategy == "slo" else self.percentile


def recommend_settings(header: dict[str, Any], overrides: dict[str, Any] | None = None) -> Settings:
    """The [recommend] settings: header values, then overrides; validated."""
    merged = dict(DEFAULT_RECOMMEND)
    # None in the header or an override means "not set": the default (or the header) stands.
    merged.update({k: v for k, v in (header.get("recommend") or {}).items() if v is not None})
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    strategy = merged.get("strategy") or "balanced"
    if strategy not in rec.STRATEGIES:
        raise UsageError(
            f"unknown recommend strategy {strategy!r}",
            f"use one of: {', '.join(rec.STRATEGIES)}",
        )
    if strategy == "slo" and merged.get("p95_slo_ms") is None:
        raise UsageError(
            "strategy 'slo' needs p95_slo_ms",
            "set [recommend] p95_slo_ms = <milliseconds> in the scenario",
        )
    cold_share = merged.get("cold_share")
    if cold_share is not None and not 0.0 <= float(cold_share) <= 1.0:
        raise UsageError(
            f"recommend cold_share {cold_share!r} is not between 0 and 1",
            "set [recommend] cold_share to a fraction such as 0.05",
        )
    percentile = float(merged.get("percentile") or 95.0)
    if not 0.0 < percentile < 100.0:
        raise UsageError(
            f"recommend percentile {percentile!r} is not between 0 and 100",
            "set [recommend] percentile to e.g. 95 or 99",
        )
    monthly = merged.get("monthly_invocations")
    if monthly is not None and (isinstance(monthly, bool) or not isinstance(monthly, int) or monthly < 1):
        raise UsageError(
            f"recommend monthly_invocations {monthly!r} is not a whole number of at least 1",
            "set [recommend] monthly_invocations (or --per-month) to the invocations a month, e.g. 10000000",
        )
    slo = merged.get("p95_slo_ms")
    return Settings(
        strategy=strategy,
        balanced_weight=float(merged.get("balanced_weight", rec.DEFAULT_BALANCED_WEIGHT)),
        p95_slo_ms=None if slo is None else float(slo),
        cold_share=None if cold_share is None else float(cold_share),
        percentile=percentile,
        monthly_invocations=monthly,
    )
