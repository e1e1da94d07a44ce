"""Statistics of one configuration: per scenario (ScenarioStats), its steady view, its ConfigSummary.

What goes into a statistic:
- Samples outside `records.in_statistics` (warm-ups, cold/warm state mismatches) are left out of
  every statistic of their scenario (and counted).
- Distributions use ok samples only; the other statuses are counted.
- Ranking (latency and steady cost) uses one scenario for all configurations; a burst's
  ranking figures leave out its cold starts (wave 0 is cold by design).
- Cost of an invocation is priced from its Billed Duration (never Duration + Init on top)
  with the request fee, via `analysis.costs`; the record's own `cost_usd` must agree and
  any disagreement is counted (and reported as a warning), not hidden.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from lambdabench.analysis import stats
from lambdabench.analysis.costs import Pricing
from lambdabench.analysis.model import ConfigSummary, Interval, ScenarioStats
from lambdabench.analysis.settings import Settings
from lambdabench.pricing import MonthlyCost
from lambdabench.records import STATUSES, ConfigPoint, InvocationRecord, in_statistics

SCENARIO_ORDER = ("cold", "warm", "burst")
# Which scenario ranks the configurations, in order of preference: warm is the steady state
# users pay for; burst (its non-cold samples) is next; cold alone is a last resort. ONE scenario
# ranks every configuration (the first all have, else the first any has): configurations
# without it are not recommendable rather than ranked on a different scenario.
LATENCY_PREFERENCE = ("warm", "burst", "cold")
# Relative tolerance between a record's cost_usd and the recomputed price (float noise only).
COST_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SampleExtra:
    """What the strategies need of a scenario beyond its ScenarioStats."""

    cost_per_million_ci: Interval | None
    ok_durations: np.ndarray
    cost_mismatches: int


View = tuple[ScenarioStats, SampleExtra]


@dataclass(frozen=True)
class Measured:
    """One configuration's records and the statistics of each of its scenarios."""

    config: ConfigPoint
    records: tuple[InvocationRecord, ...]
    scenarios: dict[str, ScenarioStats]
    extras: dict[str, SampleExtra]
    steady: dict[str, View]  # the figures each scenario contributes to ranking


@dataclass(frozen=True)
class Configuration:
    """One measured configuration, summarised on the ranking scenario."""

    measured: Measured
    summary: ConfigSummary
    view: View | None  # its steady view of the ranking scenario
    latency_point: tuple[float, Interval] | None  # at the ranking percentile
    slowest_ms: float | None  # slowest invocation, Init Duration included

    @property
    def config(self) -> ConfigPoint:
        return self.measured.config


def measure(key: ConfigPoint, records: list[InvocationRecord], price: Pricing, seed: int) -> Measured:
    """Statistics of every scenario of one configuration."""
    scenarios: dict[str, ScenarioStats] = {}
    extras: dict[str, SampleExtra] = {}
    steady: dict[str, View] = {}
    for scenario in _scenario_names(records):
        srows = [r for r in records if r.scenario == scenario]
        scenario_stats, extra = scenario_statistics(key, scenario, srows, price, seed)
        scenarios[scenario] = scenario_stats
        extras[scenario] = extra
        steady[scenario] = _steady_view(key, scenario, srows, scenario_stats, extra, price, seed)
    return Measured(key, tuple(records), scenarios, extras, steady)


def summarize(measured: Measured, ranking: str, settings: Settings, seed: int, price: Pricing) -> Configuration:
    """The configuration summarised on the ranking scenario."""
    view = measured.steady.get(ranking)
    summary, latency_point = _config_summary(
        measured.config, list(measured.records), measured.scenarios, ranking, view, settings, seed, price
    )
    return Configuration(measured, summary, view, latency_point, _slowest_ms(measured.records))


