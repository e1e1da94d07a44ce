"""Typed warnings about how far an analysis can be trusted, each with a remedy.

Kinds (stable strings; reports and report.json key on them):
  unstable         CV >= 10% or p50 interval wider than 10% of p50 (pyperf's threshold)
  too_few_samples  fewer ok samples than a scenario needs for a usable interval
  throttles        429s were recorded (never retried; they are data)
  state_mismatch   samples dropped because cold/warm state was not what the scenario wanted
  cpu_mechanism    the local emulator could not use a cgroup CPU quota
  host_cores       memory sizes whose one sandbox asks for more vCPUs than the local host has
  host_limited     burst waves asking for more vCPUs than the local host has (left out of statistics)
  emulator         a warning the emulator itself recorded in the header
  timeout_cut_off  a configured timeout cut invocations off
  cost_mismatch    a record's cost_usd disagrees with the price recomputed from Billed Duration
  partial          planned configurations are missing or incomplete
  no_recommendation  no configuration qualifies for the chosen strategy
  unpriced         the region has no USD price list (China regions): costs are unknown
  missing_reports  ok invocations without a REPORT line (no durations, no cost)
  logs_unreadable  CloudWatch Logs refused the sweep's reads (a permission is missing), so REPORTs are missing
  memory_headroom  the recommended memory was >= 90% used at its peak
Each remedy names the setting to change.
"""

from __future__ import annotations

import math
from typing import Any

from lambdabench import limits, records
from lambdabench.analysis.model import ConfigPoint, ConfigSummary, Recommendation, ScenarioStats, Warning
from lambdabench.analysis.settings import Settings

UNSTABLE_CV = 0.10
UNSTABLE_CI_FRACTION = 0.10
# Fewest ok samples per scenario for the intervals to mean something. 30 for warm follows
# the usual rule of thumb for a percentile bootstrap; cold starts cost a configuration change
# each, so 5 (Power Tuning's minimum per size) is asked there.
MIN_SAMPLES = {"warm": 30, "burst": 20, "cold": 5}
# Max Memory Used at or above this share of the configured memory is a thin margin against OOM.
MEMORY_HEADROOM_FRACTION = 0.9
_MISMATCH_REMEDY = {
    "warm": "make sure nothing else invokes or updates the function during the sweep, and keep the "
    "emulator's keep-alive (local target) above the gap between warm invokes",
    "cold": "check that a configuration change retires the target's execution environments (a target "
    "that keeps them warm cannot measure cold starts)",
}


def collect_warnings(
    *,
    header: dict[str, Any],
    unpriced: str | None = None,
    configs: tuple[ConfigSummary, ...],
    cost_mismatches: dict[tuple[ConfigPoint, str], int],
    missing: tuple[ConfigPoint, ...],
    recommendation: Recommendation | None,
    settings: Settings,
    strategy_found_nothing: bool,
    any_candidate: bool,
    events: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
) -> tuple[Warning, ...]:
    """Every warning, in the order reports list them: the environment, then per configuration
    (per scenario, then the configuration's own), then the sweep as a whole."""
    found: list[Warning | None] = [unpriced_costs(unpriced)]
    found += [cpu_mechanism(header), host_cores(header, configs), *emulator_warnings(header)]
    for summary in configs:
        key = summary.config
        for name, s in summary.scenarios.items():
            found += [
                unstable(key, name, s),
                missing_reports(key, name, s),
                throttles(key, name, s),
                state_mismatch(key, name, s),
                host_limited_burst(header, key, name, s),
                cost_mismatch(key, name, cost_mismatches.get((key, name), 0)),
            ]
        found.append(timeout_cut_off(summary, recommendation))
    found += too_few_samples(configs)
    found += [
        logs_unreadable(events),
        memory_headroom(configs, recommendation),
        partial(missing),
        no_recommendation(strategy_found_nothing, unpriced, settings, any_candidate),
    ]
    return tuple(w for w in found if w is not None)


