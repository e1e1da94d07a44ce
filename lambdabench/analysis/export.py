"""Machine-readable outputs of an analysis: `summary.csv` and `report.json`.

summary.csv  one row per configuration x scenario, columns named with their units.
report.json  `format_version`, the recommendation, every configuration's statistics, the
             Pareto frontier, missing configurations and warnings. JSON-safe: no NaN
             (None instead), intervals as {"low", "high", "level"}.
Both are rewritten whole (write to a temporary file, then rename), so a reader never sees
half a file.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from lambdabench.analysis.model import Analysis, ConfigPoint, Distribution, Interval
from lambdabench.pricing import MonthlyCost

REPORT_FORMAT_VERSION = 1
SUMMARY_CSV = "summary.csv"
REPORT_JSON = "report.json"

_DIST_COLUMNS = ("n", "mean", "std", "cv", "min", "max", "p50", "p90", "p95", "p99")


def summary_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """The rows of summary.csv (also handy for tests and other exporters)."""
    rows = []
    for summary in analysis.configs:
        for name, s in summary.scenarios.items():
            row: dict[str, Any] = {
                "memory_mb": summary.config.memory_mb,
                "timeout_s": summary.config.timeout_s,
                "architecture": summary.config.architecture,
                "scenario": name,
                "n_ok": s.counts.get("ok", 0),
                "n_error": s.counts.get("error", 0),
                "n_timeout": s.counts.get("timeout", 0),
                "n_oom": s.counts.get("oom", 0),
                "n_throttled": s.counts.get("throttled", 0),
                "excluded_warmup": s.excluded_warmup,
                "excluded_state_mismatch": s.excluded_mismatch,
                "excluded_host_limited": s.excluded_host_limited,
            }
            row.update(_dist_columns("duration", "ms", s.duration_ms, with_ci=True))
            row.update(_dist_columns("billed_duration", "ms", s.billed_duration_ms, with_ci=False))
            row.update(_dist_columns("client", "ms", s.client_ms, with_ci=False))
            init = s.init_duration_ms
            row["init_duration_n"] = init.n if init else 0
            row["init_duration_p50_ms"] = init.p50 if init else None
            row["init_duration_p95_ms"] = init.p95 if init else None
            row["init_duration_mean_ms"] = init.mean if init else None
            row["max_memory_used_mb"] = s.max_memory_used_mb
            row["cost_per_invocation_usd"] = s.cost_per_invocation_usd
            row["cost_per_million_usd"] = s.cost_per_million_usd
            row["recommendable"] = summary.recommendable
            row["not_recommended_reason"] = summary.not_recommended_reason or ""
            if analysis.monthly_invocations is not None:
                # The configuration's month (the same on each of its scenario rows); only when asked
                # for, so files of analyses without it keep their columns.
                month = summary.monthly
                row["monthly_invocations"] = analysis.monthly_invocations
                row["monthly_cold_share"] = summary.cold_share if month is not None else None
                row["monthly_gb_s"] = month.gb_s if month is not None else None
                row["monthly_cost_usd"] = month.total_usd if month is not None else None
            rows.append(row)
    return rows


def _dist_columns(prefix: str, unit: str, dist: Distribution | None, *, with_ci: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _DIST_COLUMNS:
        column = f"{prefix}_{name}" if name in ("n", "cv") else f"{prefix}_{name}_{unit}"
        out[column] = getattr(dist, name) if dist else None
    if with_ci:
        for stat in ("p50", "p95", "mean"):
            ci = getattr(dist, f"{stat}_ci") if dist else None
            out[f"{prefix}_{stat}_ci_low_{unit}"] = ci.low if ci else None
            out[f"{prefix}_{stat}_ci_high_{unit}"] = ci.high if ci else None
    return out


def report_document(analysis: Analysis) -> dict[str, Any]:
    """The report.json document as a JSON-safe dict."""
    r = analysis.recommendation
    recommendation = None
    if r is not None:
        recommendation = {
            "memory_mb": r.config.memory_mb,
            "timeout_s": r.timeout_s,
            "architecture": r.config.architecture,
            "measured_timeout_s": r.config.timeout_s,
            "strategy": r.strategy,
            "p50_ms": r.p50_ms,
            "p50_ci_ms": _json(r.p50_ci),
            "p95_ms": r.p95_ms,
            "p95_ci_ms": _json(r.p95_ci),
            "latency_percentile": r.latency_percentile,
            "latency_ms": r.latency_ms,
            "latency_ci_ms": _json(r.latency_ci),
            "cost_per_million_usd": r.cost_per_million_usd,
            "indistinguishable_from": [_json(k) for k in r.indistinguishable_from],
            "timeout_reason": r.timeout_reason,
            "savings_per_million_usd": r.savings_per_million_usd,
            "savings_fraction": r.savings_fraction,
            "savings_note": r.savings_note,
            "confidence": r.confidence,
            "reason": r.reason,
        }
        if analysis.monthly_invocations is not None:
            recommendation["monthly"] = {
                "invocations": analysis.monthly_invocations,
                "cost_usd": r.monthly_usd,
                "against": [
                    {"against": d.against, **_json(d.config), "monthly_cost_usd": d.monthly_usd,
                     "saved_usd": d.saved_usd, "saved_fraction": d.saved_fraction}
                    for d in r.monthly_deltas
                ],
                "note": r.monthly_note,
            }
    configs = []
    for c in analysis.configs:
        configs.append(
            {
                **_json(c.config),
                "latency_scenario": c.latency_scenario,
                "p50_ms": c.p50_ms,
                "p50_ci_ms": _json(c.p50_ci),
                "p95_ms": c.p95_ms,
                "p95_ci_ms": _json(c.p95_ci),
                "latency_percentile": c.latency_percentile,
                "latency_ms": c.latency_ms,
                "latency_ci_ms": _json(c.latency_ci),
                "cost_per_million_usd": c.cost_per_million_usd,
                "cost_per_million_ci_usd": _json(c.cost_per_million_ci),
                "blended_cost_per_million_usd": c.blended_cost_per_million_usd,
                "cold_share": c.cold_share,
                "max_memory_used_mb": c.max_memory_used_mb,
                "recommendable": c.recommendable,
                "not_recommended_reason": c.not_recommended_reason,
                "timeouts_cut_off": c.timeouts_cut_off,
                **({"monthly": _monthly_json(c.monthly)} if analysis.monthly_invocations is not None else {}),
                "scenarios": {
                    name: {
                        "counts": dict(s.counts),
                        "excluded_warmup": s.excluded_warmup,
                        "excluded_state_mismatch": s.excluded_mismatch,
                        "excluded_host_limited": s.excluded_host_limited,
                        "duration_ms": _json(s.duration_ms),
                        "billed_duration_ms": _json(s.billed_duration_ms),
                        "client_ms": _json(s.client_ms),
                        "init_duration_ms": _json(s.init_duration_ms),
                        "max_memory_used_mb": s.max_memory_used_mb,
                        "cost_per_invocation_usd": s.cost_per_invocation_usd,
                        "cost_per_million_usd": s.cost_per_million_usd,
                    }
                    for name, s in c.scenarios.items()
                },
            }
        )
    header = analysis.header
    monthly = {} if analysis.monthly_invocations is None else {"monthly_invocations": analysis.monthly_invocations}
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "tool_version": header.get("tool_version"),
        "function_name": header.get("function_name"),
        "target": header.get("target"),
        "region": header.get("region"),
        "started_at": header.get("started_at"),
        "original_config": _json(analysis.original),
        **monthly,
        "recommendation": recommendation,
        "configs": configs,
        "pareto": [_json(k) for k in analysis.pareto],
        "missing": [_json(k) for k in analysis.missing],
        "warnings": [
            {"kind": w.kind, "message": w.message, "remedy": w.remedy, "config": _json(w.config)}
            for w in analysis.warnings
        ],
        # Only adaptive sweeps have the key: a grid sweep's report.json is unchanged.
        **({"search": analysis.search.to_json()} if analysis.search is not None else {}),
    }


def _monthly_json(month: MonthlyCost | None) -> dict[str, Any] | None:
    """A configuration's month: its inputs (as `lambdabench price --per-month` takes them) and result."""
    if month is None:
        return None
    return {
        "invocations": month.invocations,
        "cold_share": month.cold_share,
        "billed_duration_ms": _json(float(month.billed_duration_ms)),
        "cold_billed_duration_ms": _json(month.cold_billed_duration_ms),
        "gb_s": month.gb_s,
        "tiers": [_json(t) for t in month.tiers],
        "compute_usd": month.compute_usd,
        "request_usd": month.request_usd,
        "storage_usd": month.storage_usd,
        "total_usd": month.total_usd,
    }


def write_outputs(analysis: Analysis, out_dir: Path | str) -> tuple[Path, Path]:
    """Write OUT/summary.csv and OUT/report.json; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / SUMMARY_CSV
    json_path = out / REPORT_JSON
    rows = summary_rows(analysis)
    columns = list(rows[0]) if rows else ["memory_mb", "timeout_s", "architecture", "scenario"]
    tmp = csv_path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv(v) for k, v in row.items()})
    os.replace(tmp, csv_path)
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report_document(analysis), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, json_path)
    return csv_path, json_path


def _csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return value


def _json(value: Any) -> Any:
    """Dataclasses to dicts, non-finite floats to None (report.json must be strict JSON)."""
    if value is None:
        return None
    if isinstance(value, Interval):
        return {"low": _json(value.low), "high": _json(value.high), "level": value.level}
    if isinstance(value, ConfigPoint):
        return {"memory_mb": value.memory_mb, "timeout_s": value.timeout_s, "architecture": value.architecture}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _json(value.item())
    return value
