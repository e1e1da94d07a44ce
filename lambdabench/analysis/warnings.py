"""Typed warnings about how far an analysis can be trusted, each with a remedy.

Kinds (stable strings; reports and report.json key on them):
  unstable         CV >= 10% or p50 interval wider than 10% of p50 (pyperf's threshold)
  too_few_samples  fewer ok samples than a scenario needs for a usable interval
  throttles        429s were recorded (never retried; they are data)
  state_mismatch   samples dropped because cold/warm state was not what the scenario wanted
  cpu_mechanism    the local emulator could not use a cgroup CPU quota
  host_cores       memory sizes asking for more vCPUs than the local host has
  emulator         a warning the emulator itself recorded in the header
  timeout_cut_off  a configured timeout cut invocations off
  cost_mismatch    a record's cost_usd disagrees with the price recomputed from Billed Duration
  partial          planned configurations are missing or incomplete
  no_recommendation  no configuration qualifies for the chosen strategy
  unpriced         the region has no USD price list (China regions): costs are unknown
  missing_reports  ok invocations without a REPORT line (no durations, no cost)
  memory_headroom  the recommended memory was >= 90% used at its peak
Each remedy names the setting to change.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lambdabench import limits
from lambdabench.analysis.model import ConfigPoint, ConfigSummary, Recommendation, Warning

if TYPE_CHECKING:
    from lambdabench.analysis.analyze import Settings

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
    settings: "Settings",
    strategy_found_nothing: bool,
    any_candidate: bool,
) -> tuple[Warning, ...]:
    out: list[Warning] = []
    if unpriced:
        out.append(
            Warning(
                "unpriced",
                f"costs are unknown: {unpriced}",
                "re-run the sweep in a region with USD list prices to compare costs; latency "
                "statistics are unaffected",
            )
        )
    out += _environment(header, configs)
    few: dict[str, list[tuple[ConfigPoint, int]]] = {}
    for summary in configs:
        key = summary.config
        for name, s in summary.scenarios.items():
            dist = s.duration_ms
            if dist is not None and dist.n >= 2:
                ci_width = dist.p50_ci.high - dist.p50_ci.low
                wide = dist.p50 > 0 and ci_width > UNSTABLE_CI_FRACTION * dist.p50
                if dist.cv >= UNSTABLE_CV or wide:
                    out.append(
                        Warning(
                            "unstable",
                            f"{key.label} {name}: duration CV {_pct(dist.cv)}, p50 interval "
                            f"{dist.p50_ci.low:.1f}-{dist.p50_ci.high:.1f} ms "
                            f"({_pct(ci_width / dist.p50 if dist.p50 else math.inf)} of p50)",
                            _unstable_remedy(name, dist.n, ci_width / dist.p50 if dist.p50 else math.inf),
                            key,
                        )
                    )
            need = MIN_SAMPLES.get(name)
            if need is not None and s.n_ok < need:
                few.setdefault(name, []).append((key, s.n_ok))
            no_report = s.n_ok - (dist.n if dist is not None else 0)
            if no_report > 0:
                out.append(
                    Warning(
                        "missing_reports",
                        f"{key.label} {name}: {_plural(no_report, 'ok invocation')} had no REPORT line "
                        f"(no Duration, Billed Duration or cost) and {'is' if no_report == 1 else 'are'} "
                        f"not in the statistics",
                        "make sure the sweep can read the function's logs (LogType=Tail, or "
                        "logs:FilterLogEvents on /aws/lambda/<function>) and that the target writes "
                        "REPORT lines",
                        key,
                    )
                )
            throttled = s.counts.get("throttled", 0)
            if throttled:
                out.append(
                    Warning(
                        "throttles",
                        f"{key.label} {name}: {throttled} of {sum(s.counts.values())} invokes "
                        f"{'was' if throttled == 1 else 'were'} throttled (429); they are counted, not "
                        f"retried, and not in the statistics",
                        "lower [[scenario]] burst concurrency, or raise the function's reserved "
                        "concurrency / the account's concurrency limit",
                        key,
                    )
                )
            if s.excluded_mismatch:
                out.append(
                    Warning(
                        "state_mismatch",
                        f"{key.label} {name}: {_plural(s.excluded_mismatch, 'sample')} did not start "
                        f"{'cold' if name == 'cold' else 'warm' if name == 'warm' else 'as planned'} "
                        f"and {'was' if s.excluded_mismatch == 1 else 'were'} left out of the statistics",
                        _MISMATCH_REMEDY.get(name, _MISMATCH_REMEDY["warm"]),
                        key,
                    )
                )
            mismatched = cost_mismatches.get((key, name), 0)
            if mismatched:
                out.append(
                    Warning(
                        "cost_mismatch",
                        f"{key.label} {name}: cost_usd of {mismatched} records differs from the price "
                        f"of their Billed Duration; the analysis uses the recomputed price",
                        "check the region in the results header and that lambdabench's price table "
                        "is current (lambdabench price --memory MB --billed-ms MS)",
                        key,
                    )
                )
        if summary.timeouts_cut_off:
            advice = (
                f"raise timeout_s to at least {recommendation.timeout_s} s"
                if recommendation and recommendation.config.memory_mb == key.memory_mb
                else "raise [sweep] timeout_s for this memory size"
            )
            out.append(
                Warning(
                    "timeout_cut_off",
                    f"{key.label}: the {key.timeout_s} s timeout cut off "
                    f"{_plural(summary.timeouts_cut_off, 'invocation')}",
                    advice,
                    key,
                )
            )
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
    if recommendation is not None:
        chosen = next((c for c in configs if c.config == recommendation.config), None)
        used = chosen.max_memory_used_mb if chosen else None
        if used is not None and used >= MEMORY_HEADROOM_FRACTION * recommendation.config.memory_mb:
            out.append(
                Warning(
                    "memory_headroom",
                    f"the recommended {recommendation.config.memory_mb} MB leaves little headroom: "
                    f"up to {used} MB was used ({used / recommendation.config.memory_mb:.0%})",
                    "test with your largest real payloads, or choose the next larger memory size, "
                    "before relying on it (an OOM fails the invocation)",
                    recommendation.config,
                )
            )
    if missing:
        out.append(
            Warning(
                "partial",
                f"partial sweep: {len(missing)} planned configurations are missing or incomplete "
                f"({', '.join(k.label for k in missing)})",
                "finish it with `lambdabench sweep SCENARIO --resume DIR`",
            )
        )
    if strategy_found_nothing and unpriced:
        out.append(
            Warning(
                "no_recommendation",
                "no recommendation: every strategy weighs cost, and costs are unknown in this region",
                "compare the latency statistics above, or re-run the sweep in a region with USD list prices",
            )
        )
    elif strategy_found_nothing:
        if settings.strategy == "slo" and any_candidate:
            out.append(
                Warning(
                    "no_recommendation",
                    f"no configuration's p95 interval stays under the {settings.p95_slo_ms:g} ms SLO "
                    f"without errors",
                    "raise [recommend] p95_slo_ms, or add larger sizes to [sweep] memory_mb",
                )
            )
        else:
            out.append(
                Warning(
                    "no_recommendation",
                    "no configuration can be recommended: every one failed (errors, timeouts, OOM) or "
                    "has no successful invocation",
                    "fix the failures shown per configuration, or raise [sweep] timeout_s / memory_mb",
                )
            )
    return tuple(out)


def _environment(header: dict[str, Any], configs: tuple[ConfigSummary, ...]) -> list[Warning]:
    out: list[Warning] = []
    emulator = header.get("emulator") or {}
    if header.get("target") != "local" or not emulator:
        return out
    mechanism = str(emulator.get("cpu_mechanism") or "unknown")
    if not mechanism.startswith("cgroup"):
        out.append(
            Warning(
                "cpu_mechanism",
                f"the local emulator limited CPU with '{mechanism}', not a cgroup CPU quota; "
                f"durations only approximate Lambda's",
                "run the sweep on Linux as root with a writable cpu cgroup controller (v1 or v2), "
                "or sweep with --target aws",
            )
        )
    cores = emulator.get("host_cores")
    if cores:
        too_big = sorted(
            {c.config.memory_mb for c in configs if c.config.memory_mb / limits.MB_PER_VCPU > cores}
        )
        if too_big:
            ceiling = int(cores * limits.MB_PER_VCPU)
            out.append(
                Warning(
                    "host_cores",
                    f"memory sizes {', '.join(f'{m} MB' for m in too_big)} ask for more than this "
                    f"host's {cores} cores ({limits.MB_PER_VCPU} MB per vCPU); their durations are "
                    f"capped by the host, not by Lambda",
                    f"drop sizes above {ceiling} MB from [sweep] memory_mb, or sweep with --target aws",
                )
            )
    for text in emulator.get("warnings") or []:
        out.append(Warning("emulator", str(text), "see the emulator's message; it names the setting"))
    return out


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
