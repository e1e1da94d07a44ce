"""From a results file to an `Analysis`: statistics, costs, recommendation, warnings.

`analyze(results)` is the one entry point. It works on finished and partial sweeps alike
(planned configurations without complete data are listed in `Analysis.missing`).

What goes into a statistic:
- Warm-up invokes and samples whose cold/warm state did not match the scenario are left out
  of every statistic of their scenario (and counted).
- Distributions use ok samples only; the other statuses are counted.
- Ranking (latency and steady cost) uses one scenario for all configurations; a burst's
  ranking figures leave out its cold starts (wave 0 is cold by design).
- Cost of an invocation is priced from its Billed Duration (never Duration + Init on top)
  with the request fee, via `lambdabench.pricing`; the record's own `cost_usd` must agree and
  any disagreement is reported as a warning, not hidden.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import pandas as pd

from lambdabench import limits, pricing
from lambdabench.analysis import recommend as rec
from lambdabench.analysis import stats
from lambdabench.analysis.costs import Pricing, pricing_for
from lambdabench.analysis.model import (
    Analysis,
    ConfigPoint,
    ConfigSummary,
    Interval,
    Recommendation,
    ScenarioStats,
)
from lambdabench.analysis.warnings import MIN_SAMPLES, collect_warnings
from lambdabench.errors import UsageError
from lambdabench.records import STATUSES, InvocationRecord, in_statistics, records_by_config
from lambdabench.results import Results

SCENARIO_ORDER = ("cold", "warm", "burst")
# Which scenario ranks the configurations, in order of preference: warm is the steady state
# users pay for; burst (its non-cold samples) is next; cold alone is a last resort. ONE scenario
# ranks every configuration (the first all have, else the first any has): configurations
# without it are not recommendable rather than ranked on a different scenario.
LATENCY_PREFERENCE = ("warm", "burst", "cold")
DEFAULT_RECOMMEND: dict[str, Any] = {
    "strategy": "balanced",
    "balanced_weight": rec.DEFAULT_BALANCED_WEIGHT,
    "p95_slo_ms": None,
    "cold_share": None,
    "percentile": 95.0,
}
# Relative tolerance between a record's cost_usd and the recomputed price (float noise only).
COST_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Settings:
    strategy: str
    balanced_weight: float
    p95_slo_ms: float | None
    cold_share: float | None
    percentile: float

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
    slo = merged.get("p95_slo_ms")
    return Settings(
        strategy=strategy,
        balanced_weight=float(merged.get("balanced_weight", rec.DEFAULT_BALANCED_WEIGHT)),
        p95_slo_ms=None if slo is None else float(slo),
        cold_share=None if cold_share is None else float(cold_share),
        percentile=percentile,
    )


@dataclass(frozen=True)
class _ScenarioExtra:
    """What the strategies need beyond the model record."""

    cost_per_million_ci: Interval | None
    ok_durations: np.ndarray
    cost_mismatches: int


def analyze(results: Results, *, recommend: dict[str, Any] | None = None, seed: int = stats.DEFAULT_SEED) -> Analysis:
    """Turn a results file into statistics, a recommendation and warnings."""
    header = results.header
    settings = recommend_settings(header, recommend)
    price = pricing_for(header)
    by_config = records_by_config(results.records)

    summaries: list[ConfigSummary] = []
    extras: dict[tuple[ConfigPoint, str], _ScenarioExtra] = {}
    cost_cis: dict[ConfigPoint, Interval | None] = {}
    latency_points: dict[ConfigPoint, tuple[float, Interval] | None] = {}
    views: dict[ConfigPoint, tuple[ScenarioStats, _ScenarioExtra] | None] = {}
    slowest: dict[tuple[int, str], float] = {}
    measured: dict[ConfigPoint, tuple[dict[str, ScenarioStats], dict[str, tuple[ScenarioStats, _ScenarioExtra]]]] = {}
    for key in sorted(by_config):
        config_rows = by_config[key]
        scenarios: dict[str, ScenarioStats] = {}
        steady: dict[str, tuple[ScenarioStats, _ScenarioExtra]] = {}
        for scenario in _scenario_names(config_rows):
            srows = [r for r in config_rows if r.scenario == scenario]
            scenario_stats, extra = _scenario_stats(key, scenario, srows, price, seed)
            scenarios[scenario] = scenario_stats
            extras[(key, scenario)] = extra
            steady[scenario] = _steady_view(key, scenario, srows, scenario_stats, extra, price, seed)
        measured[key] = (scenarios, steady)
    # One scenario ranks every configuration: costs and latencies of different scenarios
    # (warm vs cold starts) are not comparable.
    ranking = _ranking_scenario([steady for _, steady in measured.values()])
    for key, (scenarios, steady) in measured.items():
        config_rows = by_config[key]
        view = steady.get(ranking)
        summary, cost_ci, latency_point = _config_summary(
            key, config_rows, scenarios, ranking, view, settings, seed, price
        )
        summaries.append(summary)
        cost_cis[key] = cost_ci
        latency_points[key] = latency_point
        views[key] = view
        slow = _slowest_ms(config_rows)
        if slow is not None:
            mem = (key.memory_mb, key.architecture)
            slowest[mem] = max(slowest.get(mem, 0.0), slow)

    configs = tuple(summaries)
    candidates = [
        _candidate(
            c, cost_cis[c.config], extras.get((c.config, "cold")), latency_points[c.config], views[c.config], settings
        )
        for c in configs
    ]
    candidates = [c for c in candidates if c is not None]
    front = rec.pareto_front(candidates)
    original = _original_key(header)
    stand_in = _original_stand_in(configs, original)
    outcome = rec.pick(
        candidates,
        settings.strategy,
        balanced_weight=settings.balanced_weight,
        slo_ms=settings.p95_slo_ms,
    )
    recommendation = None
    if outcome is not None:
        qualified = sum(1 for c in candidates if c.recommendable)
        recommendation = _recommendation(
            outcome, configs, original, stand_in, slowest, settings, qualified, views[outcome.winner.key]
        )
    missing = _missing(header, results.events, by_config)
    warnings = collect_warnings(
        header=header,
        unpriced=price.unpriced,
        configs=configs,
        cost_mismatches={k: v.cost_mismatches for k, v in extras.items()},
        missing=missing,
        recommendation=recommendation,
        settings=settings,
        strategy_found_nothing=outcome is None,
        any_candidate=bool(candidates),
    )
    return Analysis(
        header=header,
        configs=configs,
        missing=missing,
        pareto=tuple(c.key for c in front),
        recommendation=recommendation,
        original=original,
        warnings=warnings,
        original_measured_as=stand_in.config if stand_in else None,
        invocations=results.invocations,
    )


# --- per scenario --------------------------------------------------------------------


def _scenario_stats(
    key: ConfigPoint, scenario: str, rows: list[InvocationRecord], price: Pricing, seed: int
) -> tuple[ScenarioStats, _ScenarioExtra]:
    warmup = [r for r in rows if r.warmup]
    mismatch = [r for r in rows if not r.warmup and r.state_mismatch]
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
        duration_ms=stats.describe(durations, seed=seed),
        billed_duration_ms=stats.describe(_values(ok, "billed_duration_ms"), seed=seed),
        client_ms=stats.describe(_values(ok, "client_ms"), seed=seed),
        init_duration_ms=stats.describe(_values(cold_ok, "init_duration_ms"), seed=seed),
        max_memory_used_mb=int(max(memory)) if memory else None,
        cost_per_invocation_usd=cost_mean,
        cost_per_million_usd=None if cost_mean is None else cost_mean * 1e6,
    )
    return result, _ScenarioExtra(cost_ci, durations, mismatches)


# --- per configuration ---------------------------------------------------------------


def _steady_view(
    key: ConfigPoint,
    scenario: str,
    rows: list[InvocationRecord],
    scenario_stats: ScenarioStats,
    extra: _ScenarioExtra,
    price: Pricing,
    seed: int,
) -> tuple[ScenarioStats, _ScenarioExtra]:
    """The figures a scenario contributes to ranking: its steady state.

    Burst wave 0 starts cold by design, so a burst's ranking latency and steady cost come
    from its non-cold samples only (the burst ScenarioStats keep every sample).
    """
    if scenario != "burst":
        return scenario_stats, extra
    warm_rows = [r for r in rows if not r.cold]
    return _scenario_stats(key, scenario, warm_rows, price, seed)


def _ranking_scenario(steady_views: list[dict[str, tuple[ScenarioStats, _ScenarioExtra]]]) -> str:
    """The one scenario every configuration is ranked on.

    The first of LATENCY_PREFERENCE that every measured configuration has ok durations in;
    else the first that any has; else the first present at all (nothing is rankable then).
    """

    def has(view: dict[str, tuple[ScenarioStats, _ScenarioExtra]], scenario: str) -> bool:
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
    view: tuple[ScenarioStats, _ScenarioExtra] | None,
    settings: Settings,
    seed: int,
    price: Pricing,
) -> tuple[ConfigSummary, Interval | None, tuple[float, Interval] | None]:
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
    )
    return summary, (extra.cost_per_million_ci if extra else None), latency_point


def _no_latency_reason(
    scenarios: dict[str, ScenarioStats], latency_scenario: str, lat: ScenarioStats | None
) -> str:
    """Why a configuration has no latency in the ranking scenario."""
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
        if r.status == "ok" and r.cold and not r.warmup
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


def _slowest_ms(rows: list[InvocationRecord]) -> float | None:
    """Slowest invocation of a configuration, Init Duration included on cold starts."""
    slowest = None
    for r in rows:
        duration = r.duration_ms
        if duration is None:
            continue
        total = duration + (r.init_duration_ms or 0.0)
        slowest = total if slowest is None else max(slowest, total)
    return slowest


# --- recommendation ------------------------------------------------------------------


def _candidate(
    summary: ConfigSummary,
    cost_ci: Interval | None,
    cold_extra: _ScenarioExtra | None,
    latency_point: tuple[float, Interval] | None,
    view: tuple[ScenarioStats, _ScenarioExtra] | None,
    settings: Settings,
) -> rec.Candidate | None:
    if latency_point is None or summary.cost_per_million_usd is None:
        return None
    cost = summary.cost_per_million_usd
    if settings.cold_share is not None and summary.blended_cost_per_million_usd is not None:
        # The user said how often their traffic starts cold: rank by what that traffic costs.
        cost = summary.blended_cost_per_million_usd
        share = settings.cold_share
        cold_ci = cold_extra.cost_per_million_ci if cold_extra is not None else None
        if share == 0.0:
            pass  # blended is the steady cost, and so is its interval
        elif cost_ci is not None and cold_ci is not None:
            # Bounds combined as if the two were perfectly correlated: wider, never narrower,
            # than the true interval, so "indistinguishable" errs on the side of caution.
            cost_ci = Interval(
                share * cold_ci.low + (1 - share) * cost_ci.low,
                share * cold_ci.high + (1 - share) * cost_ci.high,
                cost_ci.level,
            )
        else:
            cost_ci = None
    # The ranking view, not the raw scenario: a burst's cold wave is not its steady latency.
    lat = view[0].duration_ms if view is not None else None
    return rec.Candidate(
        key=summary.config,
        cost=cost,
        latency=latency_point[0],
        mean_latency=lat.mean if lat else None,
        cost_ci=cost_ci,
        latency_ci=latency_point[1],
        mean_latency_ci=lat.mean_ci if lat else None,
        recommendable=summary.recommendable,
        reason=summary.not_recommended_reason,
    )


def _original_stand_in(configs: tuple[ConfigSummary, ...], original: ConfigPoint | None) -> ConfigSummary | None:
    """The measured configuration that stands for the original one, if any.

    Timeout does not change the price or speed of an invocation that finishes, so a measured
    configuration at the original memory and architecture (the original timeout preferred)
    represents the original configuration.
    """
    if original is None:
        return None
    same = [
        c
        for c in configs
        if c.config.memory_mb == original.memory_mb
        and c.config.architecture == original.architecture
        and c.cost_per_million_usd is not None
    ]
    same.sort(key=lambda c: (c.config.timeout_s != original.timeout_s, c.config))
    return same[0] if same else None


def _recommendation(
    outcome: rec.Pick,
    configs: tuple[ConfigSummary, ...],
    original: ConfigPoint | None,
    stand_in: ConfigSummary | None,
    slowest: dict[tuple[int, str], float],
    settings: Settings,
    qualified: int,
    view: tuple[ScenarioStats, _ScenarioExtra] | None,
) -> Recommendation:
    winner = outcome.winner
    key: ConfigPoint = winner.key
    summary = next(c for c in configs if c.config == key)
    advice = rec.advise_timeout(
        slowest.get((key.memory_mb, key.architecture)), max_timeout_s=limits.TIMEOUT_MAX_S
    )
    timeout_s = advice.timeout_s if advice else key.timeout_s
    timeout_reason = advice.reason if advice else "no invocation was observed; the configured timeout is kept"

    original_label = original.label if original else None
    original_cost = _ranking_cost(stand_in, settings) if stand_in is not None else None
    saved = rec.savings(original_cost, winner.cost, original_label)

    latency_name = _percentile_name(settings.ranking_percentile)
    others = ", ".join(c.key.label for c in outcome.indistinguishable)
    if outcome.indistinguishable:
        confidence = (
            f"Not decisive: its {outcome.metric} interval overlaps {others}, so they are "
            f"indistinguishable on this data and the cheapest of them was chosen."
        )
    elif qualified == 1:
        confidence = "Only this configuration qualified, so there was nothing to tell it apart from."
    elif _ranking_interval(outcome) is None:
        confidence = _unknown_interval_sentence(outcome, settings, latency_name)
    else:
        confidence = _decisive_sentence(outcome, latency_name)
    lat = view[0] if view is not None else summary.scenarios[summary.latency_scenario]
    need = MIN_SAMPLES.get(summary.latency_scenario)
    if need is not None and lat.n_ok < need:
        confidence += (
            f" Only {lat.n_ok} ok {summary.latency_scenario} samples were measured (>= {need} advised), "
            f"so its intervals are wide."
        )
    reason = _reason_sentence(outcome, settings, latency_name)
    return Recommendation(
        config=key,
        strategy=outcome.strategy,
        p50_ms=summary.p50_ms,
        p50_ci=summary.p50_ci,
        p95_ms=summary.p95_ms,
        p95_ci=summary.p95_ci,
        cost_per_million_usd=winner.cost,
        timeout_s=timeout_s,
        timeout_reason=timeout_reason,
        indistinguishable_from=tuple(c.key for c in outcome.indistinguishable),
        savings_per_million_usd=saved.per_million_usd,
        savings_fraction=saved.fraction,
        confidence=confidence,
        reason=reason,
        savings_note=saved.note,
        latency_percentile=settings.ranking_percentile,
        latency_ms=winner.latency,
        latency_ci=winner.latency_ci,
    )


def _ranking_cost(summary: ConfigSummary, settings: Settings) -> float | None:
    if settings.cold_share is not None and summary.blended_cost_per_million_usd is not None:
        return summary.blended_cost_per_million_usd
    return summary.cost_per_million_usd


def _ranking_interval(outcome: rec.Pick) -> Interval | None:
    """The winner's interval on the metric its strategy ranked by (None = unknown)."""
    w = outcome.winner
    if outcome.strategy in ("cost", "slo"):
        return w.cost_ci
    if outcome.strategy == "speed":
        return w.latency_ci
    # balanced: the score's interval needs both parts
    if w.cost_ci is None or w.balanced_latency_ci is None:
        return None
    return w.cost_ci