def scenario_statistics(
    key: ConfigPoint, scenario: str, rows: list[InvocationRecord], price: Pricing, seed: int
) -> tuple[ScenarioStats, SampleExtra]:
    warmup = [r for r in rows if r.warmup]
    mismatch = [r for r in rows if not r.warmup and r.state_mismatch]
    limited = [r for r in rows if not r.warmup and not r.state_mismatch and r.host_limited]
    kept = [r for r in rows if in_statistics(r)]
    counts = {status: 0 for status in STATUSES}
    counts.update(Counter(str(r.status) for r in kept))
    ok = [r for r in kept if r.status == "ok"]

    costs: list[float] = []
    mismatches = 0
    for r in ok:
        billed = r.billed_duration_ms
        recorded = r.cost_usd
        if billed is None:
            continue  # no REPORT: nothing to price from
        computed = price.cost(key.memory_mb, billed, key.architecture)
        if computed is None:
            continue
        if recorded is not None and not math.isclose(recorded, computed, rel_tol=COST_TOLERANCE, abs_tol=1e-15):
            mismatches += 1
        costs.append(computed)
    cost_mean = float(np.mean(costs)) if costs else None
    cost_ci = None
    if costs:
        ci = stats.mean_interval(costs, seed=seed)
        cost_ci = Interval(ci.low * 1e6, ci.high * 1e6, ci.level)

    durations = stats.as_array([r.duration_ms for r in ok if r.duration_ms is not None])
    memory = [r.max_memory_used_mb for r in kept]
    memory = [m for m in memory if m is not None]
    cold_ok = [r for r in ok if r.cold]
    result = ScenarioStats(
        config=key,
        scenario=scenario,
        counts=counts,
        excluded_warmup=len(warmup),
        excluded_mismatch=len(mismatch),
        excluded_host_limited=len(limited),
        duration_ms=stats.describe(durations, seed=seed),
        billed_duration_ms=stats.describe(_values(ok, "billed_duration_ms"), seed=seed),
        client_ms=stats.describe(_values(ok, "client_ms"), seed=seed),
        init_duration_ms=stats.describe(_values(cold_ok, "init_duration_ms"), seed=seed),
        max_memory_used_mb=int(max(memory)) if memory else None,
        cost_per_invocation_usd=cost_mean,
        cost_per_million_usd=None if cost_mean is None else cost_mean * 1e6,
    )
    return result, SampleExtra(cost_ci, durations, mismatches)


def _steady_view(
    key: ConfigPoint,
    scenario: str,
    rows: list[InvocationRecord],
    scenario_stats: ScenarioStats,
    extra: SampleExtra,
    price: Pricing,
    seed: int,
) -> tuple[ScenarioStats, SampleExtra]:
    """The figures a scenario contributes to ranking: its steady state.

    Burst wave 0 starts cold by design, so a burst's ranking latency and steady cost come
    from its non-cold samples only (the burst ScenarioStats keep every sample).
    """
    if scenario != "burst":
        return scenario_stats, extra
    warm_rows = [r for r in rows if not r.cold]
    return scenario_statistics(key, scenario, warm_rows, price, seed)


def ranking_scenario(steady_views: list[dict[str, tuple[ScenarioStats, SampleExtra]]]) -> str:
    """The one scenario every configuration is ranked on.

    The first of LATENCY_PREFERENCE that every measured configuration has ok durations in;
    else the first that any has; else the first present at all (nothing is rankable then).
    """

    def has(view: dict[str, tuple[ScenarioStats, SampleExtra]], scenario: str) -> bool:
        return scenario in view and view[scenario][0].duration_ms is not None

    if steady_views:
        for scenario in LATENCY_PREFERENCE:
            if all(has(v, scenario) for v in steady_views):
                return scenario
    for scenario in LATENCY_PREFERENCE:
        if any(has(v, scenario) for v in steady_views):
            return scenario
    for scenario in LATENCY_PREFERENCE:
        if any(scenario in v for v in steady_views):
            return scenario
    return LATENCY_PREFERENCE[0]


