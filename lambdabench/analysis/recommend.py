"""Recommendation strategies, the Pareto frontier, timeout advice and savings.

Pure functions over a table of `Candidate`s (one per configuration: cost, latency and their
intervals), so every strategy can be tested on hand-made tables. `analyze` builds the
candidates from measured statistics and turns the `Pick` into a `Recommendation`.

Strategies (the names users put in `[recommend] strategy`):
- cost      cheapest per million; equal cost -> faster (as AWS Lambda Power Tuning).
- speed     lowest latency at the chosen percentile; equal latency -> cheaper.
- balanced  Power Tuning's score  w * cost/maxCost + (1 - w) * duration/maxDuration  (lowest
            wins; w = `balanced_weight`, clamped to 0..1; duration is the mean, as Power Tuning
            uses its mean), so Power Tuning users find the same pick on the same numbers.
- slo       cheapest configuration whose latency interval's upper bound meets `p95_slo_ms`.
Configurations that are not recommendable (errors, timeouts, OOM) never win; they stay in the
table so reports can show why.

Noise: when a strategy's winner has an interval on its ranking metric that overlaps another
candidate's, the two cannot be told apart from this data. Then the cheapest of the winner and
everything indistinguishable from it is picked and the rest are listed as indistinguishable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from lambdabench.analysis.model import Interval
from lambdabench.strategies import STRATEGIES
DEFAULT_BALANCED_WEIGHT = 0.5  # Power Tuning's default
TIMEOUT_HEADROOM = 1.5  # recommended timeout = slowest observed invocation x 1.5, whole seconds


@dataclass(frozen=True)
class Candidate:
    """One configuration as the strategies see it. Intervals are optional (None = exact)."""

    key: Any  # a ConfigPoint in analyze; anything hashable in tests
    cost: float  # cost per million (USD)
    latency: float  # latency at the chosen percentile (ms): speed, slo, Pareto
    mean_latency: float | None = None  # mean duration (ms): balanced; falls back to `latency`
    cost_ci: Interval | None = None
    latency_ci: Interval | None = None
    mean_latency_ci: Interval | None = None
    recommendable: bool = True
    reason: str | None = None  # why it is not recommendable

    @property
    def balanced_latency(self) -> float:
        return self.latency if self.mean_latency is None else self.mean_latency

    @property
    def balanced_latency_ci(self) -> Interval | None:
        return self.latency_ci if self.mean_latency is None else self.mean_latency_ci


@dataclass(frozen=True)
class Pick:
    """The outcome of a strategy."""

    winner: Candidate
    strategy: str
    indistinguishable: tuple[Candidate, ...]  # overlap the ranking winner; cheaper one chosen
    ranked_first: Candidate  # the candidate ranked first before the noise rule
    metric: str  # what the ranking compared, in words (for the reason sentence)


def pick(
    candidates: Sequence[Candidate],
    strategy: str,
    *,
    balanced_weight: float = DEFAULT_BALANCED_WEIGHT,
    slo_ms: float | None = None,
) -> Pick | None:
    """Apply `strategy` to the recommendable candidates; None when none qualifies."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    pool = [c for c in candidates if c.recommendable]
    if not pool:
        return None
    if strategy == "cost":
        ranked = sorted(pool, key=lambda c: (c.cost, c.latency))
        first = ranked[0]
        overlapping = [c for c in ranked[1:] if _overlap(first.cost_ci, c.cost_ci, first.cost, c.cost)]
        metric = "cost per million"
    elif strategy == "speed":
        ranked = sorted(pool, key=lambda c: (c.latency, c.cost))
        first = ranked[0]
        overlapping = [
            c for c in ranked[1:] if _overlap(first.latency_ci, c.latency_ci, first.latency, c.latency)
        ]
        metric = "latency"
    elif strategy == "balanced":
        weight = min(max(balanced_weight, 0.0), 1.0)
        max_cost = max(c.cost for c in pool)
        max_latency = max(c.balanced_latency for c in pool)
        scores = {id(c): _balanced_score(c, weight, max_cost, max_latency) for c in pool}
        # Python's sort is stable, as is the JS sort Power Tuning relies on: equal scores
        # keep input order.
        ranked = sorted(pool, key=lambda c: scores[id(c)][0])
        first = ranked[0]
        first_iv = scores[id(first)][1]
        overlapping = [
            c for c in ranked[1:] if _overlap(first_iv, scores[id(c)][1], scores[id(first)][0], scores[id(c)][0])
        ]
        metric = f"balanced score (weight {weight:g} on cost)"
    else:  # slo
        if slo_ms is None:
            raise ValueError("the slo strategy needs p95_slo_ms")
        meeting = [c for c in pool if _upper(c.latency_ci, c.latency) <= slo_ms]
        if not meeting:
            return None
        ranked = sorted(meeting, key=lambda c: (c.cost, c.latency))
        first = ranked[0]
        overlapping = [c for c in ranked[1:] if _overlap(first.cost_ci, c.cost_ci, first.cost, c.cost)]
        metric = f"cost among configurations meeting the {slo_ms:g} ms SLO"
    group = [first, *overlapping]
    winner = min(group, key=lambda c: (c.cost, c.latency))
    others = tuple(c for c in group if c is not winner)
    return Pick(winner=winner, strategy=strategy, indistinguishable=others, ranked_first=first, metric=metric)


