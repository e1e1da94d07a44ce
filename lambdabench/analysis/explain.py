"""The recommendation and its explanation: candidates for the strategies, the pick turned into a
Recommendation with its timeout advice, savings against the original configuration, and the
sentences that say why it won and how sure that is."""

from __future__ import annotations

from typing import Any

from lambdabench import limits
from lambdabench.analysis import recommend as rec
from lambdabench.analysis.model import ConfigSummary, Interval, Recommendation
from lambdabench.analysis.settings import Settings
from lambdabench.analysis.summaries import Configuration
from lambdabench.analysis.warnings import MIN_SAMPLES
from lambdabench.records import ConfigPoint


def original_config(header: dict[str, Any]) -> ConfigPoint | None:
    """The function's configuration before the sweep, from the header."""
    original = header.get("original_config")
    if not original or original.get("memory_mb") is None or original.get("timeout_s") is None:
        return None
    return ConfigPoint.from_dict(original)


def candidate(configuration: Configuration, settings: Settings) -> rec.Candidate | None:
    """The configuration as the strategies see it (None: it has no latency or no cost to rank)."""
    summary = configuration.summary
    cost_ci = summary.cost_per_million_ci
    cold_extra = configuration.measured.extras.get("cold")
    latency_point = configuration.latency_point
    view = configuration.view
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


def original_stand_in(configs: tuple[ConfigSummary, ...], original: ConfigPoint | None) -> ConfigSummary | None:
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


def recommendation(
    outcome: rec.Pick,
    configurations: list[Configuration],
    original: ConfigPoint | None,
    stand_in: ConfigSummary | None,
    settings: Settings,
    qualified: int,
) -> Recommendation:
    """The strategy's pick, with its timeout advice, savings and the sentences explaining it."""
    winner = outcome.winner
    key: ConfigPoint = winner.key
    chosen = next(c for c in configurations if c.config == key)
    summary, view = chosen.summary, chosen.view
    # Timeout does not change how long a finished invocation runs: the slowest at this memory counts.
    slowest = [
        c.slowest_ms for c in configurations
        if (c.config.memory_mb, c.config.architecture) == (key.memory_mb, key.architecture) and c.slowest_ms is not None
    ]
    advice = rec.advise_timeout(max(slowest) if slowest else None, max_timeout_s=limits.TIMEOUT_MAX_S)
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
