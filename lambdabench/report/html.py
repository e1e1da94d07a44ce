"""The HTML report: one self-contained `index.html` rendered from `templates/index.html` (jinja2).

Owns turning an `Analysis` plus the drawn charts into page content: the recommendation card (or
why there is none), the charts embedded as data: URIs with their alt text, the sortable table of
every configuration (missing ones shown as missing, never as zero), warnings with remedies, the
methodology block and relative links to the sweep's other files. Numbers are formatted here and
taken as they are from the analysis records.

The page needs no network: CSS and the small sort script are inline. `index.html?selftest` makes
the page check itself (every image decoded, no script error, the table sorts) and write a JSON
verdict into `#lb-selftest`; the browser test reads it from a headless chromium's DOM dump.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from lambdabench.analysis.model import Analysis, ConfigSummary, Interval
from lambdabench.report.charts import (
    STATUS_COLOURS,
    Chart,
    config_label,
    fmt_ms,
    fmt_usd,
    varying_dimensions,
)

# Files of a sweep's output folder the report links to (relative, so the folder can be moved).
LINKED_FILES = (
    ("results.jsonl", "every invocation, as measured"),
    ("summary.csv", "statistics per configuration and scenario"),
    ("report.json", "the full analysis, machine-readable"),
)


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str  # the value the table sorts on ("" sorts last)
    title: str = ""
    detail: str = ""  # a second, smaller line (the confidence interval)


def _ci_cell(value: float | None, interval: Interval | None, title: str = "", fmt=fmt_ms) -> Cell:
    if value is None:
        return Cell("—", "", title)
    detail = f"{fmt(interval.low)} – {fmt(interval.high)}" if interval is not None else ""
    return Cell(fmt(value), _num(value), title, detail)


def _interval(value: float | None, interval: Interval | None, fmt=fmt_ms) -> str:
    if value is None:
        return "—"
    if interval is None:
        return fmt(value)
    return f"{fmt(value)} [{fmt(interval.low)} – {fmt(interval.high)}]"


def _num(value: float | int | None) -> str:
    return "" if value is None else repr(float(value))


def _percent(value: float) -> str:
    return f"{value:.0%}" if abs(value) >= 0.01 else f"{value:.1%}"


def _rec_card(analysis: Analysis, vary) -> dict[str, Any] | None:
    rec = analysis.recommendation
    if rec is None:
        return None
    original = analysis.original
    if rec.savings_per_million_usd is None or rec.savings_fraction is None:
        if original is None:
            savings = "The function's configuration before the sweep is unknown, so there is nothing to compare with."
        else:
            savings = (f"The current configuration ({original.label}) was not measured, so the saving "
                       "against it is unknown.")
    elif original is not None and original == rec.config:
        savings = "This is the current configuration: keep it."
    elif rec.savings_per_million_usd >= 0:
        savings = (f"Saves {fmt_usd(rec.savings_per_million_usd)} per million invocations "
                   f"({_percent(rec.savings_fraction)}) against the current "
                   f"{original.label if original else 'configuration'}.")
    else:
        savings = (f"Costs {fmt_usd(-rec.savings_per_million_usd)} more per million invocations "
                   f"({_percent(-rec.savings_fraction)} more) than the current "
                   f"{original.label if original else 'configuration'}.")
    if rec.savings_note:  # the analysis's own sentence wins: it knows what it compared
        savings = rec.savings_note[:1].upper() + rec.savings_note[1:]
    changes = []  # what to edit in the function's configuration, in the units it is set in
    if original is not None:
        if original.memory_mb != rec.config.memory_mb:
            changes.append(f"memory {original.memory_mb} → {rec.config.memory_mb} MB")
        if original.timeout_s != rec.timeout_s:
            changes.append(f"timeout {original.timeout_s} → {rec.timeout_s} s")
        if original.architecture != rec.config.architecture:
            changes.append(f"architecture {original.architecture} → {rec.config.architecture}")
    return {
        "memory_mb": rec.config.memory_mb,
        "architecture": rec.config.architecture,
        "timeout_s": rec.timeout_s,
        "timeout_reason": rec.timeout_reason,
        "changes": changes,
        "strategy": rec.strategy,
        "p50": _interval(rec.p50_ms, rec.p50_ci),
        "p95": _interval(rec.p95_ms, rec.p95_ci),
        "cost": fmt_usd(rec.cost_per_million_usd),
        "cost_label": _rec_cost_label(analysis),
        "ranked_percentile": (None if rec.latency_percentile in (50.0, 95.0) or rec.latency_ms is None
                              else f"{rec.latency_percentile:g}"),
        "ranked_latency": _interval(rec.latency_ms, rec.latency_ci),
        "savings": savings,
        "monthly": rec.monthly_note or None,
        "monthly_saves": any(d.against != "cheapest" and d.saved_usd > 0 for d in rec.monthly_deltas),
        "saves": rec.savings_per_million_usd is not None and rec.savings_per_million_usd > 0,
        "confidence": rec.confidence,
        "reason": rec.reason,
        "indistinguishable": [config_label(k, vary) for k in rec.indistinguishable_from],
        "original": original.label if original else None,
    }


def _rec_cost_label(analysis: Analysis) -> str:
    """Say which cost the recommendation carries: the analysis ranks by the blended cost (cold
    starts mixed in at `cold_share`) when one is set, else by the steady warm cost."""
    rec = analysis.recommendation
    summary = analysis.config(rec.config)
    if (summary is not None and summary.cold_share is not None and summary.blended_cost_per_million_usd is not None
            and rec.cost_per_million_usd == summary.blended_cost_per_million_usd):
        return f"cost per 1M invocations (at {_percent(summary.cold_share)} cold starts)"
    return "cost per 1M invocations"


def _no_rec_reason(analysis: Analysis) -> str:
    if not analysis.configs:
        return "No configuration was measured, so there is nothing to recommend."
    reasons = [f"{c.config.label}: {c.not_recommended_reason}" for c in analysis.configs
               if not c.recommendable and c.not_recommended_reason]
    if reasons and all(not c.recommendable for c in analysis.configs):
        return "No configuration can be recommended: " + "; ".join(reasons) + "."
    return "The analysis produced no recommendation for this sweep."


def _status_counts(summary: ConfigSummary) -> dict[str, int]:
    totals: dict[str, int] = {}
    for stats in summary.scenarios.values():
        for status, n in stats.counts.items():
            totals[status] = totals.get(status, 0) + n
    return totals


def _init_p50(summary: ConfigSummary):
    stats = summary.scenarios.get("cold")
    if stats is not None and stats.init_duration_ms is not None:
        return stats.init_duration_ms
    return next((s.init_duration_ms for s in summary.scenarios.values() if s.init_duration_ms is not None), None)


# (header, sort type, header tooltip)
COLUMNS = (
    ("memory", "num", "configured memory"), ("timeout", "num", "configured timeout"),
    ("arch", "text", "architecture"),
    ("p50", "num", "median duration of the ranking scenario, 95% CI below"),
    ("p95", "num", "95th percentile duration of the ranking scenario, 95% CI below"),
    ("cost / 1M", "num", "steady (warm) cost per million invocations, 95% CI below"),
    ("blended / 1M", "num", "cost per million invocations with cold starts mixed in at the stated share"),
    ("Init p50", "num", "median Init Duration of cold starts, 95% CI below"),
    ("max mem", "num", "Max Memory Used: peak of all invocations, share of the configured memory"),
    ("ok / failed / throttled", "num", "samples kept in the statistics, by outcome"),
    ("status", "text", "recommendation, Pareto frontier, and why a configuration cannot be recommended"),
)
# Shown after "blended / 1M" only when [recommend] monthly_invocations (or --per-month) is set.
MONTHLY_COLUMN = ("per month", "num", "a month of the stated invocations at the configuration's cold-start share, "
                  "duration tiers applied (lambdabench price --per-month)")
_MONTHLY_AT = 7


def _columns(analysis: Analysis) -> tuple[tuple[str, str, str], ...]:
    if analysis.monthly_invocations is None:
        return COLUMNS
    return COLUMNS[:_MONTHLY_AT] + (MONTHLY_COLUMN,) + COLUMNS[_MONTHLY_AT:]


def _monthly_cell(c: ConfigSummary) -> Cell:
    month = c.monthly
    if month is None:
        return Cell("—", "", "no monthly figure: see the recommendation card")
    return Cell(f"${month.total_usd:,.2f}", _num(month.total_usd),
                f"{month.invocations:,} invocations, {month.cold_share:.1%} cold starts, {month.gb_s:,.0f} GB-s")


def _table_rows(analysis: Analysis) -> list[dict[str, Any]]:
    rec = analysis.recommendation.config if analysis.recommendation else None
    pareto = set(analysis.pareto)
    measured = {c.config for c in analysis.configs}
    incomplete = set(analysis.missing) & measured
    rows = []
    for c in analysis.configs:
        key = c.config
        counts = _status_counts(c)
        init = _init_p50(c)
        tags = []
        if key == rec:
            tags.append("recommended")
        if key == analysis.original:
            tags.append("current")
        if key in pareto:
            tags.append("Pareto")
        if not c.recommendable:
            tags.append(f"not recommendable: {c.not_recommended_reason or 'see warnings'}")
        if c.timeouts_cut_off:
            tags.append(f"{c.timeouts_cut_off} cut off by the timeout")
        if key in incomplete:
            tags.append("incomplete: the sweep stopped before finishing it")
        failed = sum(n for s, n in counts.items() if s not in ("ok", "throttled"))
        blended_title = f"at {c.cold_share:.0%} cold starts" if c.cold_share is not None else ""
        rows.append({
            "classes": " ".join(["measured"] + (["incomplete"] if key in incomplete else [])
                                + (["rec"] if key == rec else [])
                                + (["current"] if key == analysis.original else [])),
            "cells": [
                Cell(f"{key.memory_mb} MB", _num(key.memory_mb)),
                Cell(f"{key.timeout_s} s", _num(key.timeout_s)),
                Cell(key.architecture, key.architecture),
                _ci_cell(c.p50_ms, c.p50_ci, f"{c.latency_scenario} scenario; second line: 95% CI"),
                _ci_cell(c.p95_ms, c.p95_ci, f"{c.latency_scenario} scenario; second line: 95% CI"),
                _ci_cell(c.cost_per_million_usd, c.cost_per_million_ci, "steady (warm) cost; second line: 95% CI",
                         fmt_usd),
                Cell(fmt_usd(c.blended_cost_per_million_usd) if c.blended_cost_per_million_usd is not None else "—",
                     _num(c.blended_cost_per_million_usd), blended_title),
            ] + ([_monthly_cell(c)] if analysis.monthly_invocations is not None else []) + [
                _ci_cell(init.p50 if init is not None else None, init.p50_ci if init is not None else None,
                         "median Init Duration of cold starts; second line: 95% CI"),
                Cell(f"{c.max_memory_used_mb} MB ({c.max_memory_used_mb / key.memory_mb:.0%})"
                     if c.max_memory_used_mb is not None else "—", _num(c.max_memory_used_mb)),
                Cell(f"{counts.get('ok', 0)} / {failed} / {counts.get('throttled', 0)}", _num(counts.get("ok", 0)),
                     ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))),
                Cell("; ".join(tags) or "measured", "; ".join(tags)),
            ],
        })
    for key in analysis.missing:
        if key in measured:
            continue  # incomplete: its row above carries what was measured and says so
        rows.append({
            "classes": "missing",
            "cells": [Cell(f"{key.memory_mb} MB", _num(key.memory_mb)), Cell(f"{key.timeout_s} s", _num(key.timeout_s)),
                      Cell(key.architecture, key.architecture)]
                     + [Cell("not measured", "") for _ in _columns(analysis)[3:-1]]
                     + [Cell("missing: the sweep did not finish this configuration", "missing")],
        })
    return rows


def _warning_groups(analysis: Analysis) -> list[dict[str, Any]]:
    """Warnings grouped by kind, in first-seen order: a sweep of 20 configurations can raise the
    same warning 20 times, and one remedy shown once per kind reads better than 20 copies."""
    groups: dict[str, dict[str, Any]] = {}
    for w in analysis.warnings:
        group = groups.setdefault(w.kind, {"kind": w.kind.replace("_", " "), "items": [], "remedies": []})
        group["items"].append({"message": w.message, "remedy": w.remedy,
                               "config": w.config.label if w.config else None})
        if w.remedy not in group["remedies"]:
            group["remedies"].append(w.remedy)
    return list(groups.values())


def _scenario_plan(header: dict[str, Any]) -> list[str]:
    plan = header.get("plan") or {}
    lines = []
    for scenario in plan.get("scenarios") or []:
        if not isinstance(scenario, dict):
            continue
        kind = scenario.get("kind", "?")
        details = ", ".join(f"{k} {v}" for k, v in scenario.items() if k != "kind" and v is not None
                            and not isinstance(v, (dict, list)))
        lines.append(f"{kind}: {details}" if details else str(kind))
    return lines


# What Init Duration covers on the local emulator (its info's sandbox_start).
_SANDBOX_START_MEANING = {
    "fork": "sandboxes forked from a prepared interpreter: Init Duration is the runtime client's start "
            "plus your handler's import, without starting Python itself (Lambda's INIT also counts that)",
    "spawn": "each sandbox started from nothing: Init Duration includes starting Python, as on Lambda",
}


def _methodology(analysis: Analysis) -> list[tuple[str, str]]:
    h = analysis.header
    emulator = h.get("emulator") or None
    target = h.get("target") or "unknown"
    rows: list[tuple[str, str]] = [
        ("function", str(h.get("function_name") or "unknown")),
        ("target", target + (f" ({h['endpoint_url']})" if h.get("endpoint_url") else "")),
        ("region", str(h.get("region") or "unknown")),
    ]
    if emulator:
        rows.append(("CPU mechanism", f"{emulator.get('cpu_mechanism', 'unknown')} "
                                      f"(period {emulator.get('cpu_period_ms', '?')} ms, "
                                      f"{emulator.get('host_cores', '?')} host cores)"))
        rows.append(("memory mechanism", str(emulator.get("memory_mechanism", "unknown"))))
        start = emulator.get("sandbox_start")
        if start in _SANDBOX_START_MEANING:
            rows.append(("cold starts", _SANDBOX_START_MEANING[start]))
        if emulator.get("emulator_version"):
            rows.append(("emulator version", str(emulator["emulator_version"])))
    elif target == "aws":
        rows.append(("CPU mechanism", "AWS Lambda (real service)"))
    plan_lines = _scenario_plan(h)
    if plan_lines:
        rows.append(("scenarios per configuration", "; ".join(plan_lines)))
    plan = h.get("plan") or {}
    if plan.get("configs") is not None:
        rows.append(("configurations", f"{len(analysis.configs)} measured of {len(plan['configs'])} planned"
                     if isinstance(plan["configs"], list) else str(plan["configs"])))
    if plan.get("total_invocations") is not None:
        rows.append(("planned invocations", str(plan["total_invocations"])))
    frame = analysis.invocations
    if not frame.empty and "started_at" in frame:
        rows.append(("invocations recorded", str(len(frame))))
    rec = h.get("recommend") or {}
    if rec:
        rows.append(("recommendation strategy", ", ".join(f"{k} {v}" for k, v in rec.items() if v is not None)))
    started = h.get("started_at")
    if started:
        last = None
        if not frame.empty and "started_at" in frame and frame["started_at"].notna().any():
            last = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601").max()
        when = str(started)
        if last is not None:
            when += f" to {last.strftime('%Y-%m-%dT%H:%M:%SZ')} (last invoke sent)"
        rows.append(("dates (UTC)", when))
    original = h.get("original_config")
    if isinstance(original, dict):
        rows.append(("configuration before the sweep", ", ".join(
            f"{k} {v}" for k, v in original.items() if k != "environment")))
    isolation = h.get("isolation")
    if isinstance(isolation, dict) and isolation.get("mode"):
        rows.append(("isolation", f"{isolation['mode']}: {isolation.get('cannot_reproduce', '')}".rstrip(": ")))
    rows.append(("tool version", f"lambdabench {h.get('tool_version', 'unknown')}"))
    return rows


def _search_context(analysis: Analysis) -> dict[str, Any] | None:
    """The adaptive search's section: outcome, fit, invocations against a grid, steps, predicted vs measured."""
    from lambdabench.analysis.search import fit_sentence, invocations_sentence, outcome_sentence

    s = analysis.search
    if s is None:
        return None

    def band(p, lo, hi) -> str:
        if p is None:
            return "—"
        return f"{fmt_ms(p)} ({fmt_ms(lo)} – {fmt_ms(hi)})" if lo is not None and hi is not None else fmt_ms(p)

    steps = [{"n": st.index + 1, "memory": st.memory_mb, "invocations": st.invocations, "reason": st.reason,
              "predicted": band(st.predicted_ms, st.predicted_low_ms, st.predicted_high_ms),
              "measured": fmt_ms(st.measured_ms) if st.measured_ms is not None else "no ok sample",
              "statuses": ", ".join(f"{v} {k}" for k, v in sorted(st.statuses.items()))} for st in s.steps]
    fits = [{"memory": p.memory_mb, "n": p.n, "measured": fmt_ms(p.measured_ms) if p.measured_ms else "—",
             "predicted": band(p.predicted_ms, p.low_ms, p.high_ms),
             "error": f"{p.error:+.1%}" if p.error is not None else "—"} for p in s.at_measured]
    return {"outcome": outcome_sentence(s), "fit": fit_sentence(s), "poor_fit": s.poor_fit,
            "invocations": invocations_sentence(s), "steps": steps, "fits": fits}