def _config_summary(
    key: ConfigPoint,
    rows: list[InvocationRecord],
    scenarios: dict[str, ScenarioStats],
    latency_scenario: str,
    view: tuple[ScenarioStats, SampleExtra] | None,
    settings: Settings,
    seed: int,
    price: Pricing,
) -> tuple[ConfigSummary, tuple[float, Interval] | None]:
    lat, extra = view if view is not None else (None, None)
    dist = lat.duration_ms if lat else None

    latency_point: tuple[float, Interval] | None = None
    if dist is not None and extra is not None:
        if settings.ranking_percentile == 95.0:
            latency_point = (dist.p95, dist.p95_ci)
        elif settings.ranking_percentile == 50.0:
            latency_point = (dist.p50, dist.p50_ci)
        else:
            latency_point = (
                stats.percentile(extra.ok_durations, settings.ranking_percentile),
                stats.quantile_interval(extra.ok_durations, settings.ranking_percentile, seed=seed),
            )

    steady_cost = lat.cost_per_million_usd if lat else None
    cold_share = settings.cold_share if settings.cold_share is not None else _observed_cold_share(rows)
    blended = None
    cold_cost = _cold_cost_per_million(key, rows, scenarios, price)
    if cold_share is not None and steady_cost is not None:
        if cold_share == 0.0:
            blended = steady_cost
        elif cold_cost is not None:
            blended = cold_share * cold_cost + (1.0 - cold_share) * steady_cost

    monthly = None
    if settings.monthly_invocations is not None:
        monthly = _monthly(key, rows, scenarios, lat, cold_share, settings.monthly_invocations, price)

    failures = Counter(
        str(r.status) for r in rows if r.status in ("error", "timeout", "oom")
    )
    reason = _failure_reason(failures)
    if reason is None and dist is None:
        reason = _no_latency_reason(scenarios, latency_scenario, lat)
    if reason is None and settings.cold_share and steady_cost is not None and blended is None:
        # Ranking it by its steady cost while the others pay for cold starts would favour it.
        reason = "no cold samples to blend"
    recommendable = reason is None
    memory = [s.max_memory_used_mb for s in scenarios.values() if s.max_memory_used_mb is not None]
    summary = ConfigSummary(
        config=key,
        scenarios=scenarios,
        latency_scenario=latency_scenario,
        p50_ms=dist.p50 if dist else None,
        p50_ci=dist.p50_ci if dist else None,
        p95_ms=dist.p95 if dist else None,
        p95_ci=dist.p95_ci if dist else None,
        cost_per_million_usd=steady_cost,
        blended_cost_per_million_usd=blended,
        cold_share=cold_share,
        max_memory_used_mb=max(memory) if memory else None,
        recommendable=recommendable,
        not_recommended_reason=reason,
        timeouts_cut_off=failures.get("timeout", 0),
        cost_per_million_ci=extra.cost_per_million_ci if extra else None,
        latency_percentile=settings.ranking_percentile,
        latency_ms=latency_point[0] if latency_point else None,
        latency_ci=latency_point[1] if latency_point else None,
        monthly=monthly,
    )
    return summary, latency_point


def _monthly(
    key: ConfigPoint,
    rows: list[InvocationRecord],
    scenarios: dict[str, ScenarioStats],
    steady: ScenarioStats | None,
    cold_share: float | None,
    invocations: int,
    price: Pricing,
) -> MonthlyCost | None:
    """A month of `invocations`: the steady scenario's mean Billed Duration, and at `cold_share` the
    cold starts' (the same samples the blended cost per million is priced from)."""
    billed = steady.billed_duration_ms if steady is not None else None
    if billed is None or cold_share is None:
        return None
    cold_billed = _cold_billed_ms(rows, scenarios)
    if cold_share > 0.0 and cold_billed is None:
        return None
    return price.month(invocations, key.memory_mb, key.architecture, billed.mean, cold_share, cold_billed)


