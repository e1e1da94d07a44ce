"""Compare two sweeps: per configuration, how p50, p95 and cost per million changed.

For every configuration measured in both sweeps, the latency scenario (warm when both have it,
else burst, else cold) is compared on its raw ok samples (warm-ups and state mismatches left
out, as in the analysis). Each metric's change is the ratio new/base with a bootstrap 95%
interval from the raw samples (`stats.ratio_interval`: both sweeps resampled independently,
quantiles smoothed as in `describe`, widened for small samples so that two sweeps of one
function are called different about 5% of the time). A change is significant when that
interval excludes 1;
a regression needs both: significant AND a ratio beyond the user's limit (asv's rule: a
difference must be real and large enough to matter).

Limits come from `--fail-on`, e.g. "p95+10%,cost+5%": a comma-separated list of
METRIC+PERCENT terms, METRIC one of p50, p90, p95, p99, mean, cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
import numpy as np

from lambdabench.analysis import stats
from lambdabench.analysis.analyze import LATENCY_PREFERENCE, _key, _num, _pricing_for, _rows
from lambdabench.analysis.model import ConfigKey, Interval
from lambdabench.errors import UsageError
from lambdabench.results import Results

METRICS = ("p50", "p90", "p95", "p99", "mean", "cost")
SHOWN_METRICS = ("p50", "p95", "cost")
DEFAULT_FAIL_ON = "p95+10%,cost+10%"
TEST_NAME = (
    f"bootstrap {stats.CONFIDENCE_LEVEL:.0%} interval of the ratio new/base "
    f"({stats.BOOTSTRAP_RESAMPLES} resamples of the raw samples, small-sample expanded) excludes 1"
)
FAIL_ON_SYNTAX = 'comma-separated METRIC+PERCENT terms, e.g. "p95+10%,cost+5%" (METRIC: ' + ", ".join(METRICS) + ")"
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
    config: ConfigKey
    scenario: str
    n_base: int
    n_new: int
    changes: tuple[MetricChange, ...]

    def change(self, metric: str) -> MetricChange | None:
        return next((c for c in self.changes if c.metric == metric), None)


@dataclass(frozen=True)
class Comparison:
    base_path: str
    new_path: str
    rows: tuple[ConfigComparison, ...]
    only_base: tuple[ConfigKey, ...]
    only_new: tuple[ConfigKey, ...]
    limits: dict[str, float]
    test: str = TEST_NAME

    @property
    def regressions(self) -> tuple[tuple[ConfigKey, MetricChange], ...]:
        return tuple((r.config, c) for r in self.rows for c in r.changes if c.regression)

    @property
    def failed(self) -> bool:
        return bool(self.regressions)


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
    return Comparison(
        base_path=str(base.path),
        new_path=str(new.path),
        rows=tuple(rows),
        only_base=tuple(sorted(set(base_samples) - set(new_samples))),
        only_new=tuple(sorted(set(new_samples) - set(base_samples))),
        limits=limits,
    )


def _stat(values: np.ndarray, statistic: str) -> float:
    if statistic == "mean":
        return float(values.mean())
    return float(np.percentile(values, float(statistic[1:])))


def _samples(results: Results) -> dict[ConfigKey, dict[str, dict[str, np.ndarray]]]:
    """Raw ok samples per configuration and scenario: durations (ms) and costs (USD)."""
    price = _pricing_for(results.header)
    grouped: dict[ConfigKey, dict[str, dict[str, list[float]]]] = {}
    for row in _rows(results):
        if row.get("warmup") or row.get("state_mismatch") or row.get("status") != "ok":
            continue
        key = _key(row)
        slot = grouped.setdefault(key, {}).setdefault(str(row.get("scenario")), {"duration": [], "cost": []})
        duration = _num(row.get("duration_ms"))
        if duration is not None:
            slot["duration"].append(duration)
        billed = _num(row.get("billed_duration_ms"))
        cost = None if billed is None else price.cost(key.memory_mb, billed, key.architecture)
        if cost is not None:
            slot["cost"].append(cost)
    return {
        key: {s: {k: np.asarray(v, dtype=float) for k, v in d.items()} for s, d in scenarios.items() if d["duration"]}
        for key, scenarios in grouped.items()
    }

