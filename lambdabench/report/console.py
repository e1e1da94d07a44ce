"""Console tables: the sweep summary and the comparison of two sweeps, as plain text.

The summary fits a screen: one table with a row per configuration, the recommendation, then the
warnings grouped one line per kind. `verbose=True` gives the long form in the style of hyperfine
and pyperf: one block per configuration and scenario, every statistic with its spread or interval
in one unit, and every warning in full. Plain text (no colour codes), so the same string works in
a terminal, a log file and a CI job. Nothing is computed here; every number comes from the
analysis records.
"""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdabench.analysis.compare import Comparison, MetricChange
    from lambdabench.analysis.model import Analysis, Interval, ScenarioStats


WIDTH = 100  # columns the compact summary is wrapped to


def render_summary(analysis: "Analysis", *, verbose: bool = False) -> str:
    """The sweep summary: a table a screen wide, or with `verbose` every block and warning in full."""
    if not verbose:
        return _compact_summary(analysis)
    lines: list[str] = []
    header = analysis.header
    name = header.get("function_name") or "function"
    lines.append(
        f"lambdabench: {name} on {header.get('target', '?')} ({header.get('region', '?')}), "
        f"{len(analysis.configs)} configurations measured"
    )
    lines.append("")
    for c in analysis.configs:
        flag = "" if c.recommendable else f"  [not recommended: {c.not_recommended_reason}]"
        lines.append(f"{c.config.label}{flag}")
        for scenario, s in c.scenarios.items():
            lines.extend(_scenario_block(scenario, s))
        cost_line = f"  Cost per 1M:        {_usd(c.cost_per_million_usd)}"
        if c.cost_per_million_ci is not None:
            cost_line += f"  [{_usd(c.cost_per_million_ci.low)} … {_usd(c.cost_per_million_ci.high)}]"
        cost_line += f"  ({c.latency_scenario})"
        lines.append(cost_line)
        if c.blended_cost_per_million_usd is not None and c.cold_share is not None:
            lines.append(
                f"  Blended per 1M:     {_usd(c.blended_cost_per_million_usd)} at {c.cold_share:.1%} cold starts"
            )
        if c.monthly is not None:
            lines.append(f"  Per month:          {_usd_month(c.monthly.total_usd)} for {c.monthly.invocations:,} "
                         f"invocations at {c.monthly.cold_share:.1%} cold starts (duration tiers applied)")
        if c.max_memory_used_mb is not None:
            lines.append(f"  Max memory used:    {c.max_memory_used_mb} MB of {c.config.memory_mb} MB")
        lines.append("")
    if analysis.missing:
        lines.append("Missing (partial sweep): " + ", ".join(k.label for k in analysis.missing))
        lines.append("")
    if analysis.pareto:
        lines.append("Pareto frontier (cost vs latency, cheapest first): " + ", ".join(f"{k.memory_mb} MB" for k in analysis.pareto))
        lines.append("")
    lines.extend(search_block(analysis, verbose=True))
    lines.extend(_recommendation_block(analysis))
    if analysis.warnings:
        lines.append("")
        lines.append(f"Warnings ({len(analysis.warnings)}):")
        for w in analysis.warnings:
            lines.append(f"  [{w.kind}] {w.message}")
            lines.append(f"      fix: {w.remedy}")
    return "\n".join(lines) + "\n"


def search_block(analysis: "Analysis", *, verbose: bool) -> list[str]:
    """An adaptive sweep's search: outcome, fit, invocations against a grid, the sizes in the order
    measured (with reasons and predicted vs measured when `verbose`). Nothing for a grid sweep."""
    from lambdabench.analysis.search import fit_sentence, invocations_sentence, outcome_sentence

    summary = analysis.search
    if summary is None:
        return []
    lines = ["Adaptive search", f"  {outcome_sentence(summary)}", f"  {fit_sentence(summary)}",
             f"  Invocations: {invocations_sentence(summary)}"]
    if not verbose:
        order = ", ".join(str(s.memory_mb) for s in summary.steps)
        lines.append(f"  Sizes in the order measured (MB): {order} (reasons: --verbose or the report)")
        return lines + [""]
    lines.append("  Sizes in the order measured:")
    for s in summary.steps:
        pred = (f"predicted {s.predicted_ms:.1f} ms [{s.predicted_low_ms:.1f} … {s.predicted_high_ms:.1f}]"
                if s.predicted_ms is not None and s.predicted_low_ms is not None else "no prediction yet")
        got = f"measured {s.measured_ms:.1f} ms" if s.measured_ms is not None else "no ok sample"
        bad = {k: v for k, v in s.statuses.items() if k != "ok"}
        extra = (" (" + ", ".join(f"{v} {k}" for k, v in sorted(bad.items())) + ")") if bad else ""
        lines.append(f"    {s.index + 1:>2}. {s.memory_mb:>5} MB x{s.invocations}  {s.reason}; {pred}; {got}{extra}")
    if summary.at_measured:
        lines.append("  Final fit against every measured size (mean duration):")
        for p in summary.at_measured:
            if p.predicted_ms is None or p.measured_ms is None:
                continue
            err = p.error
            lines.append(f"    {p.memory_mb:>5} MB  n={p.n:<3} measured {p.measured_ms:.1f} ms  predicted "
                         f"{p.predicted_ms:.1f} ms [{p.low_ms:.1f} … {p.high_ms:.1f}]"
                         + (f"  ({err:+.1%})" if err is not None else ""))
    return lines + [""]