def _unknown_interval_sentence(outcome: rec.Pick, settings: Settings, latency_name: str) -> str:
    w = outcome.winner
    if outcome.strategy == "speed" or (outcome.strategy == "balanced" and w.cost_ci is not None):
        metric, why = f"{latency_name}", "no latency interval could be computed"
    else:
        metric = "cost"
        why = (
            "its cold-start cost comes from cold starts seen outside a cold scenario, which has no interval, "
            f"so the cost blended at {settings.cold_share:.0%} cold starts has none either"
            if settings.cold_share
            else "no cost interval could be computed"
        )
        if outcome.strategy == "balanced":
            metric = "balanced-score"
    return (
        f"Interval unknown: the winner's {metric} interval is unknown ({why}); it ranked first on point "
        f"values alone, so other candidates may be indistinguishable from it. Add a cold scenario or more "
        f"samples for a confident pick."
    )


def _decisive_sentence(outcome: rec.Pick, latency_name: str) -> str:
    if outcome.strategy == "cost":
        return "Clear: its cost interval overlaps no other candidate's."
    if outcome.strategy == "slo":
        return "Clear: its cost interval overlaps no other candidate that meets the SLO."
    if outcome.strategy == "speed":
        return f"Clear: its {latency_name} interval overlaps no other candidate's."
    return "Clear: its balanced-score interval overlaps no other candidate's."