def _chart_context(chart: Chart) -> dict[str, Any]:
    data_uri = None
    if chart.path is not None:
        data_uri = "data:image/png;base64," + base64.b64encode(chart.path.read_bytes()).decode("ascii")
    return {
        "file_name": chart.file_name,
        "id": chart.file_name.removesuffix(".png").replace("_", "-"),
        "title": chart.title,
        "alt": chart.alt,
        "data_uri": data_uri,
        "width": chart.width_px // 2,  # CSS pixels: the PNG is drawn at 2x for dense screens
        "height": chart.height_px // 2,
        "skipped_reason": chart.skipped_reason,
    }


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("lambdabench.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,  # a typo in the template fails loudly instead of rendering blank
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_index(analysis: Analysis, charts: tuple[Chart, ...]) -> str:
    """The page as a string."""
    vary = varying_dimensions(analysis)
    h = analysis.header
    scenario = h.get("scenario") or {}
    name = scenario.get("name") if isinstance(scenario, dict) else None
    planned = len((h.get("plan") or {}).get("configs") or []) or len(analysis.configs) + len(analysis.missing)
    context = {
        "title": f"lambdabench — {h.get('function_name') or name or 'sweep'}",
        "function_name": h.get("function_name") or "unknown function",
        "scenario_name": name,
        "rec": _rec_card(analysis, vary),
        "search": _search_context(analysis),
        "no_rec_reason": None if analysis.recommendation else _no_rec_reason(analysis),
        "charts": [_chart_context(c) for c in charts],
        "columns": _columns(analysis),
        "rows": _table_rows(analysis),
        # A planned configuration is either not measured at all or measured in part (incomplete).
        "missing": [k.label for k in analysis.missing if analysis.config(k) is None],
        "incomplete": [k.label for k in analysis.missing if analysis.config(k) is not None],
        "complete": len([c for c in analysis.configs if c.config not in set(analysis.missing)]),
        "planned": planned,
        "measured": len(analysis.configs),
        "warning_groups": _warning_groups(analysis),
        "n_warnings": len(analysis.warnings),
        "methodology": _methodology(analysis),
        "links": LINKED_FILES,
        "status_colours": STATUS_COLOURS,
        "tool_version": h.get("tool_version", "unknown"),
    }
    return _ENV.get_template("index.html").render(**context)


def write_index(analysis: Analysis, charts: tuple[Chart, ...], path: Path) -> Path:
    """Render the page to `path` (written whole, then renamed, so a reader never sees half a page)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_index(analysis, charts), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["LINKED_FILES", "render_index", "write_index"]