def _recommendation_block(analysis: "Analysis") -> list[str]:
    lines: list[str] = []
    r = analysis.recommendation
    if r is None:
        lines.append("Recommendation: none (see warnings)")
    else:
        lines.append(f"Recommendation ({r.strategy}): {r.config.memory_mb} MB, timeout {r.timeout_s} s, {r.config.architecture}")
        lines.append(f"  p50 {_ms_ci(r.p50_ms, r.p50_ci)}   p95 {_ms_ci(r.p95_ms, r.p95_ci)}")
        lines.append(f"  cost {_usd(r.cost_per_million_usd)} per 1M invocations (request fee included)")
        lines.append(f"  {r.reason}")
        lines.append(f"  {r.confidence}")
        if r.indistinguishable_from:
            lines.append("  Indistinguishable from: " + ", ".join(k.label for k in r.indistinguishable_from))
        if r.savings_note:
            text = r.savings_note
            if r.savings_fraction is not None:
                text += f" ({r.savings_fraction:+.1%})"
            lines.append(f"  Savings: {text}")
        if r.monthly_note:
            lines.append(f"  Per month: {r.monthly_note}")
        lines.append(f"  Timeout: {r.timeout_reason}")
    return lines


def _compact_summary(analysis: "Analysis") -> str:
    header = analysis.header
    name = header.get("function_name") or "function"
    lines = [
        f"lambdabench: {name} on {header.get('target', '?')} ({header.get('region', '?')}), "
        f"{len(analysis.configs)} configurations measured"
    ]
    lines.append("")
    lines.extend(_table(analysis))
    lines.append("")
    flagged = [c for c in analysis.configs if not c.recommendable]
    if flagged:
        lines.extend(_wrap("Not recommended: " + "; ".join(
            f"{c.config.label} ({c.not_recommended_reason})" for c in flagged)))
    if analysis.missing:
        lines.extend(_wrap("Missing (partial sweep): " + ", ".join(k.label for k in analysis.missing)))
    if analysis.pareto:
        lines.extend(_wrap("Pareto frontier (cost vs latency, cheapest first): "
                           + ", ".join(f"{k.memory_mb} MB" for k in analysis.pareto)))
    if flagged or analysis.missing or analysis.pareto:
        lines.append("")
    for line in search_block(analysis, verbose=False) + _recommendation_block(analysis):
        lines.extend(_wrap(line, indent="    " if line.startswith("  ") else "  "))
    if analysis.warnings:
        lines.append("")
        lines.append(f"Warnings ({len(analysis.warnings)}, one line per kind; all of them with --verbose):")
        lines.extend(_grouped_warnings(analysis))
    return "\n".join(lines) + "\n"


def _table(analysis: "Analysis") -> list[str]:
    configs = analysis.configs
    if not configs:
        return ["(no configuration measured)"]
    scenarios = sorted({c.latency_scenario for c in configs})
    scenario = scenarios[0] if len(scenarios) == 1 else "ranked"
    values = [v for c in configs for v in (c.p95_ms, c.p95_ci.high if c.p95_ci else None) if v is not None]
    u = _Unit.for_max(max(values, default=0.0))
    head = ["memory", "timeout", "arch", f"{scenario} p50 {u.name} [95% CI]", f"{scenario} p95 {u.name} [95% CI]",
            "init p50", "cost/1M", "ok/err/thr"]
    monthly = analysis.monthly_invocations is not None
    if monthly:  # a column only when [recommend] monthly_invocations (or --per-month) asks for it
        head.insert(7, "$/month")
    right = set(range(len(head))) - {2, 3, 4}
    rows = []
    for c in configs:
        cold = c.scenarios.get("cold")
        init = cold.init_duration_ms.p50 if cold is not None and cold.init_duration_ms is not None else None
        ok = sum(s.counts.get("ok", 0) for s in c.scenarios.values())
        throttled = sum(s.counts.get("throttled", 0) for s in c.scenarios.values())
        failed = sum(s.n_failed for s in c.scenarios.values())
        row = [f"{c.config.memory_mb} MB", f"{c.config.timeout_s} s", c.config.architecture,
               _bare_ci(u, c.p50_ms, c.p50_ci), _bare_ci(u, c.p95_ms, c.p95_ci), _ms(init),
               _usd(c.cost_per_million_usd)]
        if monthly:
            row.append(_usd_month(c.monthly.total_usd if c.monthly is not None else None))
        row.append(f"{ok}/{failed}/{throttled}")
        rows.append(row)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    # Two spaces between columns, one when two would not fit the screen.
    gap = "  " if sum(widths) + 2 * (len(widths) - 1) <= WIDTH else " "

    def fmt(cells: list[str]) -> str:
        return gap.join(cell.rjust(w) if i in right else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(cells, widths))).rstrip()

    out = [fmt(head)] + [fmt(r) for r in rows]
    return out