def pareto_front(candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """Recommendable candidates no other beats on both cost and latency; cheapest first."""
    pool = [c for c in candidates if c.recommendable]
    front = [
        c
        for c in pool
        if not any(
            o is not c
            and o.cost <= c.cost
            and o.latency <= c.latency
            and (o.cost < c.cost or o.latency < c.latency)
            for o in pool
        )
    ]
    return tuple(sorted(front, key=lambda c: (c.cost, c.latency)))


@dataclass(frozen=True)
class TimeoutAdvice:
    timeout_s: int
    reason: str


def advise_timeout(slowest_ms: float | None, *, max_timeout_s: int, min_timeout_s: int = 1) -> TimeoutAdvice | None:
    """The smallest whole-second timeout >= slowest observed invocation x 1.5.

    `slowest_ms` is the slowest invocation at the recommended memory, cold ones with their
    Init Duration included. None when nothing was observed.
    """
    if slowest_ms is None or not math.isfinite(slowest_ms):
        return None
    needed_s = slowest_ms * TIMEOUT_HEADROOM / 1000.0
    # round() first so 3.0000000001 from float noise does not become 4 s.
    timeout_s = max(min_timeout_s, math.ceil(round(needed_s, 6)))
    if timeout_s > max_timeout_s:
        return TimeoutAdvice(
            max_timeout_s,
            f"the slowest invocation took {slowest_ms:.1f} ms; x{TIMEOUT_HEADROOM:g} headroom needs "
            f"{needed_s:.1f} s, above Lambda's {max_timeout_s} s limit, so the limit is advised",
        )
    return TimeoutAdvice(
        timeout_s,
        f"slowest observed invocation {slowest_ms:.1f} ms (cold, init included) x{TIMEOUT_HEADROOM:g} "
        f"headroom = {needed_s:.2f} s, rounded up to whole seconds",
    )


@dataclass(frozen=True)
class Savings:
    per_million_usd: float | None
    fraction: float | None
    note: str


def savings(original_cost: float | None, recommended_cost: float, original_label: str | None) -> Savings:
    """What the recommendation saves per million invocations against the original (+ = saves)."""
    if original_label is None:
        return Savings(None, None, "the function's original configuration is not known")
    if original_cost is None:
        return Savings(
            None,
            None,
            f"the original configuration ({original_label}) was not measured, so savings are unknown",
        )
    delta = original_cost - recommended_cost
    fraction = delta / original_cost if original_cost else None
    if delta > 0:
        note = f"saves ${delta:.4f} per million invocations against the original ({original_label})"
    elif delta < 0:
        note = f"costs ${-delta:.4f} more per million invocations than the original ({original_label})"
    else:
        note = f"costs the same as the original ({original_label})"
    return Savings(delta, fraction, note)


# --- internals -------------------------------------------------------------------


def _upper(interval: Interval | None, point: float) -> float:
    return point if interval is None else interval.high


def _overlap(a: Interval | None, b: Interval | None, point_a: float, point_b: float) -> bool:
    """Intervals overlap; without intervals, only exactly equal values are indistinguishable."""
    if a is None or b is None:
        return point_a == point_b
    return a.overlaps(b)


def _balanced_score(
    c: Candidate, weight: float, max_cost: float, max_latency: float
) -> tuple[float, Interval | None]:
    def score(cost: float, latency: float) -> float:
        cost_part = cost / max_cost if max_cost else 0.0
        latency_part = latency / max_latency if max_latency else 0.0
        return weight * cost_part + (1 - weight) * latency_part

    point = score(c.cost, c.balanced_latency)
    latency_ci = c.balanced_latency_ci
    if c.cost_ci is None and latency_ci is None:
        return point, None
    # The score rises with both cost and latency, so its interval spans the bounds' scores.
    cost_lo, cost_hi = (c.cost, c.cost) if c.cost_ci is None else (c.cost_ci.low, c.cost_ci.high)
    lat_lo, lat_hi = (
        (c.balanced_latency, c.balanced_latency) if latency_ci is None else (latency_ci.low, latency_ci.high)
    )
    return point, Interval(score(cost_lo, lat_lo), score(cost_hi, lat_hi))