def _reason_sentence(outcome: rec.Pick, settings: Settings, latency_name: str) -> str:
    w = outcome.winner
    cost_text = f"${w.cost:.4f} per million"
    if settings.cold_share is not None:
        cost_text += f" at {settings.cold_share:.0%} cold starts"
    if outcome.strategy == "cost":
        return f"Cheapest configuration: {cost_text}, {latency_name} {w.latency:.1f} ms."
    if outcome.strategy == "speed":
        lead = "Fastest" if outcome.ranked_first is w else "Cheapest of the fastest"
        return f"{lead} at {latency_name}: {w.latency:.1f} ms, {cost_text}."
    if outcome.strategy == "balanced":
        return (
            f"Lowest balanced score {settings.balanced_weight:g}*cost/max + "
            f"{1 - settings.balanced_weight:g}*mean duration/max (AWS Lambda Power Tuning's formula): "
            f"{cost_text}, mean {w.balanced_latency:.1f} ms."
        )
    return (
        f"Cheapest configuration whose {latency_name} interval stays under the "
        f"{settings.p95_slo_ms:g} ms SLO: {latency_name} {w.latency:.1f} ms, {cost_text}."
    )


def _percentile_name(percentile: float) -> str:
    return f"p{percentile:g}"


# --- plan coverage -------------------------------------------------------------------


