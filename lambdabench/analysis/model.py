"""What an analysis produces: immutable records that reports, report.json and the console read.

This module only declares the shapes; `lambdabench.analysis.analyze` computes them from a
results file. Reports (charts, HTML) must take everything they show from here, never
recompute a statistic themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lambdabench.pricing import MonthlyCost
from lambdabench.records import ConfigPoint


@dataclass(frozen=True)
class Interval:
    """A two-sided confidence interval (95% unless `level` says otherwise)."""

    low: float
    high: float
    level: float = 0.95

    def overlaps(self, other: "Interval") -> bool:
        return self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class Distribution:
    """Summary of one sample of values in one unit (e.g. duration in ms)."""

    n: int
    mean: float
    std: float
    cv: float  # std / mean
    min: float
    max: float
    p50: float
    p90: float
    p95: float
    p99: float
    p50_ci: Interval
    p95_ci: Interval
    mean_ci: Interval


@dataclass(frozen=True)
class ScenarioStats:
    """Statistics of one configuration x scenario (cold | warm | burst).

    Samples outside `records.in_statistics` (warm-ups, state mismatches, host-limited burst waves)
    are excluded from every statistic (their counts are kept); the distributions use ok samples only.
    """

    config: ConfigPoint
    scenario: str
    counts: dict[str, int]  # by status (ok, error, timeout, throttled, oom) of the samples kept
    excluded_warmup: int
    excluded_mismatch: int
    duration_ms: Distribution | None
    billed_duration_ms: Distribution | None
    client_ms: Distribution | None
    init_duration_ms: Distribution | None  # cold samples only
    max_memory_used_mb: int | None
    cost_per_invocation_usd: float | None  # mean over ok samples, request fee included
    cost_per_million_usd: float | None
    excluded_host_limited: int = 0  # burst samples of waves asking for more vCPUs than the host has

    @property
    def n_ok(self) -> int:
        return self.counts.get("ok", 0)

    @property
    def n_failed(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in ("ok", "throttled"))


@dataclass(frozen=True)
class ConfigSummary:
    """Everything known about one configuration across its scenarios."""

    config: ConfigPoint
    scenarios: dict[str, ScenarioStats]
    latency_scenario: str  # the one scenario every configuration is ranked on (warm when all have it)
    p50_ms: float | None
    p50_ci: Interval | None
    p95_ms: float | None
    p95_ci: Interval | None
    cost_per_million_usd: float | None  # steady (warm) cost per million
    blended_cost_per_million_usd: float | None  # at `cold_share` cold starts
    cold_share: float | None
    max_memory_used_mb: int | None
    recommendable: bool
    not_recommended_reason: str | None  # e.g. "2 timeouts, 1 OOM"
    timeouts_cut_off: int = 0  # invocations this configured timeout cut off
    # Filled in by the analysis:
    cost_per_million_ci: Interval | None = None  # 95% interval of cost_per_million_usd
    latency_percentile: float = 95.0  # the [recommend] percentile that ranks latency
    latency_ms: float | None = None  # duration at latency_percentile in latency_scenario
    latency_ci: Interval | None = None
    # [recommend] monthly_invocations of them at `cold_share` cold starts, duration tiers applied
    # (None: not asked for, or nothing to price it from).
    monthly: MonthlyCost | None = None


@dataclass(frozen=True)
class MonthlyDelta:
    """What the recommended configuration saves in a month against one alternative (+ = saves)."""

    against: str  # "current" | "most expensive" | "cheapest"
    config: ConfigPoint
    monthly_usd: float  # the alternative's month
    saved_usd: float  # alternative - recommended
    saved_fraction: float | None  # of the alternative's month (None when that is 0)


@dataclass(frozen=True)
class Recommendation:
    config: ConfigPoint
    strategy: str  # cost | speed | balanced | slo
    p50_ms: float
    p50_ci: Interval
    p95_ms: float
    p95_ci: Interval
    cost_per_million_usd: float
    timeout_s: int  # recommended timeout for this memory
    timeout_reason: str
    indistinguishable_from: tuple[ConfigPoint, ...]  # intervals overlap the winner's
    savings_per_million_usd: float | None  # against the original configuration, + = saves
    savings_fraction: float | None
    confidence: str  # one plain sentence: how sure we are, and why
    reason: str  # one plain sentence: why this one
    # Filled in by the analysis:
    savings_note: str = ""  # one sentence on savings, incl. "original was not measured"
    latency_percentile: float = 95.0  # the percentile the strategy ranked by
    latency_ms: float | None = None
    latency_ci: Interval | None = None
    monthly_usd: float | None = None  # a month of [recommend] monthly_invocations at its cold share
    monthly_deltas: tuple[MonthlyDelta, ...] = ()
    monthly_note: str = ""  # one sentence on what it saves per month, and against what


@dataclass(frozen=True)
class Warning:
    kind: str  # unstable | too_few_samples | throttles | state_mismatch | cpu_mechanism | host_cores ...
    message: str
    remedy: str
    config: ConfigPoint | None = None


@dataclass(frozen=True)
class Analysis:
    header: dict[str, Any]  # the results file's header, as written by the sweep
    configs: tuple[ConfigSummary, ...]  # measured configurations, sorted by ConfigPoint
    missing: tuple[ConfigPoint, ...]  # planned but not (fully) measured: a partial sweep
    pareto: tuple[ConfigPoint, ...]  # cost vs p95 frontier, cheapest first
    recommendation: Recommendation | None
    original: ConfigPoint | None  # the function's configuration before the sweep
    warnings: tuple[Warning, ...]
    invocations: pd.DataFrame = field(repr=False)  # every record, for distribution charts
    # The measured configuration that stands for `original` (same memory and architecture;
    # timeout does not change what a finished invocation costs), or None if none was measured.
    original_measured_as: ConfigPoint | None = None
    monthly_invocations: int | None = None  # [recommend] monthly_invocations, when set

    # An adaptive sweep's search (analysis/search.py); None for a grid sweep.
    search: Any = None

    def config(self, key: ConfigPoint) -> ConfigSummary | None:
        return next((c for c in self.configs if c.config == key), None)