def unpriced_costs(unpriced: str | None) -> Warning | None:
    if not unpriced:
        return None
    return Warning(
        "unpriced",
        f"costs are unknown: {unpriced}",
        "re-run the sweep in a region with USD list prices to compare costs; latency "
        "statistics are unaffected",
    )


def _local_emulator(header: dict[str, Any]) -> dict[str, Any] | None:
    emulator = header.get("emulator") or {}
    return emulator if header.get("target") == "local" and emulator else None


def cpu_mechanism(header: dict[str, Any]) -> Warning | None:
    emulator = _local_emulator(header)
    if emulator is None:
        return None
    mechanism = str(emulator.get("cpu_mechanism") or "unknown")
    if mechanism.startswith("cgroup"):
        return None
    return Warning(
        "cpu_mechanism",
        f"the local emulator limited CPU with '{mechanism}', not a cgroup CPU quota; "
        f"durations only approximate Lambda's",
        "run the sweep on Linux as root with a writable cpu cgroup controller (v1 or v2), "
        "or sweep with --target aws",
    )


def host_cores(header: dict[str, Any], configs: tuple[ConfigSummary, ...]) -> Warning | None:
    """Memory sizes whose one sandbox alone asks for more vCPUs than the host has."""
    emulator = _local_emulator(header)
    cores = emulator.get("host_cores") if emulator else None
    if not cores:
        return None
    too_big = sorted({c.config.memory_mb for c in configs if limits.vcpus_for_memory(c.config.memory_mb) > cores})
    if not too_big:
        return None
    ceiling = int(cores * limits.MB_PER_VCPU)
    return Warning(
        "host_cores",
        f"memory sizes {', '.join(f'{m} MB' for m in too_big)} ask for more than this "
        f"host's {cores} cores ({limits.MB_PER_VCPU} MB per vCPU); their durations are "
        f"capped by the host, not by Lambda",
        f"drop sizes above {ceiling} MB from [sweep] memory_mb, or sweep with --target aws",
    )


def emulator_warnings(header: dict[str, Any]) -> list[Warning]:
    emulator = _local_emulator(header)
    texts = (emulator.get("warnings") or []) if emulator else []
    return [Warning("emulator", str(text), "see the emulator's message; it names the setting") for text in texts]


def unstable(key: ConfigPoint, name: str, s: ScenarioStats) -> Warning | None:
    dist = s.duration_ms
    if dist is None or dist.n < 2:
        return None
    ci_width = dist.p50_ci.high - dist.p50_ci.low
    wide = dist.p50 > 0 and ci_width > UNSTABLE_CI_FRACTION * dist.p50
    if not (dist.cv >= UNSTABLE_CV or wide):
        return None
    fraction = ci_width / dist.p50 if dist.p50 else math.inf
    return Warning(
        "unstable",
        f"{key.label} {name}: duration CV {_pct(dist.cv)}, p50 interval "
        f"{dist.p50_ci.low:.1f}-{dist.p50_ci.high:.1f} ms ({_pct(fraction)} of p50)",
        _unstable_remedy(name, dist.n, fraction),
        key,
    )


def missing_reports(key: ConfigPoint, name: str, s: ScenarioStats) -> Warning | None:
    no_report = s.n_ok - (s.duration_ms.n if s.duration_ms is not None else 0)
    if no_report <= 0:
        return None
    return Warning(
        "missing_reports",
        f"{key.label} {name}: {_plural(no_report, 'ok invocation')} had no REPORT line "
        f"(no Duration, Billed Duration or cost) and {'is' if no_report == 1 else 'are'} "
        f"not in the statistics",
        "make sure the sweep can read the function's logs (LogType=Tail, or "
        "logs:FilterLogEvents on /aws/lambda/<function>) and that the target writes "
        "REPORT lines",
        key,
    )


