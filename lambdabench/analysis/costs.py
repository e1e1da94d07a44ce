"""What an invocation costs in a sweep's region: Billed Duration priced with the request fee.

The analysis and the comparison price samples here (never from the record's own cost_usd, which
is only checked against this price).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from lambdabench import limits
from lambdabench import pricing
from lambdabench.errors import UsageError


@dataclass(frozen=True)
class Pricing:
    region: str
    storage_mb: int
    unpriced: str | None = None  # why this region cannot be priced (then every cost is None)

    def cost(self, memory_mb: int, billed_ms: float, architecture: str) -> float | None:
        if self.unpriced is not None:
            return None
        return _price(int(memory_mb), int(billed_ms), architecture, self.region, self.storage_mb)

    def month(self, invocations: int, memory_mb: int, architecture: str, billed_ms: float,
              cold_share: float, cold_billed_ms: float | None) -> pricing.MonthlyCost | None:
        """A month of `invocations` at this cold share, tiers applied: `lambdabench price --per-month`'s
        figure for the same inputs (no free tier: it is shared by the whole account)."""
        if self.unpriced is not None:
            return None
        return pricing.monthly_cost(invocations, int(memory_mb), billed_ms, architecture=architecture,
                                    region=self.region, storage_mb=self.storage_mb, cold_share=cold_share,
                                    cold_billed_duration_ms=cold_billed_ms)


@functools.lru_cache(maxsize=65536)
def _price(memory_mb: int, billed_ms: int, architecture: str, region: str, storage_mb: int) -> float:
    # Billed Duration is whole milliseconds, so a sweep has few distinct prices: cache them.
    return pricing.invocation_cost(
        memory_mb, billed_ms, architecture=architecture, region=region, storage_mb=storage_mb
    ).total_usd


def pricing_for(header: dict[str, Any]) -> Pricing:
    """How to price the invocations of the sweep with this header (unpriced: a region without USD prices)."""
    original = header.get("original_config") or {}
    function = (header.get("scenario") or {}).get("function") or {}
    storage = original.get("ephemeral_storage_mb") or function.get("ephemeral_storage_mb") or limits.EPHEMERAL_STORAGE_DEFAULT_MB
    region = str(header.get("region") or "us-east-1")
    try:
        pricing.duration_price_gb_s(region, limits.DEFAULT_ARCHITECTURE)
    except UsageError as exc:
        # e.g. the China regions, priced in CNY: costs stay unknown rather than invented.
        return Pricing(region=region, storage_mb=int(storage), unpriced=exc.message)
    return Pricing(region=region, storage_mb=int(storage))
