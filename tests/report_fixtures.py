"""Realistic `Analysis` objects for report tests, built without running a sweep.

The invocation records follow `results.INVOCATION_FIELDS` and the results contract; durations follow
Lambda's CPU model (a CPU-bound handler slows by 1769/memory below one vCPU, flat above), cold
starts carry an Init Duration, bursts run in waves (first cold, then warm) with throttles above a
reserved concurrency. The statistics here are deliberately simple (numpy percentiles, a seeded
bootstrap): these are fixtures for drawing and rendering, not the analysis under test.

Loaded by path through the `report_fixtures` fixture (pytest runs in importlib mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from lambdabench.analysis.model import (
    Analysis,
    ConfigPoint,
    ConfigSummary,
    Distribution,
    Interval,
    Recommendation,
    ScenarioStats,
    Warning,
)
from lambdabench.records import InvocationRecord
from lambdabench.results import INVOCATION_FIELDS, invocations_frame

PRICE_GB_S = 0.0000166667  # us-east-1 x86_64 tier 1 (fixture only; the product reads pricing.py)
REQUEST_USD = 0.20 / 1_000_000
CPU_WORK_MS = 150.0  # handler CPU time at one full vCPU
START = datetime(2026, 11, 27, 6, 0, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SweepSpec:
    memories: tuple[int, ...] = (128, 256, 512, 1024, 1769, 3008)
    timeouts: tuple[int, ...] = (10,)
    architectures: tuple[str, ...] = ("x86_64",)
    cold: int = 4
    warm: int = 20
    burst_concurrency: int = 0  # 0: no burst scenario
    burst_waves: int = 2
    reserved_concurrency: int | None = None  # burst invocations above it are throttled
    missing: tuple[ConfigPoint, ...] = ()  # planned, never measured (partial sweep)
    need_memory_mb: int = 70  # peak RSS; a smaller memory size runs out of memory
    fail_everything: bool = False
    original: ConfigPoint | None = ConfigPoint(128, 3)
    seed: int = 1
    extra_warnings: tuple[Warning, ...] = field(default_factory=tuple)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_invocations(spec: SweepSpec) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    rows = []
    now = START
    seq = 0
    missing = set(spec.missing)
    for arch in spec.architectures:
        for timeout in spec.timeouts:
            for memory in spec.memories:
                key = ConfigPoint(memory, timeout, arch)
                if key in missing:
                    continue
                speed = min(1.0, memory / 1769.0)
                arch_factor = 1.0 if arch == "x86_64" else 1.12

                def one(scenario: str, cold: bool, wave: int | None, at: datetime, throttled: bool = False):
                    nonlocal seq
                    seq += 1
                    record = {name: None for name in INVOCATION_FIELDS}
                    record.update(invocation_id=f"{memory}-{timeout}-{arch}-{scenario}-{seq}", memory_mb=memory,
                                  timeout_s=timeout, architecture=arch, scenario=scenario, wave=wave,
                                  warmup=False, state_mismatch=False, started_at=_iso(at), seq=seq,
                                  payload_label="default", payload_index=0, function_error=None,
                                  report_source="tail", memory_size_mb=memory, restore_duration_ms=None)
                    if throttled:
                        record.update(status="throttled", cold=None, client_ms=float(rng.uniform(2, 6)),
                                      cost_usd=0.0, error_type="TooManyRequestsException", report_source="missing",
                                      memory_size_mb=None)
                        return record
                    record["request_id"] = f"req-{seq:06d}"
                    duration = CPU_WORK_MS * arch_factor / speed * float(rng.lognormal(0, 0.06)) + 1.5
                    init = float(rng.normal(240, 25)) if cold else None
                    status, error = "ok", None
                    if spec.fail_everything:
                        status, error = "error", "Runtime.ExitError"
                        duration = float(rng.uniform(5, 15))
                    elif memory < spec.need_memory_mb:
                        status, error = "oom", "Runtime.OutOfMemory"
                        duration = float(rng.uniform(40, 60))
                    elif duration > timeout * 1000:
                        status, error, duration = "timeout", "Sandbox.Timedout", timeout * 1000.0
                    billed = math.ceil(duration + (init or 0.0))
                    record.update(
                        status=status, cold=cold, duration_ms=round(duration, 2), billed_duration_ms=billed,
                        init_duration_ms=round(init, 2) if init is not None else None,
                        max_memory_used_mb=min(memory, spec.need_memory_mb + int(rng.integers(0, 4))),
                        client_ms=round(duration + (init or 0.0) + float(rng.uniform(1.5, 4)), 3),
                        cost_usd=memory / 1024 * billed / 1000 * PRICE_GB_S + REQUEST_USD,
                        error_type=error, function_error="Unhandled" if status != "ok" else None,
                    )
                    return record

                for _ in range(spec.cold):
                    rows.append(one("cold", True, None, now))
                    now += timedelta(milliseconds=rows[-1]["client_ms"] + 300)
                rows.append({**one("warm", False, None, now), "warmup": True})
                now += timedelta(milliseconds=rows[-1]["client_ms"] + 5)
                for _ in range(spec.warm):
                    rows.append(one("warm", False, None, now))
                    now += timedelta(milliseconds=rows[-1]["client_ms"] + 5)
                for wave in range(spec.burst_waves if spec.burst_concurrency else 0):
                    wave_start = now
                    ends = []
                    for i in range(spec.burst_concurrency):
                        at = wave_start + timedelta(milliseconds=float(rng.uniform(0, 8)))
                        throttled = spec.reserved_concurrency is not None and i >= spec.reserved_concurrency
                        rows.append(one("burst", wave == 0, wave, at, throttled))
                        ends.append(at + timedelta(milliseconds=rows[-1]["client_ms"]))
                    now = max(ends) + timedelta(milliseconds=50)
                now += timedelta(seconds=2)  # reconfiguration between configurations
    return invocations_frame(InvocationRecord.from_json(r) for r in rows)


def _bootstrap(values: np.ndarray, q: float, rng: np.random.Generator) -> Interval:
    if len(values) < 2:
        v = float(values[0])
        return Interval(v, v)
    samples = rng.choice(values, size=(200, len(values)), replace=True)
    estimates = np.percentile(samples, q, axis=1)
    return Interval(float(np.percentile(estimates, 2.5)), float(np.percentile(estimates, 97.5)))


def distribution(values, rng: np.random.Generator) -> Distribution | None:
    values = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    if len(values) == 0:
        return None
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    sem = std / math.sqrt(len(values))
    return Distribution(
        n=len(values), mean=mean, std=std, cv=std / mean if mean else 0.0,
        min=float(values.min()), max=float(values.max()),
        p50=float(np.percentile(values, 50)), p90=float(np.percentile(values, 90)),
        p95=float(np.percentile(values, 95)), p99=float(np.percentile(values, 99)),
        p50_ci=_bootstrap(values, 50, rng), p95_ci=_bootstrap(values, 95, rng),
        mean_ci=Interval(mean - 1.96 * sem, mean + 1.96 * sem),
    )


def _scenario_stats(key: ConfigPoint, scenario: str, frame: pd.DataFrame, rng) -> ScenarioStats:
    kept = frame[~frame["warmup"] & ~frame["state_mismatch"]]
    ok = kept[kept["status"] == "ok"]
    counts = {s: int(n) for s, n in kept["status"].value_counts().items()}
    cost = float(ok["cost_usd"].mean()) if len(ok) else None
    mem = ok["max_memory_used_mb"].dropna()
    return ScenarioStats(
        config=key, scenario=scenario, counts=counts,
        excluded_warmup=int(frame["warmup"].sum()), excluded_mismatch=int(frame["state_mismatch"].sum()),
        duration_ms=distribution(ok["duration_ms"], rng),
        billed_duration_ms=distribution(ok["billed_duration_ms"], rng),
        client_ms=distribution(ok["client_ms"], rng),
        init_duration_ms=distribution(ok.loc[ok["cold"] == True, "init_duration_ms"], rng),  # noqa: E712
        max_memory_used_mb=int(mem.max()) if len(mem) else None,
        cost_per_invocation_usd=cost, cost_per_million_usd=cost * 1e6 if cost is not None else None,
    )


def _pareto(summaries: list[ConfigSummary]) -> tuple[ConfigPoint, ...]:
    points = sorted((s for s in summaries if s.p95_ms is not None and s.cost_per_million_usd is not None
                     and s.recommendable), key=lambda s: (s.cost_per_million_usd, s.p95_ms))
    frontier, best = [], math.inf
    for s in points:
        if s.p95_ms < best:
            frontier.append(s.config)
            best = s.p95_ms
    return tuple(frontier)


def build_analysis(spec: SweepSpec = SweepSpec()) -> Analysis:
    rng = np.random.default_rng(spec.seed + 100)
    frame = build_invocations(spec)
    summaries = []
    cold_share = 0.05
    for (memory, timeout, arch), mine in frame.groupby(["memory_mb", "timeout_s", "architecture"]):
        key = ConfigPoint(int(memory), int(timeout), str(arch))
        scenarios = {s: _scenario_stats(key, s, f, rng) for s, f in mine.groupby("scenario")}
        latency = "warm" if "warm" in scenarios else sorted(scenarios)[0]
        dist = scenarios[latency].duration_ms
        warm_cost = scenarios[latency].cost_per_million_usd
        cold_cost = scenarios["cold"].cost_per_million_usd if "cold" in scenarios else None
        failures = {}
        for stats in scenarios.values():
            for status, n in stats.counts.items():
                if status not in ("ok", "throttled"):
                    failures[status] = failures.get(status, 0) + n
        memories = [s.max_memory_used_mb for s in scenarios.values() if s.max_memory_used_mb is not None]
        summaries.append(ConfigSummary(
            config=key, scenarios=scenarios, latency_scenario=latency,
            p50_ms=dist.p50 if dist else None, p50_ci=dist.p50_ci if dist else None,
            p95_ms=dist.p95 if dist else None, p95_ci=dist.p95_ci if dist else None,
            cost_per_million_usd=warm_cost,
            blended_cost_per_million_usd=(None if warm_cost is None or cold_cost is None
                                          else (1 - cold_share) * warm_cost + cold_share * cold_cost),
            cold_share=cold_share,
            max_memory_used_mb=max(memories) if memories else None,
            recommendable=not failures and dist is not None,
            not_recommended_reason=", ".join(f"{n} {s}" for s, n in sorted(failures.items())) or
            (None if dist is not None else "no successful invocations"),
            timeouts_cut_off=failures.get("timeout", 0),
        ))
    summaries.sort(key=lambda s: s.config)
    pareto = _pareto(summaries)
    recommendation = None
    candidates = [s for s in summaries if s.recommendable]
    original = spec.original
    if candidates:
        max_cost = max(s.cost_per_million_usd for s in candidates)
        max_p95 = max(s.p95_ms for s in candidates)
        best = min(candidates, key=lambda s: 0.5 * s.cost_per_million_usd / max_cost + 0.5 * s.p95_ms / max_p95)
        orig = next((s for s in summaries if s.config == original), None)
        savings = fraction = None
        if orig is not None and orig.cost_per_million_usd is not None:
            savings = orig.cost_per_million_usd - best.cost_per_million_usd
            fraction = savings / orig.cost_per_million_usd
        twins = tuple(s.config for s in candidates if s is not best and s.p95_ci.overlaps(best.p95_ci))
        recommendation = Recommendation(
            config=best.config, strategy="balanced", p50_ms=best.p50_ms, p50_ci=best.p50_ci,
            p95_ms=best.p95_ms, p95_ci=best.p95_ci, cost_per_million_usd=best.cost_per_million_usd,
            timeout_s=max(1, math.ceil(best.scenarios[best.latency_scenario].duration_ms.max * 3 / 1000)),
            timeout_reason="3x the slowest successful invocation, rounded up to a whole second",
            indistinguishable_from=twins, savings_per_million_usd=savings, savings_fraction=fraction,
            confidence=("Confident: its p95 interval overlaps no other configuration's." if not twins else
                        f"Not sure: {len(twins)} configurations are indistinguishable at these sample sizes."),
            reason="Best balance of cost and p95 latency (weight 0.5) among configurations with no failures.",
        )
    warnings = [Warning("cpu_mechanism", "CPU limited by cgroup v1 quota on a 2-core host.",
                        "Compare with the aws target for absolute numbers.")]
    if spec.reserved_concurrency is not None:
        warnings.append(Warning("throttles", "Burst invocations were throttled (429).",
                                "Raise the reserved concurrency or lower the burst concurrency."))
    warnings += list(spec.extra_warnings)
    header = {
        "type": "header", "format_version": 1, "tool_version": "0.1.0",
        "scenario": {"name": "fixture", "path": "scenarios/fixture.toml"},
        "recommend": {"strategy": "balanced", "balanced_weight": 0.5, "p95_slo_ms": None, "cold_share": cold_share,
                      "percentile": 95.0},
        "target": "local", "endpoint_url": "http://127.0.0.1:45123", "region": "us-east-1",
        "function_name": "lambdabench-fixture", "function_arn": "arn:aws:lambda:us-east-1:000000000000:function:x",
        "emulator": {"emulator_version": "0.1.0", "cpu_mechanism": "cgroup-v1", "memory_mechanism": "cgroup-v1",
                     "host_cores": 2, "cpu_period_ms": 20, "sandbox_start": "fork", "warnings": []},
        "started_at": _iso(START),
        "original_config": {"memory_mb": 128, "timeout_s": 3, "architecture": "x86_64", "environment": {"K": "V"},
                            "ephemeral_storage_mb": 512},
        "plan": {"configs": [{"memory_mb": m, "timeout_s": t, "architecture": a} for a in spec.architectures
                             for t in spec.timeouts for m in spec.memories],
                 "scenarios": [{"kind": "cold", "invocations": spec.cold}, {"kind": "warm", "invocations": spec.warm}]
                 + ([{"kind": "burst", "concurrency": spec.burst_concurrency, "waves": spec.burst_waves}]
                    if spec.burst_concurrency else []),
                 "total_invocations": len(frame)},
    }
    return Analysis(header=header, configs=tuple(summaries), missing=tuple(sorted(spec.missing)), pareto=pareto,
                    recommendation=recommendation, original=original, warnings=tuple(warnings),
                    invocations=frame)