def logs_unreadable(events: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> Warning | None:
    """The sweep's `logs_unreadable` events: CloudWatch Logs answered AccessDenied to its REPORT reads."""
    denied = [e for e in events if e.get("event") == "logs_unreadable"]
    if not denied:
        return None
    groups = ", ".join(sorted({str(e.get("log_group")) for e in denied}))
    permission = denied[0].get("permission") or "logs:FilterLogEvents"
    return Warning(
        "logs_unreadable",
        f"CloudWatch Logs refused to let the sweep read {groups} ({denied[0].get('error') or 'access denied'}: "
        f"{permission} not granted); invocations whose LogResult tail had no REPORT line have no Duration, "
        f"Billed Duration or cost (report_source \"logs_denied\")",
        f"grant {permission} on {groups} to the identity that sweeps (`lambdabench iam-policy` prints the "
        "policy), then sweep again",
    )


def throttles(key: ConfigPoint, name: str, s: ScenarioStats) -> Warning | None:
    throttled = s.counts.get("throttled", 0)
    if not throttled:
        return None
    return Warning(
        "throttles",
        f"{key.label} {name}: {throttled} of {sum(s.counts.values())} invokes "
        f"{'was' if throttled == 1 else 'were'} throttled (429); they are counted, not "
        f"retried, and not in the statistics",
        "lower [[scenario]] burst concurrency, or raise the function's reserved "
        "concurrency / the account's concurrency limit",
        key,
    )


def state_mismatch(key: ConfigPoint, name: str, s: ScenarioStats) -> Warning | None:
    if not s.excluded_mismatch:
        return None
    return Warning(
        "state_mismatch",
        f"{key.label} {name}: {_plural(s.excluded_mismatch, 'sample')} did not start "
        f"{'cold' if name == 'cold' else 'warm' if name == 'warm' else 'as planned'} "
        f"and {'was' if s.excluded_mismatch == 1 else 'were'} left out of the statistics",
        _MISMATCH_REMEDY.get(name, _MISMATCH_REMEDY["warm"]),
        key,
    )


def host_limited_burst(header: dict[str, Any], key: ConfigPoint, name: str, s: ScenarioStats) -> Warning | None:
    """Burst samples left out because their wave asked the local host for more vCPUs than it has."""
    cores = records.host_cores(header)
    if not s.excluded_host_limited or cores is None:
        return None
    share = min(1.0, limits.vcpus_for_memory(key.memory_mb))
    fits = records.largest_fitting_concurrency(cores, key.memory_mb)
    return Warning(
        "host_limited",
        f"{key.label} {name}: {_plural(s.excluded_host_limited, 'sample')} ran in waves whose vCPU demand "
        f"(concurrency x {share:.2f} vCPU per environment) exceeded this host's {cores} cores; the host, not Lambda, "
        f"shaped {'its' if s.excluded_host_limited == 1 else 'their'} durations, so "
        f"{'it is' if s.excluded_host_limited == 1 else 'they are'} left out of the burst statistics "
        f"and the recommendation",
        f"lower [[scenario]] burst concurrency to <= {fits} for a local sweep at {key.memory_mb} MB, "
        f"or sweep with --target aws",
        key,
    )


def cost_mismatch(key: ConfigPoint, name: str, mismatched: int) -> Warning | None:
    if not mismatched:
        return None
    return Warning(
        "cost_mismatch",
        f"{key.label} {name}: cost_usd of {mismatched} records differs from the price "
        f"of their Billed Duration; the analysis uses the recomputed price",
        "check the region in the results header and that lambdabench's price table "
        "is current (lambdabench price --memory MB --billed-ms MS)",
        key,
    )


def timeout_cut_off(summary: ConfigSummary, recommendation: Recommendation | None) -> Warning | None:
    if not summary.timeouts_cut_off:
        return None
    key = summary.config
    advice = (
        f"raise timeout_s to at least {recommendation.timeout_s} s"
        if recommendation and recommendation.config.memory_mb == key.memory_mb
        else "raise [sweep] timeout_s for this memory size"
    )
    return Warning(
        "timeout_cut_off",
        f"{key.label}: the {key.timeout_s} s timeout cut off {_plural(summary.timeouts_cut_off, 'invocation')}",
        advice,
        key,
    )


def too_few_samples(configs: tuple[ConfigSummary, ...]) -> list[Warning]:
    """One warning per scenario kind, listing the configurations short of MIN_SAMPLES."""
    few: dict[str, list[tuple[ConfigPoint, int]]] = {}
    for summary in configs:
        for name, s in summary.scenarios.items():
            need = MIN_SAMPLES.get(name)
            if need is not None and s.n_ok < need:
                few.setdefault(name, []).append((summary.config, s.n_ok))
    out = []
    for name, entries in few.items():
        need = MIN_SAMPLES[name]
        listing = ", ".join(f"{k.memory_mb} MB: {n}" for k, n in entries)
        out.append(
            Warning(
                "too_few_samples",
                f"{name}: fewer than {need} ok samples ({listing}); intervals are wide",
                _more_samples_remedy(name, need),
                entries[0][0] if len(entries) == 1 else None,
            )
        )
    return out


def memory_headroom(configs: tuple[ConfigSummary, ...], recommendation: Recommendation | None) -> Warning | None:
    if recommendation is None:
        return None
    chosen = next((c for c in configs if c.config == recommendation.config), None)
    used = chosen.max_memory_used_mb if chosen else None
    memory_mb = recommendation.config.memory_mb
    if used is None or used < MEMORY_HEADROOM_FRACTION * memory_mb:
        return None
    return Warning(
        "memory_headroom",
        f"the recommended {memory_mb} MB leaves little headroom: up to {used} MB was used ({used / memory_mb:.0%})",
        "test with your largest real payloads, or choose the next larger memory size, "
        "before relying on it (an OOM fails the invocation)",
        recommendation.config,
    )


def partial(missing: tuple[ConfigPoint, ...]) -> Warning | None:
    if not missing:
        return None
    return Warning(
        "partial",
        f"partial sweep: {len(missing)} planned configurations are missing or incomplete "
        f"({', '.join(k.label for k in missing)})",
        "finish it with `lambdabench sweep SCENARIO --resume DIR`",
    )


def no_recommendation(
    strategy_found_nothing: bool, unpriced: str | None, settings: Settings, any_candidate: bool
) -> Warning | None:
    if not strategy_found_nothing:
        return None
    if unpriced:
        return Warning(
            "no_recommendation",
            "no recommendation: every strategy weighs cost, and costs are unknown in this region",
            "compare the latency statistics above, or re-run the sweep in a region with USD list prices",
        )
    if settings.strategy == "slo" and any_candidate:
        return Warning(
            "no_recommendation",
            f"no configuration's p95 interval stays under the {settings.p95_slo_ms:g} ms SLO without errors",
            "raise [recommend] p95_slo_ms, or add larger sizes to [sweep] memory_mb",
        )
    return Warning(
        "no_recommendation",
        "no configuration can be recommended: every one failed (errors, timeouts, OOM) or "
        "has no successful invocation",
        "fix the failures shown per configuration, or raise [sweep] timeout_s / memory_mb",
    )


def _unstable_remedy(scenario: str, n: int, ci_fraction: float) -> str:
    """More samples narrow the interval (width ~ 1/sqrt(n)); they do not lower a real spread."""
    quiet = "keep other work off the machine while sweeping"
    if not math.isfinite(ci_fraction) or ci_fraction <= UNSTABLE_CI_FRACTION:
        return f"{quiet}; a CV this high with a narrow interval means the duration itself varies"
    needed = math.ceil(n * (ci_fraction / UNSTABLE_CI_FRACTION) ** 2)
    return f"{_more_samples_remedy(scenario, max(needed, MIN_SAMPLES.get(scenario, 0)))} and {quiet}"


def _more_samples_remedy(scenario: str, target: int) -> str:
    if scenario == "burst":
        return f"raise [[scenario]] burst concurrency x waves to >= {target}"
    return f"raise [[scenario]] {scenario} invocations to >= {target}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _pct(fraction: float) -> str:
    return "inf" if not math.isfinite(fraction) else f"{fraction * 100:.1f}%"