def _grouped_warnings(analysis: "Analysis") -> list[str]:
    groups: dict[str, list] = {}
    for w in analysis.warnings:
        groups.setdefault(w.kind, []).append(w)
    short = len({(c.config.timeout_s, c.config.architecture) for c in analysis.configs}) <= 1
    lines: list[str] = []
    for kind, warnings in groups.items():
        affected: list[str] = []
        for w in warnings:
            if w.config is not None:
                label = f"{w.config.memory_mb} MB" if short else w.config.label
            else:
                label = w.message.split(":", 1)[0]
            if label not in affected:
                affected.append(label)
        remedies = {w.remedy for w in warnings}
        fix = warnings[0].remedy + ("" if len(remedies) == 1 else " (each configuration's own fix: --verbose)")
        lines.extend(_wrap(f"[{kind}] {', '.join(affected)} — fix: {fix}", first="  ", indent="      "))
    return lines


def _wrap(text: str, *, first: str = "", indent: str = "  ") -> list[str]:
    lead = len(text) - len(text.lstrip(" "))
    return textwrap.wrap(text.strip(), WIDTH, initial_indent=first or " " * lead,
                         subsequent_indent=indent, break_on_hyphens=False) or [""]


def _bare_ci(u: "_Unit", value_ms: float | None, ci: "Interval | None") -> str:
    if value_ms is None:
        return "–"
    if ci is None:
        return u.bare(value_ms)
    return f"{u.bare(value_ms)} [{u.bare(ci.low)}–{u.bare(ci.high)}]"


def _scenario_block(scenario: str, s: "ScenarioStats") -> list[str]:
    counts = ", ".join(f"{v} {k}" for k, v in s.counts.items() if v)
    excluded = []
    if s.excluded_warmup:
        excluded.append(f"{s.excluded_warmup} warm-up")
    if s.excluded_mismatch:
        excluded.append(f"{s.excluded_mismatch} state mismatch")
    if s.excluded_host_limited:
        excluded.append(f"{s.excluded_host_limited} host-limited")
    tail = f"; excluded {', '.join(excluded)}" if excluded else ""
    out = [f"  {scenario:<6} ({counts or 'no samples'}{tail})"]
    # One unit for the whole block (hyperfine's habit): seconds once anything reaches 10 s.
    dists = [d for d in (s.duration_ms, s.init_duration_ms, s.billed_duration_ms, s.client_ms) if d is not None]
    u = _Unit.for_max(max((d.max for d in dists), default=0.0))
    d = s.duration_ms
    if d is not None:
        out.append(
            f"    Duration (mean ± σ): {u(d.mean)} ± {u(d.std)}  [{u.bare(d.mean_ci.low)} … "
            f"{u(d.mean_ci.high)}]  CV {d.cv * 100:.1f}%  n={d.n}"
        )
        out.append(f"    p50 / p95 / p99:    {u.ci(d.p50, d.p50_ci)} / {u.ci(d.p95, d.p95_ci)} / {u(d.p99)}")
        out.append(f"    Range (min … max):  {u.bare(d.min)} … {u(d.max)}")
    if s.init_duration_ms is not None:
        i = s.init_duration_ms
        out.append(f"    Init (mean ± σ):    {u(i.mean)} ± {u(i.std)}   p50 {u.ci(i.p50, i.p50_ci)}  (n={i.n})")
    if s.billed_duration_ms is not None:
        b = s.billed_duration_ms
        out.append(f"    Billed (mean ± σ):  {u(b.mean)} ± {u(b.std)}")
    if s.client_ms is not None:
        cl = s.client_ms
        out.append(f"    Round trip p50:     {u(cl.p50)}   p95 {u(cl.p95)}")
    return out


