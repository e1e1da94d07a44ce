"""Compare two sweeps: per configuration, how p50, p95 and cost per million changed.

For every configuration measured in both sweeps, the latency scenario (warm when both have it,
else burst, else cold) is compared on its raw ok samples (warm-ups, state mismatches and a
burst's cold first wave left out, as in the analysis). Each metric's change is the ratio new/base with a bootstrap 95%
interval from the raw samples (`stats.ratio_interval`: both sweeps resampled independently,
quantiles smoothed as in `describe`, widened for small samples so that two sweeps of one
function are called different about 5% of the time). A change is significant when that
interval excludes 1;
a regression needs both: significant AND a ratio beyond the user's limit (asv's rule: a
difference must be real and large enough to matter).

Failures are compared as well, per configuration, over its kept invocations of every scenario
(error, timeout and OOM count as failed; throttles are the account's limit, not the function's,
and are left out of both counts). The rule, kept simple on purpose:
- a configuration measured in both sweeps that has ok samples in base but none in new FAILS;
- else it FAILS when new has more failures than base AND its failure rate is at least
  FAILURE_RATE_MARGIN (5 percentage points) above base's.
Either makes the comparison fail ("FAILURES"), whatever the latency limits say.

Limits come from `--fail-on`, e.g. "p95+10%,cost+5%": a comma-separated list of
METRIC+PERCENT terms, METRIC one of p50, p90, p95, p99, mean, cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
import numpy as np

from lambdabench.analysis import stats
from lambdabench.analysis.summaries import LATENCY_PREFERENCE
from lambdabench.analysis.costs import pricing_for
from lambdabench.analysis.model import ConfigPoint, Interval
from lambdabench.errors import UsageError
from lambdabench.records import in_statistics
from lambdabench.results import Results

METRICS = ("p50", "p90", "p95", "p99", "mean", "cost")
SHOWN_METRICS = ("p50", "p95", "cost")
DEFAULT_FAIL_ON = "p95+10%,cost+10%"
TEST_NAME = (
    f"bootstrap {stats.CONFIDENCE_LEVEL:.0%} interval of the ratio new/base "
    f"({stats.BOOTSTRAP_RESAMPLES} resamples of the raw samples, small-sample expanded) excludes 1"
)
FAIL_ON_SYNTAX = 'comma-separated METRIC+PERCENT terms, e.g. "p95+10%,cost+5%" (METRIC: ' + ", ".join(METRICS) + ")"
FAILURE_STATUSES = ("error", "timeout", "oom")
FAILURE_RATE_MARGIN = 0.05  # new failure rate must exceed base's by >= 5 points to fail
_TERM = re.compile(r"^\s*([a-z0-9]+)\s*\+\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$", re.IGNORECASE)


def parse_fail_on(text: str) -> dict[str, float]:
    """'p95+10%,cost+5%' -> {'p95': 0.10, 'cost': 0.05}. UsageError names the bad term."""
    limits: dict[str, float] = {}
    if not text or not text.strip():
        raise UsageError("--fail-on is empty", f"give {FAIL_ON_SYNTAX}")
    for term in text.split(","):
        match = _TERM.match(term)
        if not match:
            raise UsageError(f"--fail-on term {term.strip()!r} is not METRIC+PERCENT", f"use {FAIL_ON_SYNTAX}")
        metric, percent = match.group(1).lower(), float(match.group(2))
        if metric not in METRICS:
            raise UsageError(f"--fail-on term {term.strip()!r}: unknown metric {metric!r}", f"use {FAIL_ON_SYNTAX}")
        if metric in limits:
            raise UsageError(f"--fail-on names {metric!r} twice", f"use {FAIL_ON_SYNTAX}")
        limits[metric] = percent / 100.0
    return limits


@dataclass(frozen=True)
class MetricChange:
    metric: str  # p50 | p95 | cost | ...
    unit: str  # ms | usd per million
    base: float
    new: float
    ratio: float  # new / base
    ci: Interval  # of the ratio
    significant: bool  # the interval excludes 1
    limit: float | None  # allowed increase as a fraction (0.10 = +10%), None = not gated
    regression: bool  # significant and ratio > 1 + limit

    @property
    def verdict(self) -> str:
        if self.regression:
            return "REGRESSION"
        if not self.significant:
            return "not significant"
        return "slower" if self.ratio > 1 and self.unit == "ms" else (
            "costlier" if self.ratio > 1 else ("faster" if self.unit == "ms" else "cheaper")
        )


@dataclass(frozen=True)
class ConfigComparison:
    config: ConfigPoint
    scenario: str
    n_base: int
    n_new: int
    changes: tuple[MetricChange, ...]

    def change(self, metric: str) -> MetricChange | None:
        return next((c for c in self.changes if c.metric == metric), None)


@dataclass(frozen=True)
class FailureChange:
    """Failed invocations (error/timeout/OOM) of one configuration in each sweep."""

    config: ConfigPoint
    base_failed: int
    base_total: int  # kept invocations, throttles left out
    new_failed: int
    new_total: int
    new_has_no_ok: bool  # base had ok samples, new has none
    regression: bool

    @property
    def base_rate(self) -> float:
        return self.base_failed / self.base_total if self.base_total else 0.0

    @property
    def new_rate(self) -> float:
        return self.new_failed / self.new_total if self.new_total else 0.0

    @property
    def text(self) -> str:
        counts = (
            f"{self.new_failed} of {self.new_total} invocations failed ({self.new_rate:.0%}), "
            f"base {self.base_failed} of {self.base_total} ({self.base_rate:.0%})"
        )
        if self.new_has_no_ok:
            return f"{self.config.label}: no ok sample with a duration in new; {counts}"
        return f"{self.config.label}: {counts}"


@dataclass(frozen=True)
class Comparison:
    base_path: str
    new_path: str
    rows: tuple[ConfigComparison, ...]
    only_base: tuple[ConfigPoint, ...]
    only_new: tuple[ConfigPoint, ...]
    limits: dict[str, float]
    test: str = TEST_NAME
    failures: tuple[FailureChange, ...] = ()  # configurations whose failures regressed

    @property
    def regressions(self) -> tuple[tuple[ConfigPoint, MetricChange], ...]:
        return tuple((r.config, c) for r in self.rows for c in r.changes if c.regression)

    @property
    def failed(self) -> bool:
        return bool(self.regressions) or bool(self.failures)


def compare(
    base: Results, new: Results, *, limits: dict[str, float] | None = None, seed: int = stats.DEFAULT_SEED
) -> Comparison:
    limits = dict(limits or {})
    base_samples = _samples(base)
    new_samples = _samples(new)
    metrics = list(SHOWN_METRICS) + [m for m in limits if m not in SHOWN_METRICS]
    rows = []
    for key in sorted(set(base_samples) & set(new_samples)):
        scenario = next(
            (s for s in LATENCY_PREFERENCE if s in base_samples[key] and s in new_samples[key]), None
        )
        if scenario is None:
            continue
        b, n = base_samples[key][scenario], new_samples[key][scenario]
        changes = []
        for metric in metrics:
            if metric == "cost":
                a_values, b_values, statistic, unit, scale = b["cost"], n["cost"], "mean", "usd per million", 1e6
            else:
                a_values, b_values, statistic, unit, scale = b["duration"], n["duration"], metric, "ms", 1.0
            if a_values.size == 0 or b_values.size == 0:
                continue
            ratio, ci = stats.ratio_interval(a_values, b_values, statistic, seed=seed)
            significant = not (ci.low <= 1.0 <= ci.high)
            limit = limits.get(metric)
            regression = significant and limit is not None and ratio > 1.0 + limit
            changes.append(
                MetricChange(
                    metric=metric,
                    unit=unit,
                    base=_stat(a_values, statistic) * scale,
                    new=_stat(b_values, statistic) * scale,
                    ratio=ratio,
                    ci=ci,
                    significant=significant,
                    limit=limit,
                    regression=regression,
                )
            )
        rows.append(
            ConfigComparison(key, scenario, int(b["duration"].size), int(n["duration"].size), tuple(changes))
        )
    failures = _failure_changes(_outcomes(base), _outcomes(new), base_samples, new_samples)
    failed_keys = {f.config for f in failures if f.new_has_no_ok}
    return Comparison(
        base_path=str(base.path),
        new_path=str(new.path),
        rows=tuple(rows),
        # A configuration that ran in new but never succeeded is a failure, not "only in base".
        only_base=tuple(sorted(set(base_samples) - set(new_samples) - failed_keys)),
        only_new=tuple(sorted(set(new_samples) - set(base_samples))),
        limits=limits,
        failures=failures,
    )


def _outcomes(results: Results) -> dict[ConfigPoint, tuple[int, int]]:
    """(failed, total) kept invocations per configuration; throttles are not counted."""
    counts: dict[ConfigPoint, list[int]] = {}
    for r in results.records:
        if not in_statistics(r) or r.status == "throttled":
            continue
        slot = counts.setdefault(r.config, [0, 0])
        slot[0] += r.status in FAILURE_STATUSES
        slot[1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _failure_changes(
    base: dict[ConfigPoint, tuple[int, int]],
    new: dict[ConfigPoint, tuple[int, int]],
    base_samples: dict[ConfigPoint, dict],
    new_samples: dict[ConfigPoint, dict],
) -> tuple[FailureChange, ...]:
    changes = []
    for key in sorted(set(base) & set(new)):
        (b_failed, b_total), (n_failed, n_total) = base[key], new[key]
        no_ok = key in base_samples and key not in new_samples
        b_rate = b_failed / b_total if b_total else 0.0
        n_rate = n_failed / n_total if n_total else 0.0
        worse = n_failed > b_failed and n_rate >= b_rate + FAILURE_RATE_MARGIN - 1e-12
        if no_ok or worse:
            changes.append(FailureChange(key, b_failed, b_total, n_failed, n_total, no_ok, True))
    return tuple(changes)


def _stat(values: np.ndarray, statistic: str) -> float:
    if statistic == "mean":
        return float(values.mean())
    return float(np.percentile(values, float(statistic[1:])))


def _samples(results: Results) -> dict[ConfigPoint, dict[str, dict[str, np.ndarray]]]:
    """Raw ok samples per configuration and scenario: durations (ms) and costs (USD); cold burst samples left out."""
    price = pricing_for(results.header)
    grouped: dict[ConfigPoint, dict[str, dict[str, list[float]]]] = {}
    for r in results.records:
        if not in_statistics(r) or r.status != "ok":
            continue
        if r.scenario == "burst" and r.cold:
            continue  # a burst's first wave is cold by design: compare its steady state, as analyze ranks it
        key = r.config
        slot = grouped.setdefault(key, {}).setdefault(r.scenario, {"duration": [], "cost": []})
        if r.duration_ms is not None:
            slot["duration"].append(r.duration_ms)
        billed = r.billed_duration_ms
        cost = None if billed is None else price.cost(key.memory_mb, billed, key.architecture)
        if cost is not None:
            slot["cost"].append(cost)
    return {
        key: {s: {k: np.asarray(v, dtype=float) for k, v in d.items()} for s, d in scenarios.items() if d["duration"]}
        for key, scenarios in grouped.items()
    }