def _missing(
    header: dict[str, Any], events: list[dict[str, Any]], by_config: dict[ConfigPoint, list[InvocationRecord]]
) -> tuple[ConfigPoint, ...]:
    """Planned configurations with no data, or fewer samples than planned (partial sweep)."""
    plan = header.get("plan") or {}
    planned = []
    for c in plan.get("configs") or []:
        try:
            planned.append(ConfigPoint.from_dict(c))
        except (KeyError, TypeError, ValueError):
            continue
    expected = _expected_counts(plan.get("scenarios") or [])
    missing = []
    for key in planned:
        rows = by_config.get(key)
        if not rows:
            missing.append(key)
            continue
        done = Counter(r.scenario for r in rows if not r.warmup)
        if any(done.get(kind, 0) < n for kind, n in expected.items()):
            missing.append(key)
    return tuple(sorted(set(missing)))


def _expected_counts(scenarios: Iterable[dict[str, Any]]) -> dict[str, int]:
    expected: Counter = Counter()
    for s in scenarios:
        kind = s.get("kind")
        if kind == "burst":
            expected[kind] += int(s.get("concurrency") or 0) * int(s.get("waves") or 1)
        elif kind in ("cold", "warm"):
            expected[kind] += int(s.get("invocations") or 0)
    return dict(expected)


# --- small helpers -------------------------------------------------------------------


def _original_key(header: dict[str, Any]) -> ConfigPoint | None:
    original = header.get("original_config")
    if not original or original.get("memory_mb") is None or original.get("timeout_s") is None:
        return None
    return ConfigPoint.from_dict(original)


def _scenario_names(rows: list[InvocationRecord]) -> list[str]:
    present = {str(r.scenario) for r in rows}
    return [s for s in SCENARIO_ORDER if s in present] + sorted(present - set(SCENARIO_ORDER))


def _values(rows: list[InvocationRecord], field: str) -> np.ndarray:
    return stats.as_array([v for v in (getattr(r, field) for r in rows) if v is not None])