class _Unit:
    """Formats milliseconds in one unit: ms, or s for blocks with values of 10 s and more."""

    def __init__(self, name: str, per_ms: float, digits: int):
        self.name, self.per_ms, self.digits = name, per_ms, digits

    @classmethod
    def for_max(cls, max_ms: float) -> "_Unit":
        return cls("s", 1000.0, 3) if max_ms >= 10_000 else cls("ms", 1.0, 1)

    def bare(self, value_ms: float | None) -> str:
        if value_ms is None or not math.isfinite(value_ms):
            return "–"
        return f"{value_ms / self.per_ms:.{self.digits}f}"

    def __call__(self, value_ms: float | None) -> str:
        text = self.bare(value_ms)
        return text if text == "–" else f"{text} {self.name}"

    def ci(self, value_ms: float | None, ci: "Interval | None") -> str:
        if value_ms is None or ci is None:
            return self(value_ms)
        return f"{self(value_ms)} [{self.bare(ci.low)} … {self.bare(ci.high)}]"


def _ms(value: float | None) -> str:
    return _Unit.for_max(value or 0.0)(value)


def _ms_ci(value: float | None, ci: "Interval | None") -> str:
    return _Unit.for_max(value or 0.0).ci(value, ci)



def _usd_month(value: float | None) -> str:
    """A month in dollars: cents below $100, whole dollars above (the table must fit 100 columns)."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"


def _usd(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"${value:.4f}"


# --- compare -------------------------------------------------------------------------


def render_compare(comparison: "Comparison") -> str:
    lines = [f"Comparing {comparison.new_path} (new) against {comparison.base_path} (base)"]
    lines.append(f"Significance: {comparison.test}")
    if comparison.limits:
        lines.append("Limits: " + ", ".join(f"{m} +{v * 100:g}%" for m, v in comparison.limits.items()))
    lines.append("")
    for row in comparison.rows:
        lines.append(f"{row.config.label}  ({row.scenario}, n = {row.n_base} → {row.n_new})")
        for change in row.changes:
            lines.append("  " + _change_text(change))
        lines.append("")
    for title, keys in (("Only in base", comparison.only_base), ("Only in new", comparison.only_new)):
        if keys:
            lines.append(f"{title}: " + ", ".join(k.label for k in keys))
    for f in comparison.failures:
        lines.append(f"FAILURES: {f.text}")
    if comparison.failed:
        lines.append(
            f"FAILED: {len(comparison.regressions)} significant regression(s) beyond the limits"
            + (f", {len(comparison.failures)} configuration(s) with more failures" if comparison.failures else "")
        )
    else:
        lines.append("OK: no significant regression beyond the limits")
    return "\n".join(lines) + "\n"


def _change_text(c: "MetricChange") -> str:
    if c.unit == "ms":
        values = f"{c.base:.1f} ms → {c.new:.1f} ms"
    else:
        values = f"${c.base:.4f} → ${c.new:.4f} per 1M"
    limit = f", limit +{c.limit * 100:g}%" if c.limit is not None else ""
    return f"{c.metric:<5} {values}   × {c.ratio:.3f} [{c.ci.low:.3f} … {c.ci.high:.3f}]   {c.verdict}{limit}"


def render_compare_markdown(comparison: "Comparison") -> str:
    lines = [
        "| configuration | scenario | metric | base | new | ratio [95% CI] | verdict |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for row in comparison.rows:
        for c in row.changes:
            if c.unit == "ms":
                base, new = f"{c.base:.1f} ms", f"{c.new:.1f} ms"
            else:
                base, new = f"${c.base:.4f}/1M", f"${c.new:.4f}/1M"
            verdict = f"**{c.verdict}**" if c.regression else c.verdict
            lines.append(
                f"| {row.config.label} | {row.scenario} | {c.metric} | {base} | {new} | "
                f"{c.ratio:.3f} [{c.ci.low:.3f}, {c.ci.high:.3f}] | {verdict} |"
            )
    lines.append("")
    lines.append(f"Significance: {comparison.test}.")
    if comparison.limits:
        lines.append("Limits: " + ", ".join(f"{m} +{v * 100:g}%" for m, v in comparison.limits.items()) + ".")
    for title, keys in (("Only in base", comparison.only_base), ("Only in new", comparison.only_new)):
        if keys:
            lines.append(f"{title}: " + ", ".join(k.label for k in keys) + ".")
    for f in comparison.failures:
        lines.append(f"**FAILURES**: {f.text}.")
    lines.append(
        f"**Result: {'FAILED' if comparison.failed else 'OK'}** — "
        f"{len(comparison.regressions)} significant regression(s) beyond the limits."
    )
    return "\n".join(lines) + "\n"
