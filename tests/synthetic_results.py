"""Synthetic sweep results for tests: a results.jsonl written through the real ResultsWriter.

Load it by path (pytest runs in importlib mode), e.g.

    spec = importlib.util.spec_from_file_location("synthetic_results", TESTS / "synthetic_results.py")

`write_sweep(out_dir, ...)` models a CPU-bound handler: duration = work_ms x max(1, 1769/memory)
x lognormal noise (seeded), cold starts add `init_ms`; Billed Duration follows today's rule
(ceil(duration + init) on a cold start); cost_usd is priced with lambdabench.pricing, request fee
included. Failures, throttles, warm-ups and state mismatches can be injected per memory size.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from lambdabench.records import InvocationRecord, host_limited
from lambdabench.results import ResultsWriter

MB_PER_VCPU = 1769


def write_sweep(
    out_dir: Path,
    *,
    memory_mb: Iterable[int] = (128, 256, 512, 1024),
    timeout_s: int = 10,
    architecture: str = "x86_64",
    work_ms: float = 200.0,
    sigma: float = 0.03,
    overhead_ms: float = 2.0,
    init_ms: float = 150.0,
    cold: int = 5,
    warm: int = 30,
    warmup: int = 2,
    burst: tuple[int, int] = (0, 0),  # (concurrency, waves)
    seed: int = 0,
    region: str = "us-east-1",
    target: str = "local",
    emulator: dict[str, Any] | None = None,
    recommend: dict[str, Any] | None = None,
    original_config: dict[str, Any] | None = None,
    failures: dict[int, dict[str, int]] | None = None,  # memory -> {status: n} among warm samples
    throttled: dict[int, int] | None = None,  # memory -> throttled burst invokes
    mismatches: dict[int, int] | None = None,  # memory -> warm samples that came back cold
    stop_after: int | None = None,  # write only the first N invocations (partial sweep)
    plan_memory_mb: Iterable[int] | None = None,  # planned sizes (default: memory_mb)
) -> Path:
    """Write OUT/results.jsonl and return its path."""
    from lambdabench import pricing

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    memories = list(memory_mb)
    planned = list(plan_memory_mb) if plan_memory_mb is not None else memories
    rng = np.random.default_rng(seed)
    failures = failures or {}
    throttled = throttled or {}
    mismatches = mismatches or {}
    scenarios = []
    if cold:
        scenarios.append({"kind": "cold", "invocations": cold})
    if warm:
        scenarios.append({"kind": "warm", "invocations": warm, "warmup": warmup})
    if burst[0]:
        scenarios.append({"kind": "burst", "concurrency": burst[0], "waves": burst[1]})
    header = {
        "tool_version": "0.1.0",
        "scenario": {"name": "synthetic", "path": "synthetic.toml"},
        "recommend": recommend
        or {"strategy": "balanced", "balanced_weight": 0.5, "p95_slo_ms": None, "cold_share": None, "percentile": 95.0},
        "target": target,
        "endpoint_url": None,
        "region": region,
        "function_name": "synthetic",
        "function_arn": f"arn:aws:lambda:{region}:123456789012:function:synthetic",
        "emulator": emulator
        if emulator is not None
        else (
            {"emulator_version": "test", "cpu_mechanism": "cgroup-v1", "memory_mechanism": "cgroup-v1",
             "host_cores": 8, "cpu_period_ms": 20, "warnings": []}
            if target == "local"
            else None
        ),
        "started_at": "2026-11-27T06:00:00.000000Z",
        "original_config": original_config
        if original_config is not None
        else {"memory_mb": memories[0], "timeout_s": timeout_s, "architecture": architecture,
              "environment": {}, "ephemeral_storage_mb": 512},
        "plan": {
            "configs": [{"memory_mb": m, "timeout_s": timeout_s, "architecture": architecture} for m in planned],
            "scenarios": scenarios,
            "total_invocations": 0,
        },
    }
    path = out / "results.jsonl"
    written = 0
    seq = 0
    with ResultsWriter(path, header) as writer:

        def emit(record: dict[str, Any]) -> bool:
            nonlocal written, seq
            if stop_after is not None and written >= stop_after:
                return False
            record["seq"] = seq
            seq += 1
            # As the driver does: a burst wave asking for more vCPUs than the local host has is marked.
            limited = record["scenario"] == "burst" and record["status"] != "throttled" and host_limited(
                header, scenario="burst", concurrency=burst[0], memory_mb=record["memory_mb"])
            writer.write_invocation(InvocationRecord.from_json({**record, "host_limited": limited}))
            written += 1
            return True

        for m in memories:
            cid = f"m{m}-t{timeout_s}-{architecture}"
            writer.write_event("config_applied", memory_mb=m, timeout_s=timeout_s, architecture=architecture)
            scale = max(1.0, MB_PER_VCPU / m)

            def sample(is_cold: bool, status: str = "ok") -> dict[str, Any]:
                duration = overhead_ms + work_ms * scale * float(rng.lognormal(0.0, sigma))
                init = init_ms * float(rng.lognormal(0.0, sigma)) if is_cold else None
                if status == "timeout":
                    duration = timeout_s * 1000.0
                billed = math.ceil(duration + (init or 0.0))
                cost = pricing.invocation_cost(m, billed, architecture=architecture, region=region).total_usd
                return {
                    "duration_ms": round(duration, 2),
                    "billed_duration_ms": billed,
                    "init_duration_ms": None if init is None else round(init, 2),
                    "max_memory_used_mb": 60 + int(m // 64),
                    "client_ms": round(duration + (init or 0.0) + 3.0, 3),
                    "cost_usd": cost,
                    "cold": is_cold,
                    "status": status,
                    "error_type": {"timeout": "Sandbox.Timedout", "oom": "Runtime.OutOfMemory",
                                   "error": "Exception"}.get(status),
                }

            def base(scenario: str, index: int, wave: int | None = None) -> dict[str, Any]:
                return {
                    "invocation_id": f"{cid}/{scenario}/{index}",
                    "memory_mb": m,
                    "timeout_s": timeout_s,
                    "architecture": architecture,
                    "scenario": scenario,
                    "wave": wave,
                    "request_id": f"req-{m}-{scenario}-{index}",
                    "warmup": False,
                    "state_mismatch": False,
                    "started_at": "2026-11-27T06:00:01.000000Z",
                }

            for i in range(cold):
                if not emit({**base("cold", i), **sample(True)}):
                    return path
            for i in range(warmup if warm else 0):
                if not emit({**base("warm", -1 - i), **sample(i == 0), "warmup": True}):
                    return path
            bad = [s for s, n in failures.get(m, {}).items() for _ in range(n)]
            n_mismatch = mismatches.get(m, 0)
            for i in range(warm):
                if i < len(bad):
                    rec = {**base("warm", i), **sample(False, bad[i])}
                elif i < len(bad) + n_mismatch:
                    rec = {**base("warm", i), **sample(True), "state_mismatch": True}
                else:
                    rec = {**base("warm", i), **sample(False)}
                if not emit(rec):
                    return path
            concurrency, waves = burst
            n_throttled = throttled.get(m, 0)
            for w in range(waves):
                for j in range(concurrency):
                    index = w * concurrency + j
                    if index < n_throttled:
                        rec = {**base("burst", index, w), "status": "throttled", "cold": None,
                               "duration_ms": None, "billed_duration_ms": None, "init_duration_ms": None,
                               "max_memory_used_mb": None, "client_ms": 5.0, "cost_usd": 0.0,
                               "error_type": "TooManyRequestsException"}
                    else:
                        rec = {**base("burst", index, w), **sample(w == 0)}
                    if not emit(rec):
                        return path
        writer.write_event("completed")
    return path