def _cold_billed_ms(rows: list[InvocationRecord], scenarios: dict[str, ScenarioStats]) -> float | None:
    """Mean Billed Duration of a cold start: the cold scenario's, else of cold samples seen anywhere
    (as `_cold_cost_per_million` prices them)."""
    cold = scenarios.get("cold")
    if cold is not None and cold.billed_duration_ms is not None:
        return cold.billed_duration_ms.mean
    billed = [
        float(r.billed_duration_ms)
        for r in rows
        if r.status == "ok" and r.cold and not r.warmup and not r.host_limited and r.billed_duration_ms is not None
    ]
    return float(np.mean(billed)) if billed else None


def _no_latency_reason(
    scenarios: dict[str, ScenarioStats], latency_scenario: str, lat: ScenarioStats | None
) -> str:
    """Why a configuration has no latency in the ranking scenario."""
    ranked = scenarios.get(latency_scenario)
    if ranked is not None and ranked.excluded_host_limited and not ranked.n_ok:
        return f"its {latency_scenario} samples were host-limited"
    if not any(st.n_ok for st in scenarios.values()):
        return "no successful invocations"
    if lat is not None and lat.n_ok:
        return "no REPORT line was read, so durations are unknown"
    if latency_scenario == "burst" and "burst" in scenarios and scenarios["burst"].n_ok:
        return "no burst samples after excluding cold starts"
    return f"no {latency_scenario} samples"


def _cold_cost_per_million(
    key: ConfigPoint, rows: list[InvocationRecord], scenarios: dict[str, ScenarioStats], price: Pricing
) -> float | None:
    """What a cold start costs: the cold scenario's, else the mean over cold samples seen anywhere."""
    cold = scenarios.get("cold")
    if cold is not None and cold.cost_per_million_usd is not None:
        return cold.cost_per_million_usd
    costs = [
        price.cost(key.memory_mb, billed, key.architecture)
        for r in rows
        if r.status == "ok" and r.cold and not r.warmup and not r.host_limited
        for billed in [r.billed_duration_ms]
        if billed is not None
    ]
    costs = [c for c in costs if c is not None]
    return float(np.mean(costs)) * 1e6 if costs else None


def _observed_cold_share(rows: list[InvocationRecord]) -> float | None:
    """Share of cold starts where the sweep did not force them (warm and burst, no warm-ups)."""
    seen = [
        r
        for r in rows
        if r.scenario in ("warm", "burst")
        and not r.warmup
        and r.status == "ok"
        and r.cold is not None
    ]
    if not seen:
        return None
    return sum(1 for r in seen if r.cold) / len(seen)


def _failure_reason(failures: Counter) -> str | None:
    parts = []
    for status, singular, plural in (
        ("error", "error", "errors"),
        ("timeout", "timeout", "timeouts"),
        ("oom", "OOM", "OOMs"),
    ):
        n = failures.get(status, 0)
        if n:
            parts.append(f"{n} {singular if n == 1 else plural}")
    return ", ".join(parts) if parts else None


def _slowest_ms(rows: Iterable[InvocationRecord]) -> float | None:
    """Slowest invocation of a configuration, Init Duration included on cold starts.

    Host-limited burst samples are left out: the host, not the timeout Lambda needs, made them slow.
    """
    slowest = None
    for r in rows:
        duration = r.duration_ms
        if duration is None or r.host_limited:
            continue
        total = duration + (r.init_duration_ms or 0.0)
        slowest = total if slowest is None else max(slowest, total)
    return slowest


def _scenario_names(rows: list[InvocationRecord]) -> list[str]:
    present = {str(r.scenario) for r in rows}
    return [s for s in SCENARIO_ORDER if s in present] + sorted(present - set(SCENARIO_ORDER))


def _values(rows: list[InvocationRecord], field: str) -> np.ndarray:
    return stats.as_array([v for v in (getattr(r, field) for r in rows) if v is not None])
