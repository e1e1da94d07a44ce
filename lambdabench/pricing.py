"""Lambda list prices and what an invocation (or a month of them) costs.

Owns every price table. All prices are USD list prices (no Savings Plans, no credits).
Cost of one invocation = memory_mb/1024 x billed_ms/1000 x price per GB-s + the request fee
(+ ephemeral storage above 512 MB). It is computed from Billed Duration only: since 2025-08-01
a cold start's Billed Duration already includes INIT (ceil(Duration + Init Duration)), and before
that INIT was free for managed runtimes, so adding Init Duration on top would double-count.

Source of every table unless its comment says otherwise: the AWS Lambda pricing page
(aws.amazon.com/lambda/pricing/), checked 2025, as summarised in ../shared/LAMBDA_FACTS.md
"Billing (USD, list price)".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lambdabench import limits
from lambdabench.errors import UsageError

# --- Requests ---------------------------------------------------------------------------------
# $0.20 per 1M requests, both architectures (pricing page, checked 2025).
REQUEST_PRICE_USD = 0.0000002
REQUEST_PRICE_PER_MILLION_USD = 0.20

# --- Duration tiers ---------------------------------------------------------------------------
# Monthly GB-s of one architecture in one region in one account (organisation-wide under
# consolidated billing). Pricing page, tiered pricing since 2022 ("Introducing tiered pricing for
# AWS Lambda", AWS Compute Blog, 2022-01). Each value is the upper bound of the tier in GB-s;
# None means "and beyond".
TIER_LIMITS_GB_S: dict[str, tuple[float | None, ...]] = {
    "x86_64": (6_000_000_000, 15_000_000_000, None),   # first 6B, next 9B, beyond 15B
    "arm64": (7_500_000_000, 18_750_000_000, None),    # first 7.5B, next 11.25B, beyond 18.75B
}

# Duration price per GB-s by tier (1, 2, 3) in us-east-1 (pricing page, checked 2025).
_STANDARD_DURATION: dict[str, tuple[float, float, float]] = {
    "x86_64": (0.0000166667, 0.0000150000, 0.0000133334),
    "arm64": (0.0000133334, 0.0000120001, 0.0000106667),
}

# Regions whose duration prices equal us-east-1's (pricing page region selector, checked 2025).
# Only regions checked are listed; any other region needs --price-gb-s rather than a guess.
STANDARD_PRICE_REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
)

# Regions priced above us-east-1: tier-1 price per GB-s (x86_64, arm64), pricing page checked 2025.
_HIGHER_TIER1: dict[str, tuple[float, float]] = {
    "af-south-1": (0.0000221, 0.00001768),
    "ap-east-1": (0.00002292, 0.0000183),
    "eu-south-1": (0.0000195172, 0.0000156138),
    "me-south-1": (0.0000206667, 0.0000165334),
    "me-central-1": (0.0000206667, 0.0000165334),
}
# In us-east-1 tier 2 is 90% and tier 3 80% of tier 1 for both architectures
# (0.0000150000/0.0000166667, 0.0000133334/0.0000166667); the same ratios give these regions'
# published tier 2 and 3 prices, so they are derived here rather than typed twice.
_TIER_RATIOS = (1.0, 0.9, 0.8)


def _higher_region_tiers(tier1: float) -> tuple[float, float, float]:
    return tuple(round(tier1 * r, 10) for r in _TIER_RATIOS)  # type: ignore[return-value]


DURATION_PRICES_GB_S: dict[str, dict[str, tuple[float, float, float]]] = {
    **{region: dict(_STANDARD_DURATION) for region in STANDARD_PRICE_REGIONS},
    **{
        region: {"x86_64": _higher_region_tiers(x86), "arm64": _higher_region_tiers(arm)}
        for region, (x86, arm) in _HIGHER_TIER1.items()
    },
}

KNOWN_REGIONS: tuple[str, ...] = tuple(sorted(DURATION_PRICES_GB_S))

# China regions are sold by a separate operator (Sinnet / NWCD) in CNY (pricing at
# amazonaws.cn/en/lambda/pricing/). Pricing them in USD would print a wrong number, so they are
# rejected with a message that says so.
CNY_REGIONS: tuple[str, ...] = ("cn-north-1", "cn-northwest-1")

# --- Ephemeral storage ------------------------------------------------------------------------
# $0.0000000309 per GB-s configured above the free 512 MB (us-east-1, pricing page checked 2025).
# Other regions' storage rates differ slightly and are not tabulated; the us-east-1 rate is used
# everywhere (its effect is a fraction of a percent of compute at any size).
STORAGE_PRICE_GB_S = 0.0000000309
STORAGE_FREE_MB = limits.EPHEMERAL_STORAGE_MIN_MB

# --- Provisioned concurrency ------------------------------------------------------------------
# Per GB-s: (concurrency enabled, duration while provisioned serves), pricing page checked 2025.
# These differ region by region more than on-demand prices do (e.g. eu-central-1 enabled x86_64
# is 0.0000050147), and only the regions below are tabulated.
PROVISIONED_PRICES_GB_S: dict[str, dict[str, tuple[float, float]]] = {
    "us-east-1": {"x86_64": (0.0000041667, 0.0000097222), "arm64": (0.0000033334, 0.0000077778)},
}

# --- Free tier --------------------------------------------------------------------------------
# 1M requests and 400,000 GB-s per month, shared by both architectures (pricing page, 2025).
FREE_TIER_REQUESTS = 1_000_000
FREE_TIER_GB_S = 400_000


def _known_regions_text() -> str:
    return ", ".join(KNOWN_REGIONS)


def _check_architecture(architecture: str) -> None:
    if architecture not in limits.ARCHITECTURES:
        raise UsageError(
            f"unknown architecture {architecture!r}",
            f"use one of: {', '.join(limits.ARCHITECTURES)}",
        )


def _check_region(region: str) -> None:
    if region in DURATION_PRICES_GB_S:
        return
    if region in CNY_REGIONS:
        raise UsageError(
            f"region {region} is priced in CNY (AWS China), and lambdabench prices in USD only",
            "pass --price-gb-s with your duration price per GB-second converted to USD, "
            "or pick a region with USD list prices",
        )
    raise UsageError(
        f"no price table for region {region!r}; known regions: {_known_regions_text()}",
        "check the region name, or pass --price-gb-s with the duration price per GB-second "
        "from aws.amazon.com/lambda/pricing/",
    )


def _check_memory(memory_mb: int) -> None:
    if not limits.is_valid_memory_mb(memory_mb):
        raise UsageError(
            f"memory {memory_mb!r} MB is outside Lambda's range",
            f"use a whole number of MB from {limits.MEMORY_MIN_MB} to {limits.MEMORY_MAX_MB}",
        )


def _check_storage(storage_mb: int) -> None:
    if not limits.is_valid_ephemeral_storage_mb(storage_mb):
        raise UsageError(
            f"ephemeral storage {storage_mb!r} MB is outside Lambda's range",
            f"use a whole number of MB from {limits.EPHEMERAL_STORAGE_MIN_MB} to "
            f"{limits.EPHEMERAL_STORAGE_MAX_MB}",
        )


def _check_billed(billed_duration_ms: int) -> None:
    if isinstance(billed_duration_ms, bool) or not isinstance(billed_duration_ms, int) or billed_duration_ms < 0:
        raise UsageError(
            f"billed duration {billed_duration_ms!r} ms is not a whole number of milliseconds >= 0",
            "pass the Billed Duration from the REPORT line (Lambda bills in whole milliseconds)",
        )


def _check_price(price_gb_s: float) -> None:
    if isinstance(price_gb_s, bool) or not isinstance(price_gb_s, (int, float)) \
            or not math.isfinite(price_gb_s) or price_gb_s <= 0:
        raise UsageError(
            f"price per GB-second {price_gb_s!r} is not a positive number",
            "pass the duration price in USD per GB-second, e.g. --price-gb-s 0.0000166667",
        )


def duration_price_gb_s(region: str = "us-east-1", architecture: str = limits.DEFAULT_ARCHITECTURE, tier: int = 1) -> float:
    """On-demand duration price in USD per GB-second for a region, architecture and tier (1-3)."""
    _check_architecture(architecture)
    _check_region(region)
    if tier not in (1, 2, 3):
        raise UsageError(f"unknown pricing tier {tier!r}", "tiers are 1, 2 and 3")
    return DURATION_PRICES_GB_S[region][architecture][tier - 1]


def provisioned_prices_gb_s(region: str = "us-east-1", architecture: str = limits.DEFAULT_ARCHITECTURE) -> tuple[float, float]:
    """(enabled, duration while serving) provisioned-concurrency prices in USD per GB-second."""
    _check_architecture(architecture)
    if region not in PROVISIONED_PRICES_GB_S:
        raise UsageError(
            f"no provisioned-concurrency price table for region {region!r}; "
            f"known: {', '.join(sorted(PROVISIONED_PRICES_GB_S))}",
            "provisioned-concurrency prices differ by region; read them from aws.amazon.com/lambda/pricing/",
        )
    return PROVISIONED_PRICES_GB_S[region][architecture]


def gb_seconds(memory_mb: int, billed_duration_ms: float) -> float:
    """The GB-seconds one invocation bills (memory in GB x billed seconds)."""
    return (memory_mb / 1024) * (billed_duration_ms / 1000)


@dataclass(frozen=True)
class InvocationCost:
    """What one invocation costs, split by charge. All amounts in USD."""

    memory_mb: int
    billed_duration_ms: int
    architecture: str
    region: str
    storage_mb: int
    price_gb_s: float          # duration price used
    price_source: str          # "list price <region> <arch> tier 1" or "given (--price-gb-s)"
    gb_s: float                # memory GB x billed seconds
    compute_usd: float
    request_usd: float
    storage_usd: float
    total_usd: float
    per_million_usd: float     # total_usd for one million such invocations

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def invocation_cost(memory_mb: int, billed_duration_ms: int, *, architecture: str = limits.DEFAULT_ARCHITECTURE,
                    region: str = "us-east-1", storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB, price_gb_s: float | None = None,
                    tier: int = 1) -> InvocationCost:
    """Cost of one invocation from its Billed Duration (never Duration + Init Duration).

    `price_gb_s` overrides the table (any region then works, e.g. one without a table); the
    request fee and storage rate stay the list prices. `tier` picks the duration tier the
    account's monthly volume falls in (1 for nearly everyone).
    """
    _check_memory(memory_mb)
    _check_billed(billed_duration_ms)
    _check_architecture(architecture)
    _check_storage(storage_mb)
    if price_gb_s is None:
        price = duration_price_gb_s(region, architecture, tier)
        source = f"list price {region} {architecture} tier {tier}"
    else:
        _check_price(price_gb_s)
        price = float(price_gb_s)
        source = "given (--price-gb-s)"
    gb_s = gb_seconds(memory_mb, billed_duration_ms)
    compute = gb_s * price
    storage = ((storage_mb - STORAGE_FREE_MB) / 1024) * (billed_duration_ms / 1000) * STORAGE_PRICE_GB_S
    total = compute + REQUEST_PRICE_USD + storage
    return InvocationCost(
        memory_mb=memory_mb,
        billed_duration_ms=billed_duration_ms,
        architecture=architecture,
        region=region,
        storage_mb=storage_mb,
        price_gb_s=price,
        price_source=source,
        gb_s=gb_s,
        compute_usd=compute,
        request_usd=REQUEST_PRICE_USD,
        storage_usd=storage,
        total_usd=total,
        per_million_usd=total * 1_000_000,
    )


@dataclass(frozen=True)
class TierUsage:
    """GB-seconds billed in one duration tier during the month."""

    tier: int
    gb_s: float
    price_gb_s: float
    cost_usd: float


@dataclass(frozen=True)
class MonthlyCost:
    """A month of invocations (warm ones, and cold ones at `cold_share`), tiers and optionally the
    free tier applied."""

    invocations: int
    memory_mb: int
    billed_duration_ms: float          # Billed Duration of a warm invocation (or the mean of many)
    architecture: str
    region: str
    storage_mb: int
    gb_s: float                        # total duration GB-s in the month
    tiers: tuple[TierUsage, ...]       # GB-s priced per tier (before the free tier)
    free_tier_applied: bool
    free_gb_s: float                   # GB-s covered by the free tier
    free_requests: int                 # requests covered by the free tier
    compute_usd: float                 # after the free tier
    request_usd: float                 # after the free tier
    storage_usd: float
    total_usd: float
    cold_share: float = 0.0            # share of the invocations that start cold
    cold_billed_duration_ms: float | None = None  # Billed Duration of a cold one (Init included)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tiers"] = [asdict(t) for t in self.tiers]
        if self.cold_billed_duration_ms is None and not self.cold_share:
            # A month of one kind of invocation: the document `price --json` always wrote.
            del out["cold_share"], out["cold_billed_duration_ms"]
        return out


def _check_mean_billed(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UsageError(
            f"{what} {value!r} ms is not a number of milliseconds >= 0",
            "pass the Billed Duration from the REPORT line (or the mean of many)",
        )


def _check_cold_share(cold_share: float) -> None:
    if isinstance(cold_share, bool) or not isinstance(cold_share, (int, float)) \
            or not math.isfinite(cold_share) or not 0.0 <= cold_share <= 1.0:
        raise UsageError(
            f"cold share {cold_share!r} is not between 0 and 1",
            "pass the fraction of invocations that start cold, e.g. 0.02 for 2%",
        )


def monthly_cost(invocations_per_month: int, memory_mb: int, billed_duration_ms: float, *,
                 architecture: str = limits.DEFAULT_ARCHITECTURE, region: str = "us-east-1", storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB,
                 include_free_tier: bool = False, price_gb_s: float | None = None,
                 cold_share: float = 0.0, cold_billed_duration_ms: float | None = None) -> MonthlyCost:
    """Cost of `invocations_per_month` invocations of one size in one month.

    Each invocation bills `billed_duration_ms`, except a `cold_share` of them that start cold and
    bill `cold_billed_duration_ms` (Init included). Both may be means over many invocations (a
    mean need not be whole milliseconds): GB-s, and so the tiers, depend only on the month's total.

    Assumes this function is the account's only usage of this architecture in this region (tiers
    and the free tier are shared account-wide). The free tier covers the first 400,000 GB-s, which
    are tier-1 GB-s, so it is worth 400,000 x the tier-1 price. With `price_gb_s` there are no tiers.
    """
    if isinstance(invocations_per_month, bool) or not isinstance(invocations_per_month, int) \
            or invocations_per_month < 0:
        raise UsageError(
            f"invocations per month {invocations_per_month!r} is not a whole number >= 0",
            "pass a count such as 1000000",
        )
    _check_memory(memory_mb)
    _check_mean_billed(billed_duration_ms, "billed duration")
    _check_architecture(architecture)
    _check_storage(storage_mb)
    _check_cold_share(cold_share)
    if cold_billed_duration_ms is not None:
        _check_mean_billed(cold_billed_duration_ms, "cold billed duration")
    elif cold_share:
        raise UsageError(
            f"a cold share of {cold_share:g} needs the Billed Duration of a cold invocation",
            "pass it too (lambdabench price: --cold-billed-ms MS)",
        )
    if price_gb_s is None:
        tier1 = duration_price_gb_s(region, architecture, 1)
    else:
        _check_price(price_gb_s)
        tier1 = float(price_gb_s)
    # GB-s and storage are linear in billed time, so the month's mean invocation prices the month.
    mean_billed_ms = float(billed_duration_ms) if not cold_share else \
        (1.0 - cold_share) * billed_duration_ms + cold_share * float(cold_billed_duration_ms)  # type: ignore[arg-type]
    total_gb_s = gb_seconds(memory_mb, mean_billed_ms) * invocations_per_month

    tiers: list[TierUsage] = []
    if price_gb_s is not None:
        tiers.append(TierUsage(1, total_gb_s, tier1, total_gb_s * tier1))
    else:
        lower = 0.0
        for index, upper in enumerate(TIER_LIMITS_GB_S[architecture], start=1):
            top = total_gb_s if upper is None else min(total_gb_s, upper)
            used = max(0.0, top - lower)
            if used > 0 or index == 1:
                price = duration_price_gb_s(region, architecture, index)
                tiers.append(TierUsage(index, used, price, used * price))
            if upper is None or total_gb_s <= upper:
                break
            lower = upper
    compute = sum(t.cost_usd for t in tiers)

    free_gb_s = 0.0
    free_requests = 0
    if include_free_tier:
        free_gb_s = min(total_gb_s, FREE_TIER_GB_S)
        free_requests = min(invocations_per_month, FREE_TIER_REQUESTS)
        compute = max(0.0, compute - free_gb_s * tiers[0].price_gb_s)
    requests = (invocations_per_month - free_requests) * REQUEST_PRICE_USD
    storage = ((storage_mb - STORAGE_FREE_MB) / 1024) * (mean_billed_ms / 1000) * STORAGE_PRICE_GB_S \
        * invocations_per_month
    return MonthlyCost(
        invocations=invocations_per_month,
        memory_mb=memory_mb,
        billed_duration_ms=billed_duration_ms,
        architecture=architecture,
        region=region,
        storage_mb=storage_mb,
        gb_s=total_gb_s,
        tiers=tuple(tiers),
        free_tier_applied=include_free_tier,
        free_gb_s=free_gb_s,
        free_requests=free_requests,
        compute_usd=compute,
        request_usd=requests,
        storage_usd=storage,
        total_usd=compute + requests + storage,
        cold_share=float(cold_share),
        cold_billed_duration_ms=None if cold_billed_duration_ms is None else cold_billed_duration_ms,
    )
