"""From a results file to an `Analysis`: the pipeline, and only that.

`analyze(results)` is the one entry point. It works on finished and partial sweeps alike
(planned configurations without complete data are listed in `Analysis.missing`). Each step has
its own module: the settings (`settings`), prices (`costs`), statistics per configuration
(`summaries`, which also says what goes into a statistic), the strategies (`recommend`), the
recommendation and its explanation (`explain`), plan coverage (`coverage`) and warnings
(`warnings`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lambdabench.analysis import explain
from lambdabench.analysis import recommend as rec
from lambdabench.analysis import stats
from lambdabench.analysis.costs import pricing_for
from lambdabench.analysis.coverage import missing_configs
from lambdabench.analysis.model import Analysis
from lambdabench.analysis.monthly import monthly_savings
from lambdabench.analysis.search import search_summary
from lambdabench.analysis.settings import recommend_settings
from lambdabench.analysis.summaries import measure, ranking_scenario, summarize
from lambdabench.analysis.warnings import collect_warnings
from lambdabench.records import records_by_config
from lambdabench.results import Results

__all__ = ["analyze"]


def analyze(results: Results, *, recommend: dict[str, Any] | None = None, seed: int = stats.DEFAULT_SEED) -> Analysis:
    """Turn a results file into statistics, a recommendation and warnings."""
    header = results.header
    settings = recommend_settings(header, recommend)
    price = pricing_for(header)
    by_config = records_by_config(results.records)

    measured = [measure(key, by_config[key], price, seed) for key in sorted(by_config)]
    # One scenario ranks every configuration: costs and latencies of different scenarios
    # (warm vs cold starts) are not comparable.
    ranking = ranking_scenario([m.steady for m in measured])
    configurations = [summarize(m, ranking, settings, seed, price) for m in measured]
    configs = tuple(c.summary for c in configurations)

    candidates = [c for c in (explain.candidate(c, settings) for c in configurations) if c is not None]
    search = search_summary(header, results.events, results.records)
    finalists = set(search.finalists) if search is not None else set()
    if finalists:
        # An adaptive sweep recommends among its finalists, the sizes that ran every scenario; the other
        # sizes the search measured stay in the table with their few warm samples.
        candidates = [c for c in candidates if c.key.memory_mb in finalists]
    original = explain.original_config(header)
    stand_in = explain.original_stand_in(configs, original)
    outcome = rec.pick(candidates, settings.strategy, balanced_weight=settings.balanced_weight,
                       slo_ms=settings.p95_slo_ms)
    recommendation = None
    if outcome is not None:
        qualified = sum(1 for c in candidates if c.recommendable)
        recommendation = explain.recommendation(outcome, configurations, original, stand_in, settings, qualified)
        if settings.monthly_invocations is not None:
            winner = next(c for c in configs if c.config == recommendation.config)
            month = monthly_savings(winner, configs, original, stand_in, settings.monthly_invocations)
            recommendation = dataclasses.replace(recommendation, monthly_usd=month.monthly_usd,
                                                 monthly_deltas=month.deltas, monthly_note=month.note)

    missing = missing_configs(header, by_config)
    warnings = collect_warnings(
        header=header,
        unpriced=price.unpriced,
        configs=tuple(c for c in configs if not finalists or c.config.memory_mb in finalists),
        cost_mismatches={(m.config, name): e.cost_mismatches for m in measured for name, e in m.extras.items()},
        missing=missing,
        recommendation=recommendation,
        settings=settings,
        strategy_found_nothing=outcome is None,
        any_candidate=bool(candidates),
        events=results.events,
    )
    return Analysis(
        header=header,
        configs=configs,
        missing=missing,
        pareto=tuple(c.key for c in rec.pareto_front(candidates)),
        recommendation=recommendation,
        original=original,
        warnings=warnings,
        original_measured_as=stand_in.config if stand_in else None,
        invocations=results.invocations,
        monthly_invocations=settings.monthly_invocations,
        search=search,
    )
